/** Summary statistics of a benchmark's samples: medians, ranges and ratios. Pure. */

export interface Summary {
  /** Number of values. */
  n: number;
  median: number;
  min: number;
  max: number;
}

/** The median of the values: the middle one, or the mean of the two middle ones; undefined when there are none. */
export function median(values: readonly number[]): number | undefined {
  const finite = sorted(values);
  if (finite.length === 0) return undefined;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export function min(values: readonly number[]): number | undefined {
  const finite = sorted(values);
  return finite.length === 0 ? undefined : finite[0];
}

export function max(values: readonly number[]): number | undefined {
  const finite = sorted(values);
  return finite.length === 0 ? undefined : finite[finite.length - 1];
}

/** `value / base`, or undefined when either is missing or the base is zero (no ratio to speak of). */
export function ratio(value: number | undefined, base: number | undefined): number | undefined {
  if (value === undefined || base === undefined || !Number.isFinite(value) || !Number.isFinite(base) || base === 0) return undefined;
  return value / base;
}

/** Count, median, min and max of the finite values; undefined when there are none. */
export function summarize(values: readonly number[]): Summary | undefined {
  const finite = sorted(values);
  if (finite.length === 0) return undefined;
  return { n: finite.length, median: median(finite)!, min: finite[0]!, max: finite[finite.length - 1]! };
}

function sorted(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}
