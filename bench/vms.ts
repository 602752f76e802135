/** The benchmark's guests, the same for the package's program and the plain script. Pure. */

export type NodeName = "ha1" | "ha2";

export interface BenchVm {
  name: string;
  /** The package's slot: DRBD minor 2×slot+1, port 7789+2×slot, meta-data index 2×slot. */
  slot: number;
  home: NodeName;
  ip: string;
}

/** `n` guests: vm0 on ha1, vm1 on ha2, and so on alternately, at 10.1.1.50 upwards. */
export function benchVms(n: number): BenchVm[] {
  if (!Number.isInteger(n) || n < 1 || n > 40) throw new Error(`the benchmark makes 1 to 40 guests, not ${n}`);
  return Array.from({ length: n }, (_, slot) => ({ name: `vm${slot}`, slot, home: slot % 2 === 0 ? "ha1" : "ha2", ip: `10.1.1.${50 + slot}` }));
}

/** MiB of the shared meta-data volume the guests need: 128 MiB per index up to the last guest's disk (2×slot). */
export function metaVolumeMiB(vms: readonly BenchVm[]): number {
  const last = Math.max(...vms.map((v) => 2 * v.slot));
  return 128 * (last + 1);
}

/** The guests as the plain script takes them: NAME:SLOT:HOME:IP. */
export function plainScriptArgs(vms: readonly BenchVm[]): string[] {
  return vms.map((v) => `${v.name}:${v.slot}:${v.home}:${v.ip}`);
}
