/**
 * How changes to a DomU's inputs are applied. A guest is replaced only when it becomes another
 * guest (another name, another way of being defined); everything else is an update, because a
 * replace destroys the running guest and the whole point of the cluster is that it keeps running.
 * Moving it to the other host is a migration; settings Xen cannot change on a running guest are
 * written to the config on every host and take effect at its next start, and the update says so.
 */
import { changed, deepEqual, type Classifier, type DiffRules } from "../diff";
import type { InputFailure } from "../errors";
import { containsUnknown } from "../inputs";
import { decideMove, planMove, type HostCapabilities, type MovePlan } from "./capabilities";
import type { RunningLimits } from "./list";
import type { XenDomUInputs } from "./schema";

/** xen-tools settings that only matter while xen-create-image installs the guest. */
export const INSTALL_TIME_SETTINGS = [
  "ip", "volumeGroup", "size", "swap", "fs", "dist", "image", "gateway", "netmask", "broadcast",
  "arch", "installMethod", "installSource", "mirror", "kernel", "initrd", "pygrub",
] as const;

type Rec = Record<string, unknown>;
const asRec = (v: unknown): Rec => (v !== null && typeof v === "object" ? (v as Rec) : {});

/** Host order means nothing; connection details and crossover addresses are rewritten in place. */
const hostsRule: Classifier = (before, after) => {
  const byName = (v: unknown) => (Array.isArray(v) ? [...v].sort((a, b) => String(asRec(a).name).localeCompare(String(asRec(b).name))) : v);
  return changed(byName(before), byName(after)) ? "update" : undefined;
};

/**
 * Another mode is another guest. Within xen-tools, install-time settings would mean a reinstall
 * over the guest's disks (refused in check, see validateXenDomUChange); the password is used once
 * and its later changes are ignored; the rest only shapes the config.
 */
const definitionRule: Classifier = (before, after) => {
  const b = asRec(before);
  const a = asRec(after);
  if (containsUnknown(a.mode) || b.mode !== a.mode) return "replace";
  if (a.mode === "xen-tools") {
    if (INSTALL_TIME_SETTINGS.some((k) => changed(b[k], a[k]))) return "replace";
    const { password: _b, ...restBefore } = b;
    const { password: _a, ...restAfter } = a;
    return changed(restBefore, restAfter) ? "update" : undefined;
  }
  return changed(b, a) ? "update" : undefined;
};

export const xenDomURules: DiffRules = {
  name: "replace",
  definition: definitionRule,
  hosts: hostsRule,
  runOn: "update",
  state: "update",
  toolstack: "update",
  type: "update",
  memory: "update",
  maxMemory: "update",
  vcpus: "update",
  maxVcpus: "update",
  extra: "update",
  onCrash: "update",
  onPoweroff: "update",
  onReboot: "update",
  allowNonLiveMove: "update",
  shutdownTimeoutSeconds: "update",
};

/** Changes refused before preview ends, with what to do instead. */
export function validateXenDomUChange(olds: XenDomUInputs, news: XenDomUInputs): InputFailure[] {
  const b = olds.definition;
  const a = news.definition;
  if (b.mode !== "xen-tools" || a.mode !== "xen-tools" || olds.name !== news.name) return [];
  return INSTALL_TIME_SETTINGS.filter((k) => !deepEqual(b[k], a[k])).map((k) => ({
    property: `definition.${k}`,
    reason:
      `is used only when xen-create-image installs the guest; changing it would reinstall over ${news.name}'s disks. ` +
      `Set it back to ${JSON.stringify(b[k])}, or to reinstall deliberately remove the volumes ${news.name}-disk/${news.name}-swap and run pulumi up --replace.`,
  }));
}

/** What the state records about a guest for preview: where it runs, what it is, what the hosts can do. */
export interface RecordedGuest {
  runOn: string;
  type: XenDomUInputs["type"];
  /** `xl info`'s facts per host name, recorded at create and read. */
  capabilities?: Record<string, HostCapabilities>;
}

/**
 * The move a change of host will make, judged from state alone, or undefined when the host does not
 * change or the guest is stopped. The running guest keeps its old type until it restarts, so the
 * old type decides.
 */
export function moveOnChange(recorded: RecordedGuest, news: Pick<XenDomUInputs, "runOn" | "state" | "allowNonLiveMove">): MovePlan | "unknown" | undefined {
  if (news.runOn === recorded.runOn || news.state === "stopped" || containsUnknown(news.runOn)) return undefined;
  const from = recorded.capabilities?.[recorded.runOn];
  const to = recorded.capabilities?.[news.runOn];
  if (!from || !to) return "unknown";
  return planMove(decideMove(recorded.type, { host: recorded.runOn, capabilities: from }, { host: news.runOn, capabilities: to }), news.allowNonLiveMove);
}

/** The limits of a running guest where `xl list -l` cannot say (xm): those of the config it started with. */
export function bootLimitsOf(config: { memory: number; maxMemory?: number | undefined; vcpus: number; maxVcpus?: number | undefined }): Omit<RunningLimits, "domid"> {
  return { maxMemoryMiB: config.maxMemory ?? config.memory, maxVcpus: config.maxVcpus ?? config.vcpus };
}

export interface RunningUpdatePlan {
  /** Balloon the running guest to this many MiB. */
  memSet?: number;
  /** Bring this many vCPUs online. */
  vcpuSet?: number;
  /** What waits for the guest's next start, one sentence each, for the update's message. */
  pendingRestart: string[];
}

/** Inputs whose change reaches a running guest only through its config, at its next start. */
const CONFIG_ONLY = ["type", "maxMemory", "maxVcpus", "extra", "onCrash", "onPoweroff", "onReboot", "definition"] as const;

/** What an update can do to the running guest now, and what must wait for a restart. */
export function planRunningUpdate(olds: XenDomUInputs, news: XenDomUInputs, limits: Omit<RunningLimits, "domid">): RunningUpdatePlan {
  const plan: RunningUpdatePlan = { pendingRestart: [] };
  if (news.memory !== olds.memory) {
    if (news.memory <= limits.maxMemoryMiB) plan.memSet = news.memory;
    else plan.pendingRestart.push(`memory ${news.memory} MiB is above the ${limits.maxMemoryMiB} MiB the running guest was started with (maxMemory); it applies at the next start`);
  }
  if (news.vcpus !== olds.vcpus) {
    if (news.vcpus <= limits.maxVcpus) plan.vcpuSet = news.vcpus;
    else plan.pendingRestart.push(`vcpus ${news.vcpus} is above the ${limits.maxVcpus} the running guest was started with (maxVcpus); it applies at the next start`);
  }
  for (const key of CONFIG_ONLY) {
    const [b, a] = key === "definition" ? [withoutPassword(olds.definition), withoutPassword(news.definition)] : [olds[key], news[key]];
    if (!deepEqual(b, a)) plan.pendingRestart.push(`${key} changed in the config; it applies at the next start`);
  }
  return plan;
}

function withoutPassword(definition: XenDomUInputs["definition"]): Rec {
  const { password: _ignored, ...rest } = definition as Rec;
  return rest;
}
