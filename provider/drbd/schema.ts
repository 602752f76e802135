/**
 * Inputs of a DRBD resource replicated between the two nodes, with the seed's values as defaults,
 * and the checks that need more than one field (or more than one resource) to decide.
 */
import { z } from "zod";
import type { InputFailure } from "../errors";
import { isUnknown } from "../inputs";
import { blockDevice, size } from "../lvm/schema";
import { formatBytes } from "../lvm/size";
import { connectionSchema } from "../ssh/connection";
import { hostName, ipAddress } from "../values";
import { fencingPolicies, fencingProblem, handlersSchema } from "./fencing";

/**
 * Words drbdadm 8.4's scanner reads as keywords, so `resource WORD {` would not parse; `all` means
 * every resource on the command line.
 */
const RESERVED_NAMES = new Set(
  ("all after-sb-0pri after-sb-1pri after-sb-2pri " +
  "_remote_host _this_host address after after-resync-target al-extents al-updates allow-two-primaries " +
  "alternate-link-address always-asbp ask become-primary-on before-resync-source before-resync-target " +
  "bwlimit c-delay-target c-fill-target c-max-rate c-min-rate c-plan-ahead cmd-timeout-long " +
  "cmd-timeout-medium cmd-timeout-short common compression congestion-extents congestion-fill " +
  "connect-int cpu-mask cram-hmac-alg csums-after-crash-only csums-alg data-integrity-alg " +
  "degr-wfc-timeout delay-probe-interval delay-probe-volume device dialog-refresh " +
  "disable-ip-verification disable-write-same discard-my-data discard-zeroes-if-aligned disk " +
  "disk-barrier disk-drain disk-flushes disk-timeout fence-peer fencing flexible-meta-disk floating " +
  "global handlers hold-off-threshold ignore-on include initial-split-brain inside ipv4 ipv6 ko-count " +
  "local-io-error max-bio-bvecs max-buffers max-epoch-size md-flushes memlimit meta-disk minor " +
  "minor-count net no no-disk-barrier no-disk-drain no-disk-flushes no-md-flushes no-tcp-cork on " +
  "on-congestion on-io-error on-no-data-accessible options out-of-sync outdate-peer " +
  "outdated-wfc-timeout outside ping-int ping-timeout plugin pri-lost pri-lost-after-sb " +
  "pri-on-incon-degr protocol proxy rate rcvbuf-size read-balancing read-loops resource resync-after " +
  "resync-rate rr-conflict rs-discard-granularity sci sdp shared-secret size skip sndbuf-size " +
  "socket-check-timeout split-brain ssocks stacked-on-top-of stacked-timeouts startup syncer tcp-cork " +
  "throttle-threshold timeout udev-always-use-vnr unfence-peer unplug-watermark usage-count use-bmbv " +
  "use-rle verify-alg void volume wait-after-sb wfc-timeout yes").split(" "),
);

/** drbd.conf's scanner takes `123`, `10M` or `1.2.3.4` for numbers and addresses, never for names; digits and dots alone are refused. */
function readsAsWord(name: string): boolean {
  return !/^[0-9]{1,8}[MKGs]?$/.test(name) && !/^[0-9.]+$/.test(name);
}

/** Names drbdadm accepts that also make a file /etc/drbd.d/NAME.res its `*.res` include matches (no leading dot). */
export const resourceName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "may hold only letters, digits and _ . - (at most 128), and must start with a letter, digit or _")
  .refine((n) => !RESERVED_NAMES.has(n), "is a word drbdadm reserves")
  .refine(readsAsWord, "would read as a number or an address in drbd.conf");

/** A node name as `uname -n` prints it (the seed uses FQDNs such as ha1.domain.local). */
export const nodeName = hostName.refine(readsAsWord, "would read as a number or an address in drbd.conf");

/** DRBD 8.4 accepts minors up to 2^20 - 1. */
export const MAX_MINOR = (1 << 20) - 1;
const DEVICE_PATTERN = /^\/dev\/drbd(0|[1-9]\d{0,6})$/;

export const drbdDevice = z
  .string()
  .regex(DEVICE_PATTERN, "must be /dev/drbdN with N a minor number without leading zeros")
  .refine((d) => !DEVICE_PATTERN.test(d) || minorOf(d) <= MAX_MINOR, `minor must be at most ${MAX_MINOR}`);

/** The minor number of `/dev/drbdN`. */
export function minorOf(device: string): number {
  const match = DEVICE_PATTERN.exec(device);
  if (!match) throw new Error(`not a DRBD device path: ${device}`);
  return Number(match[1]);
}

/** External meta-data at a fixed index of a shared volume (the seed's `/dev/vg/meta[0]`). */
export const externalMetaDisk = z.object({
  /** The meta-data volume, shared by several resources (the seed's 1 GiB `/dev/vg/meta`). */
  device: blockDevice,
  /** Slot in that volume; each index takes 128 MiB. */
  index: z.number().int().min(0, "must be 0 or more"),
});
export type ExternalMetaDisk = z.output<typeof externalMetaDisk>;

export const metaDisk = z.union([z.literal("internal"), externalMetaDisk]);
export type MetaDisk = z.output<typeof metaDisk>;

/** Bytes of meta-data area per index with DRBD 8.4's fixed-size external meta-data. */
export const META_BYTES_PER_INDEX = 128 * 1024 * 1024;

/** How large the meta volume must be to hold `index`: (index + 1) × 128 MiB. */
export function metaVolumeBytesNeeded(index: number): number {
  return (index + 1) * META_BYTES_PER_INDEX;
}

export interface MetaVolumeCheck {
  ok: boolean;
  neededBytes: number;
  /** Set when the volume is too small: what is wrong and what size is needed. */
  reason?: string;
}

/** Whether a meta volume of `volumeBytes` can hold meta-data index `index` (checked before anything runs). */
export function checkMetaVolumeSize(volumeBytes: number, meta: ExternalMetaDisk): MetaVolumeCheck {
  const neededBytes = metaVolumeBytesNeeded(meta.index);
  if (volumeBytes >= neededBytes) return { ok: true, neededBytes };
  return {
    ok: false,
    neededBytes,
    reason:
      `meta-disk ${meta.device}[${meta.index}] needs a meta volume of at least ${formatBytes(neededBytes)} ` +
      `(128 MiB per index, indexes 0 to ${meta.index}); ${meta.device} has ${formatBytes(volumeBytes)}`,
  };
}

/** KiB/s of a rate as drbd.conf writes it: a number of KiB, or with a K, M or G suffix. */
export function parseRateKiB(rate: string | number): number | undefined {
  const match = /^\s*(\d{1,8})\s*([KMG]?)\s*$/i.exec(String(rate));
  if (!match) return undefined;
  const power = { "": 0, K: 0, M: 1, G: 2 }[match[2]!.toUpperCase() as "" | "K" | "M" | "G"];
  return Number(match[1]) * 1024 ** power;
}

const MAX_RESYNC_RATE_KIB = 4 << 20;

export const resyncRate = z
  .union([z.string(), z.number()])
  .refine((r) => {
    const kib = parseRateKiB(r);
    return kib !== undefined && kib >= 1 && kib <= MAX_RESYNC_RATE_KIB;
  }, 'must be a rate such as "90M", "500K" or a number of KiB/s, between 1 KiB/s and 4 GiB/s');

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
