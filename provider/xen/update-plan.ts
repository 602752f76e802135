/**
 * What XenDomU's update does, decided in one place: from the recorded and the new inputs and
 * where the guest runs, the steps the lifecycle then runs in order. The whole rule for a change of
 * `runOn`, `state`, memory or vCPUs reads here. Preview asks the same plan with the placement the
 * state records (`placementFromState`); update asks it with a fresh survey.
 */
import { containsUnknown } from "../inputs";
import { decideMove, planMove, type HostCapabilities, type MovePlan } from "./capabilities";
import type { RunningLimits } from "./list";
import { bootLimitsOf, planRunningUpdate } from "./rules";
import type { XenDomUInputs } from "./schema";

/** Where the guest runs before the update, and what the hypervisors can do. */
export interface GuestPlacement {
  /** The host it runs (or is migrating) on; undefined when it runs nowhere. */
  runningOn: string | undefined;
  /** What it was started with, as that host reports it; undefined when the host could not say. */
  limits: RunningLimits | undefined;
  /** `xl info`'s facts per host; a host missing here leaves how a move goes to the moment it runs. */
  capabilities: Readonly<Record<string, HostCapabilities | undefined>>;
}

/** How the guest crosses to the other host: decided from both hypervisors, or not yet known (preview without recorded facts). */
export type MoveHow = Exclude<MovePlan, { kind: "refused" }> | { kind: "unknown" };

export type UpdateStep =
  /** Refuse the whole update before anything is written. */
  | { kind: "refuse"; reason: string }
  /** Refuse the whole update, before anything is written, unless the guest may start on `on`. */
  | { kind: "refuseUnlessStartable"; on: string }
  | { kind: "writeConfigs" }
  | { kind: "stop" }
  | { kind: "start"; on: string }
  /**
   * Move the running guest: `heartbeat` hands its group back through Heartbeat (which may find it
   * home already, or defer the move while the home node's Heartbeat is stopped); `direct` migrates it.
   * `how` is what a direct move does (a live migration, or save, copy and restore).
   */
  | { kind: "move"; from: string; to: string; type: "pv" | "pvh"; through: "heartbeat" | "direct"; how: MoveHow }
  /** Balloon memory and set online vCPUs of the running guest, wherever it runs after the move. */
  | { kind: "applyLive"; memSet?: number; vcpuSet?: number };

export interface UpdatePlan {
  steps: UpdateStep[];
  /** What waits for the guest's next start once the steps have run. */
  pendingRestart: string[];
}

export interface RecordedRun {
  state: "running" | "stopped";
  pendingRestart: readonly string[];
}

export function planUpdate(before: XenDomUInputs, inputs: XenDomUInputs, recorded: RecordedRun, placement: GuestPlacement): UpdatePlan {
  const { runningOn } = placement;
  if (inputs.placedBy === "pacemaker") return pacemakerPlan(before, inputs, recorded, placement);
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
    // The running guest keeps the type it started with until it restarts.
    const type = limits.type === "pvh" || limits.type === "pv" ? limits.type : before.type;
    const how = moveHow(type, runningOn, inputs.runOn, placement.capabilities, inputs.allowNonLiveMove);
    if (how.kind === "refused") {
      return { steps: [{ kind: "refuse", reason: `moving ${inputs.name} from ${runningOn} to ${inputs.runOn} is refused before anything moves: ${how.reason}` }], pendingRestart: [] };
    }
    steps.push({ kind: "move", from: runningOn, to: inputs.runOn, type, through: inputs.placedBy === "heartbeat" ? "heartbeat" : "direct", how });
  }
  const live = planRunningUpdate(before, inputs, limits);
  if (live.memSet !== undefined || live.vcpuSet !== undefined) {
    steps.push({ kind: "applyLive", ...(live.memSet !== undefined ? { memSet: live.memSet } : {}), ...(live.vcpuSet !== undefined ? { vcpuSet: live.vcpuSet } : {}) });
  }
  return { steps, pendingRestart: [...recorded.pendingRestart, ...live.pendingRestart] };
}

/**
 * Under Pacemaker the guest is a resource it starts, stops and live-migrates (PacemakerConfig):
 * the update writes the configs and applies memory and vCPUs to the running guest, and nothing
 * else, so it never races the cluster manager to a start or a move.
 */
function pacemakerPlan(before: XenDomUInputs, inputs: XenDomUInputs, recorded: RecordedRun, placement: GuestPlacement): UpdatePlan {
  const steps: UpdateStep[] = [{ kind: "writeConfigs" }];
  if (placement.runningOn === undefined) return { steps, pendingRestart: [...recorded.pendingRestart] };
  const live = planRunningUpdate(before, inputs, placement.limits ?? { ...bootLimitsOf(before), domid: 0 });
  if (live.memSet !== undefined || live.vcpuSet !== undefined) {
    steps.push({ kind: "applyLive", ...(live.memSet !== undefined ? { memSet: live.memSet } : {}), ...(live.vcpuSet !== undefined ? { vcpuSet: live.vcpuSet } : {}) });
  }
  return { steps, pendingRestart: [...recorded.pendingRestart, ...live.pendingRestart] };
}

/** Both directions are judged together (decideMove), so a guest never goes where it could not come back from the same way. */
function moveHow(type: "pv" | "pvh", from: string, to: string, capabilities: GuestPlacement["capabilities"], allowNonLiveMove: boolean): MovePlan | { kind: "unknown" } {
  const a = capabilities[from];
  const b = capabilities[to];
  if (!a || !b) return { kind: "unknown" };
  return planMove(decideMove(type, { host: from, capabilities: a }, { host: to, capabilities: b }), allowNonLiveMove);
}

type Rec = Readonly<Record<string, unknown>>;
const asRec = (v: unknown): Rec => (v !== null && typeof v === "object" ? (v as Rec) : {});

/**
 * The placement the state records, for preview: where the guest ran at the last create, update or
 * refresh, and the hypervisors' facts read then. Preview never asks the hosts.
 */
export function placementFromState(olds: Rec): GuestPlacement {
  const running = olds.state !== "stopped" && typeof olds.runOn === "string";
  return {
    runningOn: running ? (olds.runOn as string) : undefined,
    limits: undefined,
    capabilities: asRec(olds.capabilities) as Record<string, HostCapabilities | undefined>,
  };
}

/** The plan preview shows: undefined while the new host is not known yet. */
export function previewPlan(before: XenDomUInputs, inputs: XenDomUInputs, olds: Rec): UpdatePlan | undefined {
  if (containsUnknown(inputs.runOn)) return undefined;
  return planUpdate(before, inputs, { state: olds.state === "stopped" ? "stopped" : "running", pendingRestart: [] }, placementFromState(olds));
}
