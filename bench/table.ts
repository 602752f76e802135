/** The results as Markdown: the targets, then one table per phase (medians, ranges, ratios). Pure. */
import { comparisons, formatRatio, verdicts, type Comparison } from "./compare";
import { groupKey, groupSamples, metricNames, metricValues, paramsLabel, PHASES, type BenchResults, type Phase, type SampleGroup } from "./samples";
import { summarize } from "./stats";

export const PHASE_TITLES: Record<Phase, string> = {
  build: "Building the cluster from bare hosts",
  noop: "Doing nothing as the cluster grows: no-op preview, refresh and up",
  failover: "Failover: from the hard kill of the guest's node to the guest answering ping on the other",
  migration: "Live migration of a running guest",
  volume: "A new replicated volume until UpToDate on both nodes",
};

/** What each phase's figures mean, printed under its title. */
const PHASE_NOTES: Record<Phase, string> = {
  build:
    "Wall time from bare hosts to every guest answering ping with Heartbeat running. The plain script runs the recipe's steps over one SSH connection per host; skip-sync zeroes the volumes as the package does, full sync lets DRBD copy them.",
  noop:
    "Connections and commands are counted on the hosts: sshd's accepted logins from this machine and a logging `timeout` in front of the real one. The baseline replays the same commands, one fresh SSH connection each, as `remote.Command` would.",
  failover: "The extra time is broken down from the survivor's log: detection (Heartbeat declares the peer dead), take-over (until the resource script runs), checks (the package's peer and DRBD checks), start (xl create until ping).",
  migration: "The package moves the guest by a change of its home applied with `pulumi up`; the baseline is the same `xl migrate` run by hand. The ping gap is the longest time between two answers from the guest during the move.",
  volume: "The package's DrbdResource on two new LogicalVolumes: skip-sync zeroes both volumes and skips DRBD's initial sync, full sync lets DRBD copy the whole volume.",
};

export function renderTable(results: BenchResults, hosts: readonly string[]): string {
  const lines: string[] = [];
  const mode = results.quick ? "quick mode (1 VM, one sample of each)" : "full mode";
  lines.push("# pulumi-xen-ha benchmark", "");
  lines.push(`Run from ${results.startedAt} to ${results.finishedAt}, ${mode}.`, "");
  const m = results.machine;
  lines.push(`Machine: ${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node.js ${m.node}; lab: ${m.lab}.`, "");
  lines.push("Each figure is the median of its runs, with the range in the min–max column; a ratio is the package's median over the baseline's, both measured in this run on the same nodes and guests.", "");

  lines.push("## Targets", "", "| target | runs | figure | verdict |", "|---|---|---|---|");
  for (const v of verdicts(results.samples, hosts)) {
    lines.push(row([v.target, v.scope, v.figure, v.met === undefined ? "not measured" : v.met ? "met" : "missed"]));
  }
  lines.push("");

  const compared = comparisons(results.samples);
  const groups = groupSamples(results.samples);
  for (const phase of PHASES) {
    const own = groups.filter((g) => g.phase === phase);
    if (own.length === 0) continue;
    lines.push(`## ${PHASE_TITLES[phase]}`, "", PHASE_NOTES[phase], "");
    lines.push("| case | what | metric | runs | median | min–max | vs baseline |", "|---|---|---|---|---|---|---|");
    for (const g of own) {
      for (const metric of metricNames(g)) {
        const s = summarize(metricValues(g, metric));
        if (!s) continue;
        lines.push(row([paramsLabel(g.params) || "-", g.subject, metric, String(s.n), formatValue(metric, s.median), `${formatValue(metric, s.min)}–${formatValue(metric, s.max)}`, ratioText(compared, g, metric)]));
      }
    }
    lines.push("");
  }

  if (results.failures.length > 0) {
    lines.push("## Runs that failed", "");
    for (const f of results.failures) lines.push(`- ${f.phase}, ${f.subject}${Object.keys(f.params).length ? ` (${paramsLabel(f.params)})` : ""}, ${f.at}: ${oneLine(f.message)}`);
    lines.push("");
  }
  return lines.join("\n");
}

/** Seconds with one decimal and a unit; counts as whole numbers where they are whole. */
export function formatValue(metric: string, value: number): string {
  if (metric.endsWith("Seconds")) return `${value.toFixed(1)} s`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function ratioText(all: readonly Comparison[], group: SampleGroup, metric: string): string {
  return all
    .filter((c) => groupKey(c.package) === groupKey(group) && c.metric === metric)
    .map((c) => `${formatRatio(c.ratio)} ${c.baseline.subject}${extraParams(c)}`)
    .join("; ");
}

/** The params a baseline has beyond the package's (`sync=full`), to tell two baselines apart. */
function extraParams(c: Comparison): string {
  const extra = Object.fromEntries(Object.entries(c.baseline.params).filter(([k]) => !(k in c.package.params)));
  return Object.keys(extra).length ? ` (${paramsLabel(extra)})` : "";
}

function row(cells: readonly string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, "\\|").replace(/\n/g, " ")).join(" | ")} |`;
}

function oneLine(text: string): string {
  const first = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return first.length > 300 ? `${first.slice(0, 300)}…` : first;
}
