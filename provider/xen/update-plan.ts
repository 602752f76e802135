/**
 * What XenDomU's update does, decided in one place: from the recorded and the new inputs and
 * where the survey found the guest, the steps the lifecycle then runs in order. The whole rule
 * for a change of `runOn`, `state`, memory or vCPUs reads here.
 */
import type { RunningLimits } from "./list";
import { bootLimitsOf, planRunningUpdate } from "./rules";
import type { XenDomUInputs } from "./schema";

/** Where the survey found the guest before the update. */
export interface GuestPlacement {
  /** The host it runs (or is migrating) on; undefined when it runs nowhere. */
  runningOn: string | undefined;
  /** What it was started with, as that host reports it; undefined when the host could not say. */
  limits: RunningLimits | undefined;
}

export type UpdateStep =
  /** Refuse the whole update, before anything is written, unless the guest may start on `on`. */
  | { kind: "refuseUnlessStartable"; on: string }
  | { kind: "writeConfigs" }
  | { kind: "stop" }
  | { kind: "start"; on: string }
  /**
   * Move the running guest: `heartbeat` hands its group back through Heartbeat (which may find it
   * home already, or defer the move while the home node's Heartbeat is stopped); `direct` migrates it.
   */
  | { kind: "move"; from: string; to: string; type: "pv" | "pvh"; through: "heartbeat" | "direct" }
  /** Balloon memory and set online vCPUs of the running guest, wherever it runs after the move. */
  | { kind: "applyLive"; memSet?: number; vcpuSet?: number };

export interface UpdatePlan {
  steps: UpdateStep[];
  /** What waits for the guest's next start once the steps have run. */
  pendingRestart: string[];
}

export function planUpdate(
  before: XenDomUInputs,
  inputs: XenDomUInputs,
  recorded: { state: "running" | "stopped"; pendingRestart: readonly string[] },
  placement: GuestPlacement,
): UpdatePlan {
  const { runningOn } = placement;
  const steps: UpdateStep[] = [];
  // A guest found running elsewhere while the state says it was stopped was started by someone
  // else: starting ours is refused like any start, never turned into a migration of theirs.
  if (inputs.state === "running" && (runningOn === undefined || (recorded.state === "stopped" && runningOn !== inputs.runOn))) {
    steps.push({ kind: "refuseUnlessStartable", on: inputs.runOn });
  }
  steps.push({ kind: "writeConfigs" });
  if (inputs.state === "stopped") return { steps: [...steps, { kind: "stop" }], pendingRestart: [] };
  if (runningOn === undefined) return { steps: [...steps, { kind: "start", on: inputs.runOn }], pendingRestart: [] };

  const limits = placement.limits ?? { ...bootLimitsOf(before), domid: 0 };
  if (runningOn !== inputs.runOn) {
    const type = limits.type === "pvh" || limits.type === "pv" ? limits.type : before.type;
    steps.push({ kind: "move", from: runningOn, to: inputs.runOn, type, through: inputs.placedBy === "heartbeat" ? "heartbeat" : "direct" });
  }
  const live = planRunningUpdate(before, inputs, limits);
  if (live.memSet !== undefined || live.vcpuSet !== undefined) {
    steps.push({ kind: "applyLive", ...(live.memSet !== undefined ? { memSet: live.memSet } : {}), ...(live.vcpuSet !== undefined ? { vcpuSet: live.vcpuSet } : {}) });
  }
  return { steps, pendingRestart: [...recorded.pendingRestart, ...live.pendingRestart] };
}
