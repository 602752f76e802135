/** DRBD states that need a person, each with what to do about it (DRBD 8.4 commands). */
import { resourceConfigPath } from "./render";
import type { DrbdNodeStatus } from "./status";

const SYNCING = new Set(["SyncSource", "SyncTarget", "PausedSyncS", "PausedSyncT", "WFBitMapS", "WFBitMapT", "WFSyncUUID", "StartingSyncS", "StartingSyncT"]);

export function drbdAttention(name: string, status: Readonly<Record<string, DrbdNodeStatus>>): string[] {
  const notes: string[] = [];
  for (const [node, s] of Object.entries(status)) {
    if (s.splitBrain) {
      notes.push(
        `DRBD ${name}: split brain seen on ${node} (StandAlone). Decide whose data to keep. On the other node: ` +
          `drbdadm secondary ${name}; drbdadm connect --discard-my-data ${name}. Then on the node that keeps its data: drbdadm connect ${name}.`,
      );
    } else if (s.connection === "StandAlone") {
      notes.push(`DRBD ${name}: ${node} is StandAlone, not replicating. Check the crossover link, then drbdadm connect ${name} on ${node}.`);
    }
    if (s.disk === "Outdated") {
      notes.push(`DRBD ${name}: the disk on ${node} is Outdated (older than its peer's). Never promote it; reconnect (drbdadm connect ${name}) so it resyncs from the peer.`);
    } else if (s.disk === "Inconsistent" && !SYNCING.has(s.connection)) {
      notes.push(`DRBD ${name}: the disk on ${node} is Inconsistent and no resync is running. Connect it to a peer that is UpToDate (drbdadm connect ${name}); it must not run a guest until then.`);
    } else if (s.disk === "Diskless" || s.disk === "Failed") {
      notes.push(`DRBD ${name}: ${node} has no backing disk (${s.disk}). Check the volume, then drbdadm attach ${name} on ${node}.`);
    }
  }
  return notes;
}

/** Per node whose running options have left the file's: what `drbdadm adjust` would run, and that the next up runs it. */
export function runtimeDriftAttention(name: string, runtimeDrift: Readonly<Record<string, readonly string[]>> | undefined): string[] {
  return Object.entries(runtimeDrift ?? {})
    .filter(([, changes]) => changes.length > 0)
    .map(
      ([node, changes]) =>
        `DRBD ${name}: on ${node} the running options differ from ${resourceConfigPath(name)} (drbdadm adjust would run: ${changes.join("; ")}); ` +
        `the next up runs drbdadm adjust ${name} there to put the file's options back. Change the program's options instead if the running values should stay.`,
    );
}
