/**
 * What the package's runs are measured against (the baseline runs of the same phase whose params
 * include theirs), the ratios of the medians, and the targets met or missed. Pure.
 */
import { groupSamples, includesParams, metricValues, paramsLabel, type Phase, type Sample, type SampleGroup } from "./samples";
import { max, min, ratio, summarize, type Summary } from "./stats";

export interface Comparison {
  phase: Phase;
  metric: string;
  package: SampleGroup;
  baseline: SampleGroup;
  packageSummary: Summary;
  baselineSummary: Summary;
  /** Package median / baseline median. */
  ratio: number | undefined;
}

/** The metrics compared between the package and its baseline, per phase. */
export const COMPARED_METRICS: Record<Phase, readonly string[]> = {
  build: ["wallSeconds"],
  noop: ["wallSeconds", "connections", "commands"],
  failover: ["wallSeconds"],
  migration: ["wallSeconds", "pingGapSeconds"],
  volume: ["wallSeconds"],
};

export function comparisons(samples: readonly Sample[]): Comparison[] {
  const groups = groupSamples(samples);
  const out: Comparison[] = [];
  for (const pkg of groups.filter((g) => g.role === "package")) {
    const baselines = groups.filter((g) => g.role === "baseline" && g.phase === pkg.phase && includesParams(g.params, pkg.params));
    for (const base of baselines) {
      for (const metric of COMPARED_METRICS[pkg.phase]) {
        const p = summarize(metricValues(pkg, metric));
        const b = summarize(metricValues(base, metric));
        // A replay of no command took no time: there is nothing to divide by.
        const nothingReplayed = pkg.phase === "noop" && summarize(metricValues(base, "commands"))?.median === 0;
        if (p && b) out.push({ phase: pkg.phase, metric, package: pkg, baseline: base, packageSummary: p, baselineSummary: b, ratio: nothingReplayed ? undefined : ratio(p.median, b.median) });
      }
    }
  }
  return out;
}

export interface Verdict {
  /** The target as the issue states it. */
  target: string;
  /** Which runs it was checked on (`vms=1`, `vms=3, op=up, ha1`). */
  scope: string;
  /** The figure that decides, as shown. */
  figure: string;
  /** Met, missed, or undefined when nothing was measured. */
  met: boolean | undefined;
}

export const TARGETS = {
  build: "building ≤ 1.15× the plain script (skip-sync, like the package's empty volumes)",
  connections: "no-op refresh and up open exactly one connection per host",
  commands: "no-op refresh and up run at most one command per resource per host",
  failover: "failover ≤ 1.1× plain Heartbeat",
  migration: "migration ≤ 1.1× raw xl migrate",
} as const;

/** The targets checked against the samples; a target with no runs is listed as not measured. */
export function verdicts(samples: readonly Sample[], hosts: readonly string[]): Verdict[] {
  const all = comparisons(samples);
  const out: Verdict[] = [];
  const ratioTarget = (target: string, phase: Phase, limit: number, baselineParams: Record<string, string | number> = {}) => {
    const found = all.filter((c) => c.phase === phase && c.metric === "wallSeconds" && includesParams(c.baseline.params, baselineParams));
    if (found.length === 0) out.push({ target, scope: "-", figure: "not measured", met: undefined });
    for (const c of found) {
      out.push({ target, scope: paramsLabel(c.package.params) || "all runs", figure: `${formatRatio(c.ratio)} (limit ${limit}×)`, met: c.ratio === undefined ? undefined : c.ratio <= limit });
    }
  };
  ratioTarget(TARGETS.build, "build", 1.15, { sync: "skip" });

  const noop = groupSamples(samples).filter((g) => g.phase === "noop" && g.role === "package" && (g.params.op === "refresh" || g.params.op === "up"));
  if (noop.length === 0) {
    out.push({ target: TARGETS.connections, scope: "-", figure: "not measured", met: undefined });
    out.push({ target: TARGETS.commands, scope: "-", figure: "not measured", met: undefined });
  }
  for (const g of noop) {
    for (const host of hosts) {
      const scope = `${paramsLabel(g.params)}, ${host}`;
      const conns = metricValues(g, `connections.${host}`);
      // `pulumi up` without --refresh reads no host: none is fewer than one, and what the target is for.
      const readsNothing = g.params.op === "up" && conns.length > 0 && conns.every((c) => c === 0);
      out.push({
        target: TARGETS.connections,
        scope,
        figure: conns.length === 0 ? "not measured" : `${rangeText(conns)} connection(s)${readsNothing ? " (up without --refresh reads no host)" : ""}`,
        met: conns.length === 0 ? undefined : readsNothing || conns.every((c) => c === 1),
      });
      const perRun = g.samples.flatMap((s) => {
        const commands = s.metrics[`commands.${host}`];
        const resources = s.metrics[`resources.${host}`];
        return commands === undefined || resources === undefined ? [] : [{ commands, resources }];
      });
      out.push({
        target: TARGETS.commands,
        scope,
        figure: perRun.length === 0 ? "not measured" : `${rangeText(perRun.map((r) => r.commands))} commands for ${rangeText(perRun.map((r) => r.resources))} resources`,
        met: perRun.length === 0 ? undefined : perRun.every((r) => r.commands <= r.resources),
      });
    }
  }
  ratioTarget(TARGETS.failover, "failover", 1.1);
  ratioTarget(TARGETS.migration, "migration", 1.1);
  return out;
}

export function formatRatio(r: number | undefined): string {
  return r === undefined ? "n/a" : `${r.toFixed(2)}×`;
}

function rangeText(values: readonly number[]): string {
  const lo = min(values);
  const hi = max(values);
  return lo === hi ? String(lo) : `${lo}–${hi}`;
}
