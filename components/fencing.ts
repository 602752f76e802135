/**
 * The fencing warning a preview of the cluster shows: what happens to a disk both nodes may write
 * when nothing stops a cut-off node.
 */
import type { DrbdResourceArgs } from "../provider/drbd/drbd-resource";
import { DEFAULT_PING_TIMEOUT_TENTHS, dopdFencePeer } from "../provider/drbd/fencing";
import { drbdResourceSchema } from "../provider/drbd/schema";
import type { TwoNodeXenHaArgs } from "./types";
import { isDeferred } from "./deferred";

/** What decides whether a split brain can corrupt the guests' disks. */
export interface FencingFacts {
  /** DRBD's allow-two-primaries, which live migration needs (DrbdResource's default: on). */
  allowTwoPrimaries: boolean;
  /** The cluster manager resets a peer it declares dead before taking its guests over (`heartbeat.stonith`, `pacemaker.fencing`). */
  stonith: boolean;
  /** Heartbeat keeps a watchdog device alive (`heartbeat.watchdog`). */
  watchdog: boolean;
}

export const UNFENCED_TWO_PRIMARIES_WARNING =
  "allow-two-primaries without STONITH or a watchdog: if both links fail while both nodes live, each node starts the other's guests " +
  "on a disk both can write, and the data is corrupted. Configure heartbeat.stonith (and a watchdog), or pacemaker.fencing.";

/** The warning when two primaries are allowed with neither STONITH nor a watchdog; undefined otherwise. */
export function fencingWarning(facts: FencingFacts): string | undefined {
  return facts.allowTwoPrimaries && !facts.stonith && !facts.watchdog ? UNFENCED_TWO_PRIMARIES_WARNING : undefined;
}

/** The facts as the component's args set them, with the children's defaults; undefined while one is not known yet. */
export function fencingFactsOf(args: TwoNodeXenHaArgs): FencingFacts | undefined {
  const allow = args.drbd?.allowTwoPrimaries;
  const pacemaker = args.clusterManager === "pacemaker";
  const watchdog = pacemaker ? null : args.heartbeat?.watchdog;
  if (isDeferred(allow) || isDeferred(watchdog)) return undefined;
  return {
    allowTwoPrimaries: allow === undefined ? drbdResourceSchema.shape.allowTwoPrimaries.parse(undefined) : allow === true,
    stonith: pacemaker ? args.pacemaker?.fencing !== undefined : args.heartbeat?.stonith !== undefined,
    // Unset means HeartbeatCluster's default, /dev/watchdog; null means none.
    watchdog: watchdog !== null,
  };
}

/**
 * DRBD's resource-level fencing through dopd for the resource on this minor, when Heartbeat runs
 * dopd (`heartbeat.dopd`) and the program sets neither `drbd.fencing` nor a fence-peer handler of
 * its own: `fencing resource-only` and the handler that waits for the peer to notice the loss.
 */
export function dopdFencingOf(args: TwoNodeXenHaArgs, minor: number): Pick<DrbdResourceArgs, "fencing" | "handlers"> {
  if (!wantsDopdFencing(args)) return {};
  const drbd = args.drbd ?? {};
  const pingInt = drbd.pingInt ?? drbdResourceSchema.shape.pingInt.parse(undefined);
  const pingTimeout = drbd.pingTimeout ?? DEFAULT_PING_TIMEOUT_TENTHS;
  // validate() refuses timings not known yet here: the handler's wait is written from them.
  if (typeof pingInt !== "number" || typeof pingTimeout !== "number") return {};
  return { fencing: "resource-only", handlers: { ...(drbd.handlers as object | undefined), fencePeer: dopdFencePeer(minor, pingInt, pingTimeout) } };
}

/** Whether the component writes dopd's fencing into every DRBD resource (see `dopdFencingOf`). */
export function wantsDopdFencing(args: TwoNodeXenHaArgs): boolean {
  const drbd = args.drbd ?? {};
  if (args.clusterManager === "pacemaker" || args.heartbeat?.dopd !== true || drbd.fencing !== undefined || isDeferred(drbd.handlers)) return false;
  return (drbd.handlers as { fencePeer?: unknown } | undefined)?.fencePeer === undefined;
}
