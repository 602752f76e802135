import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigCheck } from "../../provider/drbd/config-check";
import { parseGenerationIdentifiers, parseMetadataProbe } from "../../provider/drbd/metadata";
import { DrbdParseError, describeStatus, parseConnectionState, parseDiskStates, parseDrbdStatus, parseInitScriptStatus, parseProcDrbd, parseRole } from "../../provider/drbd/status";
import { parseStatusProbe } from "../../provider/drbd/status-probe";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "drbd", name), "utf8");
const expectTestDisk = { name: "test-disk", minor: 1 };

describe("/proc/drbd", () => {
  it("reads the module version", () => {
    expect(parseProcDrbd(fixture("proc-drbd-connected.txt")).version).toBe("8.4.11");
  });

  it("reads a connected, synced device", () => {
    expect(parseProcDrbd(fixture("proc-drbd-connected.txt")).devices.get(1)).toEqual({
      minor: 1,
      connection: "Connected",
      role: "Secondary",
      peerRole: "Secondary",
      disk: "UpToDate",
      peerDisk: "UpToDate",
      protocol: "C",
      outOfSyncKiB: 0,
    });
  });

  it("reads the sync progress of the sync source", () => {
    const device = parseProcDrbd(fixture("proc-drbd-sync-source.txt")).devices.get(1);
    expect([device?.connection, device?.syncPercent, device?.outOfSyncKiB]).toEqual(["SyncSource", 22.7, 4058236]);
  });

  it("reads progress shown in KiB for small devices", () => {
    expect(parseProcDrbd(fixture("proc-drbd-sync-source.txt")).devices.get(2)?.syncPercent).toBe(0.1);
  });

  it("reads the sync target's view", () => {
    const device = parseProcDrbd(fixture("proc-drbd-sync-target.txt")).devices.get(1);
    expect([device?.connection, device?.role, device?.peerRole, device?.disk, device?.peerDisk, device?.syncPercent]).toEqual([
      "SyncTarget",
      "Secondary",
      "Primary",
      "Inconsistent",
      "UpToDate",
      22.7,
    ]);
  });

  it("reads a StandAlone device that has no protocol any more", () => {
    const device = parseProcDrbd(fixture("proc-drbd-split-brain.txt")).devices.get(1);
    expect([device?.connection, device?.peerRole, device?.peerDisk, device?.protocol]).toEqual(["StandAlone", "Unknown", "DUnknown", undefined]);
  });

  it("reads an unconfigured minor after a gap", () => {
    expect(parseProcDrbd(fixture("proc-drbd-waiting.txt")).devices.get(3)?.connection).toBe("Unconfigured");
  });

  it("reads a device waiting for its peer", () => {
    expect(parseProcDrbd(fixture("proc-drbd-waiting.txt")).devices.get(1)?.connection).toBe("WFConnection");
  });

  it("refuses a state it does not know rather than guess", () => {
    expect(() => parseProcDrbd(" 1: cs:Bogus ro:Primary/Secondary ds:UpToDate/UpToDate C r-----\n")).toThrow(DrbdParseError);
  });
});

describe("drbdsetup status (drbd-utils 9 on an 8.4 module)", () => {
  it("maps an established link to 8.4's Connected", () => {
    expect(parseDrbdStatus(fixture("status-connected.txt"))).toEqual({
      name: "test-disk",
      role: "Secondary",
      disk: "UpToDate",
      connection: "Connected",
      peerRole: "Secondary",
      peerDisk: "UpToDate",
    });
  });

  it("reads the sync progress", () => {
    const status = parseDrbdStatus(fixture("status-sync-source.txt"));
    expect([status?.connection, status?.peerDisk, status?.syncPercent]).toEqual(["SyncSource", "Inconsistent", 22.7]);
  });

  it("maps Connecting to 8.4's WFConnection", () => {
    const status = parseDrbdStatus(fixture("status-connecting.txt"));
    expect([status?.connection, status?.peerRole, status?.peerDisk]).toEqual(["WFConnection", "Unknown", "DUnknown"]);
  });

  it("reads StandAlone", () => {
    expect(parseDrbdStatus(fixture("status-standalone.txt"))?.connection).toBe("StandAlone");
  });

  it("reads a resource with no connection listed as StandAlone", () => {
    expect(parseDrbdStatus("test-disk role:Secondary\n  disk:UpToDate\n\n")?.connection).toBe("StandAlone");
  });

  it("finds nothing for a resource that is down", () => {
    expect(parseDrbdStatus(fixture("status-down.txt"))).toBeUndefined();
  });

  it("ignores colour codes", () => {
    expect(parseDrbdStatus("test-disk role:\x1b[1;32mPrimary\x1b[0m\n  disk:\x1b[32mUpToDate\x1b[0m\n  peer connection:Connecting\n")?.role).toBe("Primary");
  });
});

describe("drbdadm role, cstate and dstate", () => {
  it("reads both roles", () => {
    expect(parseRole("Primary/Secondary\n")).toEqual({ role: "Primary", peerRole: "Secondary" });
  });

  it("reads an unconfigured device", () => {
    expect(parseRole("Unconfigured\n")).toBe("Unconfigured");
  });

  it("reads the connection state", () => {
    expect(parseConnectionState("SyncSource\n")).toBe("SyncSource");
  });

  it("reads both disk states", () => {
    expect(parseDiskStates("UpToDate/Inconsistent\n")).toEqual({ disk: "UpToDate", peerDisk: "Inconsistent" });
  });

  it("reads the single disk state drbdmeta gives for a resource that is down", () => {
    expect(parseDiskStates("Consistent\n")).toEqual({ disk: "Consistent" });
  });
});

describe("the seed's init script status", () => {
  it("reads each resource by name", () => {
    expect(parseInitScriptStatus(fixture("init-status.txt")).get("test-swap")).toEqual({
      minor: 2,
      connection: "Connected",
      role: "Primary",
      peerRole: "Secondary",
      disk: "UpToDate",
      peerDisk: "UpToDate",
    });
  });
});

describe("status probe", () => {
  it("combines /proc/drbd and drbdsetup status", () => {
    expect(parseStatusProbe(fixture("probe-sync-source.txt"), expectTestDisk)).toEqual({
      nodename: "ha1.domain.local",
      moduleVersion: "8.4.11",
      up: true,
      minorTaken: false,
      status: { connection: "SyncSource", role: "Primary", peerRole: "Secondary", disk: "UpToDate", peerDisk: "Inconsistent", syncPercent: 22.7, splitBrain: false },
    });
  });

  it("flags an unresolved split brain", () => {
    expect(parseStatusProbe(fixture("probe-split-brain.txt"), expectTestDisk).status.splitBrain).toBe(true);
  });

  it("does not call a StandAlone resource split when the last handshake succeeded", () => {
    const text = fixture("probe-split-brain.txt").replace(/\[ 4410.*\n/, "[ 4420.1] drbd test-disk: Handshake successful: Agreed network protocol version 101\n");
    expect(parseStatusProbe(text, expectTestDisk).status.splitBrain).toBe(false);
  });

  it("reads a resource that is down as unconfigured", () => {
    const probe = parseStatusProbe(fixture("probe-down.txt"), expectTestDisk);
    expect([probe.up, probe.status.connection]).toEqual([false, "Unconfigured"]);
  });

  it("notices a minor another resource holds", () => {
    const text = fixture("probe-down.txt").replace("--8<-- status", `${fixture("proc-drbd-connected.txt")}--8<-- status`);
    expect(parseStatusProbe(text, expectTestDisk).minorTaken).toBe(true);
  });

  it("returns the installed configuration as it is", () => {
    const config = "resource test-disk {\n}\n";
    expect(parseStatusProbe(fixture("probe-down.txt") + config, expectTestDisk).installedConfig).toBe(config);
  });

  it("describes the state in one line for the log", () => {
    expect(describeStatus(parseStatusProbe(fixture("probe-sync-source.txt"), expectTestDisk).status)).toBe("SyncSource 22.7% Primary/Secondary UpToDate/Inconsistent");
  });
});

describe("meta-data probe", () => {
  it("finds freshly created meta-data", () => {
    expect(parseMetadataProbe({ exitCode: 0, stdout: fixture("get-gi-created.txt"), stderr: "" })).toEqual({
      found: true,
      gi: { current: "0000000000000004", bitmap: "0000000000000000", history: ["0000000000000000", "0000000000000000"], consistent: false, wasUpToDate: false, justCreated: true },
    });
  });

  it("finds meta-data in use, even read while the device is attached", () => {
    const probe = parseMetadataProbe({ exitCode: 0, stdout: fixture("get-gi-in-use.txt"), stderr: "# Output might be stale, since minor 1 is attached\n" });
    expect(probe.found && [probe.gi.justCreated, probe.gi.consistent, probe.gi.wasUpToDate]).toEqual([false, true, true]);
  });

  it("reads exit code 1 as no meta-data", () => {
    expect(parseMetadataProbe({ exitCode: 1, stdout: "", stderr: "" })).toEqual({ found: false });
  });

  it("reports a meta volume too small for its index in drbdmeta's words", () => {
    const stderr = "Device too small: expecting meta data block at\nbyte offset 134217728, but /dev/vg/meta is only 134217728 bytes.\n";
    expect(() => parseMetadataProbe({ exitCode: 10, stdout: "", stderr })).toThrow(/exit code 10\): Device too small: expecting meta data block at\nbyte offset 134217728/);
  });

  it("refuses output that is not generation identifiers", () => {
    expect(() => parseGenerationIdentifiers("hello\n")).toThrow(DrbdParseError);
  });
});

describe("configuration check", () => {
  const rename = { "/run/xen-ha/drbd/test-disk.res": "/etc/drbd.d/test-disk.res", "/run/xen-ha/drbd/test-swap.res": "/etc/drbd.d/test-swap.res" };

  it("accepts a clean dump", () => {
    expect(parseConfigCheck({ exitCode: 0, stdout: fixture("dump-test-disk.txt"), stderr: "" }, "test-disk", rename)).toEqual({ ok: true });
  });

  it("reports a parse error verbatim, pointing at the installed path", () => {
    expect(parseConfigCheck({ exitCode: 10, stdout: "", stderr: fixture("dump-error-parse.txt") }, "test-disk", rename)).toEqual({
      ok: false,
      errors: ["/etc/drbd.d/test-disk.res:14: Parse error: 'disk | device | address | meta-disk | flex-meta-disk' expected,", "\tbut got 'dsik' (TK 281)"],
    });
  });

  it("reports a meta-data index another resource uses", () => {
    const check = parseConfigCheck({ exitCode: 10, stdout: "", stderr: fixture("dump-error-conflict.txt") }, "test-swap", rename);
    expect(check.ok ? [] : check.errors[0]).toBe("/etc/drbd.d/test-swap.res:31: conflicting use of meta-disk 'ha1.domain.local:/dev/vg/meta[0]' ...");
  });

  it("fails on an address missing from the node even though dump exits 0", () => {
    expect(parseConfigCheck({ exitCode: 0, stdout: fixture("dump-test-disk.txt"), stderr: fixture("dump-error-ip.txt") }, "test-disk", rename).ok).toBe(false);
  });

  it("fails when no on section matches the node's name", () => {
    const check = parseConfigCheck({ exitCode: 0, stdout: fixture("dump-ignored.txt"), stderr: "" }, "test-disk");
    expect(check.ok ? [] : check.errors).toEqual(['resource test-disk: no "on ha3.domain.local" section: a node\'s hostname must be its `uname -n`']);
  });
});
