import { UNKNOWN } from "../../provider/inputs";
import { parseXenInfo } from "../../provider/xen/capabilities";
import { planUpdate, previewPlan, type GuestPlacement } from "../../provider/xen/update-plan";
import type { XenDomUArgsInput } from "../../provider/xen/schema";
import { fixture, parsed, seedGuest } from "./fixtures/xen/inputs";

const securityBuild = parseXenInfo(fixture("xl-info-4.17.7-deb12u1.txt"));
const releaseBuild = parseXenInfo(fixture("xl-info-4.17.5.txt"));
const shadowless = { ha1: securityBuild, ha2: securityBuild };

type Recorded = Parameters<typeof planUpdate>[2];
const running: Recorded = { state: "running", pendingRestart: [] };
const stopped: Recorded = { state: "stopped", pendingRestart: [] };
const on = (host: string, limits: GuestPlacement["limits"] = { domid: 7, maxMemoryMiB: 1024, maxVcpus: 2, type: "pv" }, capabilities: GuestPlacement["capabilities"] = { ha1: releaseBuild, ha2: releaseBuild }): GuestPlacement => ({
  runningOn: host,
  limits,
  capabilities,
});
const nowhere: GuestPlacement = { runningOn: undefined, limits: undefined, capabilities: {} };
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
      { kind: "move", from: "ha1", to: "ha2", type: "pvh", through: "direct", how: { kind: "live" } },
    ]);
  });

  it("leaves a Pacemaker-placed guest's start, stop and moves to Pacemaker, and still balloons it where it runs", () => {
    const pm = { placedBy: "pacemaker" } as const;
    expect(plan(pm, { ...pm, runOn: "ha2" }, running, on("ha1")).steps).toEqual([{ kind: "writeConfigs" }]);
    expect(plan(pm, { ...pm, state: "stopped" }, running, on("ha1")).steps).toEqual([{ kind: "writeConfigs" }]);
    expect(plan({ ...pm, state: "stopped" }, pm, stopped, nowhere).steps).toEqual([{ kind: "writeConfigs" }]);
    expect(plan({ ...pm, memory: 256, maxMemory: 1024 }, { ...pm, memory: 512, maxMemory: 1024 }, running, on("ha2")).steps).toEqual([{ kind: "writeConfigs" }, { kind: "applyLive", memSet: 512 }]);
  });

  it("hands a Heartbeat-placed guest back through Heartbeat instead of migrating it alone", () => {
    expect(plan({ placedBy: "heartbeat", runOn: "ha1" }, { placedBy: "heartbeat", runOn: "ha1" }, running, on("ha2")).steps).toEqual([
      { kind: "writeConfigs" },
      { kind: "move", from: "ha2", to: "ha1", type: "pv", through: "heartbeat", how: { kind: "live" } },
    ]);
  });

  it("balloons memory and sets vCPUs live within what the guest was started with, after a move", () => {
    expect(plan({ memory: 256, vcpus: 1 }, { memory: 512, vcpus: 2, runOn: "ha2" }, running, on("ha1")).steps).toEqual([
      { kind: "writeConfigs" },
      { kind: "move", from: "ha1", to: "ha2", type: "pv", through: "direct", how: { kind: "live" } },
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
    expect(plan({ memory: 256 }, { memory: 512 }, running, { runningOn: "ha1", limits: undefined, capabilities: {} }).pendingRestart).toEqual([
      "memory 512 MiB is above the 256 MiB the running guest was started with (maxMemory); it applies at the next start",
    ]);
  });

  it("never turns a guest someone else started elsewhere into a migration of ours: the start check refuses it first", () => {
    expect(plan({ state: "stopped" }, { state: "running" }, stopped, on("ha2")).steps[0]).toEqual({ kind: "refuseUnlessStartable", on: "ha1" });
  });

  it("changes nothing on the hosts but the configs when nothing else changed", () => {
    expect(plan({}, {}, running, on("ha1"))).toEqual({ steps: [{ kind: "writeConfigs" }], pendingRestart: [] });
  });

  describe("a change of host, judged from both hypervisors' facts", () => {
    const pvOn = (host: string) => on(host, { domid: 3, maxMemoryMiB: 256, maxVcpus: 1, type: "pv" }, shadowless);

    it("refuses to move a PV guest off bookworm's security build before anything is written, naming the guest, both hosts and the cause", () => {
      expect(plan({}, { runOn: "ha2" }, running, pvOn("ha1"))).toEqual({
        steps: [{ kind: "refuse", reason: expect.stringMatching(/^moving test from ha1 to ha2 is refused before anything moves: a live migration is impossible: ha1 runs Xen 4\.17\.7 built without shadow paging .*allowNonLiveMove\.$/) }],
        pendingRestart: [],
      });
    });

    it("refuses a hand-back through Heartbeat the same way: its resource script live-migrates too", () => {
      expect(plan({ placedBy: "heartbeat" }, { placedBy: "heartbeat" }, running, pvOn("ha2")).steps).toEqual([{ kind: "refuse", reason: expect.stringContaining("Failed to enable logdirty") }]);
    });

    it("moves it by save, copy and restore with the opt-in", () => {
      const move = plan({}, { runOn: "ha2", allowNonLiveMove: true }, running, pvOn("ha1")).steps[1];
      expect(move).toMatchObject({ kind: "move", how: { kind: "non-live", reason: expect.stringContaining("save, copy and restore") } });
    });

    it("live-migrates a PVH guest there: the type it runs as decides, not the new input", () => {
      const pvh = on("ha1", { domid: 3, maxMemoryMiB: 256, maxVcpus: 1, type: "pvh" }, shadowless);
      expect(plan({ type: "pvh" }, { type: "pv", runOn: "ha2" }, running, pvh).steps[1]).toMatchObject({ kind: "move", type: "pvh", how: { kind: "live" } });
    });

    it("leaves how to move to the moment it runs when a host's facts were never read", () => {
      expect(plan({}, { runOn: "ha2" }, running, on("ha1", undefined, { ha1: securityBuild })).steps[1]).toMatchObject({ kind: "move", how: { kind: "unknown" } });
    });

    it("moves nothing for a guest that is to be stopped, nor for one that was stopped: it simply starts on the other host", () => {
      expect(plan({}, { runOn: "ha2", state: "stopped" }, running, pvOn("ha1")).steps).toEqual([{ kind: "writeConfigs" }, { kind: "stop" }]);
      expect(plan({ state: "stopped" }, { runOn: "ha2" }, stopped, { ...nowhere, capabilities: shadowless }).steps).toEqual([
        { kind: "refuseUnlessStartable", on: "ha2" },
        { kind: "writeConfigs" },
        { kind: "start", on: "ha2" },
      ]);
    });
  });

  describe("in preview, from the state alone", () => {
    const olds = (extra: Record<string, unknown> = {}) => ({ ...parsed(seedGuest()), type: "pv", capabilities: shadowless, ...extra });
    const preview = (after: Partial<XenDomUArgsInput>, recordedOutputs = olds()) => previewPlan(parsed(seedGuest()), parsed(seedGuest(after)), recordedOutputs);

    it("shows the same refusal as the update, from the recorded type and hypervisors", () => {
      expect(preview({ runOn: "ha2" })?.steps[0]).toEqual({ kind: "refuse", reason: expect.stringMatching(/^moving test from ha1 to ha2 is refused before anything moves: .*allowNonLiveMove\.$/) });
    });

    it("lets it through when the opt-in allows the pause, or when the guest was stopped", () => {
      expect(preview({ runOn: "ha2", allowNonLiveMove: true })?.steps.map((s) => s.kind)).toEqual(["writeConfigs", "move"]);
      expect(preview({ runOn: "ha2" }, olds({ state: "stopped" }))?.steps.map((s) => s.kind)).toEqual(["refuseUnlessStartable", "writeConfigs", "start"]);
    });

    it("plans nothing while the new host is not known", () => {
      expect(previewPlan(parsed(seedGuest()), { ...parsed(seedGuest()), runOn: UNKNOWN as string }, olds())).toBeUndefined();
    });
  });
});
