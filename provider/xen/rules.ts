/**
 * How changes to a DomU's inputs are applied. A guest is replaced only when it becomes another
 * guest (another name); everything else is an update, because a
 * replace destroys the running guest and the whole point of the cluster is that it keeps running.
 * Moving it to the other host is a migration; settings Xen cannot change on a running guest are
 * written to the config on every host and take effect at its next start, and the update says so.
 */
import { changed, deepEqual, type Classifier, type DiffRules } from "../diff";
import type { RunningLimits, Whereabouts } from "./list";
import { handBackNotice } from "./heartbeat-placement";
import type { XenDomUInputs } from "./schema";

type Rec = Record<string, unknown>;
const asRec = (v: unknown): Rec => (v !== null && typeof v === "object" ? (v as Rec) : {});

/** Host order means nothing; connection details and crossover addresses are rewritten in place. */
const hostsRule: Classifier = (before, after) => {
  const byName = (v: unknown) => (Array.isArray(v) ? [...v].sort((a, b) => String(asRec(a).name).localeCompare(String(asRec(b).name))) : v);
  return changed(byName(before), byName(after)) ? "update" : undefined;
};

export const xenDomURules: DiffRules = {
  name: "replace",
  hosts: hostsRule,
  runOn: "update",
  state: "update",
  toolstack: "update",
  type: "update",
  kernel: "update",
  ramdisk: "update",
  root: "update",
  extra: "update",
  bootloader: "update",
  memory: "update",
  maxMemory: "update",
  vcpus: "update",
  maxVcpus: "update",
  vifs: "update",
  disks: "update",
  adopt: "update",
  deleteAdopted: "update",
  onCrash: "update",
  onPoweroff: "update",
  onReboot: "update",
  extraConfig: "update",
  allowNonLiveMove: "update",
  placedBy: "update",
  shutdownTimeoutSeconds: "update",
  migrationTimeoutSeconds: "update",
};

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
const CONFIG_ONLY = ["type", "kernel", "ramdisk", "root", "extra", "bootloader", "maxMemory", "maxVcpus", "vifs", "disks", "onCrash", "onPoweroff", "onReboot", "extraConfig"] as const;

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
    if (!deepEqual(olds[key], news[key])) plan.pendingRestart.push(`${key} changed in the config; it applies at the next start`);
  }
  return plan;
}

/**
 * A create that finds the guest already there (listed by a hypervisor, or its config on a host)
 * takes it over only with `adopt`, and only where it runs: moving a guest is an update's job,
 * after the take-over has been reviewed.
 */
export function takeOver(
  inputs: Pick<XenDomUInputs, "name" | "adopt" | "runOn">,
  where: Whereabouts,
  configHosts: readonly string[],
): { adopted: boolean; refusal?: string } {
  const parts = [
    ...(where.where === "one" ? [`it is ${where.presence} on ${where.host} (domid ${where.entry.domid})`] : []),
    ...configHosts.map((h) => `${h} has its config file`),
  ];
  if (parts.length === 0) return { adopted: false };
  if (!inputs.adopt) {
    return {
      adopted: false,
      refusal:
        `domain ${inputs.name} already exists and this stack did not create it: ${parts.join("; ")}. Nothing was changed. ` +
        `Set adopt: true to take it over as it runs (its config is rewritten, the guest is not restarted; it is left running when the resource is deleted, unless deleteAdopted: true), or choose another name.`,
    };
  }
  if (where.where === "one" && where.host !== inputs.runOn) {
    return { adopted: false, refusal: `domain ${inputs.name} runs on ${where.host}, not on runOn ${inputs.runOn}: set runOn to ${where.host} to adopt it where it runs, then change runOn in a later update to move it.` };
  }
  return { adopted: true };
}

/**
 * A running guest that is not where the program places it: after a refresh, a failover that moved
 * it; otherwise a runOn the program just changed. Either way the up moves it, which is worth a word.
 */
export function awayFromRunOn(olds: Readonly<Record<string, unknown>>, news: Pick<XenDomUInputs, "name" | "runOn" | "state" | "placedBy"> | undefined): string | undefined {
  if (!news || olds.state !== "running" || typeof olds.runOn !== "string" || olds.runOn === news.runOn || news.state !== "running") return undefined;
  if (news.placedBy === "heartbeat") return handBackNotice(news.name, olds.runOn, news.runOn);
  if (news.placedBy === "pacemaker") {
    return (
      `${news.name} runs on ${olds.runOn} (as last read), away from its home ${news.runOn}: Pacemaker placed it there (a failover, or autoFailback off). ` +
      `Pacemaker brings it home (its PacemakerConfig's home preference); XenDomU does not move it.`
    );
  }
  return (
    `${news.name} runs on ${olds.runOn} (as last read), and the program places it on ${news.runOn}: up moves it there (a live migration where the hypervisors allow it). ` +
    `If a failover put it on ${olds.runOn} and it should stay, set its runOn (the VM's home) to ${olds.runOn}.`
  );
}
