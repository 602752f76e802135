import { planUpdate, type GuestPlacement } from "../../provider/xen/update-plan";
import type { XenDomUArgsInput } from "../../provider/xen/schema";
import { parsed, seedGuest } from "./fixtures/xen/inputs";

type Recorded = Parameters<typeof planUpdate>[2];
const running: Recorded = { state: "running", pendingRestart: [] };
const stopped: Recorded = { state: "stopped", pendingRestart: [] };
const on = (host: string, limits: GuestPlacement["limits"] = { domid: 7, maxMemoryMiB: 1024, maxVcpus: 2, type: "pv" }): GuestPlacement => ({ runningOn: host, limits });
const nowhere: GuestPlacement = { runningOn: undefined, limits: undefined };
const plan = (before: Partial<XenDomUArgsInput>, after: Partial<XenDomUArgsInput>, recorded: Recorded, where: GuestPlacement) =>
  planUpdate(parsed(seedGuest(before)), parsed(seedGuest(after)), recorded, where);

describe("XenDomU's update plan", () => {
  it("starts a stopped guest on runOn once a start there is allowed, after writing the configs", () => {
    expect(plan({ state: "stopped" }, { state: "running" }, stopped, nowhere).steps).toEqual([
      { kind: "refuseUnlessStartable", on: "ha1" },
      { kind: "writeConfigs" },
      { kind: "start", on: "ha1" },
    ]);
  });

  it("stops a running guest and forgets what waited for its restart", () => {
    expect(plan({}, { state: "stopped" }, { state: "running", pendingRestart: ["vifs changed"] }, on("ha1"))).toEqual({
      steps: [{ kind: "writeConfigs" }, { kind: "stop" }],
      pendingRestart: [],
    });
  });

  it("live-migrates a guest whose runOn changed, with the type it runs as", () => {
    expect(plan({}, { runOn: "ha2" }, running, on("ha1", { domid: 3, maxMemoryMiB: 256, maxVcpus: 1, type: "pvh" })).steps).toEqual([
      { kind: "writeConfigs" },
      { kind: "move", from: "ha1", to: "ha2", type: "pvh", through: "direct" },
    ]);
  });

  it("hands a Heartbeat-placed guest back through Heartbeat instead of migrating it alone", () => {
    expect(plan({ placedBy: "heartbeat", runOn: "ha1" }, { placedBy: "heartbeat", runOn: "ha1" }, running, on("ha2")).steps).toEqual([
      { kind: "writeConfigs" },
      { kind: "move", from: "ha2", to: "ha1", type: "pv", through: "heartbeat" },
    ]);
  });

  it("balloons memory and sets vCPUs live within what the guest was started with, after a move", () => {
    expect(plan({ memory: 256, vcpus: 1 }, { memory: 512, vcpus: 2, runOn: "ha2" }, running, on("ha1")).steps).toEqual([
      { kind: "writeConfigs" },
      { kind: "move", from: "ha1", to: "ha2", type: "pv", through: "direct" },
      { kind: "applyLive", memSet: 512, vcpuSet: 2 },
    ]);
  });

  it("leaves memory above the boot maximum for the next start, and keeps what already waited", () => {
    const result = plan({ memory: 256 }, { memory: 2048 }, { state: "running", pendingRestart: ["vifs changed"] }, on("ha1"));
    expect([result.steps, result.pendingRestart.length, result.pendingRestart[1]]).toEqual([
      [{ kind: "writeConfigs" }],
      2,
      "memory 2048 MiB is above the 1024 MiB the running guest was started with (maxMemory); it applies at the next start",
    ]);
  });

  it("judges live changes by the inputs it was started with when the host cannot say", () => {
    expect(plan({ memory: 256 }, { memory: 512 }, running, { runningOn: "ha1", limits: undefined }).pendingRestart).toEqual([
      "memory 512 MiB is above the 256 MiB the running guest was started with (maxMemory); it applies at the next start",
    ]);
  });

  it("never turns a guest someone else started elsewhere into a migration of ours: the start check refuses it first", () => {
    expect(plan({ state: "stopped" }, { state: "running" }, stopped, on("ha2")).steps[0]).toEqual({ kind: "refuseUnlessStartable", on: "ha1" });
  });

  it("changes nothing on the hosts but the configs when nothing else changed", () => {
    expect(plan({}, {}, running, on("ha1"))).toEqual({ steps: [{ kind: "writeConfigs" }], pendingRestart: [] });
  });
});
