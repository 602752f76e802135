/** Sizes as people write them ("5G", "384M", "5Gb", "1GiB") and as LVM reports them (bytes). */

const UNIT_POWERS: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5 };
const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([BKMGTP])?(?:I?B)?\s*$/i;

/** Bytes of a size; units are binary as in LVM's `-L` (1G = 1024 MiB). Undefined when unreadable. */
export function parseSize(size: string | number): number | undefined {
  if (typeof size === "number") return Number.isSafeInteger(size) && size >= 0 ? size : undefined;
  const match = SIZE_PATTERN.exec(size);
  if (!match) return undefined;
  const unit = (match[2] ?? "B").toUpperCase();
  const bytes = Number(match[1]) * 1024 ** (UNIT_POWERS[unit] ?? 0);
  return Number.isFinite(bytes) ? Math.round(bytes) : undefined;
}

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
