import type { Host } from "../../provider/ssh";
import { parseXenInfo } from "../../provider/xen/capabilities";
import { runsOn, startRefusal, type Views } from "../../provider/xen/domu-ops";
import { parseDomainList, parseDrbdRole, type GuestSurvey } from "../../provider/xen/list";
import { fixture, parsed, seedGuest } from "./fixtures/xen/inputs";

const securityBuild = parseXenInfo(fixture("xl-info-4.17.7-deb12u1.txt"));
const running = parseDomainList(fixture("xl-list.txt"));
const empty = parseDomainList(fixture("xl-list-dom0-only.txt"));

function survey(overrides: Partial<GuestSurvey> = {}): GuestSurvey {
  return {
    domains: empty,
    capabilities: securityBuild,
    configText: undefined,
    running: undefined,
    drbd: [parseDrbdRole("test-disk", true, "Secondary/Secondary"), parseDrbdRole("test-swap", true, "Secondary/Secondary")],
    bridges: { xenbr0: true },
    migrationKey: true,
    ...overrides,
  };
}

/** The two dom0s as a survey found them; the connections are never used by these decisions. */
function views(ha1: Partial<GuestSurvey>, ha2: Partial<GuestSurvey>): Views {
  const host = {} as Host;
  return { ha1: { spec: parsed(seedGuest()).hosts[0]!, host, survey: survey(ha1) }, ha2: { spec: parsed(seedGuest()).hosts[1]!, host, survey: survey(ha2) } };
}

const guest = parsed(seedGuest());

describe("before a start", () => {
  it("starts a guest that runs nowhere, with its disks Secondary on both sides", () => {
    expect(startRefusal(guest, views({}, {}), "ha1")).toBeUndefined();
  });

  it("refuses a guest that runs on the peer, naming where and what to do", () => {
    expect(startRefusal(guest, views({}, { domains: running }), "ha1")).toMatch(/^test is not started on ha1: test is running on ha2 \(domid 3\).*Stop it there first, or set runOn to ha2\.$/);
  });

  it("refuses while the peer holds a disk Primary, even when its xl list is empty", () => {
    const roles = [parseDrbdRole("test-disk", true, "Secondary/Primary")];
    expect(startRefusal(guest, views({ drbd: roles }, {}), "ha1")).toMatch(/the peer of ha1 holds DRBD resource test-disk Primary/);
  });

  it("refuses on a host without the guest's bridge", () => {
    expect(startRefusal(guest, views({ bridges: { xenbr0: false } }, {}), "ha1")).toMatch(/bridge xenbr0 does not exist on ha1; create it first \(NodeNetwork\)/);
  });

  it("refuses on a host without room for the guest", () => {
    const small = { ...securityBuild, freeMemoryMiB: 100 };
    expect(startRefusal(guest, views({ capabilities: small }, {}), "ha1")).toMatch(/ha1 has 100 MiB free for guests, the guest needs 384 MiB/);
  });

  it("keeps a crashed guest for diagnosis rather than starting over it", () => {
    expect(startRefusal(guest, views({ domains: parseDomainList(fixture("xl-list-crashed.txt")) }, {}), "ha1")).toMatch(/^test crashed on ha1 and is kept for diagnosis/);
  });

  it("has nothing to start where the guest already runs", () => {
    expect(runsOn(guest, views({ domains: running }, {}), "ha1")).toBe(true);
  });
});

describe("drbdadm role with a warning before it", () => {
  it("reads the role drbdadm prints last, after its warnings (dopd's permission check)", () => {
    const warned = "WARN: You are using the 'drbd-peer-outdater' as fence-peer program. If you use that mechanism the dopd heartbeat plugin program needs to be able to call drbdsetup and drbdmeta with root privileges. Secondary/Primary";
    expect([parseDrbdRole("test-disk", true, warned), parseDrbdRole("test-disk", false, "test-disk: No such resource").error]).toEqual([
      { resource: "test-disk", local: "Secondary", peer: "Primary" },
      "test-disk: No such resource",
    ]);
  });
});
