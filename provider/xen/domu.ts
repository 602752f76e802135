import * as pulumi from "@pulumi/pulumi";
import { HostStateError, RefusedError } from "../errors";
import type { InputFailure } from "../errors";
import { parseInputs } from "../inputs";
import type { DeepInput } from "../args";
import { checkWith, diffWith, isAdoptingCreate, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { holdsDrift, refreshedInputs } from "../refreshed-inputs";
import { warn } from "../engine-log";
import { progress } from "../progress";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import type { HostCapabilities } from "./capabilities";
import { configPath } from "./config";
import {
  capabilitiesOf,
  hostKeysOf,
  renderedConfig,
  startGuest,
  startRefusal,
  runsOn,
  stopGuest,
  surveyHosts,
  whereabouts,
  writeConfigs,
  type Views,
} from "./domu-ops";
import { runningHost, startBlocker } from "./list";
import { awayFromRunOn, takeOver, xenDomURules } from "./rules";
import { planUpdate, previewPlan } from "./update-plan";
import { runUpdate } from "./update-run";
import { xenDomUSchema, type CrashAction, type DiskInput, type ExtraConfigValue, type GuestType, type Vif, type XenDomUInputs, type XenHostInput } from "./schema";

type In<T> = pulumi.Input<T>;

export interface XenDomUArgs {
  /** Domain name (the seed's `test`); the config is `/etc/xen/NAME.cfg` on every host. */
  name: In<string>;
  /** The dom0s the guest may run on (one or two), each with its SSH connection and crossover address. */
  hosts: In<DeepInput<XenHostInput>[]>;
  /** The host it runs on (a `hosts[].name`). Changing it migrates the running guest over the crossover link. */
  runOn: In<string>;
  /** `running` (default) or `stopped`. */
  state?: In<"running" | "stopped">;
  /** `xl` (default) or `xm`. */
  toolstack?: In<"xl" | "xm">;
  /** `pv` (default, the seed's) or `pvh`. */
  type?: In<GuestType>;
  /** Kernel on the dom0s for direct boot (or `bootloader`). */
  kernel?: In<string | undefined>;
  /** Initial ramdisk on the dom0s. */
  ramdisk?: In<string | undefined>;
  /** Root device and options (`root=`), such as "/dev/xvda2 ro". */
  root?: In<string | undefined>;
  /** Kernel arguments. */
  extra?: In<string | undefined>;
  /** `pygrub` to boot a kernel from the guest's own disk. */
  bootloader?: In<"pygrub">;
  /** MiB. Default 384. Lowered or raised up to maxMemory on the running guest with mem-set. */
  memory?: In<number>;
  /** MiB the guest may balloon up to. Default: memory. */
  maxMemory?: In<number>;
  /** vCPUs. Default 1. Changed on the running guest with vcpu-set up to maxVcpus. */
  vcpus?: In<number>;
  /** Most vCPUs. Default: vcpus. */
  maxVcpus?: In<number>;
  /** Network interfaces (bridge default xenbr0, MAC derived from the name). */
  vifs?: In<DeepInput<Vif>[]>;
  /** Disks: `{ drbd: "test-disk", vdev: "xvda2" }` (the seed's) or `{ phy: "/dev/vg/x", vdev: "xvda" }`. */
  disks: In<DeepInput<DiskInput>[]>;
  /** Default `preserve`. */
  onCrash?: In<CrashAction>;
  /** Default `destroy`. */
  onPoweroff?: In<CrashAction>;
  /** Default `restart`. */
  onReboot?: In<CrashAction>;
  /**
   * More config settings, written as `key = value` after the typed ones: a string (quoted, with
   * quotes and backslashes escaped; line breaks refused), a whole number, a boolean (1 or 0) or a
   * list of strings. Keys are xl.cfg's (`[a-z_][a-z0-9_]*`); keys this resource writes itself
   * (`memory`, `vif`, `on_crash`…) are refused, naming the input to use. Default none.
   */
  extraConfig?: In<Record<string, In<ExtraConfigValue>>>;
  /** Let a change of host save, copy and restore the guest (a pause of about a minute) when it cannot live-migrate. Default false. */
  allowNonLiveMove?: In<boolean>;
  /** Seconds a graceful shutdown may take before destroy. Default 120. */
  shutdownTimeoutSeconds?: In<number>;
  /** Seconds a migration may take. Default 900. */
  migrationTimeoutSeconds?: In<number>;
  /**
   * `heartbeat` when the guest is in its runOn's Heartbeat group: a guest away from home goes back with its group (hb_standby foreign).
   * `pacemaker` when it is a Pacemaker resource (PacemakerConfig), which starts, stops and moves it; update then only writes its config and applies memory and vCPUs. Default `none`.
   */
  placedBy?: In<"none" | "heartbeat" | "pacemaker">;
  /** Take over a guest of this name that already runs, or whose config exists, instead of refusing. Default false. */
  adopt?: In<boolean>;
  /** Stop and remove an adopted guest when the resource is deleted. Default false: it is left as it is. */
  deleteAdopted?: In<boolean>;
}

/**
 * A Xen guest on one or two dom0s: its config written identically to each, started on `runOn`
 * after the peer was checked, migrated when `runOn` changes, stopped gracefully.
 */
export class XenDomU extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  /** Where the guest runs (after a refresh: where it was found). */
  declare readonly runOn: pulumi.Output<string>;
  declare readonly state: pulumi.Output<"running" | "stopped">;
  /** Domain id on the host it runs on, or null. */
  declare readonly domid: pulumi.Output<number | null>;
  /** `xl info`'s facts per host name, from which preview decides between live and non-live moves. */
  declare readonly capabilities: pulumi.Output<Record<string, HostCapabilities>>;
  /** Settings written to the config that the running guest takes only at its next start. */
  declare readonly pendingRestart: pulumi.Output<string[]>;
  /** Whether every host's config file was the rendered one when last read. */
  declare readonly configsInSync: pulumi.Output<boolean>;
  /** Per DRBD resource the guest's disks name, per host: its roles (`Primary/Secondary`, local/peer) as the last up or refresh read them. */
  declare readonly drbdRoles: pulumi.Output<Record<string, Record<string, string>>>;
  /** Each host whose config file was missing or not the rendered one when last read. */
  declare readonly configDrift: pulumi.Output<string[]>;
  /** Whether the guest existed before this resource took it over. */
  declare readonly adopted: pulumi.Output<boolean>;
  declare readonly observedHostKeys: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: XenDomUArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("XenDomU"),
      name,
      { ...args, hosts: secretInput(args.hosts), domid: undefined, capabilities: undefined, pendingRestart: undefined, configsInSync: undefined, configDrift: undefined, drbdRoles: undefined, adopted: undefined, observedHostKeys: undefined },
      { ...opts, additionalSecretOutputs: ["hosts"] },
      "xenha",
      "XenDomU",
    );
  }
}

const spec = {
  typeName: "XenDomU",
  schema: xenDomUSchema,
  // A config edited on a host shows as a `configDrift` property, so the next up writes it back.
  rules: { ...xenDomURules, configDrift: (before: unknown) => (holdsDrift(before) ? "update" : undefined) },
} as const;

function recordedKeys(props: Props): Record<string, string> {
  const keys = props.observedHostKeys;
  return keys !== null && typeof keys === "object" ? (keys as Record<string, string>) : {};
}

/** Outputs: the inputs, with `runOn` and `state` as the hosts show them. */
function outputsOf(inputs: XenDomUInputs, views: Views, pendingRestart: readonly string[]): Props {
  const where = whereabouts(inputs.name, views);
  if (where.where === "several" || where.where === "unknown") throw new RefusedError(startBlocker(inputs.name, inputs.runOn, where) ?? where.where);
  const running = runningHost(where) !== undefined;
  const text = renderedConfig(inputs);
  return {
    ...inputs,
    runOn: where.where === "one" ? where.host : inputs.runOn,
    state: running ? "running" : "stopped",
    domid: where.where === "one" ? where.entry.domid : null,
    capabilities: capabilitiesOf(views),
    pendingRestart: running ? [...new Set(pendingRestart)] : [],
    configsInSync: Object.values(views).every((v) => v.survey.configText === text),
    configDrift: Object.entries(views).filter(([, v]) => v.survey.configText !== text).map(([h, v]) => `${h}: ${configPath(inputs.name)} ${v.survey.configText === undefined ? "is missing" : "differs from the rendered config"}`),
    drbdRoles: drbdRolesOf(views),
    observedHostKeys: hostKeysOf(views),
  };
}

/** Per DRBD resource of the guest's disks, per host: `Primary/Secondary` (local/peer) as just read, or what drbdadm said instead. */
function drbdRolesOf(views: Views): Record<string, Record<string, string>> {
  const roles: Record<string, Record<string, string>> = {};
  for (const [host, view] of Object.entries(views)) {
    for (const r of view.survey.drbd) (roles[r.resource] ??= {})[host] = r.error === undefined ? `${r.local}/${r.peer}` : r.error;
  }
  return roles;
}

function idOf(inputs: XenDomUInputs): string {
  return `${inputs.name}@${inputs.hosts.map((h) => h.name).join(",")}`;
}

function pendingOf(props: Props): string[] {
  return Array.isArray(props.pendingRestart) ? (props.pendingRestart as string[]) : [];
}

/**
 * A guest to adopt is looked for in `check` already (read-only), so that preview refuses a
 * take-over where it does not run, before anything is written. Unreachable hosts are left to the
 * create, which looks again.
 */
async function checkTakeOver(raw: Props): Promise<InputFailure[]> {
  const inputs = xenDomUSchema.parse(raw);
  let views: Awaited<ReturnType<typeof surveyHosts>>;
  try {
    views = await surveyHosts(inputs);
  } catch (err) {
    progress(`${inputs.name}: the take-over is checked at create (${(err as Error).message.split("\n")[0]})`);
    return [];
  }
  const where = whereabouts(inputs.name, views);
  if (where.where === "several") return [{ property: "name", reason: startBlocker(inputs.name, inputs.runOn, where) ?? `domain ${inputs.name} runs on both hosts` }];
  const configHosts = Object.entries(views).filter(([, v]) => v.survey.configText !== undefined).map(([h]) => h);
  const found = takeOver(inputs, where, configHosts);
  return found.refusal ? [{ property: "runOn", reason: found.refusal }] : [];
}

export const xenDomULifecycle: Lifecycle = {
  async check(olds, news) {
    const result = checkWith(spec, olds, news);
    return isAdoptingCreate(olds, result) ? { ...result, failures: await checkTakeOver(result.inputs) } : result;
  },
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["configDrift"]),

  async diff(_id, olds, news) {
    const parsed = parseInputs(xenDomUSchema, news);
    const before = parsed.ok ? xenDomUSchema.safeParse(olds) : undefined;
    if (parsed.ok && before?.success) {
      const refusal = previewPlan(before.data, parsed.value, olds)?.steps.find((s) => s.kind === "refuse");
      if (refusal) throw new RefusedError(refusal.reason);
    }
    const away = awayFromRunOn(olds, parsed.ok ? parsed.value : undefined);
    if (away) await warn(away);
    return diffWith(spec, olds, news);
  },

  async create(raw) {
    const inputs = xenDomUSchema.parse(raw);
    const views = await surveyHosts(inputs);
    const id = idOf(inputs);
    const where = whereabouts(inputs.name, views);
    if (where.where === "several" || where.where === "unknown") throw new RefusedError(startBlocker(inputs.name, inputs.runOn, where) ?? where.where);
    const configHosts = Object.entries(views).filter(([, v]) => v.survey.configText !== undefined).map(([h]) => h);
    const found = takeOver(inputs, where, configHosts);
    if (found.refusal) throw new RefusedError(found.refusal);
    if (inputs.state === "running" && !runsOn(inputs, views, inputs.runOn)) {
      const refusal = startRefusal(inputs, views, inputs.runOn);
      if (refusal) throw new RefusedError(refusal);
    }
    await writeConfigs(inputs, views);
    try {
      if (inputs.state === "running") await startGuest(inputs, views, inputs.runOn);
    } catch (err) {
      const after = await surveyHosts(inputs).catch(() => views);
      throw new PartialCreateError(id, { ...outputsOf(inputs, after, []), adopted: found.adopted }, err);
    }
    return { id, outs: { ...outputsOf(inputs, await surveyHosts(inputs), []), adopted: found.adopted } };
  },

  async read(id, props) {
    const inputs = xenDomUSchema.parse(props);
    const views = await surveyHosts(inputs, recordedKeys(props));
    const where = whereabouts(inputs.name, views);
    if (where.where === "nowhere" && Object.values(views).every((v) => v.survey.configText === undefined)) return {};
    return { id, props: { ...props, ...outputsOf(inputs, views, pendingOf(props)) } };
  },

  async update(_id, olds, news) {
    const before = xenDomUSchema.parse(olds);
    const inputs = xenDomUSchema.parse(news);
    const views = await surveyHosts(inputs, recordedKeys(olds));
    const where = whereabouts(inputs.name, views);
    if (where.where === "several") throw new RefusedError(startBlocker(inputs.name, inputs.runOn, where) ?? "listed on several hosts");
    const runningOn = runningHost(where);
    const plan = planUpdate(before, inputs, { state: olds.state === "stopped" ? "stopped" : "running", pendingRestart: pendingOf(olds) }, {
      runningOn,
      limits: runningOn === undefined ? undefined : views[runningOn]!.survey.running,
      capabilities: capabilitiesOf(views),
    });
    await runUpdate(inputs, views, plan.steps, runningOn);
    const pending = plan.pendingRestart;
    // Whether the guest was adopted stays as the create recorded it: a delete reads it.
    return { outs: { ...outputsOf(inputs, await surveyHosts(inputs, recordedKeys(olds)), pending), adopted: olds.adopted === true } };
  },

  async delete(_id, props) {
    const inputs = xenDomUSchema.parse(props);
    const views = await surveyHosts(inputs, recordedKeys(props));
    if (props.adopted === true && !inputs.deleteAdopted) {
      progress(`${inputs.name} was adopted, so it is left as it is, its config files included (deleteAdopted: true stops and removes it)`);
      return;
    }
    await stopGuest(inputs, views);
    const after = await surveyHosts(inputs, recordedKeys(props));
    const where = whereabouts(inputs.name, after);
    if (where.where !== "nowhere") {
      throw new HostStateError(`${inputs.name} is still listed after shutdown and destroy (${JSON.stringify(where)}); look at xl list on the hosts and run destroy again.`);
    }
    await Promise.all(Object.values(after).map((v) => v.host.removeFiles([configPath(inputs.name)])));
  },
};
