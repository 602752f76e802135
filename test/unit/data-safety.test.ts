/** Nothing that holds data is replaced, taken over or deleted as a side effect of a diff. */
import { adoptionRefusal, existingParts } from "../../provider/drbd/rules";
import type { MetadataProbe } from "../../provider/drbd/metadata";
import { signatureOf } from "../../provider/lvm/report";
import { implementation } from "../../provider/runtime";
import { takeOver } from "../../provider/xen/rules";
import type { DomainEntry } from "../../provider/xen/list";

const connection = { host: "127.0.0.1", port: 2221, privateKey: "key" };
const volume = { connection, volumeGroup: "vg", name: "test-disk", size: "5G" };
const check = (kind: "LogicalVolume" | "VolumeGroup", olds: Record<string, unknown>, news: Record<string, unknown>) =>
  implementation(kind).check(olds, news);

describe("a replace of something that holds data", () => {
  it("is refused in preview, naming the property and what would be lost", async () => {
    const { failures } = await check("LogicalVolume", volume, { ...volume, volumeGroup: "vg2" });
    expect(failures).toEqual([
      { property: "volumeGroup", reason: expect.stringMatching(/^changing volumeGroup replaces this LogicalVolume, which deletes the volume vg\/test-disk with its data\. Nothing was changed\. Set allowDestructiveReplace: true/) },
    ]);
  });

  it("goes ahead when the user opts in with allowDestructiveReplace", async () => {
    const { failures } = await check("LogicalVolume", volume, { ...volume, volumeGroup: "vg2", allowDestructiveReplace: true });
    expect(failures).toEqual([]);
  });

  it("a rename of a volume is an in-place update (lvrename), never a replace", async () => {
    const diff = await implementation("LogicalVolume").diff("id", volume, { ...volume, name: "web-disk" });
    expect([diff.changes, diff.replaces]).toEqual([true, []]);
  });

  it("the same machine at another address is an update for every kind that holds data", async () => {
    const lv = await implementation("LogicalVolume").diff("id", volume, { ...volume, connection: { ...connection, host: "localhost" } });
    const vg = { connection, name: "vg", devices: ["/dev/vdb"] };
    const group = await implementation("VolumeGroup").diff("id", vg, { ...vg, connection: { ...connection, host: "localhost" } });
    expect([lv.replaces, group.replaces, lv.changes, group.changes]).toEqual([[], [], true, true]);
  });

  it("a volume group renamed is refused with what would be lost", async () => {
    const vg = { connection, name: "vg", devices: ["/dev/vdb"] };
    const { failures } = await check("VolumeGroup", vg, { ...vg, name: "data" });
    expect(failures.map((f) => f.property)).toEqual(["name"]);
  });

  it("a create cut short before zeroing shows as a change, so the next up zeroes the volume", async () => {
    const diff = await implementation("LogicalVolume").diff("id", { ...volume, zeroPending: true }, volume);
    expect(diff.changes).toBe(true);
  });
});

describe("taking over a DRBD resource", () => {
  const gi = (current: string) => ({ found: true as const, gi: { current, bitmap: "0", history: ["0", "0"] as [string, string], consistent: true, wasUpToDate: true, justCreated: /^0*4$/.test(current) } });
  const down = { up: false };

  it("finds nothing to take over on fresh nodes, or over meta-data that never held data", () => {
    const metadata: Record<string, MetadataProbe> = { ha1: { found: false }, ha2: gi("0000000000000004") };
    expect(existingParts({ name: "r" }, { ha1: down, ha2: down }, metadata)).toEqual([]);
  });

  it("names what exists: up, a configuration file, meta-data with data", () => {
    const parts = existingParts({ name: "r" }, { ha1: { up: true }, ha2: { up: false, installedConfig: "resource r {}" } }, { ha1: gi("AB12"), ha2: { found: false } });
    expect(parts).toEqual(["r is up on ha1", "ha2 has its configuration file", "ha1 has its meta-data (current UUID AB12)"]);
  });

  it("is refused without adopt, naming the input", () => {
    expect(adoptionRefusal({ name: "r", adopt: false }, ["r is up on ha1"])).toMatch(/already exists and this stack did not create it: r is up on ha1\. Nothing was changed\. Set adopt: true/);
  });

  it("is allowed with adopt", () => {
    expect(adoptionRefusal({ name: "r", adopt: true }, ["r is up on ha1"])).toBeUndefined();
  });
});

describe("taking over a domain", () => {
  const entry: DomainEntry = { name: "test", domid: 7, memoryMiB: 128, vcpus: 1, stateLetters: "-b----", state: { running: false, blocked: true, paused: false, shutdown: false, crashed: false, dying: false }, cpuSeconds: 1 };
  const runningOnHa1 = { where: "one" as const, host: "ha1", presence: "running" as const, entry };

  it("a new guest is simply created", () => {
    expect(takeOver({ name: "test", adopt: false, runOn: "ha1" }, { where: "nowhere" }, [])).toEqual({ adopted: false });
  });

  it("a guest that already runs is refused without adopt", () => {
    expect(takeOver({ name: "test", adopt: false, runOn: "ha1" }, runningOnHa1, []).refusal).toMatch(/it is running on ha1 \(domid 7\).*Set adopt: true/);
  });

  it("a config file left on a host counts as an existing guest", () => {
    expect(takeOver({ name: "test", adopt: false, runOn: "ha1" }, { where: "nowhere" }, ["ha2"]).refusal).toMatch(/ha2 has its config file/);
  });

  it("is adopted where it runs", () => {
    expect(takeOver({ name: "test", adopt: true, runOn: "ha1" }, runningOnHa1, ["ha1", "ha2"])).toEqual({ adopted: true });
  });

  it("is never adopted on one host to run on the other: the move is a later, reviewed update", () => {
    expect(takeOver({ name: "test", adopt: true, runOn: "ha2" }, runningOnHa1, []).refusal).toMatch(/runs on ha1, not on runOn ha2: set runOn to ha1/);
  });
});

describe("the blank-device guard", () => {
  it("sees a disk that holds only a partition table", () => {
    expect(signatureOf("PTTYPE=gpt ")).toBe("gpt partition table");
  });

  it("names a file system and a partition table together", () => {
    expect(signatureOf("TYPE=ext4 PTTYPE=dos ")).toBe("ext4, dos partition table");
  });

  it("finds a blank device blank", () => {
    expect(signatureOf("")).toBe("");
  });
});
