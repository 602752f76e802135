import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../args";
import { RefusedError, type InputFailure } from "../errors";
import { checkWith, diffWith, isAdoptingCreate, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { refreshedInputs } from "../refreshed-inputs";
import { warnAll } from "../engine-log";
import { progress } from "../progress";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { describeHost } from "../ssh/connection";
import { formatBytes, parseSize } from "../lvm/size";
import {
  buildAdjustCommand,
  buildDownCommand,
  buildNodeSettingsScript,
  buildPrimaryCommand,
  buildResizeCommand,
  buildSecondaryCommand,
  buildWipeMetadataCommand,
} from "./commands";
import { backingSizes, connectNodes, installConfig, validateConfig, type DrbdNode } from "./node-ops";
import { renderResource, resourceConfigPath } from "./render";
import { drbdAttention, runtimeDriftAttention } from "./attention";
import {
  deleteRefusal,
  drbdResourceRules,
  observedDriftRules,
  planRepair,
  planUpdate,
  runtimeDriftOf,
  validateDrbdChange,
} from "./rules";
import { drbdResourceSchema, type DrbdResourceInput, type DrbdResourceInputs } from "./schema";
import type { DrbdNodeStatus } from "./status";
import { type NodeProbe } from "./status-probe";
import { adoptionProblems, bringUp, statuses } from "./bring-up";

/** Inputs of a DRBD resource; every option the seed sets, with the seed's value as default (see the schema's field docs). */
export type DrbdResourceArgs = ArgsOf<DrbdResourceInput>;

/**
 * A DRBD resource replicated between two hosts (the seed's `resource test-disk { … }`): the same
 * file on both, meta-data created only where none exists, exactly one node forced primary for the
 * initial sync, then both Secondary so Xen's block-drbd can promote whichever node starts the
 * DomU.
 */
export class DrbdResource extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  /** Per node hostname: connection state, roles, disk states and sync progress as last read. */
  declare readonly status: pulumi.Output<Record<string, DrbdNodeStatus>>;
  /** Whether the resource existed before this resource took it over. */
  declare readonly adopted: pulumi.Output<boolean>;
  /**
   * Per node hostname, as the last refresh found them: the option changes `drbdadm adjust` would make
   * because the running options differ from the file (someone ran drbdsetup by hand). Only nodes with
   * such changes; undefined when there are none. The next up runs `drbdadm adjust` on those nodes.
   */
  declare readonly runtimeDrift: pulumi.Output<Record<string, string[]> | undefined>;
  declare readonly observedHostKeys: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: DrbdResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("DrbdResource"),
      name,
      { ...args, nodes: secretInput(args.nodes), status: undefined, adopted: undefined, observedHostKeys: undefined, driftedNodes: undefined, runtimeDrift: undefined },
      { ...opts, additionalSecretOutputs: ["nodes"] },
      "xenha",
      "DrbdResource",
    );
  }
}

const spec = {
  typeName: "DrbdResource",
  schema: drbdResourceSchema,
  rules: { ...drbdResourceRules, ...observedDriftRules },
  validateChange: validateDrbdChange,
  dataLostOnReplace: (olds: DrbdResourceInputs) =>
    `DRBD resource ${olds.name} on both nodes (taken down${olds.wipeMetadataOnDelete ? ", its meta-data wiped" : ""}; the replacement starts with a new initial sync over the data)`,
} as const;


function recordedKeys(props: Props): Record<string, string> {
  return (props.observedHostKeys as Record<string, string> | undefined) ?? {};
}

/**
 * `runtimeDrift` is recorded by `read` alone: create and update leave the running options as the
 * files say (update ran `drbdadm adjust` where they differed), so they clear it.
 */
function outputs(r: DrbdResourceInputs, nodes: DrbdNode[], probes: Record<string, NodeProbe>): Props {
  const expected = renderResource(r);
  return {
    ...r,
    status: Object.fromEntries(Object.entries(probes).map(([h, p]) => [h, p.status])),
    observedHostKeys: Object.fromEntries(nodes.map((n) => [n.spec.hostname, n.host.hostKey])),
    driftedNodes: Object.entries(probes).filter(([, p]) => p.installedConfig !== expected).map(([h]) => h),
  };
}

/**
 * The properties with `runtimeDrift` as just found: absent when there is none (the engine's
 * property serialisation takes no undefined values), so an update that ran adjust clears it.
 */
function withRuntimeDrift(props: Props, runtimeDrift: Record<string, string[]> | undefined): Props {
  const { runtimeDrift: _recorded, ...rest } = props;
  return runtimeDrift === undefined ? rest : { ...rest, runtimeDrift };
}

function runtimeDriftIn(props: Props): Record<string, string[]> | undefined {
  const value = props.runtimeDrift;
  return value !== null && typeof value === "object" ? (value as Record<string, string[]>) : undefined;
}

/**
 * A resource to adopt is compared with what the kernel runs already in `check`, so that preview
 * refuses a take-over that would touch data before anything is written. Read-only; a node that
 * cannot be reached yet is left to the create, which checks again.
 */
async function checkAdoption(inputs: Props): Promise<InputFailure[]> {
  const r = drbdResourceSchema.parse(inputs);
  try {
    const nodes = await connectNodes(r);
    return adoptionProblems(r, await statuses(r, nodes));
  } catch (err) {
    progress(`${r.name}: the take-over is checked at create (${(err as Error).message.split("\n")[0]})`);
    return [];
  }
}

export const drbdResourceLifecycle: Lifecycle = {
  async check(olds, news) {
    const result = checkWith(spec, olds, news);
    return isAdoptingCreate(olds, result) ? { ...result, failures: await checkAdoption(result.inputs) } : result;
  },
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["driftedNodes", "runtimeDrift"]),
  async diff(_id, olds, news) {
    await warnAll(drbdAttention(String(olds.name), (olds.status ?? {}) as Record<string, DrbdNodeStatus>));
    await warnAll(runtimeDriftAttention(String(olds.name), runtimeDriftIn(olds)));
    return diffWith(spec, olds, news);
  },

  async create(raw) {
    const r = drbdResourceSchema.parse(raw);
    const nodes = await connectNodes(r);
    const id = `${r.name}@${r.nodes.map((n) => describeHost(n.connection)).join(",")}`;
    const done = { touchedHosts: false, created: true, adopted: false };
    try {
      await bringUp(r, nodes, done);
    } catch (err) {
      // Refused before anything was written: nothing to track. Otherwise keep it in the state.
      if (!done.touchedHosts) throw err;
      // Something may be installed or up on the nodes: keep it in the state so nothing is orphaned.
      throw new PartialCreateError(id, { ...outputs(r, nodes, await statuses(r, nodes).catch(() => ({}))), adopted: done.adopted }, err);
    }
    return { id, outs: { ...outputs(r, nodes, await statuses(r, nodes)), adopted: done.adopted } };
  },

  async read(id, props) {
    const r = drbdResourceSchema.parse(props);
    const nodes = await connectNodes(r, recordedKeys(props));
    const probes = await statuses(r, nodes);
    if (Object.values(probes).every((p) => !p.up && p.installedConfig === undefined)) return {};
    await warnAll(drbdAttention(r.name, Object.fromEntries(Object.entries(probes).map(([h, p]) => [h, p.status]))));
    const runtimeDrift = runtimeDriftOf(Object.fromEntries(Object.entries(probes).map(([h, p]) => [h, p.runtimeDrift])));
    await warnAll(runtimeDriftAttention(r.name, runtimeDrift));
    return { id, props: withRuntimeDrift({ ...props, ...outputs(r, nodes, probes) }, runtimeDrift) };
  },

  async update(_id, olds, news) {
    const before = drbdResourceSchema.parse(olds);
    const r = drbdResourceSchema.parse(news);
    const nodes = await connectNodes(r, recordedKeys(olds));
    const plan = planUpdate(before, r);
    const repair = planRepair(plan, r.nodes.map((n) => n.hostname), olds);
    const probes = await statuses(r, nodes);
    // Nodes of a cluster made before these settings existed get them with any update.
    await Promise.all(nodes.map((n) => n.host.exec(buildNodeSettingsScript())));
    if (Object.values(probes).some((p) => !p.up)) {
      // A create that was cut short, or a node that was taken down by hand: finish bringing it up.
      await bringUp(r, nodes);
      // Only where it was up already: `up` read the installed file on the others.
      for (const n of nodes) if (probes[n.spec.hostname]!.up && repair.adjustOn.includes(n.spec.hostname)) await n.host.exec(buildAdjustCommand(r.name));
    } else {
      if (repair.installFiles) {
        for (const n of nodes) await validateConfig(r, n);
        for (const n of nodes) await installConfig(r, n);
      }
      for (const n of nodes) if (repair.adjustOn.includes(n.spec.hostname)) await n.host.exec(buildAdjustCommand(r.name));
    }
    if (plan.resize) {
      const sizes = await Promise.all(nodes.map(backingSizes));
      const wanted = parseSize(r.size ?? 0) ?? 0;
      const short = nodes.filter((_n, i) => (sizes[i] ?? 0) < wanted).map((n) => `${n.spec.hostname} (${n.spec.disk})`);
      if (short.length > 0) {
        throw new RefusedError(`${r.name}: grow the backing volume on ${short.join(" and ")} to ${formatBytes(wanted)} first (LogicalVolume size), then run up again.`);
      }
      // DRBD 8.4 resizes only through a Primary: the node running the DomU, else one promoted for the moment.
      const primary = nodes.find((n) => probes[n.spec.hostname]?.status.role === "Primary");
      const through = primary ?? nodes[0]!;
      if (!primary) await through.host.exec(buildPrimaryCommand(r.name));
      try {
        await through.host.exec(buildResizeCommand(r.name), { hint: "both backing volumes must have grown first (LogicalVolume size on both nodes)" });
      } finally {
        if (!primary) await through.host.exec(buildSecondaryCommand(r.name));
      }
    }
    return { outs: withRuntimeDrift({ ...olds, ...outputs(r, nodes, await statuses(r, nodes)) }, undefined) };
  },

  async delete(_id, props) {
    const r = drbdResourceSchema.parse(props);
    const nodes = await connectNodes(r, recordedKeys(props));
    const probes = await statuses(r, nodes);
    if (props.adopted === true && !r.deleteAdopted) {
      progress(`${r.name} was adopted, so it is left up on the nodes with its files and meta-data (deleteAdopted: true removes it)`);
      return;
    }
    const refusal = deleteRefusal(r, Object.fromEntries(Object.entries(probes).map(([h, p]) => [h, p.status])));
    if (refusal) throw new RefusedError(refusal);
    for (const n of nodes) {
      if (probes[n.spec.hostname]!.up) await n.host.exec(buildDownCommand(r.name));
      await n.host.removeFiles([resourceConfigPath(r.name)]);
      if (r.wipeMetadataOnDelete) await n.host.exec(buildWipeMetadataCommand(n.spec));
    }
  },
};
