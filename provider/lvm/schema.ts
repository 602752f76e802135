import { z } from "zod";
import { connectionSchema } from "../ssh/connection";
import { parseSize } from "./size";

/** Names LVM accepts for volume groups and logical volumes. */
export const lvmName = z
  .string()
  .min(1)
  .max(127)
  .regex(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/, "may hold only letters, digits and + _ . - and must not start with -")
  .refine((n) => n !== "." && n !== "..", "must not be . or ..");

const logicalVolumeName = lvmName.refine(
  (n) => !/^(snapshot|pvmove)/.test(n) && !/_(cdata|cmeta|corig|mlog|mimage|pmspare|rimage|rmeta|tdata|tmeta|vorigin|vdata)/.test(n),
  "uses a prefix or suffix LVM reserves (snapshot…, pvmove…, …_tmeta and the like)",
);

export const blockDevice = z.string().regex(/^\/dev\/[^\s]+$/, "must be a block device path such as /dev/sdb or /dev/disk/by-id/…");

export const size = z
  .union([z.string(), z.number()])
  .refine((v) => (parseSize(v) ?? 0) > 0, 'must be a positive size such as "5G", "384M" or a number of bytes');

export const volumeGroupSchema = z.object({
  /** How to reach the host. */
  connection: connectionSchema,
  /** Volume group name (the seed's `vg`). */
  name: lvmName,
  /** Devices that become physical volumes (the seed's /dev/sda3). */
  devices: z.array(blockDevice).min(1, "needs at least one device").refine((d) => new Set(d).size === d.length, "lists a device twice"),
});
export type VolumeGroupInputs = z.output<typeof volumeGroupSchema>;

export const logicalVolumeSchema = z.object({
  connection: connectionSchema,
  /** The volume group it lives in. */
  volumeGroup: lvmName,
  /** Volume name (the seed's `test-disk`). */
  name: logicalVolumeName,
  /** Size: "5G", "384M" (binary units, as `lvcreate -L`) or bytes. Growing is done online; shrinking is refused. */
  size,
  /**
   * Zero the whole volume when this resource creates it (never an adopted one). For DRBD's
   * meta-data volume: a volume made on reused extents can hold a removed resource's meta-data,
   * which DRBD would take for live meta-data. Default false.
   */
  zeroOnCreate: z.boolean().default(false),
});
export type LogicalVolumeInputs = z.output<typeof logicalVolumeSchema>;
