/**
 * What a running DRBD 8.4 resource is attached to, as `drbdsetup show NAME` prints it from the
 * kernel (not from any file): its minor, backing disk, meta-data and the two addresses. Adopting a
 * resource keeps these; a file that says otherwise would make `drbdadm adjust` detach and attach
 * the disk, or reconnect to another address.
 *
 *     resource test-disk {
 *         net { … }
 *         _remote_host { address ipv4 192.168.1.101:7789; }
 *         _this_host {
 *             address ipv4 192.168.1.100:7789;
 *             volume 0 { device minor 1; disk "/dev/vg/test-disk"; meta-disk "/dev/vg/meta" [ 0 ]; disk { … } }
 *         }
 *     }
 */
import type { ExternalMetaDisk } from "./schema";

export interface RunningIdentity {
  minor?: number;
  disk?: string;
  metaDisk?: "internal" | ExternalMetaDisk;
  /** `ADDRESS:PORT` this node listens on. */
  address?: string;
  /** `ADDRESS:PORT` of the peer. */
  peerAddress?: string;
}

/** The identity in `drbdsetup show` output, or undefined when the output holds no resource. */
export function parseRunningIdentity(text: string): RunningIdentity | undefined {
  if (!/^\s*resource\s+\S+\s*\{/m.test(text)) return undefined;
  const identity: RunningIdentity = {};
  const minor = /\bdevice\s+minor\s+(\d+)\s*;/.exec(text);
  if (minor) identity.minor = Number(minor[1]);
  const disk = /(?:^|\s)disk\s+"([^"]+)"\s*;/m.exec(text);
  if (disk) identity.disk = disk[1]!;
  const meta = /\bmeta-disk\s+(?:"([^"]+)"\s+(?:\[\s*(\d+)\s*\]|(\d+))|(internal))\s*;/.exec(text);
  if (meta) identity.metaDisk = meta[4] ? "internal" : { device: meta[1]!, index: Number(meta[2] ?? meta[3]) };
  const address = (block: string) => new RegExp(`${block}\\s*\\{[^}]*?\\baddress\\s+(?:ipv4\\s+|ipv6\\s+)?([^;\\s]+)\\s*;`).exec(text)?.[1];
  const local = address("_this_host");
  const remote = address("_remote_host");
  if (local) identity.address = local;
  if (remote) identity.peerAddress = remote;
  return identity;
}
