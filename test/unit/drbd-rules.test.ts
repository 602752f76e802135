import { diffInputs } from "../../provider/diff";
import { UNKNOWN } from "../../provider/inputs";
import {
  deleteRefusal,
  drbdResourceRules,
  planInitialSync,
  planMetadata,
  planUpdate,
  validateDrbdChange,
} from "../../provider/drbd/rules";
import { drbdResourceSchema, type DrbdResourceInputs } from "../../provider/drbd/schema";
import type { MetadataProbe } from "../../provider/drbd/metadata";
import type { DrbdNodeStatus } from "../../provider/drbd/status";
import { seedTestDisk } from "./fixtures/drbd/seed-inputs";

const seed = (): DrbdResourceInputs => drbdResourceSchema.parse(seedTestDisk);
const HA1 = "ha1.domain.local";
const HA2 = "ha2.domain.local";

function diff(change: (r: DrbdResourceInputs) => void) {
  const after = seed();
  change(after);
  return diffInputs(seed() as unknown as Record<string, unknown>, after as unknown as Record<string, unknown>, drbdResourceRules);
}

describe("diff", () => {
  it("reports nothing for the same inputs", () => {
    expect(diff(() => {}).changes).toBe(false);
  });

  it.each([
    ["protocol", (r: DrbdResourceInputs) => (r.protocol = "B")],
    ["maxBuffers", (r: DrbdResourceInputs) => (r.maxBuffers = 8000)],
    ["allowTwoPrimaries", (r: DrbdResourceInputs) => (r.allowTwoPrimaries = false)],
    ["resyncRate", (r: DrbdResourceInputs) => (r.resyncRate = "50M")],
    ["usageCount", (r: DrbdResourceInputs) => (r.usageCount = "no")],
  ])("changing %s is an update applied with adjust", (property, change) => {
    expect(diff(change)).toEqual({ changes: true, replaces: [], updates: [property] });
  });

  it("the same rate written another way is no change", () => {
    expect(diff((r) => (r.resyncRate = 92160)).changes).toBe(false);
  });

  it("growing the backing volumes is an update", () => {
    const before = { ...seed(), size: "5G" };
    const after = { ...seed(), size: "6G" };
    expect(diffInputs(before, after, drbdResourceRules).updates).toEqual(["size"]);
  });

  it("the same size written another way is no change", () => {
    expect(diffInputs({ ...seed(), size: "5G" }, { ...seed(), size: 5120 }, drbdResourceRules).changes).toBe(false);
  });

  it("a new crossover address is an update: adjust reconnects on it", () => {
    expect(diff((r) => (r.nodes[1].address = "192.168.1.102")).updates).toEqual(["nodes"]);
  });

  it("a new port is an update", () => {
    expect(diff((r) => (r.nodes[0].port = 7791)).updates).toEqual(["nodes"]);
  });

  it.each([
    ["hostname", (r: DrbdResourceInputs) => (r.nodes[1].hostname = "ha3.domain.local")],
    ["device", (r: DrbdResourceInputs) => (r.nodes[0].device = "/dev/drbd5")],
    ["disk", (r: DrbdResourceInputs) => (r.nodes[0].disk = "/dev/vg/other")],
    ["meta-disk index", (r: DrbdResourceInputs) => (r.nodes[0].metaDisk = { device: "/dev/vg/meta", index: 3 })],
    ["meta-disk kind", (r: DrbdResourceInputs) => (r.nodes[1].metaDisk = "internal")],
  ])("a new %s replaces the resource", (_what, change) => {
    expect(diff(change).replaces).toEqual(["nodes"]);
  });

  it("the same node reached at another SSH address is an update, checked by its recorded host key", () => {
    expect(diff((r) => (r.nodes[1].connection.host = "ha2.domain.local"))).toMatchObject({ changes: true, replaces: [] });
  });

  it("renaming the resource replaces it", () => {
    expect(diff((r) => (r.name = "data")).replaces).toEqual(["name"]);
  });

  it("a new SSH key is an update", () => {
    expect(diff((r) => (r.nodes[0].connection.privateKey = "other")).updates).toEqual(["nodes"]);
  });

  it("listing the nodes the other way round is only an update", () => {
    expect(diff((r) => r.nodes.reverse())).toEqual({ changes: true, replaces: [], updates: ["nodes"] });
  });

  it("a key unknown during preview is an update, not a replace", () => {
    expect(diff((r) => (r.nodes[0].connection.privateKey = UNKNOWN)).updates).toEqual(["nodes"]);
  });

  it("a hostname unknown during preview shows as a replace", () => {
    expect(diff((r) => (r.nodes[0].hostname = UNKNOWN)).replaces).toEqual(["nodes"]);
  });

  it.each(["initialSyncSource", "skipInitialSync", "waitForSync", "wipeMetadataOnDelete"] as const)("changing %s later only records it", (property) => {
    const after = { ...seed(), [property]: property === "initialSyncSource" ? HA2 : property !== "waitForSync" };
    expect(diffInputs(seed(), after, drbdResourceRules)).toEqual({ changes: true, replaces: [], updates: [property] });
  });
});

describe("refused changes", () => {
  it("refuses shrinking", () => {
    expect(validateDrbdChange({ ...seed(), size: "5G" }, { ...seed(), size: "4G" })).toEqual([
      { property: "size", reason: "shrinking 5 GiB to 4 GiB would cut off the end of the replicated data; DRBD devices only grow here" },
    ]);
  });

  it("allows growing", () => {
    expect(validateDrbdChange({ ...seed(), size: "5G" }, { ...seed(), size: "6G" })).toEqual([]);
  });
});

describe("update plan", () => {
  it("an option change rewrites the resource file and adjusts", () => {
    expect(planUpdate(seed(), { ...seed(), pingInt: 20 })).toEqual({ rewriteResource: true, rewriteGlobal: false, adjust: true, resize: false });
    expect(planUpdate(seed(), { ...seed(), pingTimeout: 30 })).toEqual({ rewriteResource: true, rewriteGlobal: false, adjust: true, resize: false });
  });

  it("a usage-count change rewrites the global file only", () => {
    expect(planUpdate(seed(), { ...seed(), usageCount: "no" })).toEqual({ rewriteResource: false, rewriteGlobal: true, adjust: true, resize: false });
  });

  it("growing resizes without rewriting anything", () => {
    expect(planUpdate({ ...seed(), size: "5G" }, { ...seed(), size: "6G" })).toEqual({ rewriteResource: false, rewriteGlobal: false, adjust: false, resize: true });
  });

  it("a create-time input touches nothing", () => {
    expect(Object.values(planUpdate(seed(), { ...seed(), waitForSync: false })).some(Boolean)).toBe(false);
  });
});

describe("meta-data plan", () => {
  const found: MetadataProbe = { found: true, gi: { current: "9A3C5B8E0F6D1C24", bitmap: "0", history: ["0", "0"], consistent: true, wasUpToDate: true, justCreated: false } };
  const none: MetadataProbe = { found: false };

  it("creates meta-data on both new nodes", () => {
    expect(planMetadata(seed(), { [HA1]: none, [HA2]: none })).toEqual({ createOn: [HA1, HA2] });
  });

  it("keeps existing meta-data on both nodes", () => {
    expect(planMetadata(seed(), { [HA1]: found, [HA2]: found })).toEqual({ createOn: [] });
  });

  it("creates only the peer's when the sync source has its own", () => {
    expect(planMetadata(seed(), { [HA1]: found, [HA2]: none })).toEqual({ createOn: [HA2] });
  });

  it("refuses new meta-data on the sync source beside the peer's old meta-data", () => {
    const plan = planMetadata(seed(), { [HA1]: none, [HA2]: found });
    expect("refused" in plan && plan.refused).toMatch(/^ha2\.domain\.local already has DRBD meta-data for test-disk but ha1\.domain\.local, the initial sync source, has none/);
  });
});

describe("initial sync plan", () => {
  const state = (over: Partial<DrbdNodeStatus>): DrbdNodeStatus => ({ connection: "Connected", role: "Secondary", peerRole: "Secondary", disk: "Inconsistent", peerDisk: "Inconsistent", ...over });
  const fresh = { [HA1]: state({}), [HA2]: state({}) };
  const both = [HA1, HA2];
  const empty = { signature: "", headIsZero: true, holdsData: false };

  it("forces the chosen node primary when both sides are Inconsistent", () => {
    expect(planInitialSync(seed(), fresh, { metadataCreatedOn: both })).toEqual({ action: "force-primary", node: HA1 });
  });

  it("waits until the nodes are connected", () => {
    expect(planInitialSync(seed(), { ...fresh, [HA2]: state({ connection: "WFConnection" }) }, { metadataCreatedOn: both }).action).toBe("wait");
  });

  it.each(["WFReportParams", "WFBitMapS", "WFSyncUUID", "StartingSyncS"] as const)("waits while the handshake is in %s", (connection) => {
    expect(planInitialSync(seed(), { ...fresh, [HA1]: state({ connection, peerDisk: "DUnknown" }) }, { metadataCreatedOn: both }).action).toBe("wait");
  });

  it("leaves a resync that DRBD started itself to DRBD", () => {
    const syncing = { [HA1]: state({ connection: "SyncSource", disk: "UpToDate" }), [HA2]: state({ connection: "SyncTarget", peerDisk: "UpToDate" }) };
    expect(planInitialSync(seed(), syncing, { metadataCreatedOn: [HA2] }).action).toBe("none");
  });

  it("leaves a pair with data to DRBD", () => {
    const synced = { [HA1]: state({ disk: "UpToDate", peerDisk: "UpToDate" }), [HA2]: state({ disk: "UpToDate", peerDisk: "UpToDate" }) };
    expect(planInitialSync(seed(), synced, { metadataCreatedOn: [] }).action).toBe("none");
  });

  it("skips the sync for new empty volumes when asked", () => {
    expect(planInitialSync({ ...seed(), skipInitialSync: true }, fresh, { metadataCreatedOn: both, sourceContent: empty })).toEqual({ action: "skip-sync", node: HA1 });
  });

  it("refuses to skip the sync when the sync source holds a filesystem, as the seed's xen-tools volume does", () => {
    const plan = planInitialSync({ ...seed(), skipInitialSync: true }, fresh, { metadataCreatedOn: both, sourceContent: { signature: "ext3", headIsZero: false, holdsData: true } });
    expect(plan).toEqual({
      action: "refused",
      reason: "skipInitialSync is only for new, empty volumes, but /dev/vg/test-disk on ha1.domain.local holds data (blkid finds ext3): its data must be synced in full; set skipInitialSync to false",
    });
  });

  it("refuses to skip the sync without having looked at the volume", () => {
    expect(planInitialSync({ ...seed(), skipInitialSync: true }, fresh, { metadataCreatedOn: both }).action).toBe("refused");
  });

  it("refuses to skip the sync on meta-data this run did not create", () => {
    expect(planInitialSync({ ...seed(), skipInitialSync: true }, fresh, { metadataCreatedOn: [HA2], sourceContent: empty }).action).toBe("refused");
  });
});

describe("delete", () => {
  it("is refused while a node is Primary", () => {
    expect(deleteRefusal(seed(), { [HA1]: { connection: "Connected", role: "Primary", peerRole: "Secondary", disk: "UpToDate", peerDisk: "UpToDate" } })).toMatch(
      /^test-disk is Primary on ha1\.domain\.local: /,
    );
  });

  it("goes ahead when both nodes are Secondary", () => {
    const secondary: DrbdNodeStatus = { connection: "Connected", role: "Secondary", peerRole: "Secondary", disk: "UpToDate", peerDisk: "UpToDate" };
    expect(deleteRefusal(seed(), { [HA1]: secondary, [HA2]: secondary })).toBeUndefined();
  });
});
