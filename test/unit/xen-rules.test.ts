import { diffInputs } from "../../provider/diff";
import { UNKNOWN } from "../../provider/inputs";
import { parseXenInfo } from "../../provider/xen/capabilities";
import { bootLimitsOf, moveOnChange, planRunningUpdate, validateXenDomUChange, xenDomURules } from "../../provider/xen/rules";
import type { XenDomUArgsInput } from "../../provider/xen/schema";
import { explicitGuest, fixture, parsed, seedGuest, seedHosts } from "./fixtures/xen/inputs";

function diff(before: XenDomUArgsInput, after: XenDomUArgsInput) {
  return diffInputs(parsed(before), parsed(after), xenDomURules);
}

const seedDefinition = { mode: "xen-tools", ip: "10.1.1.50", installMethod: "tar", installSource: "/srv/bookworm.tar", password: "S3cret pass" } as const;

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

  it("switching from xen-tools to explicit settings is a replace", () => {
    expect(diff(seedGuest(), seedGuest({ definition: explicitGuest().definition })).replaces).toEqual(["definition"]);
  });

  it("changing disks of an explicit guest is an update of its config", () => {
    const before = explicitGuest();
    const after = explicitGuest({ definition: { mode: "explicit", kernel: "/boot/vmlinuz-6.1.0-28-amd64", disks: [{ drbd: "probe-disk", vdev: "xvda" }, { drbd: "probe-data", vdev: "xvdb" }] } });
    expect(diff(before, after)).toEqual({ changes: true, replaces: [], updates: ["definition"] });
  });

  it("changing the bridge of a xen-tools guest is an update of its config", () => {
    expect(diff(seedGuest(), seedGuest({ definition: { ...seedDefinition, bridge: "xenbr1" } })).updates).toEqual(["definition"]);
  });

  it("a new root password is not a change: it was used once, at installation", () => {
    expect(diff(seedGuest(), seedGuest({ definition: { ...seedDefinition, password: "other" } })).changes).toBe(false);
  });

  it("the order of hosts is not a change", () => {
    expect(diff(seedGuest(), seedGuest({ hosts: [seedHosts[1]!, seedHosts[0]!] })).changes).toBe(false);
  });

  it("a mode not known during preview is shown as a replace", () => {
    const after = { ...parsed(seedGuest()), definition: { ...parsed(seedGuest()).definition, mode: UNKNOWN } };
    expect(diffInputs(parsed(seedGuest()), after, xenDomURules).replaces).toEqual(["definition"]);
  });
});

describe("changes refused before preview ends", () => {
  it("refuses a new disk size for an installed xen-tools guest and says how to reinstall deliberately", () => {
    expect(validateXenDomUChange(parsed(seedGuest()), parsed(seedGuest({ definition: { ...seedDefinition, size: "10Gb" } })))).toEqual([
      { property: "definition.size", reason: expect.stringMatching(/reinstall over test's disks\. Set it back to "5Gb", or .*test-disk\/test-swap and run pulumi up --replace/) },
    ]);
  });

  it("lets a config-only change of a xen-tools guest through", () => {
    expect(validateXenDomUChange(parsed(seedGuest()), parsed(seedGuest({ memory: 512, definition: { ...seedDefinition, mac: "00:16:3e:00:00:01" } })))).toEqual([]);
  });
});

describe("what a change of host will do, from state alone", () => {
  const securityBuild = parseXenInfo(fixture("xl-info-4.17.7-deb12u1.txt"));
  const releaseBuild = parseXenInfo(fixture("xl-info-4.17.5.txt"));
  const recorded = (type: "pv" | "pvh", capabilities = { ha1: securityBuild, ha2: securityBuild }) => ({ runOn: "ha1", type, capabilities });

  it("refuses to move a PV guest off bookworm's security build without the opt-in", () => {
    expect(moveOnChange(recorded("pv"), { runOn: "ha2", state: "running", allowNonLiveMove: false })).toEqual({ kind: "refused", reason: expect.stringContaining("Failed to enable logdirty") });
  });

  it("moves it by save, copy and restore with the opt-in", () => {
    expect(moveOnChange(recorded("pv"), { runOn: "ha2", state: "running", allowNonLiveMove: true })).toMatchObject({ kind: "non-live" });
  });

  it("live-migrates a PVH guest there", () => {
    expect(moveOnChange(recorded("pvh"), { runOn: "ha2", state: "running", allowNonLiveMove: false })).toEqual({ kind: "live" });
  });

  it("live-migrates a PV guest on the 4.17.5 release build", () => {
    expect(moveOnChange(recorded("pv", { ha1: releaseBuild, ha2: releaseBuild }), { runOn: "ha2", state: "running", allowNonLiveMove: false })).toEqual({ kind: "live" });
  });

  it("says it does not know when state has no capabilities for a host", () => {
    expect(moveOnChange({ runOn: "ha1", type: "pv" }, { runOn: "ha2", state: "running", allowNonLiveMove: false })).toBe("unknown");
  });

  it("moves nothing for a guest that is to be stopped", () => {
    expect(moveOnChange(recorded("pv"), { runOn: "ha2", state: "stopped", allowNonLiveMove: false })).toBeUndefined();
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

  it("has nothing to do for a new root password", () => {
    expect(planRunningUpdate(parsed(seedGuest()), parsed(seedGuest({ definition: { ...seedDefinition, password: "other" } })), limits)).toEqual({ pendingRestart: [] });
  });

  it("takes the limits of a guest whose toolstack cannot report them from the config it started with", () => {
    expect(bootLimitsOf({ memory: 384, maxMemory: 1024, vcpus: 1 })).toEqual({ maxMemoryMiB: 1024, maxVcpus: 1 });
  });
});
