import * as pulumi from "@pulumi/pulumi";
import type { ArgsOf } from "../args";
import { checkWithWarning, warn } from "../engine-log";
import { diffWith, PartialCreateError, type Lifecycle, type Props } from "../lifecycle";
import { holdsDrift, refreshedInputs } from "../refreshed-inputs";
import { secretInput } from "../secret-input";
import { providerFor } from "../shim";
import { cibDrift, desiredCib, removedResources } from "./cib";
import {
  awaitQuorateCluster,
  awaitSettled,
  connectNodes,
  forgetResources,
  installMigrationSshConfig,
  loadConfiguration,
  moveGuests,
  notRunningError,
  readCluster,
  type ClusterRead,
  type PacemakerNode,
} from "./node-ops";
import { pacemakerConfigSchema, type PacemakerConfigInputArgs, type PacemakerConfigInputs } from "./schema";
import { MIGRATION_SSH_CONFIG_PATH } from "./render";
import { guestPlacement, runningTwice, type FenceEvent } from "./status";

/** Inputs of the owned Pacemaker configuration (see the schema's field docs). */
export type PacemakerConfigArgs = ArgsOf<PacemakerConfigInputArgs>;

/** Where a guest runs, as Pacemaker last said. */
export interface GuestPlacementReport {
  name: string;
  home: string;
  runningOn: string[];
}

/**
 * The part of Pacemaker's configuration the package owns, applied in one CIB commit
 * (`crm configure load update`) and read back from the CIB: cluster properties, one fence device
 * per node (never run by the node it fences), one `ocf:heartbeat:Xen` primitive per guest with
 * `allow-migrate` and a location preference for its home, and each node's migration address.
 * Resources and settings the user adds by hand are left alone.
 *
 * A change of a guest's home is a live migration by Pacemaker (`crm resource move`, then
 * `crm resource clear` once it arrived). A guest taken out of the inputs is taken out of the CIB
 * without being stopped (its XenDomU decides what happens to it). Refresh reads where every guest
 * runs and the fencing history from crm_mon. Preview refuses a configuration without fencing
 * unless `allowNoFencing` is set.
 */
export class PacemakerConfig extends pulumi.dynamic.Resource {
  /** Where each guest runs, as last read. */
  declare readonly placement: pulumi.Output<GuestPlacementReport[]>;
  /** Pacemaker's fencing history, as last read (newest last). */
  declare readonly fenceHistory: pulumi.Output<FenceEvent[]>;
  /** Whether the partition read had quorum. */
  declare readonly quorate: pulumi.Output<boolean>;
  /** What in the CIB differed from the inputs when last read; the next up puts it back. */
  declare readonly drift: pulumi.Output<string[]>;
  /** The host keys the nodes presented, in `nodes` order. */
  declare readonly observedHostKeys: pulumi.Output<string[]>;

  constructor(name: string, args: PacemakerConfigArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      providerFor("PacemakerConfig"),
      name,
      { ...args, nodes: secretInput(args.nodes), fencing: secretInput(args.fencing), placement: undefined, fenceHistory: undefined, quorate: undefined, drift: undefined, observedHostKeys: undefined },
      { ...opts, additionalSecretOutputs: ["nodes", "fencing"] },
      "xenha",
      "PacemakerConfig",
    );
  }
}

const spec = {
  typeName: "PacemakerConfig",
  schema: pacemakerConfigSchema,
  rules: {
    nodes: "update",
    fencing: "update",
    allowNoFencing: "update",
    guests: "update",
    autoFailback: "update",
    noQuorumPolicy: "update",
    fenceTimeoutSeconds: "update",
    settleTimeoutSeconds: "update",
    drift: (before: unknown) => (holdsDrift(before) ? "update" : undefined),
  },
} as const;

const recordedKeys = (props: Props): (string | undefined)[] => (Array.isArray(props.observedHostKeys) ? (props.observedHostKeys as (string | undefined)[]) : []);

function outputs(c: PacemakerConfigInputs, nodes: readonly PacemakerNode[], read: ClusterRead): Props {
  return {
    ...c,
    placement: guestPlacement(c, read.status),
    fenceHistory: read.status.fenceHistory,
    quorate: read.status.quorate,
    drift: cibDrift(desiredCib(c), read.found),
    observedHostKeys: nodes.map((n) => n.host.hostKey),
  };
}

const unfencedWarning =
  "PacemakerConfig runs with stonith-enabled=false (allowNoFencing): a node that loses sight of its peer may start guests the peer still runs. Give fencing devices for anything but a lab.";

/** Guests whose home changed in this up: Pacemaker moves them even when autoFailback is off. */
function movedGuests(before: PacemakerConfigInputs | undefined, c: PacemakerConfigInputs): string[] {
  if (!before) return [];
  return c.guests.filter((g) => g.state === "running" && before.guests.some((b) => b.name === g.name && b.home !== g.home)).map((g) => g.name);
}

async function apply(c: PacemakerConfigInputs, before: PacemakerConfigInputs | undefined, nodes: readonly PacemakerNode[]): Promise<ClusterRead> {
  if (!(await readCluster(c, nodes))) throw notRunningError(c);
  const read = await awaitQuorateCluster(c, nodes);
  const twice = runningTwice(read.status);
  if (twice.length > 0) await warn(`Pacemaker shows a resource active on more than one node: ${twice.join("; ")}. It recovers it (stopping it everywhere but one node); check the guests' data.`);
  await installMigrationSshConfig(c, nodes);
  await loadConfiguration(c, read.node);
  await forgetResources(read.node, removedResources(desiredCib(c), read.found));
  await moveGuests(c, nodes, read.node, movedGuests(before, c));
  return awaitSettled(c, nodes);
}

export const pacemakerConfigLifecycle: Lifecycle = {
  check: (olds, news) => checkWithWarning(spec, olds, news, (c) => (c.fencing ? undefined : unfencedWarning)),
  refreshedInputs: (props) => refreshedInputs(spec.schema, props, ["drift"]),
  diff: async (_id, olds, news) => diffWith(spec, olds, news),

  async create(raw) {
    const c = pacemakerConfigSchema.parse(raw);
    const nodes = await connectNodes(c);
    const id = `pacemaker@${c.nodes.map((n) => n.name).join(",")}`;
    try {
      return { id, outs: outputs(c, nodes, await apply(c, undefined, nodes)) };
    } catch (err) {
      const now = await readCluster(c, nodes).catch(() => undefined);
      if (!now) throw err;
      throw new PartialCreateError(id, outputs(c, nodes, now), err);
    }
  },

  async read(id, props) {
    const c = pacemakerConfigSchema.parse(props);
    const nodes = await connectNodes(c, recordedKeys(props));
    const read = await readCluster(c, nodes);
    if (!read) return { id, props: { ...props, drift: ["Pacemaker does not run on any node"] } };
    if (read.found.primitives.length === 0 && c.guests.length + (c.fencing?.length ?? 0) > 0) return {};
    return { id, props: { ...props, ...outputs(c, nodes, read) } };
  },

  async update(_id, olds, news) {
    const before = pacemakerConfigSchema.parse(olds);
    const c = pacemakerConfigSchema.parse(news);
    const nodes = await connectNodes(c, recordedKeys(olds));
    return { outs: outputs(c, nodes, await apply(c, before, nodes)) };
  },

  async delete(_id, props) {
    const c = pacemakerConfigSchema.parse(props);
    const nodes = await connectNodes(c, recordedKeys(props));
    const read = await readCluster(c, nodes);
    // With the stack gone there is nothing left to take out.
    if (!read) return;
    await forgetResources(read.node, read.found.primitives.map((p) => p.id));
    await Promise.all(nodes.map((n) => n.host.removeFiles([MIGRATION_SSH_CONFIG_PATH])));
  },
};
