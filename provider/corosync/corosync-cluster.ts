import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../args";
import { checkWithWarning } from "../engine-log";
import { RefusedError } from "../errors";
import { diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { holdsDrift, refreshedInputs } from "../refreshed-inputs";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { describeHost } from "../ssh/connection";
import { awaitMembership, connectNodes, driftOf, installNode, nameProblems, probeAll, startAll, stopAll, type StackNode } from "./node-ops";
import { corosyncClusterRules, restartOnlyChanges } from "./rules";
import { corosyncClusterSchema, quorumModeOf, twoNodeWarning, type CorosyncClusterInputArgs, type CorosyncClusterInputs } from "./schema";
import type { CorosyncNodeReport } from "./status";

/** Inputs of a Corosync cluster (see the schema's field docs). */
export type CorosyncClusterArgs = ArgsOf<CorosyncClusterInputArgs>;

/** votequorum's view, as last read on the first node that answered. */
export interface QuorumView {
  quorate: boolean;
  expectedVotes: number;
  totalVotes: number;
  arbiterVotes: number;
  members: string[];
}

/**
 * The cluster stack Pacemaker runs on: corosync with knet over every link the nodes give (the
 * seed's public and crossover links), the authkey (a secret, mode 0400), quorum through
 * votequorum with a `corosync-qdevice` voting for the `corosync-qnetd` arbiter (or `two_node`
 * for two nodes without one, which preview warns about), and Pacemaker started on every node.
 *
 * Missing packages are installed with apt. Changes to the nodes, the arbiter or the timeouts are
 * reloaded (`corosync-cfgtool -R`); a change that needs a restart (cluster name, key, number of
 * links) is refused in preview, with the way to do it. Deleting puts Pacemaker into maintenance
 * mode first, so that stopping the stack leaves every guest running where it is.
 */
export class CorosyncCluster extends pulumi.dynamic.Resource {
  /** votequorum's view as last read. */
  declare readonly quorum: pulumi.Output<QuorumView | undefined>;
  /** Per node name, where it differed from the inputs when last read; the next up corrects it. */
  declare readonly drift: pulumi.Output<Record<string, string[]>>;
  /** The boot id of each node when last read, in `nodes` order. */
  declare readonly bootIds: pulumi.Output<string[]>;
  /** The host keys the nodes presented, in `nodes` order. */
  declare readonly observedHostKeys: pulumi.Output<string[]>;

  constructor(name: string, args: CorosyncClusterArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("CorosyncCluster"),
      name,
      { ...args, nodes: secretInput(args.nodes), authKey: pulumi.secret(args.authKey), quorum: undefined, drift: undefined, bootIds: undefined, observedHostKeys: undefined },
      { ...opts, additionalSecretOutputs: ["nodes", "authKey"] },
      "xenha",
      "CorosyncCluster",
    );
  }
}

const spec = {
  typeName: "CorosyncCluster",
  schema: corosyncClusterSchema,
  rules: { ...corosyncClusterRules, drift: (before: unknown) => (holdsDrift(before) ? "update" : undefined) },
  validateChange: restartOnlyChanges,
} as const;

const recordedKeys = (props: Props): (string | undefined)[] => (Array.isArray(props.observedHostKeys) ? (props.observedHostKeys as (string | undefined)[]) : []);

function quorumViewOf(reports: readonly (CorosyncNodeReport | undefined)[]): QuorumView | undefined {
  const q = reports.find((r) => r?.quorum)?.quorum;
  return q && { quorate: q.quorate, expectedVotes: q.expectedVotes, totalVotes: q.totalVotes, arbiterVotes: q.arbiterVotes, members: q.members.map((m) => m.name) };
}

function outputs(c: CorosyncClusterInputs, nodes: readonly StackNode[], reports: readonly CorosyncNodeReport[]): Props {
  return { ...c, quorum: quorumViewOf(reports), drift: driftOf(c, reports), bootIds: reports.map((r) => r.bootId), observedHostKeys: nodes.map((n) => n.host.hostKey) };
}

function refuseUnfit(c: CorosyncClusterInputs, reports: readonly CorosyncNodeReport[]): void {
  const problems = nameProblems(c, reports);
  if (problems.length > 0) throw new RefusedError(`CorosyncCluster: nothing was changed:\n${problems.join("\n")}`);
}

async function converge(c: CorosyncClusterInputs, nodes: readonly StackNode[], reports: readonly CorosyncNodeReport[], arbiterChanged: boolean): Promise<CorosyncNodeReport[]> {
  const written = await Promise.all(nodes.map((n) => installNode(c, n, reports[n.index]!)));
  await startAll(c, nodes, reports, { conf: written.some((w) => w.confChanged), arbiter: arbiterChanged });
  return awaitMembership(c, nodes);
}

export const corosyncClusterLifecycle: Lifecycle = {
  check: (olds, news) => checkWithWarning(spec, olds, news, (c) => (quorumModeOf(c) === "twoNode" ? twoNodeWarning(c) : undefined)),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["drift"]),
  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const c = corosyncClusterSchema.parse(raw);
    const nodes = await connectNodes(c);
    const before = await probeAll(nodes);
    refuseUnfit(c, before);
    const id = `corosync:${c.clusterName}@${c.nodes.map((n) => describeHost(n.connection)).join(",")}`;
    try {
      return { id, outs: outputs(c, nodes, await converge(c, nodes, before, false)) };
    } catch (err) {
      const now = await probeAll(nodes).catch(() => before);
      throw new PartialCreateError(id, outputs(c, nodes, now), err);
    }
  },

  async read(id, props) {
    const c = corosyncClusterSchema.parse(props);
    const nodes = await connectNodes(c, recordedKeys(props));
    const reports = await probeAll(nodes);
    const gone = reports.every((r) => Object.values(r.files).every((f) => f === null) && r.services.corosync?.active !== "active");
    if (gone) return {};
    return { id, props: { ...props, ...outputs(c, nodes, reports) } };
  },

  async update(_id, olds, news) {
    const before = corosyncClusterSchema.parse(olds);
    const c = corosyncClusterSchema.parse(news);
    const refused = restartOnlyChanges(before, c);
    if (refused.length > 0) throw new RefusedError(refused.map((f) => `${f.property}: ${f.reason}`).join("\n"));
    const nodes = await connectNodes(c, recordedKeys(olds));
    const reports = await probeAll(nodes);
    refuseUnfit(c, reports);
    const arbiterChanged = JSON.stringify(before.arbiter) !== JSON.stringify(c.arbiter);
    return { outs: outputs(c, nodes, await converge(c, nodes, reports, arbiterChanged)) };
  },

  async delete(_id, props) {
    const c = corosyncClusterSchema.parse(props);
    await stopAll(await connectNodes(c, recordedKeys(props)), true);
  },
};
