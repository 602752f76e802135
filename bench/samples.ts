/**
 * The benchmark's JSON: every sample of every run, with the machine and the options it ran with.
 * A sample is one run of one thing (a `pulumi up`, the plain script, a failover) and carries all
 * the figures measured in that run. Pure.
 */
import { z } from "zod";

export const RESULTS_FORMAT = "pulumi-xen-ha-bench/1";

export const PHASES = ["build", "noop", "failover", "migration", "volume"] as const;
export type Phase = (typeof PHASES)[number];

/** The package's side of a comparison, or what it is measured against. */
export const ROLES = ["package", "baseline"] as const;
export type Role = (typeof ROLES)[number];

const paramValue = z.union([z.string(), z.number()]);

export const sampleSchema = z.strictObject({
  phase: z.enum(PHASES),
  /** What ran: "pulumi up", "plain script", "one connection per command", "xl migrate"… */
  subject: z.string().min(1),
  role: z.enum(ROLES),
  /** What the run was given (`vms`, `op`, `sync`, `sizeMiB`); a baseline matches the package's runs whose params it includes. */
  params: z.record(z.string(), paramValue),
  /** 1-based number of this run among the runs of its subject and params. */
  run: z.number().int().min(1),
  /** When the run started, ISO 8601. */
  at: z.string(),
  /** Figures of the run: seconds end in `Seconds`, everything else is a count. */
  metrics: z.record(z.string(), z.number()),
  /** What else the run showed (a failover's timeline), for people. */
  notes: z.array(z.string()).optional(),
});
export type Sample = z.infer<typeof sampleSchema>;

export const machineSchema = z.strictObject({
  cpuModel: z.string(),
  cpus: z.number().int(),
  memoryGiB: z.number(),
  kernel: z.string(),
  node: z.string(),
  /** How the lab's nodes run: QEMU's accelerator and Xen's hypervisor package. */
  lab: z.string(),
});
export type Machine = z.infer<typeof machineSchema>;

export const failureSchema = z.strictObject({
  phase: z.enum(PHASES),
  subject: z.string(),
  params: z.record(z.string(), paramValue),
  at: z.string(),
  message: z.string(),
});
export type Failure = z.infer<typeof failureSchema>;

export const resultsSchema = z.strictObject({
  format: z.literal(RESULTS_FORMAT),
  startedAt: z.string(),
  finishedAt: z.string(),
  quick: z.boolean(),
  machine: machineSchema,
  samples: z.array(sampleSchema),
  /** Runs that failed: they have no sample, and the table says so. */
  failures: z.array(failureSchema),
});
export type BenchResults = z.infer<typeof resultsSchema>;

/** Reads results back from their JSON text, refusing anything that is not this format. */
export function parseResults(text: string): BenchResults {
  const parsed = resultsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`);
    throw new Error(`not benchmark results (${RESULTS_FORMAT}): ${issues.slice(0, 5).join("; ")}`);
  }
  return parsed.data;
}

/** The results as written to disk: stable key order as built, two-space indentation, a final newline. */
export function formatResults(results: BenchResults): string {
  return `${JSON.stringify(resultsSchema.parse(results), null, 2)}\n`;
}

/** Samples of one subject under the same params: the unit a table row summarises. */
export interface SampleGroup {
  phase: Phase;
  subject: string;
  role: Role;
  params: Record<string, string | number>;
  samples: Sample[];
}

/** `vms=3, op=refresh`: params in the order given. */
export function paramsLabel(params: Record<string, string | number>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

/** What tells groups apart: phase, subject, role and params (in any key order). */
export function groupKey(g: Pick<Sample, "phase" | "subject" | "role" | "params">): string {
  return JSON.stringify([g.phase, g.subject, g.role, canonical(g.params)]);
}

/** Groups samples by phase, subject, role and params, in the order they first appear. */
export function groupSamples(samples: readonly Sample[]): SampleGroup[] {
  const groups = new Map<string, SampleGroup>();
  for (const s of samples) {
    const key = groupKey(s);
    let group = groups.get(key);
    if (!group) {
      group = { phase: s.phase, subject: s.subject, role: s.role, params: s.params, samples: [] };
      groups.set(key, group);
    }
    group.samples.push(s);
  }
  return [...groups.values()];
}

/** Whether `wider` holds every param of `narrower` with the same value (a baseline may say more, such as its sync mode). */
export function includesParams(wider: Record<string, string | number>, narrower: Record<string, string | number>): boolean {
  return Object.entries(narrower).every(([k, v]) => wider[k] === v);
}

/** The values of one metric across a group's samples (runs that did not measure it are left out). */
export function metricValues(group: SampleGroup, metric: string): number[] {
  return group.samples.map((s) => s.metrics[metric]).filter((v): v is number => v !== undefined);
}

/** Every metric measured in any of the group's samples, in first-seen order. */
export function metricNames(group: SampleGroup): string[] {
  return [...new Set(group.samples.flatMap((s) => Object.keys(s.metrics)))];
}

function canonical(params: Record<string, string | number>): [string, string | number][] {
  return Object.entries(params).sort(([a], [b]) => a.localeCompare(b));
}
