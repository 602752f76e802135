/** Sizes as people write them ("5G", "384M", "5Gb", "1GiB", "4096B") and as LVM allocates them (whole extents). */

/** One reading of sizes for the whole package: a number without a unit is MiB, as `lvcreate -L` reads it. */
export { parseSize } from "../values";

/** What LVM allocates for a request: whole extents. */
export function roundUpToExtent(bytes: number, extentBytes: number): number {
  return Math.ceil(bytes / extentBytes) * extentBytes;
}

/** Short human form: 5368709120 → "5 GiB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit]}`;
}

export const DEFAULT_EXTENT_BYTES = 4 * 1024 * 1024;
