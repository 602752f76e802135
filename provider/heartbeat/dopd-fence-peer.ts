/**
 * The fence-peer handler script dopd's DRBD resources call (`dopdFencePeer`), as HeartbeatCluster
 * installs it with `dopd`. The script is a file of its own beside this module, so ShellCheck reads it.
 */
import { shellFile } from "../shell-file";
import { DOPD_FENCE_PEER_PATH } from "../drbd/fencing";

export { DOPD_FENCE_PEER_PATH };

/** The script's text (provider/heartbeat/dopd-fence-peer.sh). */
export function dopdFencePeerScript(): string {
  return shellFile(__dirname, "dopd-fence-peer.sh");
}
