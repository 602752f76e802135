/**
 * DRBD's single fields as drbd.conf and drbdadm take them: resource and node names, devices,
 * meta-data disks and resync rates. Pure; the resource's schema (schema.ts) is built from them.
 */
import { z } from "zod";
import { blockDevice } from "../lvm/schema";
import { formatBytes } from "../lvm/size";
import { hostName } from "../values";

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
