import { parseArgs, planOf } from "../../bench/options";
import { benchVms, metaVolumeMiB, plainScriptArgs } from "../../bench/vms";

describe("the benchmark's command line", () => {
  it("runs every phase into bench/results by default, each its own number of times", () => {
    expect(parseArgs([], "out")).toEqual({ quick: false, outDir: "out", phases: ["build", "noop", "failover", "migration", "volume"] });
    expect(planOf(parseArgs([], "out")).runs).toEqual({ failover: 3, noop: 2, migration: 1, volume: 1 });
  });

  it("takes one number of runs for every phase from --runs, in quick mode too", () => {
    expect(planOf(parseArgs(["--quick", "--runs", "4"], "out")).runs).toEqual({ failover: 4, noop: 4, migration: 4, volume: 4 });
  });

  it("measures one VM, one sample of each and the smallest volume in quick mode", () => {
    const plan = planOf(parseArgs(["--quick"], "out"));
    expect([plan.buildVms, plan.noopVms, plan.volumeSizesMiB, plan.runs]).toEqual([[1], [1], [256], { failover: 1, noop: 1, migration: 1, volume: 1 }]);
  });

  it("measures 1, 3 and 6 VMs and volumes of 256 MiB, 1 GiB and 2 GiB in full mode", () => {
    const plan = planOf(parseArgs([], "out"));
    expect([plan.buildVms, plan.plainSyncs, plan.noopVms, plan.volumeSizesMiB]).toEqual([[1, 3], ["skip", "full"], [1, 3, 6], [256, 1024, 2048]]);
  });

  it("leaves the guest where the package's one move took it only in quick mode", () => {
    expect([planOf(parseArgs(["--quick"], "out")).packageMovesBack, planOf(parseArgs([], "out")).packageMovesBack]).toEqual([false, true]);
  });

  it("keeps the phases in their own order whatever order they are given in", () => {
    expect(parseArgs(["--phases", "volume,build"], "out").phases).toEqual(["build", "volume"]);
  });

  it("refuses an unknown phase, naming it", () => {
    expect(() => parseArgs(["--phases", "build,failvoer"], "out")).toThrow(/unknown: failvoer/);
  });

  it("refuses a number of runs that is not a whole number", () => {
    expect(() => parseArgs(["--runs", "2.5"], "out")).toThrow(/--runs/);
  });
});

describe("the benchmark's guests", () => {
  it("alternates homes and addresses from 10.1.1.50", () => {
    expect(benchVms(3)).toEqual([
      { name: "vm0", slot: 0, home: "ha1", ip: "10.1.1.50" },
      { name: "vm1", slot: 1, home: "ha2", ip: "10.1.1.51" },
      { name: "vm2", slot: 2, home: "ha1", ip: "10.1.1.52" },
    ]);
  });

  it("sizes the meta-data volume for the last guest's index, 128 MiB each", () => {
    expect([metaVolumeMiB(benchVms(1)), metaVolumeMiB(benchVms(6))]).toEqual([128, 1408]);
  });

  it("hands the plain script the same guests", () => {
    expect(plainScriptArgs(benchVms(2))).toEqual(["vm0:0:ha1:10.1.1.50", "vm1:1:ha2:10.1.1.51"]);
  });
});
