import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../args";
import { isHostKeyConflictError, isHostKeyMismatchError, RefusedError } from "../errors";
import { warnAll } from "../engine-log";
import { checkWith, diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { refreshedInputs } from "../refreshed-inputs";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { describeHost } from "../ssh/connection";
import {
  awaitMembership,
  connectNode,
  connectNodes,
  installAndReload,
  installNode,
  probe,
  probeBoth,
  probeInstalled,
  membershipUntouched,
  releaseAndRemove,
  startAndJoin,
  viewOf,
  type ClusterNode,
  type Reports,
} from "./nodes";
import { heartbeatAttention, nodeHealthOf, restartedSinceUp, type NodeHealth } from "./attention";
import { heartbeatPaths } from "./render";
import { checkNodes, heartbeatClusterRules, planAuthKeyRotation } from "./rules";
import { heartbeatClusterSchema, type HeartbeatClusterInputArgs, type HeartbeatClusterInputs, type NodeIndex } from "./schema";
import type { GroupPlacement, NodeDrift } from "./status";

/** Inputs of the two-node Heartbeat cluster, with the seed's values as defaults (see the schema's field docs). */
export type HeartbeatClusterArgs = ArgsOf<HeartbeatClusterInputArgs>;

/**
 * Heartbeat in v1 mode on both nodes, as the seed sets it up: the same authkeys (mode 0600, the
 * key a Pulumi secret), ha.cf and haresources on both, one resource group per node with its
 * resource script, one link per DomU in /etc/xen/auto/HA1 or HA2 deciding its home, the stock
 * xendomains kept from starting guests at boot, and Heartbeat running on both nodes. Optionally
 * fencing: STONITH devices (`stonith`, a secret; ha.cf is then 0600) and DRBD's dopd.
 *
 * Changes are rewritten on both nodes and reread by the running daemons (a new key is brought in
 * in steps so the nodes never disagree). Deleting stops Heartbeat on both nodes and removes its
 * files, leaving every DomU running where it is.
 */
export class HeartbeatCluster extends pulumi.dynamic.Resource {
  /** Which node holds which group, and where each group's DomUs run, as last read. */
  declare readonly groups: pulumi.Output<GroupPlacement[]>;
  /** Per node as last read: its boot id, and whether Heartbeat holds the watchdog. */
  declare readonly nodeHealth: pulumi.Output<NodeHealth[]>;
  /** Where a node differed from the inputs when last read; the next up corrects it. */
  declare readonly drift: pulumi.Output<NodeDrift[]>;
  /** Nodes that restarted since the last up (their boot id changed), as last read; the next up records them as seen. */
  declare readonly restartedSinceUp: pulumi.Output<string[] | undefined>;
  /** The authkeys key number in use (it alternates between 1 and 2 as the key changes). */
  declare readonly authKeyIndex: pulumi.Output<number>;
  /** The host keys the two nodes presented, in `nodes` order. */
  declare readonly observedHostKeys: pulumi.Output<string[]>;

  constructor(name: string, args: HeartbeatClusterArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("HeartbeatCluster"),
      name,
      {
        ...args,
        nodes: secretInput(args.nodes),
        authKey: pulumi.secret(args.authKey),
        stonith: secretInput(args.stonith),
        groups: undefined,
        drift: undefined,
        nodeHealth: undefined,
        upBootIds: undefined,
        restartedSinceUp: undefined,
        authKeyIndex: undefined,
        observedHostKeys: undefined,
      },
      { ...opts, additionalSecretOutputs: ["nodes", "authKey", "stonith"] },
      "xenha",
      "HeartbeatCluster",
    );
  }
}

const spec = {
  typeName: "HeartbeatCluster",
  schema: heartbeatClusterSchema,
  rules: {
    ...heartbeatClusterRules,
    // What read found changed behind our back is put right on the next up.
    drift: (before: unknown) => (Array.isArray(before) && before.length > 0 ? "update" : undefined),
    // A restart read since the last up is recorded as seen by the next one.
    restartedSinceUp: (before: unknown) => (Array.isArray(before) && before.length > 0 ? "update" : undefined),
  },
} as const;

function recordedKeys(props: Props): (string | undefined)[] {
  return Array.isArray(props.observedHostKeys) ? (props.observedHostKeys as (string | undefined)[]) : [];
}

function authKeyIndexOf(props: Props): number {
  return typeof props.authKeyIndex === "number" ? props.authKeyIndex : 1;
}

/** Create and update record the boot ids they saw: a later read that finds others reports the restart. */
function outputs(c: HeartbeatClusterInputs, nodes: readonly ClusterNode[], reports: Reports, authKeyIndex: number): Props {
  return {
    ...c,
    ...viewOf(c, reports, authKeyIndex),
    authKeyIndex,
    observedHostKeys: nodes.map((n) => n.host.hostKey),
    nodeHealth: nodeHealthOf(c, reports),
    upBootIds: reports.map((r) => r?.bootId ?? ""),
  };
}

/** The warnings of a read (or of a preview, from what the last read recorded). */
async function warnAttention(c: HeartbeatClusterInputs, props: Props, health: NodeHealth[], running: boolean[]): Promise<void> {
  await warnAll(heartbeatAttention(c, Array.isArray(props.upBootIds) ? props.upBootIds : undefined, health, running));
}

function refuseUnfitNodes(c: HeartbeatClusterInputs, reports: Parameters<typeof checkNodes>[1]): void {
  const failures = checkNodes(c, reports);
  if (failures.length > 0) throw new RefusedError(`HeartbeatCluster: ${failures.map((f) => `${f.property}: ${f.reason}`).join("\n")}`);
}

/** Moves both nodes from the current key to the new one, one step on both nodes at a time. */
async function rotateKey(before: HeartbeatClusterInputs, c: HeartbeatClusterInputs, nodes: readonly ClusterNode[], index: number): Promise<number> {
  const rotation = planAuthKeyRotation({ index, method: before.authMethod, secret: before.authKey }, { method: c.authMethod, secret: c.authKey });
  for (const step of rotation.steps) {
    await Promise.all(nodes.map((n) => installAndReload(n, [{ path: heartbeatPaths.authkeys, content: step, mode: "0600" }])));
    await awaitMembership(c, nodes);
  }
  return rotation.index;
}

export const heartbeatClusterLifecycle: Lifecycle = {
  check: async (olds, news) => checkWith(spec, olds, news),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["drift", "restartedSinceUp"]),
  async diff(_id, olds, news) {
    const recorded = heartbeatClusterSchema.safeParse(olds);
    if (recorded.success && Array.isArray(olds.nodeHealth)) {
      const health = olds.nodeHealth as NodeHealth[];
      await warnAttention(recorded.data, olds, health, health.map(() => false));
    }
    return diffWith(spec, olds, news);
  },

  async create(raw) {
    const c = heartbeatClusterSchema.parse(raw);
    const nodes = await connectNodes(c);
    const before = await probeBoth(c, nodes);
    refuseUnfitNodes(c, before);
    const id = `heartbeat@${c.nodes.map((n) => describeHost(n.connection)).join(",")}`;
    try {
      await Promise.all(nodes.map((n) => installNode(c, n, before[n.index], 1)));
      return { id, outs: outputs(c, nodes, await startAndJoin(c, nodes), 1) };
    } catch (err) {
      const now = await probeBoth(c, nodes).catch((): Reports => [undefined, undefined]);
      throw new PartialCreateError(id, outputs(c, nodes, now, 1), err);
    }
  },

  async read(id, props) {
    const c = heartbeatClusterSchema.parse(props);
    const index = authKeyIndexOf(props);
    // A node that cannot be reached is reported as such; the other one still is. A node that
    // presents another host key is not unreadable but another machine: that is refused.
    const unreadable: (string | undefined)[] = [undefined, undefined];
    const unlessImpostor = (i: NodeIndex) => (err: unknown) => {
      if (isHostKeyMismatchError(err) || isHostKeyConflictError(err)) throw err;
      unreadable[i] = (err instanceof Error ? err.message : String(err)).split("\n")[0];
      return undefined;
    };
    const nodes = await Promise.all(([0, 1] as const).map((i) => connectNode(c, i, recordedKeys(props)[i]).catch(unlessImpostor(i))));
    const reports = (await Promise.all(nodes.map((n, i) => (n ? probe(c, n).catch(unlessImpostor(i as NodeIndex)) : undefined)))) as Reports;
    const gone = reports.every((r) => r && !r.heartbeatRunning && Object.values(r.files).every((f) => f === null));
    if (gone) return {};
    const keys = nodes.map((n, i) => n?.host.hostKey ?? recordedKeys(props)[i]);
    const nodeHealth = nodeHealthOf(c, reports);
    await warnAttention(c, props, nodeHealth, reports.map((r) => r?.heartbeatRunning === true));
    const { restartedSinceUp: _recorded, ...rest } = props;
    const restarted = restartedSinceUp(Array.isArray(props.upBootIds) ? props.upBootIds : undefined, nodeHealth);
    return { id, props: { ...rest, ...viewOf(c, reports, index, unreadable), observedHostKeys: keys, nodeHealth, ...(restarted.length > 0 ? { restartedSinceUp: restarted } : {}) } };
  },

  async update(_id, olds, news) {
    const before = heartbeatClusterSchema.parse(olds);
    const c = heartbeatClusterSchema.parse(news);
    const nodes = await connectNodes(c, recordedKeys(olds));
    const found = await probeBoth(c, nodes);
    refuseUnfitNodes(c, found);
    let index = authKeyIndexOf(olds);
    const rotating = before.authKey !== c.authKey || before.authMethod !== c.authMethod;
    if (rotating) index = await rotateKey(before, c, nodes, index);
    // Only a rotation has written anything since the nodes were read.
    const reports = rotating ? await probeBoth(c, nodes) : found;
    const plans = await Promise.all(nodes.map((n) => installNode(c, n, reports[n.index], index)));
    const joined = membershipUntouched(c, reports, plans) ? await probeInstalled(c, nodes, reports) : await startAndJoin(c, nodes, reports);
    const { restartedSinceUp: _seen, ...recorded } = olds;
    return { outs: { ...recorded, ...outputs(c, nodes, joined, index) } };
  },

  async delete(_id, props) {
    const c = heartbeatClusterSchema.parse(props);
    const nodes = await connectNodes(c, recordedKeys(props));
    await releaseAndRemove(c, nodes, authKeyIndexOf(props));
  },
};
