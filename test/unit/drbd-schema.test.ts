import { parseInputs, UNKNOWN } from "../../provider/inputs";
import {
  checkMetaVolumeSize,
  checkResourceSet,
  drbdResourceSchema,
  metaVolumeBytesNeeded,
  minorOf,
  parseRateKiB,
  syncRoles,
  type DrbdResourceInput,
  type DrbdResourceInputs,
} from "../../provider/drbd/schema";
import { seedTestDisk, seedTestSwap } from "./fixtures/drbd/seed-inputs";

const MiB = 1024 * 1024;
const parse = (input: unknown): DrbdResourceInputs => drbdResourceSchema.parse(input);

function failuresOf(input: unknown): string[] {
  const parsed = parseInputs(drbdResourceSchema, input);
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

function withNode(index: 0 | 1, change: Record<string, unknown>): DrbdResourceInput {
  const nodes = [...seedTestDisk.nodes] as [Record<string, unknown>, Record<string, unknown>];
  nodes[index] = { ...nodes[index], ...change };
  return { ...seedTestDisk, nodes } as DrbdResourceInput;
}

describe("DrbdResource inputs", () => {
  it("fills in every option with the seed's value", () => {
    const r = parse(seedTestDisk);
    expect({
      protocol: r.protocol,
      wfcTimeout: r.wfcTimeout,
      degrWfcTimeout: r.degrWfcTimeout,
      onIoError: r.onIoError,
      allowTwoPrimaries: r.allowTwoPrimaries,
      afterSb0pri: r.afterSb0pri,
      afterSb1pri: r.afterSb1pri,
      timeout: r.timeout,
      connectInt: r.connectInt,
      pingInt: r.pingInt,
      maxBuffers: r.maxBuffers,
      maxEpochSize: r.maxEpochSize,
      resyncRate: r.resyncRate,
      usageCount: r.usageCount,
      drbdVersion: r.drbdVersion,
    }).toEqual({
      protocol: "C",
      wfcTimeout: 120,
      degrWfcTimeout: 120,
      onIoError: "detach",
      allowTwoPrimaries: true,
      afterSb0pri: "discard-zero-changes",
      afterSb1pri: "discard-secondary",
      timeout: 60,
      connectInt: 10,
      pingInt: 10,
      maxBuffers: 2048,
      maxEpochSize: 2048,
      resyncRate: "90M",
      usageCount: "yes",
      drbdVersion: "8.4",
    });
  });

  it("makes the destructive and slow choices opt-in", () => {
    const r = parse(seedTestDisk);
    expect([r.skipInitialSync, r.wipeMetadataOnDelete, r.waitForSync]).toEqual([false, false, true]);
  });

  it("neither adopts, deletes what it adopted, nor allows a destructive replace unless asked", () => {
    const r = parse(seedTestDisk);
    expect([r.adopt, r.deleteAdopted, r.allowDestructiveReplace]).toEqual([false, false, false]);
  });

  it("refuses a replication address with leading zeros", () => {
    expect(failuresOf(withNode(0, { address: "192.168.001.001" }))[0]).toMatch(/^nodes\[0\]\.address: must not have leading zeros/);
  });

  it("takes an IPv6 replication address", () => {
    expect(failuresOf(withNode(0, { address: "fd00::1" }))).toEqual([]);
  });

  it("refuses a hostname longer than uname -n holds", () => {
    expect(failuresOf(withNode(0, { hostname: `${"a".repeat(40)}.${"b".repeat(30)}` })).some((f) => f.startsWith("nodes[0].hostname:"))).toBe(true);
  });

  it("names the meta-data device inside the meta-disk, not the meta-disk as a whole", () => {
    expect(failuresOf(withNode(0, { metaDisk: { device: "/dev/vg/meta;x", index: 0 } }))).toEqual([expect.stringMatching(/^nodes\[0\]\.metaDisk\.device: must be a block device path/)]);
  });

  it("requires an explicit initial sync source", () => {
    const { initialSyncSource: _omitted, ...rest } = seedTestDisk;
    expect(failuresOf(rest).some((f) => f.startsWith("initialSyncSource:"))).toBe(true);
  });

  it("refuses an initial sync source that is not one of the nodes", () => {
    expect(failuresOf({ ...seedTestDisk, initialSyncSource: "ha3.domain.local" })).toEqual([
      "initialSyncSource: must be one of the nodes' hostnames (ha1.domain.local, ha2.domain.local)",
    ]);
  });

  it("refuses two nodes with the same hostname", () => {
    expect(failuresOf(withNode(1, { hostname: "ha1.domain.local" }))).toContain("nodes[1].hostname: must differ from the other node's hostname");
  });

  it("refuses two nodes with the same replication address", () => {
    expect(failuresOf(withNode(1, { address: "192.168.1.1" }))).toEqual(["nodes[1].address: must differ from the other node's address"]);
  });

  it("refuses a host name where DRBD needs an address", () => {
    expect(failuresOf(withNode(0, { address: "ha1X" }))[0]).toMatch(/^nodes\[0\]\.address: must be an IPv4 or IPv6 address/);
  });

  it.each(["/dev/drbd", "/dev/drbd01", "/dev/sdb", "/dev/drbd1048576"])("refuses the device %s", (device) => {
    expect(failuresOf(withNode(0, { device })).some((f) => f.startsWith("nodes[0].device:"))).toBe(true);
  });

  it("accepts the highest minor DRBD 8.4 knows", () => {
    expect(failuresOf(withNode(0, { device: "/dev/drbd1048575" }))).toEqual([]);
  });

  it("refuses a negative meta-data index", () => {
    expect(failuresOf(withNode(0, { metaDisk: { device: "/dev/vg/meta", index: -1 } }))).toEqual(["nodes[0].metaDisk.index: must be 0 or more"]);
  });

  it("accepts internal meta-data", () => {
    expect(parse(withNode(0, { metaDisk: "internal" })).nodes[0].metaDisk).toBe("internal");
  });

  it("refuses a DRBD device as backing disk", () => {
    expect(failuresOf(withNode(0, { disk: "/dev/drbd2" }))[0]).toMatch(/^nodes\[0\]\.disk: must be a backing volume/);
  });

  it.each(["disk", "all", "-x", ".hidden", "123", "10M", "1.2.3.4", "a b", "a/b", "x".repeat(129)])("refuses the resource name %j", (name) => {
    expect(failuresOf({ ...seedTestDisk, name }).some((f) => f.startsWith("name:"))).toBe(true);
  });

  it.each(["test-disk", "r0", "vm_01.data", "disk2"])("accepts the resource name %j", (name) => {
    expect(failuresOf({ ...seedTestDisk, name })).toEqual([]);
  });

  it("refuses a timeout that is not shorter than the ping interval", () => {
    expect(failuresOf({ ...seedTestDisk, timeout: 100 })).toEqual([
      "timeout: is 10 s, which must be shorter than connectInt (10 s)",
      "timeout: is 10 s, which must be shorter than pingInt (10 s)",
    ]);
  });

  it("refuses an 8.4-only split-brain policy in the 8.3 dialect", () => {
    expect(failuresOf({ ...seedTestDisk, drbdVersion: "8.3", afterSb0pri: "discard-local" })).toEqual(["afterSb0pri: discard-local needs DRBD 8.4"]);
  });

  it("refuses a resync rate beyond what DRBD accepts", () => {
    expect(failuresOf({ ...seedTestDisk, resyncRate: "5G" })[0]).toMatch(/^resyncRate: must be a rate/);
  });

  it("leaves values unknown during preview for later", () => {
    const parsed = parseInputs(drbdResourceSchema, withNode(0, { address: UNKNOWN }));
    expect(parsed.ok ? "ok" : parsed.onlyUnknowns).toBe(true);
  });

  it("does not compare the sync source with a hostname still unknown during preview", () => {
    expect(parseInputs(drbdResourceSchema, withNode(0, { hostname: UNKNOWN })).ok).toBe(true);
  });

  it("names the sync source and the target", () => {
    const { source, target } = syncRoles(parse({ ...seedTestDisk, initialSyncSource: "ha2.domain.local" }));
    expect([source.hostname, target.hostname]).toEqual(["ha2.domain.local", "ha1.domain.local"]);
  });
});

describe("rates and minors", () => {
  it.each([
    ["90M", 92160],
    ["500K", 500],
    ["1G", 1048576],
    [250, 250],
    ["250", 250],
  ])("reads %j as %d KiB/s", (rate, kib) => {
    expect(parseRateKiB(rate)).toBe(kib);
  });

  it("reads the minor from the device path", () => {
    expect(minorOf("/dev/drbd12")).toBe(12);
  });
});

describe("meta volume size", () => {
  it("needs 128 MiB per index, counting from zero", () => {
    expect(metaVolumeBytesNeeded(1)).toBe(256 * MiB);
  });

  it("the seed's 1 GiB meta volume holds index 7", () => {
    expect(checkMetaVolumeSize(1024 * MiB, { device: "/dev/vg/meta", index: 7 }).ok).toBe(true);
  });

  it("refuses index 1 on a 128 MiB volume and says what size is needed", () => {
    expect(checkMetaVolumeSize(128 * MiB, { device: "/dev/vg/meta", index: 1 })).toEqual({
      ok: false,
      neededBytes: 256 * MiB,
      reason: "meta-disk /dev/vg/meta[1] needs a meta volume of at least 256 MiB (128 MiB per index, indexes 0 to 1); /dev/vg/meta has 128 MiB",
    });
  });
});

describe("a set of resources", () => {
  it("accepts the seed's two resources", () => {
    expect(checkResourceSet([parse(seedTestDisk), parse(seedTestSwap)])).toEqual([]);
  });

  it("refuses two resources sharing a meta-data index on a node", () => {
    const swap = parse(seedTestSwap);
    swap.nodes[1].metaDisk = { device: "/dev/vg/meta", index: 0 };
    expect(checkResourceSet([parse(seedTestDisk), swap])).toEqual([
      { property: "resources[1].nodes[1].metaDisk", reason: "meta-data index /dev/vg/meta[0] on ha2.domain.local is already used by resources[0].nodes[1].metaDisk" },
    ]);
  });

  it("refuses two resources on one minor", () => {
    const swap = parse(seedTestSwap);
    swap.nodes[0].device = "/dev/drbd1";
    expect(checkResourceSet([parse(seedTestDisk), swap]).map((f) => f.property)).toEqual(["resources[1].nodes[0].device"]);
  });

  it("refuses two resources on one port of the same address", () => {
    const swap = parse(seedTestSwap);
    swap.nodes[0].port = 7789;
    expect(checkResourceSet([parse(seedTestDisk), swap]).map((f) => f.property)).toEqual(["resources[1].nodes[0].port"]);
  });

  it("refuses a meta-data volume used as a data disk", () => {
    const swap = parse(seedTestSwap);
    swap.nodes[0].disk = "/dev/vg/meta";
    expect(checkResourceSet([parse(seedTestDisk), swap]).map((f) => f.property)).toEqual(["resources[1].nodes[0].disk"]);
  });

  it("refuses resources that disagree on the shared global settings", () => {
    expect(checkResourceSet([parse(seedTestDisk), parse({ ...seedTestSwap, usageCount: "no" })]).map((f) => f.property)).toEqual(["resources[1].usageCount"]);
  });

  it("refuses the same resource name twice", () => {
    expect(checkResourceSet([parse(seedTestDisk), parse({ ...seedTestSwap, name: "test-disk" })]).map((f) => f.property)).toEqual(["resources[1].name"]);
  });
});
