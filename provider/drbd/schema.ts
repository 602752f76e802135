/**
 * Inputs of a DRBD resource replicated between the two nodes, with the seed's values as defaults,
 * and the checks that need more than one field (or more than one resource) to decide.
 */
import { z } from "zod";
import type { InputFailure } from "../errors";
import { isUnknown } from "../inputs";
import { blockDevice, size } from "../lvm/schema";
import { connectionSchema } from "../ssh/connection";
import { ipAddress } from "../values";
import { fencingPolicies, fencingProblem, handlersSchema } from "./fencing";
import type { ExternalMetaDisk } from "./fields";
import { resourceName, nodeName, drbdDevice, minorOf, metaDisk, resyncRate } from "./fields";

/** The single fields, for the modules that import them from here. */
export { resourceName, nodeName, MAX_MINOR, drbdDevice, minorOf, externalMetaDisk, metaDisk, META_BYTES_PER_INDEX, metaVolumeBytesNeeded, checkMetaVolumeSize, parseRateKiB, resyncRate } from "./fields";
export type { ExternalMetaDisk, MetaDisk, MetaVolumeCheck } from "./fields";

export const drbdNodeSchema = z.object({
  /** How to reach the node over SSH. */
  connection: connectionSchema,
  /** The `on` section's name: must equal the node's `uname -n` (the seed's ha1.domain.local). */
  hostname: nodeName,
  /** Replication address on the crossover link (the seed's 192.168.1.1). IPv4 or IPv6. */
  address: ipAddress,
  /** TCP port of this resource on the crossover link; each resource on a node needs its own. Default 7789. */
  port: z.number().int().min(1).max(65535).default(7789),
  /** The replicated device, /dev/drbdN (the seed's /dev/drbd1). */
  device: drbdDevice,
  /** Backing volume holding the data (the seed's /dev/vg/test-disk). */
  disk: blockDevice.refine((d) => !d.startsWith("/dev/drbd"), "must be a backing volume, not a DRBD device (stacking is not supported)"),
  /** Where the meta-data lives: "internal", or `{ device, index }` on a shared meta volume (the seed's /dev/vg/meta[0]). */
  metaDisk,
});
export type DrbdNodeInputs = z.output<typeof drbdNodeSchema>;
export type DrbdNodeInput = z.input<typeof drbdNodeSchema>;

export const afterSb0priPolicies = [
  "disconnect",
  "discard-younger-primary",
  "discard-older-primary",
  "discard-zero-changes",
  "discard-least-changes",
  "discard-local",
  "discard-remote",
] as const;
export const afterSb1priPolicies = ["disconnect", "consensus", "violently-as0p", "discard-secondary", "call-pri-lost-after-sb"] as const;

export const drbdResourceSchema = z
  .object({
    /** Resource name, also the file /etc/drbd.d/NAME.res (the seed's test-disk). */
    name: resourceName,
    /** The two nodes, each with its own `on` section. */
    nodes: z.tuple([drbdNodeSchema, drbdNodeSchema]),
    /** Configuration dialect: "8.4" (current kernels; default) or "8.3" (xm-era hosts). */
    drbdVersion: z.enum(["8.4", "8.3"]).default("8.4"),
    /** Replication protocol; C waits for the peer's disk. Default "C". */
    protocol: z.enum(["A", "B", "C"]).default("C"),
    /** Seconds the init script waits for the peer at boot; 0 waits forever. Default 120. */
    wfcTimeout: z.number().int().min(0).max(300000).default(120),
    /** Seconds to wait at boot when the node was degraded before; 0 waits forever. Default 120. */
    degrWfcTimeout: z.number().int().min(0).max(300000).default(120),
    /** What a lower-level I/O error does. Default "detach". */
    onIoError: z.enum(["detach", "pass_on", "call-local-io-error"]).default("detach"),
    /** Allow both nodes Primary at once; live migration needs it. Default true. */
    allowTwoPrimaries: z.boolean().default(true),
    /** Split-brain recovery with no Primary. Default "discard-zero-changes". */
    afterSb0pri: z.enum(afterSb0priPolicies).default("discard-zero-changes"),
    /** Split-brain recovery with one Primary. Default "discard-secondary". */
    afterSb1pri: z.enum(afterSb1priPolicies).default("discard-secondary"),
    /** Peer response timeout in tenths of a second. Default 60 (6 s). */
    timeout: z.number().int().min(1).max(600).default(60),
    /** Seconds between connection attempts. Default 10. */
    connectInt: z.number().int().min(1).max(120).default(10),
    /** Seconds of idle link before a keep-alive. Default 10. */
    pingInt: z.number().int().min(1).max(120).default(10),
    /**
     * Tenths of a second the peer has to answer a keep-alive, and (times four) its first packet on a
     * new connection (DRBD's ping-timeout). Optional; unset keeps DRBD's 5 (half a second). Raise it
     * on loaded or emulated hosts, where a slow answer drops the link and reconnecting loops.
     */
    pingTimeout: z.number().int().min(1).max(300).optional(),
    /** Receive buffers per device, in pages (4 KiB). Default 2048. */
    maxBuffers: z.number().int().min(32).max(131072).default(2048),
    /** Write requests between two write barriers. Default 2048. */
    maxEpochSize: z.number().int().min(1).max(20000).default(2048),
    /** Background resync bandwidth: KiB/s, or with K, M or G (the seed's syncer rate). Default "90M". */
    resyncRate: resyncRate.default("90M"),
    /**
     * Resource-level fencing (`disk { fencing … }`): "resource-only" outdates the peer's disk through
     * `handlers.fencePeer` (Heartbeat's dopd) when a Primary loses the link. Optional; unset writes none (DRBD's dont-care).
     */
    fencing: z.enum(fencingPolicies).optional(),
    /** Commands DRBD runs on events (`handlers { … }`): `fencePeer`, `afterResyncTarget`. Optional. */
    handlers: handlersSchema.optional(),
    /** DRBD's online usage counter (global section): "yes", "no" or "ask". Default "yes". */
    usageCount: z.enum(["yes", "no", "ask"]).default("yes"),
    /**
     * Size of the backing volumes ("5G", "384M", or a number of MiB), usually a LogicalVolume's size. Growing
     * it runs `drbdadm resize` once both volumes have grown; shrinking is refused. Optional.
     */
    size: size.optional(),
    /** Hostname of the node whose data wins the first sync (`primary --force`): where the DomU was created. */
    initialSyncSource: nodeName,
    /**
     * Skip the initial full sync (`new-current-uuid --clear-bitmap`): only for new, empty volumes on
     * both nodes; refused when the sync source's volume holds data. Default false.
     */
    skipInitialSync: z.boolean().default(false),
    /** Wait for the initial sync to finish, logging progress, before demoting. Default true. */
    waitForSync: z.boolean().default(true),
    /** Wipe the meta-data on delete (it is kept by default so the data can be brought back). Default false. */
    wipeMetadataOnDelete: z.boolean().default(false),
    /** Take over an existing DRBD resource of this name instead of refusing to create it; recorded in the state as `adopted`. Default false. */
    adopt: z.boolean().default(false),
    /** Delete an adopted DRBD resource with the resource; by default an adopted DRBD resource is left on the host when the resource is deleted. Default false. */
    deleteAdopted: z.boolean().default(false),
    /** Allow a change that replaces this resource, deleting the old DRBD resource with its data; without it such a change is refused in preview. Default false. */
    allowDestructiveReplace: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    const [a, b] = r.nodes;
    // Values still unknown during preview are compared once they are known.
    const differ = (x: unknown, y: unknown) => isUnknown(x) || isUnknown(y) || x !== y;
    if (!differ(a.hostname, b.hostname)) ctx.addIssue({ code: "custom", path: ["nodes", 1, "hostname"], message: "must differ from the other node's hostname" });
    if (!differ(a.address, b.address)) ctx.addIssue({ code: "custom", path: ["nodes", 1, "address"], message: "must differ from the other node's address" });
    if (!differ(a.connection.host, b.connection.host) && a.connection.port === b.connection.port) {
      ctx.addIssue({ code: "custom", path: ["nodes", 1, "connection", "host"], message: "must reach the other node, not the same SSH endpoint" });
    }
    const names = [r.initialSyncSource, a.hostname, b.hostname];
    if (!names.some(isUnknown) && r.initialSyncSource !== a.hostname && r.initialSyncSource !== b.hostname) {
      ctx.addIssue({ code: "custom", path: ["initialSyncSource"], message: `must be one of the nodes' hostnames (${a.hostname}, ${b.hostname})` });
    }
    if (r.drbdVersion === "8.3" && (r.afterSb0pri === "discard-local" || r.afterSb0pri === "discard-remote")) {
      ctx.addIssue({ code: "custom", path: ["afterSb0pri"], message: `${r.afterSb0pri} needs DRBD 8.4` });
    }
    const fencing = fencingProblem(r);
    if (fencing) ctx.addIssue({ code: "custom", ...fencing });
    for (const [field, seconds] of [["connectInt", r.connectInt], ["pingInt", r.pingInt]] as const) {
      if (r.timeout >= seconds * 10) {
        ctx.addIssue({ code: "custom", path: ["timeout"], message: `is ${r.timeout / 10} s, which must be shorter than ${field} (${seconds} s)` });
      }
    }
  });

export type DrbdResourceInputs = z.output<typeof drbdResourceSchema>;
export type DrbdResourceInput = z.input<typeof drbdResourceSchema>;

/** The node that becomes the initial sync source and the other one. */
export function syncRoles(r: DrbdResourceInputs): { source: DrbdNodeInputs; target: DrbdNodeInputs } {
  const [a, b] = r.nodes;
  return a.hostname === r.initialSyncSource ? { source: a, target: b } : { source: b, target: a };
}

/** Meta volumes to size-check before anything runs: one per node with external meta-data. */
export function externalMetaDisks(r: DrbdResourceInputs): { node: DrbdNodeInputs; meta: ExternalMetaDisk }[] {
  return r.nodes.flatMap((node) => (node.metaDisk === "internal" ? [] : [{ node, meta: node.metaDisk }]));
}

/**
 * Checks across the resources of one cluster that DRBD itself would only find one node at a time:
 * on each node no two resources share a name, minor, backing disk, meta-data index or
 * address:port, no volume is both data and meta-data, and the global settings agree.
 */
export function checkResourceSet(resources: readonly DrbdResourceInputs[]): InputFailure[] {
  const failures: InputFailure[] = [];
  const seen = new Map<string, string>();
  const claim = (key: string, property: string, what: string) => {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, property);
    else failures.push({ property, reason: `${what} is already used by ${first}` });
  };
  const names = new Map<string, number>();
  resources.forEach((r, i) => {
    const first = names.get(r.name);
    if (first === undefined) names.set(r.name, i);
    else failures.push({ property: `resources[${i}].name`, reason: `${r.name} is already the name of resources[${first}]` });
    r.nodes.forEach((n, j) => {
      const at = `resources[${i}].nodes[${j}]`;
      const host = n.hostname;
      claim(`minor ${host} ${minorOf(n.device)}`, `${at}.device`, `${n.device} on ${host}`);
      claim(`disk ${host} ${n.disk}`, `${at}.disk`, `${n.disk} on ${host}`);
      claim(`endpoint ${host} ${n.address}:${n.port}`, `${at}.port`, `${n.address}:${n.port} on ${host}`);
      if (n.metaDisk !== "internal") {
        claim(`meta ${host} ${n.metaDisk.device}[${n.metaDisk.index}]`, `${at}.metaDisk`, `meta-data index ${n.metaDisk.device}[${n.metaDisk.index}] on ${host}`);
      }
    });
  });
  resources.forEach((r, i) =>
    r.nodes.forEach((n, j) => {
      const dataUse = resources.some((o) => o.nodes.some((m) => m.hostname === n.hostname && m.metaDisk !== "internal" && m.metaDisk.device === n.disk));
      if (dataUse) failures.push({ property: `resources[${i}].nodes[${j}].disk`, reason: `${n.disk} on ${n.hostname} is also a meta-data volume` });
    }),
  );
  for (const field of ["usageCount", "drbdVersion"] as const) {
    const values = new Set(resources.map((r) => r[field]));
    if (values.size > 1) {
      const i = resources.findIndex((r) => r[field] !== resources[0]![field]);
      failures.push({ property: `resources[${i}].${field}`, reason: `must be the same for every resource (the global file is shared): ${[...values].join(" vs ")}` });
    }
  }
  return failures;
}
