/**
 * Moving a guest home when Heartbeat placed it: after a failover with `auto_failback off`, the
 * survivor holds the failed node's resource group, and only Heartbeat may give it back. Migrating
 * the guest alone would leave Heartbeat believing the survivor runs it, so a later crash of the home
 * node would start it nowhere. The group goes back with `hb_standby foreign` on the holder, whose
 * resource script live-migrates every guest of the group home.
 */
import { parseResourceHolding, type ResourceHolding } from "../heartbeat/holding";
import { sh, type Shell } from "../shell";
import type { Whereabouts } from "./list";

/** Debian's place for Heartbeat's standby command (heartbeat 3.0.x). */
export const HB_STANDBY = "/usr/share/heartbeat/hb_standby";

/** What Heartbeat says on one node: whether it runs, and which haresources lines it holds. */
export interface HeartbeatHolding {
  running: boolean;
  /** "unknown" when Heartbeat is stopped. */
  resources: ResourceHolding;
}

export function parseHolding(text: string): HeartbeatHolding {
  let running = false;
  let resources: ResourceHolding = "unknown";
  for (const line of text.split("\n")) {
    const [key, value = ""] = line.split("\t");
    if (key === "heartbeat") running = value.trim() === "running";
    if (key === "resources") resources = parseResourceHolding(value);
  }
  return { running, resources: running ? resources : "unknown" };
}

export function buildHandBackCommand(): Shell {
  return sh`${HB_STANDBY} foreign`;
}

export type GroupMove =
  /** Heartbeat does not hold the guest's group away from home: the guest moves like any other. */
  | { kind: "direct" }
  /** The source holds the target's group: give it back through Heartbeat. */
  | { kind: "handBack" }
  /** Heartbeat on the source is moving resources now: wait, then look again. */
  | { kind: "wait" }
  /**
   * The source holds the target's group but Heartbeat does not run on the target: the guest stays
   * where it is in this up, and goes home with its group once Heartbeat runs there again.
   */
  | { kind: "deferred"; reason: string };

/**
 * How a guest of a Heartbeat group that runs on `source` reaches `target`, its home. The group of a
 * guest is its home's, so on the source it is a foreign one.
 */
export function groupMove(name: string, source: { name: string; holding: HeartbeatHolding }, target: { name: string; holding: HeartbeatHolding }): GroupMove {
  if (!source.holding.running) return { kind: "direct" };
  const held = source.holding.resources;
  if (held === "transition") return { kind: "wait" };
  if (held !== "all" && held !== "foreign") return { kind: "direct" };
  if (!target.holding.running) {
    return {
      kind: "deferred",
      reason:
        `${name} stays on ${source.name} in this up: Heartbeat there holds ${target.name}'s resource group since a failover, and Heartbeat does not run on ${target.name} ` +
        `(held back at boot after a fence or a crash, or stopped), so the group cannot be handed back yet, and moving the guest alone would leave it unprotected. ` +
        `HeartbeatCluster starts Heartbeat on ${target.name} later in this up when its last read found it stopped (else: systemctl start heartbeat there); ` +
        `with auto_failback on Heartbeat then brings the group home, otherwise the next up hands it back. To keep ${name} on ${source.name}, set the VM's home to ${source.name}.`,
    };
  }
  return { kind: "handBack" };
}

/**
 * Where a hand-back stands once `hb_standby foreign` was sent. Heartbeat drops a standby request
 * without an answer while either node is "in flux" (a node that has just joined, a takeover still
 * running), so an `idle` hand-back is asked again.
 */
export type HandBackProgress = "done" | "moving" | "idle";

export function handBackProgress(where: Whereabouts, target: string, source: { name: string; holding: HeartbeatHolding }, targetHolding: HeartbeatHolding): HandBackProgress {
  if (where.where === "one" && where.host === target && where.presence === "running") return "done";
  const holdsGroup = source.holding.running && (source.holding.resources === "all" || source.holding.resources === "foreign");
  const stillOnSource = where.where === "one" && where.host === source.name;
  const inTransition = source.holding.resources === "transition" || targetHolding.resources === "transition";
  return holdsGroup && stillOnSource && !inTransition ? "idle" : "moving";
}

/** The warning preview prints for a guest away from home whose placement Heartbeat owns. */
export function handBackNotice(name: string, runsOn: string, home: string): string {
  return (
    `${name} runs on ${runsOn} (as last read), away from its home ${home}: a failover put it there and auto_failback is off, or it was moved by hand. ` +
    `up gives ${home}'s Heartbeat group back (hb_standby foreign on ${runsOn}), which live-migrates every guest of that group home; a guest moved by hand is migrated back. ` +
    `To keep it on ${runsOn}, set the VM's home to ${runsOn}.`
  );
}
