import { comparisons, verdicts, TARGETS } from "../../bench/compare";
import { benchPanels, escapeXml, niceTicks, renderSvg } from "../../bench/plot";
import { RESULTS_FORMAT, type BenchResults, type Sample } from "../../bench/samples";
import { formatValue, renderTable } from "../../bench/table";

const at = "2026-12-02T10:00:00.000Z";
const s = (x: Omit<Sample, "at">): Sample => ({ at, ...x });

function noop(vms: number, op: string, role: "package" | "baseline", wall: number, conns: [number, number], cmds: [number, number]): Sample {
  return s({
    phase: "noop",
    subject: role === "package" ? `pulumi ${op}` : "one connection per command",
    role,
    params: { vms, op },
    run: 1,
    metrics: {
      wallSeconds: wall,
      connections: conns[0] + conns[1],
      commands: cmds[0] + cmds[1],
      "connections.ha1": conns[0],
      "connections.ha2": conns[1],
      "commands.ha1": cmds[0],
      "commands.ha2": cmds[1],
      ...(role === "package" ? { "resources.ha1": 8, "resources.ha2": 8 } : {}),
    },
  });
}

/** A run's results in small: builds, no-ops at 1 and 3 VMs, a failover, volumes, and a failed migration. */
function sampleResults(): BenchResults {
  return {
    format: RESULTS_FORMAT,
    startedAt: "2026-12-02T10:00:00.000Z",
    finishedAt: "2026-12-02T11:00:00.000Z",
    quick: false,
    machine: { cpuModel: "Test CPU", cpus: 2, memoryGiB: 24, kernel: "6.1.0", node: "v20.0.0", lab: "QEMU tcg (no /dev/kvm)" },
    samples: [
      s({ phase: "build", subject: "pulumi up", role: "package", params: { vms: 1 }, run: 1, metrics: { wallSeconds: 200 } }),
      s({ phase: "build", subject: "pulumi up", role: "package", params: { vms: 1 }, run: 2, metrics: { wallSeconds: 220 } }),
      s({ phase: "build", subject: "plain script", role: "baseline", params: { vms: 1, sync: "skip" }, run: 1, metrics: { wallSeconds: 160 } }),
      s({ phase: "build", subject: "plain script", role: "baseline", params: { vms: 1, sync: "full" }, run: 1, metrics: { wallSeconds: 210 } }),
      noop(1, "refresh", "package", 20, [1, 1], [8, 7]),
      noop(1, "refresh", "baseline", 30, [8, 7], [8, 7]),
      noop(3, "refresh", "package", 25, [1, 2], [9, 9]),
      noop(3, "refresh", "baseline", 50, [9, 9], [9, 9]),
      s({ phase: "failover", subject: "package", role: "package", params: {}, run: 1, metrics: { wallSeconds: 66, checksSeconds: 12 } }),
      s({ phase: "failover", subject: "plain Heartbeat (recipe)", role: "baseline", params: {}, run: 1, metrics: { wallSeconds: 60 } }),
      s({ phase: "volume", subject: "skip-sync", role: "package", params: { sizeMiB: 256 }, run: 1, metrics: { wallSeconds: 40 } }),
      s({ phase: "volume", subject: "full sync", role: "baseline", params: { sizeMiB: 256 }, run: 1, metrics: { wallSeconds: 55 } }),
      s({ phase: "volume", subject: "skip-sync", role: "package", params: { sizeMiB: 1024 }, run: 1, metrics: { wallSeconds: 70 } }),
      s({ phase: "volume", subject: "full sync", role: "baseline", params: { sizeMiB: 1024 }, run: 1, metrics: { wallSeconds: 120 } }),
    ],
    failures: [{ phase: "migration", subject: "xl migrate", params: {}, at, message: "ha1: exited 1\nmore detail" }],
  };
}

describe("comparing the package with its baselines", () => {
  it("compares a build with each plain variant whose params include its own, by the ratio of medians", () => {
    const build = comparisons(sampleResults().samples).filter((c) => c.phase === "build");
    expect(build.map((c) => [c.baseline.params.sync, c.ratio])).toEqual([
      ["skip", 210 / 160],
      ["full", 1],
    ]);
  });

  it("compares no-op runs only with the baseline of the same size and operation", () => {
    const c = comparisons(sampleResults().samples).find((x) => x.phase === "noop" && x.package.params.vms === 3 && x.metric === "connections");
    expect([c?.baselineSummary.median, c?.ratio]).toEqual([18, 3 / 18]);
  });

  it("finds the build over its target against the skip-sync script", () => {
    const build = verdicts(sampleResults().samples, ["ha1", "ha2"]).filter((v) => v.target === TARGETS.build);
    expect(build.map((v) => [v.scope, v.met])).toEqual([["vms=1", false]]);
  });

  it("holds a no-op refresh to one connection per host: two to ha2 miss the target", () => {
    const conns = verdicts(sampleResults().samples, ["ha1", "ha2"]).filter((v) => v.target === TARGETS.connections);
    expect(conns.map((v) => [v.scope, v.met])).toEqual([
      ["vms=1, op=refresh, ha1", true],
      ["vms=1, op=refresh, ha2", true],
      ["vms=3, op=refresh, ha1", true],
      ["vms=3, op=refresh, ha2", false],
    ]);
  });

  it("counts a no-op up that reads no host as within one connection per host, saying why", () => {
    const samples = [noop(1, "up", "package", 4, [0, 0], [0, 0]), noop(1, "up", "baseline", 0, [0, 0], [0, 0])];
    const conns = verdicts(samples, ["ha1"]).filter((v) => v.target === TARGETS.connections);
    expect(conns.map((v) => [v.figure, v.met])).toEqual([["0 connection(s) (up without --refresh reads no host)", true]]);
  });

  it("gives no ratio against a replay of no command", () => {
    const samples = [noop(1, "preview", "package", 2.3, [0, 0], [0, 0]), noop(1, "preview", "baseline", 0.001, [0, 0], [0, 0])];
    expect(comparisons(samples).map((c) => [c.metric, c.ratio])).toEqual([
      ["wallSeconds", undefined],
      ["connections", undefined],
      ["commands", undefined],
    ]);
  });

  it("holds commands per host to the resources that talk to that host", () => {
    const cmds = verdicts(sampleResults().samples, ["ha1", "ha2"]).filter((v) => v.target === TARGETS.commands);
    expect(cmds.map((v) => v.met)).toEqual([true, true, false, false]);
  });

  it("says a target was not measured when no run measured it", () => {
    const migration = verdicts(sampleResults().samples, ["ha1", "ha2"]).find((v) => v.target === TARGETS.migration);
    expect([migration?.figure, migration?.met]).toEqual(["not measured", undefined]);
  });
});

describe("the Markdown table", () => {
  const table = renderTable(sampleResults(), ["ha1", "ha2"]);

  it("shows a build's median, range and ratio to each plain variant on one row", () => {
    expect(table).toContain("| vms=1 | pulumi up | wallSeconds | 2 | 210.0 s | 200.0 s–220.0 s | 1.31× plain script (sync=skip); 1.00× plain script (sync=full) |");
  });

  it("states the date and the machine", () => {
    expect(table).toMatch(/^Run from 2026-12-02T10:00:00.000Z to 2026-12-02T11:00:00.000Z, full mode\.$/m);
  });

  it("lists the targets with their verdicts", () => {
    expect(table).toContain(`| ${TARGETS.failover} | all runs | 1.10× (limit 1.1×) | met |`);
  });

  it("lists a failed run by the first line of its error", () => {
    expect(table).toContain("- migration, xl migrate, 2026-12-02T10:00:00.000Z: ha1: exited 1\n");
  });

  it("leaves out the sections of phases that did not run", () => {
    expect(table).not.toContain("## Live migration");
  });

  it("writes counts as whole numbers and seconds with a unit", () => {
    expect([formatValue("connections", 2), formatValue("wallSeconds", 2), formatValue("commands", 2.5)]).toEqual(["2", "2.0 s", "2.5"]);
  });
});

describe("the picture", () => {
  it("plots no-op wall time against the number of VMs, one line per operation and side", () => {
    const [wall] = benchPanels(sampleResults());
    expect(wall!.series.map((x) => [x.label, x.points, !!x.dashed])).toEqual([
      ["pulumi refresh", [{ x: 1, y: 20 }, { x: 3, y: 25 }], false],
      ["refresh, one connection per command", [{ x: 1, y: 30 }, { x: 3, y: 50 }], true],
    ]);
  });

  it("plots time-to-usable against volume size for both sync modes", () => {
    const volume = benchPanels(sampleResults())[2]!;
    expect(volume.series.map((x) => x.points.map((p) => [p.x, p.y]))).toEqual([
      [[256, 40], [1024, 70]],
      [[256, 55], [1024, 120]],
    ]);
  });

  it("is one SVG document with a polyline per series", () => {
    const svg = renderSvg(benchPanels(sampleResults()), "caption <&>");
    expect([svg.startsWith("<svg "), svg.trimEnd().endsWith("</svg>"), (svg.match(/<polyline /g) ?? []).length, svg.includes("caption &lt;&amp;&gt;")]).toEqual([true, true, 6, true]);
  });

  it("says not measured in a panel without data", () => {
    const svg = renderSvg([{ title: "empty", xLabel: "x", yLabel: "y", series: [] }], "");
    expect(svg).toContain(">not measured</text>");
  });

  it("puts round ticks from zero to at least the largest value", () => {
    expect([niceTicks(0, 47), niceTicks(0, 3.2)]).toEqual([
      [0, 10, 20, 30, 40, 50],
      [0, 1, 2, 3, 4],
    ]);
  });

  it("escapes text for XML", () => {
    expect(escapeXml(`a<b & "c">`)).toBe("a&lt;b &amp; &quot;c&quot;&gt;");
  });
});
