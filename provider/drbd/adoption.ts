/**
 * Whether a running DRBD resource can be taken over as the inputs describe it, decided from what
 * the kernel runs (`drbdsetup show`) and its state, before anything is written. Taking over keeps
 * the data where it is: the same minor, backing disk, meta-data and addresses, and no resync. A
 * resource that differs in any of those, or that is not Connected and UpToDate on both sides, is
 * refused with what differs and how to line the inputs up with the host (or the host with them).
 */
import type { InputFailure } from "../errors";
import type { RunningIdentity } from "./running-identity";
import { minorOf, type DrbdNodeInputs, type MetaDisk } from "./schema";
import { describeStatus, type DrbdNodeStatus } from "./status";

export interface AdoptionProbe {
  up: boolean;
  status: DrbdNodeStatus;
  identity?: RunningIdentity;
}

const showMeta = (m: MetaDisk | undefined) => (m === undefined ? "none" : m === "internal" ? "internal" : `${m.device}[${m.index}]`);
const sameMeta = (a: MetaDisk, b: MetaDisk | undefined) =>
  b !== undefined && (a === "internal" ? b === "internal" : b !== "internal" && a.device === b.device && a.index === b.index);
/** drbdsetup prints IPv6 addresses in brackets; the inputs hold them bare. */
const endpoint = (address: string, port: number) => (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);

/** Which input an endpoint's difference is in: its address, or only its port. */
function fieldOf(running: string | undefined, address: string): string {
  const host = running?.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  return host === address ? "port" : "address";
}

/**
 * Every difference that would touch the data, per input path (`nodes[1].metaDisk.index`). Nodes
 * where the resource is down on both sides are left to the create's own checks (existing
 * meta-data is kept there too); a resource up on one side only is refused.
 */
export function adoptionFailures(name: string, nodes: readonly DrbdNodeInputs[], probes: readonly AdoptionProbe[]): InputFailure[] {
  if (probes.every((p) => !p.up)) return [];
  const failures: InputFailure[] = [];
  nodes.forEach((spec, i) => {
    const probe = probes[i]!;
    const peer = nodes[1 - i]!;
    const at = `nodes[${i}]`;
    const on = `${name} on ${spec.hostname}`;
    if (!probe.up) {
      failures.push({ property: at, reason: `${on} is not up while it runs on ${peer.hostname}: bring it up there by hand (drbdadm up ${name}) and let it resync, then run again. Nothing was changed.` });
      return;
    }
    const running = probe.identity ?? {};
    const mismatch = (property: string, what: string, runs: string | undefined, says: string, path = `${at}.${property}`) =>
      failures.push({
        property: path,
        reason:
          `${on} runs with ${what} ${runs ?? "unknown"}, the inputs say ${says}. Taking it over would detach, reattach or reconnect it. ` +
          `Set ${path} to what runs (with TwoNodeXenHa: the VM's \`drbd\` numbering), or change the host by hand first. Nothing was changed.`,
      });
    if (running.minor !== minorOf(spec.device)) mismatch("device", "device", running.minor === undefined ? undefined : `/dev/drbd${running.minor}`, spec.device);
    if (running.disk !== spec.disk) mismatch("disk", "backing disk", running.disk, spec.disk);
    if (!sameMeta(spec.metaDisk, running.metaDisk)) mismatch(spec.metaDisk === "internal" ? "metaDisk" : "metaDisk.index", "meta-data", showMeta(running.metaDisk), showMeta(spec.metaDisk));
    const local = endpoint(spec.address, spec.port);
    if (running.address !== local) mismatch(fieldOf(running.address, spec.address), "address", running.address, local);
    const remote = endpoint(peer.address, peer.port);
    if (running.peerAddress !== remote) mismatch("", "peer address", running.peerAddress, remote, `nodes[${1 - i}].${fieldOf(running.peerAddress, peer.address)}`);
    const s = probe.status;
    if (s.splitBrain) {
      failures.push({ property: at, reason: `${on} is in split brain: resolve it by hand (drbdadm secondary, then drbdadm connect --discard-my-data on the victim), then run again. Nothing was changed.` });
    } else if (s.connection !== "Connected" || s.disk !== "UpToDate" || s.peerDisk !== "UpToDate") {
      failures.push({
        property: at,
        reason: `${on} is ${describeStatus(s)}; it is taken over only Connected and UpToDate on both sides (wait for the resync to end, or reconnect it by hand), so that no data is decided by the take-over. Nothing was changed.`,
      });
    }
  });
  return failures;
}
