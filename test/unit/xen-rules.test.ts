import { diffInputs } from "../../provider/diff";
import { UNKNOWN } from "../../provider/inputs";
import { parseXenInfo } from "../../provider/xen/capabilities";
import { bootLimitsOf, planRunningUpdate, xenDomURules } from "../../provider/xen/rules";
import type { XenDomUArgsInput } from "../../provider/xen/schema";
import { explicitGuest, fixture, parsed, seedGuest, seedHosts } from "./fixtures/xen/inputs";

function diff(before: XenDomUArgsInput, after: XenDomUArgsInput) {
  return diffInputs(parsed(before), parsed(after), xenDomURules);
}

describe("which changes replace a DomU", () => {
  it("changing the host it runs on is an update (a migration), never a replace", () => {
    expect(diff(seedGuest(), seedGuest({ runOn: "ha2" }))).toEqual({ changes: true, replaces: [], updates: ["runOn"] });
  });

  it("changing memory is an update", () => {
    expect(diff(seedGuest(), seedGuest({ memory: 512 })).updates).toEqual(["memory"]);
  });

  it("renaming is a replace", () => {
    expect(diff(seedGuest(), seedGuest({ name: "test2" })).replaces).toEqual(["name"]);
  });

  it("changing disks is an update of the config", () => {
    const after = explicitGuest({ disks: [{ drbd: "probe-disk", vdev: "xvda" }, { drbd: "probe-data", vdev: "xvdb" }] });
    expect(diff(explicitGuest(), after)).toEqual({ changes: true, replaces: [], updates: ["disks"] });
  });

  it("changing the bridge is an update of the config", () => {
    expect(diff(seedGuest(), seedGuest({ vifs: [{ ip: "10.1.1.50", bridge: "xenbr1" }] })).updates).toEqual(["vifs"]);
  });

  it("the order of hosts is not a change", () => {
    expect(diff(seedGuest(), seedGuest({ hosts: [seedHosts[1]!, seedHosts[0]!] })).changes).toBe(false);
  });

  it("a host not known during preview is shown as an update, never a replace", () => {
    const after = { ...parsed(seedGuest()), runOn: UNKNOWN };
    expect(diffInputs(parsed(seedGuest()), after, xenDomURules)).toEqual({ changes: true, replaces: [], updates: ["runOn"] });
  });
});

describe("applying an update to a running guest", () => {
  const limits = bootLimitsOf({ memory: 384, vcpus: 2 });

  it("balloons memory down with mem-set", () => {
    expect(planRunningUpdate(parsed(seedGuest()), parsed(seedGuest({ memory: 256 })), limits)).toEqual({ memSet: 256, pendingRestart: [] });
  });

  it("says a restart is needed for memory above what the guest started with", () => {
    expect(planRunningUpdate(parsed(seedGuest()), parsed(seedGuest({ memory: 512, maxMemory: 1024 })), limits).pendingRestart).toEqual([
      "memory 512 MiB is above the 384 MiB the running guest was started with (maxMemory); it applies at the next start",
      "maxMemory changed in the config; it applies at the next start",
    ]);
  });

  it("brings a vCPU online up to the number the guest started with", () => {
    expect(planRunningUpdate(parsed(seedGuest()), parsed(seedGuest({ vcpus: 2 })), limits)).toEqual({ vcpuSet: 2, pendingRestart: [] });
  });

  it("leaves kernel arguments to the next start", () => {
    expect(planRunningUpdate(parsed(seedGuest()), parsed(seedGuest({ extra: "quiet" })), limits).pendingRestart).toEqual(["extra changed in the config; it applies at the next start"]);
  });

  it("leaves new disks to the next start", () => {
    expect(planRunningUpdate(parsed(seedGuest()), parsed(seedGuest({ disks: [{ drbd: "test-disk", vdev: "xvda2" }] })), limits).pendingRestart).toEqual([
      "disks changed in the config; it applies at the next start",
    ]);
  });

  it("takes the limits of a guest whose toolstack cannot report them from the config it started with", () => {
    expect(bootLimitsOf({ memory: 384, maxMemory: 1024, vcpus: 1 })).toEqual({ maxMemoryMiB: 1024, maxVcpus: 1 });
  });
});
