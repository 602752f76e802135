import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { departingDomain, drbdStartBlocker, locateGuest, parseDomainList, parseDrbdRole, parseGuestSurvey, parseLongList, presenceIn, runningHost, startBlocker } from "../../provider/xen/list";
import { buildGuestSurveyScript, xl } from "../../provider/xen/toolstack";
import { fixture } from "./fixtures/xen/inputs";

const running = parseDomainList(fixture("xl-list.txt"));
const empty = parseDomainList(fixture("xl-list-dom0-only.txt"));

describe("xl list and xm list", () => {
  it("reads the guest's domid, memory, vcpus and state from xl list", () => {
    expect(running.find((d) => d.name === "test")).toEqual({
      name: "test",
      domid: 3,
      memoryMiB: 384,
      vcpus: 1,
      stateLetters: "-b----",
      state: { running: false, blocked: true, paused: false, shutdown: false, crashed: false, dying: false },
      cpuSeconds: 21.4,
    });
  });

  it("follows a departing guest by its domid once Xen has dropped its name (a dying domain still holding its disks)", () => {
    const dying = parseDomainList(fixture("xl-list-dying.txt"));
    expect([
      departingDomain(dying, "web", 1)?.stateLetters,
      departingDomain(dying, "web", 2),
      departingDomain(dying, "web", null),
      departingDomain(running, "test", null)?.domid,
    ]).toEqual(["--p--d", undefined, undefined, 3]);
  });

  it("reads the seed's xm list, including a domain xend knows but does not run", () => {
    expect(parseDomainList(fixture("xm-list.txt")).map((d) => [d.name, d.domid, d.memoryMiB])).toEqual([
      ["Domain-0", 0, 500],
      ["test", 7, 384],
      ["old", null, 256],
    ]);
  });

  it("sees a guest kept after a crash by on_crash=preserve", () => {
    expect(presenceIn(parseDomainList(fixture("xl-list-crashed.txt")), "test").presence).toBe("crashed");
  });

  it("sees a guest arriving by migration under its temporary name", () => {
    expect(presenceIn(parseDomainList(fixture("xl-list-incoming.txt")), "test").presence).toBe("migrating");
  });

  it("refuses to guess at a line it cannot read", () => {
    expect(() => parseDomainList("Name ID Mem VCPUs State Time(s)\nlibxl: error: cannot connect\n")).toThrow(/cannot read this line/);
  });
});

describe("where a guest runs", () => {
  it("finds it on the host that lists it", () => {
    expect(locateGuest("test", { ha1: running, ha2: empty })).toMatchObject({ where: "one", host: "ha1", presence: "running" });
  });

  it("reports a guest listed on both hosts as such", () => {
    expect(locateGuest("test", { ha1: running, ha2: running })).toEqual({ where: "several", hosts: ["ha1", "ha2"] });
  });

  it("counts a live migration in flight (the guest's name on one side, --incoming on the other) as one guest, migrating, on the side that runs it", () => {
    const incoming = parseDomainList(fixture("xl-list-incoming.txt"));
    expect(locateGuest("test", { ha1: running, ha2: incoming })).toMatchObject({ where: "one", host: "ha1", presence: "migrating" });
    expect(runningHost(locateGuest("test", { ha1: running, ha2: incoming }))).toBe("ha1");
    // Two copies under the real name are never a migration.
    expect(locateGuest("test", { ha1: running, ha2: running, ha3: incoming })).toEqual({ where: "several", hosts: ["ha1", "ha2", "ha3"] });
  });

  it("does not call a guest stopped when a host could not be asked", () => {
    expect(locateGuest("test", { ha1: empty, ha2: undefined })).toEqual({ where: "unknown", unreachable: ["ha2"] });
  });

  it("calls it stopped when both hosts were asked", () => {
    expect(locateGuest("test", { ha1: empty, ha2: empty })).toEqual({ where: "nowhere" });
  });

  it("names the host it runs on only when it runs there, migrating included", () => {
    const crashed = parseDomainList(fixture("xl-list-crashed.txt"));
    expect([
      runningHost(locateGuest("test", { ha1: running, ha2: empty })),
      runningHost(locateGuest("test", { ha1: empty, ha2: crashed })),
      runningHost(locateGuest("test", { ha1: running, ha2: running })),
      runningHost(locateGuest("test", { ha1: empty, ha2: empty })),
    ]).toEqual(["ha1", undefined, undefined, undefined]);
  });
});

describe("xl list -l", () => {
  it("reads the limits the running guest was started with", () => {
    expect(parseLongList(fixture("xl-list-long.json"), "test")).toEqual({ domid: 3, maxMemoryMiB: 384, maxVcpus: 1, type: "pv" });
  });

  it("answers undefined for a guest it does not list", () => {
    expect(parseLongList("[]", "test")).toBeUndefined();
  });
});

describe("starting only where the guest runs nowhere else", () => {
  it("starts a guest that runs nowhere", () => {
    expect(startBlocker("test", "ha1", locateGuest("test", { ha1: empty, ha2: empty }))).toBeUndefined();
  });

  it("refuses to start a guest on ha1 while it runs on ha2", () => {
    expect(startBlocker("test", "ha1", locateGuest("test", { ha1: empty, ha2: running }))).toBe(
      "test is running on ha2 (domid 3); starting it on ha1 too would write its disks from two guests at once. Stop it there first, or set runOn to ha2.",
    );
  });

  it("refuses to start a guest while the peer cannot be asked", () => {
    expect(startBlocker("test", "ha1", locateGuest("test", { ha1: empty, ha2: undefined }))).toMatch(/^cannot tell whether test runs on ha2/);
  });

  it("refuses to start a guest that is still arriving by migration on the peer", () => {
    expect(startBlocker("test", "ha1", locateGuest("test", { ha1: empty, ha2: parseDomainList(fixture("xl-list-incoming.txt")) }))).toMatch(/^test is migrating on ha2/);
  });
});

describe("the read survey", () => {
  const dir = mkdtempSync(join(tmpdir(), "xen-survey-"));
  const fakeXl = `#!/bin/sh
case "$*" in
  list) cat ${JSON.stringify(join(__dirname, "fixtures/xen/xl-list.txt"))} ;;
  info) cat ${JSON.stringify(join(__dirname, "fixtures/xen/xl-info-4.17.7-deb12u1.txt"))} ;;
  "list -l test") cat ${JSON.stringify(join(__dirname, "fixtures/xen/xl-list-long.json"))} ;;
  *) echo "unexpected: $*" >&2; exit 1 ;;
esac
`;
  const fakeDrbdadm = `#!/bin/sh
case "$*" in
  "role test-disk") echo Secondary/Primary ;;
  *) echo "'$2' not defined in your config (for this host)." >&2; exit 10 ;;
esac
`;
  writeFileSync(join(dir, "xl"), fakeXl);
  writeFileSync(join(dir, "drbdadm"), fakeDrbdadm);
  chmodSync(join(dir, "xl"), 0o755);
  chmodSync(join(dir, "drbdadm"), 0o755);
  const subjects = { drbdResources: ["test-disk", "test-swap"], bridges: ["xenbr-absent"] };
  const survey = (configPath: string) =>
    parseGuestSurvey(execFileSync("sh", ["-c", buildGuestSurveyScript(xl, "test", configPath, subjects).text], { encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } }), "test");

  it("reads the list, the hypervisor, the config file byte for byte and the running limits in one round trip", () => {
    writeFileSync(join(dir, "test.cfg"), "name = 'test'\nmemory = 384\n");
    expect(survey(join(dir, "test.cfg"))).toMatchObject({
      domains: [{ name: "Domain-0" }, { name: "test", domid: 3 }],
      capabilities: { xenVersion: "4.17.7", shadow: false },
      configText: "name = 'test'\nmemory = 384\n",
      running: { domid: 3, maxMemoryMiB: 384 },
    });
  });

  it("tells a missing config file from an empty one", () => {
    writeFileSync(join(dir, "empty.cfg"), "");
    expect([survey(join(dir, "absent.cfg")).configText, survey(join(dir, "empty.cfg")).configText]).toEqual([undefined, ""]);
  });

  it("asks drbdadm for the role of each of the guest's resources, and keeps what it says when it has none", () => {
    writeFileSync(join(dir, "test.cfg"), "");
    expect(survey(join(dir, "test.cfg")).drbd).toEqual([
      { resource: "test-disk", local: "Secondary", peer: "Primary" },
      { resource: "test-swap", error: "'test-swap' not defined in your config (for this host)." },
    ]);
  });

  it("sees a bridge that is not there", () => {
    expect(survey(join(dir, "test.cfg")).bridges).toEqual({ "xenbr-absent": false });
  });
});

describe("the DRBD check before a start", () => {
  it("refuses while the peer holds a disk Primary", () => {
    expect(drbdStartBlocker("test", "ha1", [parseDrbdRole("test-disk", true, "Secondary/Primary")])).toMatch(/^the peer of ha1 holds DRBD resource test-disk Primary/);
  });

  it("refuses while a resource is not up on the host", () => {
    expect(drbdStartBlocker("test", "ha1", [parseDrbdRole("test-disk", false, "Unconfigured")])).toBe("DRBD resource test-disk is not up on ha1 (drbdadm role: Unconfigured); bring it up first");
  });

  it("lets the guest start when the peer is Secondary or gone", () => {
    expect(drbdStartBlocker("test", "ha1", [parseDrbdRole("a", true, "Secondary/Secondary"), parseDrbdRole("b", true, "Secondary/Unknown")])).toBeUndefined();
  });
});
