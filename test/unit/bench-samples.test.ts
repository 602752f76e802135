import { formatResults, groupSamples, includesParams, parseResults, RESULTS_FORMAT, type BenchResults, type Sample } from "../../bench/samples";

const sample = (over: Partial<Sample>): Sample => ({
  phase: "noop",
  subject: "pulumi up",
  role: "package",
  params: { vms: 1, op: "up" },
  run: 1,
  at: "2026-12-02T10:00:00.000Z",
  metrics: { wallSeconds: 12.5, "connections.ha1": 1 },
  ...over,
});

const results = (samples: Sample[]): BenchResults => ({
  format: RESULTS_FORMAT,
  startedAt: "2026-12-02T10:00:00.000Z",
  finishedAt: "2026-12-02T10:30:00.000Z",
  quick: true,
  machine: { cpuModel: "Test CPU", cpus: 2, memoryGiB: 24, kernel: "6.1.0", node: "v20.0.0", lab: "QEMU tcg" },
  samples,
  failures: [],
});

describe("the benchmark's JSON of samples", () => {
  it("reads back exactly what it wrote", () => {
    const written = results([sample({}), sample({ role: "baseline", subject: "one connection per command", notes: ["replayed 9 commands"] })]);
    expect(parseResults(formatResults(written))).toEqual(written);
  });

  it("refuses a file of another format, naming the field", () => {
    const text = JSON.stringify({ ...results([]), format: "something-else/2" });
    expect(() => parseResults(text)).toThrow(/format/);
  });

  it("refuses a sample with a metric that is not a number", () => {
    const text = JSON.stringify(results([sample({ metrics: { wallSeconds: "fast" as unknown as number } })]));
    expect(() => parseResults(text)).toThrow(/samples\.0\.metrics\.wallSeconds/);
  });

  it("groups runs of the same subject and params whatever the order of the params' keys", () => {
    const groups = groupSamples([sample({ params: { vms: 1, op: "up" } }), sample({ params: { op: "up", vms: 1 }, run: 2 }), sample({ params: { vms: 3, op: "up" } })]);
    expect(groups.map((g) => g.samples.length)).toEqual([2, 1]);
  });

  it("lets a baseline that says more (its sync mode) match the package's params", () => {
    expect([includesParams({ vms: 1, sync: "skip" }, { vms: 1 }), includesParams({ vms: 3, sync: "skip" }, { vms: 1 })]).toEqual([true, false]);
  });
});
