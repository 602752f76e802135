/**
 * Inputs of a Corosync cluster (the membership and quorum layer Pacemaker runs on): its nodes
 * with one address per knet link, the shared authkey, and how quorum is reached, with a
 * `corosync-qnetd` arbiter or, for two nodes without one, votequorum's `two_node`.
 */
import { z } from "zod";
import { connectionSchema } from "../ssh/connection";
import { hostName, hostOrIPv4Address, ipv4Address } from "../values";

/** `cluster_name`: Pacemaker and the arbiter tell clusters apart by it. */
export const clusterName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/, "must be 1 to 32 letters, digits, _ and -, starting with a letter or digit, such as xen-ha");

/**
 * The authkey's bytes. Corosync reads the whole file as the key and accepts 128 to 4096 bytes; a
 * printable string keeps it a plain Pulumi secret (for example a `random.RandomPassword` of 128
 * characters, or `openssl rand -base64 192 | tr -d '\n'`).
 */
export const corosyncAuthKey = z
  .string()
  .min(128, "must be at least 128 characters: corosync refuses a shorter authkey (make one with openssl rand -base64 192 | tr -d '\\n')")
  .max(4096, "must be at most 4096 characters: corosync reads no more")
  .regex(/^[!-~]+$/, "must be printable ASCII without spaces or line breaks");

export const corosyncNodeSchema = z.object({
  /** How to reach this node over SSH. */
  connection: connectionSchema,
  /** The node's name as `uname -n` prints it: Pacemaker's node name. */
  name: hostName,
  /** Its corosync node id, 1 or more. Default: its position in `nodes` plus one. */
  nodeId: z.number().int().min(1).max(65535).optional(),
  /**
   * One address per knet link, the same number on every node: the seed's public address (link 0)
   * and crossover address (link 1). Two links keep membership through the loss of either cable.
   */
  addresses: z.array(ipv4Address).min(1, "needs one address per link").max(8, "corosync has at most 8 knet links"),
});

export const arbiterSchema = z.object({
  /** The host running `corosync-qnetd` (not a cluster node), as the nodes reach it. */
  host: hostOrIPv4Address,
  /** Its TCP port. Default 5403. */
  port: z.number().int().min(1).max(65535).default(5403),
  /** `ffsplit` (the default, for an even number of nodes: exactly one half keeps quorum) or `lms` (last man standing). */
  algorithm: z.enum(["ffsplit", "lms"]).default("ffsplit"),
  /**
   * TLS between the nodes and qnetd. `off` (default) sends votes in the clear on a trusted
   * management network; `on` needs the NSS certificates set up on qnetd and every node first
   * (`corosync-qdevice-net-certutil`).
   */
  tls: z.enum(["on", "off"]).default("off"),
});

export const corosyncClusterSchema = z
  .object({
    /** The cluster's name (`cluster_name`). */
    clusterName,
    /** The nodes, two or more; the first two are the seed's ha1 and ha2. */
    nodes: z.array(corosyncNodeSchema).min(2, "needs at least two nodes").max(32, "at most 32 nodes"),
    /** The shared authkey, a secret written with mode 0400 (see the type's doc). */
    authKey: corosyncAuthKey,
    /** The quorum arbiter. Without one, two nodes run votequorum's `two_node` (preview warns about it). */
    arbiter: arbiterSchema.optional(),
    /** Milliseconds without the token before a node is declared lost (`token`). Default 3000. */
    tokenMs: z.number().int().min(500).max(120_000).default(3000),
    /** Start corosync (and the qdevice and Pacemaker) at boot. Default true. */
    startAtBoot: z.boolean().default(true),
    /** Seconds to wait for every node to join and the cluster to be quorate. Default 300. */
    joinTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
  })
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    const ids = new Set<number>();
    const addresses = new Set<string>();
    const links = c.nodes[0]!.addresses.length;
    c.nodes.forEach((n, i) => {
      if (names.has(n.name)) ctx.addIssue({ code: "custom", path: ["nodes", i, "name"], message: `${n.name} is named twice` });
      names.add(n.name);
      const id = nodeIdOf(c, i);
      if (ids.has(id)) ctx.addIssue({ code: "custom", path: ["nodes", i, "nodeId"], message: `node id ${id} is used twice` });
      ids.add(id);
      if (n.addresses.length !== links) {
        ctx.addIssue({ code: "custom", path: ["nodes", i, "addresses"], message: `has ${n.addresses.length} addresses but nodes[0] has ${links}: every node needs one address per knet link` });
      }
      n.addresses.forEach((a, j) => {
        if (addresses.has(a)) ctx.addIssue({ code: "custom", path: ["nodes", i, "addresses", j], message: `${a} is used twice: each node needs its own address on each link` });
        addresses.add(a);
      });
    });
  });

export type CorosyncClusterInputs = z.output<typeof corosyncClusterSchema>;
export type CorosyncClusterInputArgs = z.input<typeof corosyncClusterSchema>;
export type CorosyncNode = CorosyncClusterInputs["nodes"][number];

export function nodeIdOf(c: Pick<CorosyncClusterInputs, "nodes">, index: number): number {
  return c.nodes[index]!.nodeId ?? index + 1;
}

/** Quorum as votequorum will count it: with the arbiter's vote, by `two_node`, or by plain majority. */
export type QuorumMode = "arbiter" | "twoNode" | "majority";

export function quorumModeOf(c: Pick<CorosyncClusterInputs, "arbiter" | "nodes">): QuorumMode {
  if (c.arbiter) return "arbiter";
  return c.nodes.length === 2 ? "twoNode" : "majority";
}

/** The warning preview and up print for a two-node cluster without an arbiter. */
export function twoNodeWarning(c: Pick<CorosyncClusterInputs, "clusterName" | "nodes">): string {
  const [a, b] = c.nodes;
  return (
    `Corosync cluster ${c.clusterName} has no quorum arbiter, so it runs votequorum's two_node: ${a!.name} and ${b!.name} each keep quorum alone. ` +
    "When the links between them fail, both think the other dead and only fencing decides which one runs the guests (a fence race, settled by the fence delay); " +
    "a node that starts while it cannot see its peer waits for it (wait_for_all). Give an arbiter (corosync-qnetd on a third machine) to decide by quorum instead."
  );
}
