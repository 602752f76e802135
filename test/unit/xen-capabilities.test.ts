import { checkTargetMemory, decideMove, migrationFailureHint, parseXenInfo, planMove, type HostCapabilities } from "../../provider/xen/capabilities";
import { fixture } from "./fixtures/xen/inputs";

const securityBuild = parseXenInfo(fixture("xl-info-4.17.7-deb12u1.txt"));
const releaseBuild = parseXenInfo(fixture("xl-info-4.17.5.txt"));
const named = (host: string, capabilities: HostCapabilities) => ({ host, capabilities });

describe("xl info", () => {
  it("reads the paging modes, version and memory of bookworm's security build", () => {
    expect(securityBuild).toEqual({
      xenVersion: "4.17.7",
      virtCaps: ["pv", "hvm", "hap", "gnttab-v1", "gnttab-v2"],
      pv: true,
      hvm: true,
      hap: true,
      shadow: false,
      totalMemoryMiB: 1535,
      freeMemoryMiB: 739,
      dom0MemoryFixed: true,
    });
  });

  it("sees shadow paging in the 4.17.5 release build", () => {
    expect(releaseBuild.shadow).toBe(true);
  });

  it("reads xm info of Xen 3.2, which lists no virt_caps, as paging modes unknown", () => {
    expect(parseXenInfo(fixture("xm-info-3.2.txt"))).toMatchObject({ xenVersion: "3.2.1", hvm: true, pv: null, shadow: null, hap: null, freeMemoryMiB: 1481 });
  });

  it("reads an older virt_caps line (hvm hvm_directio) as saying nothing about shadow paging", () => {
    expect(parseXenInfo("virt_caps              : hvm hvm_directio\nxen_version            : 4.11.4\n").shadow).toBeNull();
  });
});

describe("deciding how a guest moves", () => {
  it("live-migrates a PVH guest on hosts with hardware paging", () => {
    expect(decideMove("pvh", named("ha1", securityBuild), named("ha2", securityBuild)).kind).toBe("live");
  });

  it("needs a non-live move for a PV guest when a host lacks shadow paging, and says why", () => {
    const decision = decideMove("pv", named("ha1", releaseBuild), named("ha2", securityBuild));
    expect(decision).toEqual({
      kind: "non-live-needed",
      reason: expect.stringMatching(/^ha2 runs Xen 4\.17\.7 built without shadow paging .*Failed to enable logdirty.*Debian bookworm's security build/),
    });
  });

  it("judges the way back too: a PV guest leaving the host without shadow paging is not live either", () => {
    expect(decideMove("pv", named("ha1", securityBuild), named("ha2", releaseBuild)).kind).toBe("non-live-needed");
  });

  it("live-migrates a PV guest between hosts with shadow paging", () => {
    expect(decideMove("pv", named("ha1", releaseBuild), named("ha2", releaseBuild)).kind).toBe("live");
  });

  it("assumes shadow paging where an old toolstack does not report it", () => {
    const old = parseXenInfo(fixture("xm-info-3.2.txt"));
    expect(decideMove("pv", named("ha1", old), named("ha2", old)).kind).toBe("live");
  });

  it("finds a PVH guest impossible on a host without hvm", () => {
    const noHvm = parseXenInfo("virt_caps              : pv gnttab-v1 gnttab-v2\nxen_version            : 4.17.7\n");
    expect(decideMove("pvh", named("ha1", securityBuild), named("ha2", noHvm))).toEqual({ kind: "impossible", reason: expect.stringMatching(/^ha2 cannot run PVH guests/) });
  });

  it("refuses a non-live move that was not allowed, naming the cause", () => {
    const plan = planMove(decideMove("pv", named("ha1", securityBuild), named("ha2", securityBuild)), false);
    expect(plan).toEqual({ kind: "refused", reason: expect.stringContaining("without shadow paging") });
  });

  it("plans a non-live move when the guest allows it", () => {
    expect(planMove(decideMove("pv", named("ha1", securityBuild), named("ha2", securityBuild)), true).kind).toBe("non-live");
  });

  it("refuses a move to a host without the guest's memory free", () => {
    expect(checkTargetMemory(named("ha2", securityBuild), 1024)).toMatch(/^ha2 has 739 MiB free for guests, the guest needs 1024 MiB/);
  });

  it("leaves room to xl when dom0 is not fixed on Xen's command line, since xl balloons it down", () => {
    expect(checkTargetMemory(named("ha2", { ...securityBuild, dom0MemoryFixed: false }), 1024)).toBeUndefined();
  });

  it("explains xl migrate's logdirty failure", () => {
    expect(migrationFailureHint("xc: error: Failed to enable logdirty: 95,22,0: Internal error")).toMatch(/without shadow paging\); the guest still runs on the source$/);
  });
});
