/** What a read of the Heartbeat nodes finds that needs a person: a node restarted since the last up, a watchdog nobody holds. */
import type { HeartbeatClusterInputs } from "./schema";
import type { HeartbeatNodeReport } from "./status";

export interface NodeHealth {
  node: string;
  /** The kernel's boot id as read; "" when the node could not be read. */
  bootId: string;
  /** `held` by Heartbeat, `not held`, `absent` (no device), `none` configured, or `unknown` (not read). */
  watchdog: "held" | "not held" | "absent" | "none" | "unknown";
}

export function nodeHealthOf(c: HeartbeatClusterInputs, reports: readonly (HeartbeatNodeReport | undefined)[]): NodeHealth[] {
  return c.nodes.map((n, i) => {
    const r = reports[i];
    const watchdog: NodeHealth["watchdog"] = !c.watchdog ? "none" : !r ? "unknown" : r.watchdogPresent === false ? "absent" : r.watchdogHeld ? "held" : "not held";
    return { node: n.name, bootId: r?.bootId ?? "", watchdog };
  });
}

/**
 * Notes for the person running pulumi. `upBootIds` are the boot ids the last create or update saw,
 * in node order: another one now means the node restarted since, which in a fenced cluster is
 * what a STONITH reset or the watchdog leaves behind.
 */
export function heartbeatAttention(c: HeartbeatClusterInputs, upBootIds: readonly unknown[] | undefined, health: readonly NodeHealth[], heartbeatRunning: readonly boolean[]): string[] {
  const notes: string[] = [];
  const restarted = restartedSinceUp(upBootIds, health);
  health.forEach((h, i) => {
    if (restarted.includes(h.node)) {
      notes.push(
        `${h.node} has restarted since the last up (its boot id changed): fenced by its peer, reset by its watchdog, crashed, or rebooted by hand. ` +
          `Find out why (journalctl -b -1 on ${h.node}, and the power switch's or BMC's log), and check that its DRBD disks are UpToDate again; the next up records the restart as seen.`,
      );
    }
    if (h.watchdog === "not held" && heartbeatRunning[i]) {
      notes.push(`Heartbeat on ${h.node} does not hold ${c.watchdog ?? "the watchdog"} open: if it hangs, nothing resets ${h.node}. Restart Heartbeat there once its guests run on the peer.`);
    }
  });
  return notes;
}

/**
 * The nodes whose boot id is not the one the last create or update saw. A read records them
 * (`restartedSinceUp`), so the next preview shows the update that records the restart as seen.
 */
export function restartedSinceUp(upBootIds: readonly unknown[] | undefined, health: readonly NodeHealth[]): string[] {
  return health
    .filter((h, i) => {
      const before = upBootIds?.[i];
      return typeof before === "string" && before !== "" && h.bootId !== "" && h.bootId !== before;
    })
    .map((h) => h.node);
}
