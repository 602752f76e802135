/** What lies on a backing volume before DRBD is put on it: a signature, data, its size. */
import { tabFields } from "./status";

/** `buildVolumeContentProbeScript`'s answer. */
export interface VolumeContent {
  /** blkid's type (ext3, swap, LVM2_member…); empty when it finds none. */
  signature: string;
  /** The first MiB is all zeros. */
  headIsZero: boolean;
  /** Something is on it: a signature or non-zero bytes at the start. */
  holdsData: boolean;
}

export function parseVolumeContent(text: string): VolumeContent {
  const fields = tabFields(text);
  const signature = (fields.signature ?? "").trim();
  const headIsZero = fields.head === "zero";
  return { signature, headIsZero, holdsData: signature !== "" || !headIsZero };
}

/** `buildDeviceSizesScript`'s answer: bytes per device, undefined for a device that does not exist. */
export function parseDeviceSizes(text: string): Map<string, number | undefined> {
  const sizes = new Map<string, number | undefined>();
  for (const line of text.split("\n")) {
    const [tag, device, bytes] = line.split("\t");
    if (tag === "size" && device) sizes.set(device, bytes === "-" || bytes === undefined ? undefined : Number(bytes));
  }
  return sizes;
}
