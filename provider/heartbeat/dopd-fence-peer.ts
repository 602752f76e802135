/**
 * The fence-peer handler script dopd's DRBD resources call (`dopdFencePeer`), as HeartbeatCluster
 * installs it with `dopd`. The script is a file of its own beside this module, so ShellCheck reads it.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DOPD_FENCE_PEER_PATH } from "../drbd/fencing";

export { DOPD_FENCE_PEER_PATH };

let script: string | undefined;

/** The script's text (provider/heartbeat/dopd-fence-peer.sh, copied beside the compiled module by the build). */
export function dopdFencePeerScript(): string {
  script ??= readFileSync(path.join(__dirname, "dopd-fence-peer.sh"), "utf8");
  return script;
}
