import { z } from "zod";
import { connectionSchema } from "../ssh/connection";
import { blockDevicePath, size as sizeValue } from "../values";

/** Names LVM accepts for volume groups and logical volumes. */
export const lvmName = z
  .string()
  .min(1)
  .max(127)
  .regex(/^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/, "may hold only letters, digits and + _ . - and must not start with -")
  .refine((n) => n !== "." && n !== "..", "must not be . or ..");

export const logicalVolumeName = lvmName.refine(
  (n) => !/^(snapshot|pvmove)/.test(n) && !/_(cdata|cmeta|corig|mlog|mimage|pmspare|rimage|rmeta|tdata|tmeta|vorigin|vdata)/.test(n),
  "uses a prefix or suffix LVM reserves (snapshot…, pvmove…, …_tmeta and the like)",
);

export const blockDevice = blockDevicePath;

/** A volume size: "5G", "384M" (binary units, as `lvcreate -L`), or a number of MiB; at most 1 PiB. */
export const size = sizeValue;

export const volumeGroupSchema = z.object({
  /** How to reach the host. */
  connection: connectionSchema,
  /** Volume group name (the seed's `vg`). */
  name: lvmName,
  /** Devices that become physical volumes (the seed's /dev/sda3). */
  devices: z.array(blockDevice).min(1, "needs at least one device").refine((d) => new Set(d).size === d.length, "lists a device twice"),
  /** Take over an existing volume group of this name instead of refusing to create it; recorded in the state as `adopted`. Default false. */
  adopt: z.boolean().default(false),
  /** Delete an adopted volume group with the resource; by default an adopted volume group is left on the host when the resource is deleted. Default false. */
  deleteAdopted: z.boolean().default(false),
  /** Allow a change that replaces this resource, deleting the old volume group with its data; without it such a change is refused in preview. Default false. */
  allowDestructiveReplace: z.boolean().default(false),
});
export type VolumeGroupInputs = z.output<typeof volumeGroupSchema>;

export const logicalVolumeSchema = z.object({
  connection: connectionSchema,
  /** The volume group it lives in. */
  volumeGroup: lvmName,
  /** Volume name (the seed's `test-disk`). */
  name: logicalVolumeName,
  /** Size: "5G", "384M" (binary units, as `lvcreate -L`), or a number of MiB. Growing is done online; shrinking is refused. */
  size,
  /**
   * Zero the whole volume when this resource creates it (never an adopted one). For DRBD's
   * meta-data volume: a volume made on reused extents can hold a removed resource's meta-data,
   * which DRBD would take for live meta-data. Default false.
   */
  zeroOnCreate: z.boolean().default(false),
  /** Take over an existing logical volume of this name instead of refusing to create it; recorded in the state as `adopted`. Default false. */
  adopt: z.boolean().default(false),
  /** Delete an adopted logical volume with the resource; by default an adopted logical volume is left on the host when the resource is deleted. Default false. */
  deleteAdopted: z.boolean().default(false),
  /** Allow a change that replaces this resource, deleting the old logical volume with its data; without it such a change is refused in preview. Default false. */
  allowDestructiveReplace: z.boolean().default(false),
});
export type LogicalVolumeInputs = z.output<typeof logicalVolumeSchema>;
