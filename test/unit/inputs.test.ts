import { z } from "zod";
import { drbdResourceSchema } from "../../provider/drbd/schema";
import { formatPath, nearestName, parseInputs, unknownFields, UNKNOWN } from "../../provider/inputs";
import { logicalVolumeSchema, volumeGroupSchema } from "../../provider/lvm/schema";
import { nodeNetworkSchema } from "../../provider/network/schema";
import { xenDomUSchema } from "../../provider/xen/schema";
import { seedTestDisk } from "./fixtures/drbd/seed-inputs";
import { seedGuest } from "./fixtures/xen/inputs";

const connection = { host: "127.0.0.1", port: 2221, privateKey: "key" };

describe("input validation", () => {
  it("formats paths as users write them", () => {
    expect(formatPath(["vms", 0, "disks", 1, "size"])).toBe("vms[0].disks[1].size");
  });

  it("names the field and the fix", () => {
    const parsed = parseInputs(volumeGroupSchema, { connection, name: "vg", devices: ["sdb"] });
    expect(parsed.ok ? [] : parsed.failures).toEqual([
      { property: "devices[0]", reason: "must be a block device path such as /dev/sdb or /dev/disk/by-id/…" },
    ]);
  });

  it("accepts values that are unknown during preview", () => {
    const parsed = parseInputs(volumeGroupSchema, { connection: { ...connection, host: UNKNOWN }, name: "vg", devices: UNKNOWN });
    expect(parsed.ok ? "ok" : parsed.onlyUnknowns).toBe(true);
  });

  it("still reports real failures beside unknown values", () => {
    const parsed = parseInputs(volumeGroupSchema, { connection, name: "-bad", devices: UNKNOWN });
    expect(parsed.ok ? [] : parsed.failures.map((f) => f.property)).toEqual(["name"]);
  });

  it("fills defaults: port 22, user root, no sudo", () => {
    const parsed = parseInputs(volumeGroupSchema, { connection: { host: "h", password: "p" }, name: "vg", devices: ["/dev/sdb"] });
    expect(parsed.ok && parsed.value.connection).toMatchObject({ port: 22, user: "root", sudo: false });
  });

  it("ignores the serialized provider the engine adds", () => {
    const parsed = parseInputs(z.object({ a: z.number() }).strict(), { a: 1, __provider: "…" });
    expect(parsed.ok).toBe(true);
  });

  it("requires a way to authenticate", () => {
    const parsed = parseInputs(volumeGroupSchema, { connection: { host: "h" }, name: "vg", devices: ["/dev/sdb"] });
    expect(parsed.ok ? [] : parsed.failures).toEqual([{ property: "connection.privateKey", reason: "needs privateKey or password" }]);
  });
});

describe("unknown fields", () => {
  const failuresOf = (schema: z.ZodType, raw: unknown, options?: Parameters<typeof parseInputs>[2]) => {
    const parsed = parseInputs(schema, raw, options);
    return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
  };
  const vg = { connection, name: "vg", devices: ["/dev/sdb"] };
  const lv = { connection, volumeGroup: "vg", name: "test-disk", size: "5G" };
  const network = {
    connection,
    hostname: "ha1.domain.local",
    public: { address: "10.1.1.100" },
    crossover: { address: "192.168.1.100" },
    peer: { hostname: "ha2.domain.local", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
  };

  it("refuses a misspelt hostKey in a connection instead of leaving the host key unpinned", () => {
    expect(failuresOf(volumeGroupSchema, { ...vg, connection: { ...connection, hostkey: "SHA256:x" } })).toEqual(['connection.hostkey: unknown field; did you mean "hostKey"?']);
  });

  it("suggests hostKey for host_key", () => {
    expect(failuresOf(volumeGroupSchema, { ...vg, connection: { ...connection, host_key: "SHA256:x" } })).toEqual(['connection.host_key: unknown field; did you mean "hostKey"?']);
  });

  it("refuses zeroOncreate, whose typo would leave a meta-data volume unzeroed", () => {
    expect(failuresOf(logicalVolumeSchema, { ...lv, zeroOncreate: true })).toEqual(['zeroOncreate: unknown field; did you mean "zeroOnCreate"?']);
  });

  it("refuses wipeMetaDataOnDelete, matching names regardless of case", () => {
    expect(failuresOf(drbdResourceSchema, { ...seedTestDisk, wipeMetaDataOnDelete: true })).toEqual(['wipeMetaDataOnDelete: unknown field; did you mean "wipeMetadataOnDelete"?']);
  });

  it("refuses allowManagmentAddressChange", () => {
    expect(failuresOf(nodeNetworkSchema, { ...network, allowManagmentAddressChange: true })).toEqual([
      'allowManagmentAddressChange: unknown field; did you mean "allowManagementAddressChange"?',
    ]);
  });

  it("finds a typo inside a tuple and a union member", () => {
    const nodes = [seedTestDisk.nodes[0], { ...seedTestDisk.nodes[1], metaDisk: { device: "/dev/vg/meta", index: 0, indx: 1 } }];
    expect(failuresOf(drbdResourceSchema, { ...seedTestDisk, nodes })).toEqual(['nodes[1].metaDisk.indx: unknown field; did you mean "index"?']);
  });

  it("finds a typo inside an array of objects behind a refinement", () => {
    const guest = seedGuest({ disks: [{ drbd: "test-disk", vdev: "xvda2", acess: "r" } as never] });
    expect(failuresOf(xenDomUSchema, guest)).toEqual(['disks[0].acess: unknown field; did you mean "access"?']);
  });

  it("lists the fields when nothing is close", () => {
    expect(failuresOf(z.object({ alpha: z.number(), beta: z.number() }), { alpha: 1, beta: 2, zzzzzz: 3 })).toEqual(["zzzzzz: unknown field; the fields here are alpha, beta"]);
  });

  it("ignores fields set to undefined, as the resources pass their outputs' placeholders", () => {
    expect(failuresOf(volumeGroupSchema, { ...vg, observedHostKey: undefined, adopted: undefined })).toEqual([]);
  });

  it("leaves a field whose value is still unknown during preview for later", () => {
    expect(failuresOf(volumeGroupSchema, { ...vg, hostkey: UNKNOWN })).toEqual([]);
  });

  it("ignores the serialized provider the engine adds", () => {
    expect(failuresOf(volumeGroupSchema, { ...vg, __provider: "…" })).toEqual([]);
  });

  it("stays lenient for recorded state, which holds output-only fields", () => {
    expect(parseInputs(volumeGroupSchema, { ...vg, observedHostKey: "SHA256:x", adopted: true }, { unknownFields: "ignore" }).ok).toBe(true);
  });

  it("walks through defaults, nullables, optionals and pipes", () => {
    const schema = z.object({ inner: z.object({ a: z.number() }).nullable().optional().default({ a: 1 }).transform((v) => v) });
    expect(unknownFields(schema, { inner: { a: 1, b: 2 } })).toEqual([{ property: "inner.b", reason: 'unknown field; did you mean "a"?' }]);
  });

  it("accepts any field of a loose object and leaves a strict one's to zod", () => {
    expect([unknownFields(z.object({}).loose(), { x: 1 }), unknownFields(z.object({}).strict(), { x: 1 })]).toEqual([[], []]);
  });

  it("checks a discriminated union's member picked by the discriminator", () => {
    const schema = z.discriminatedUnion("kind", [z.object({ kind: z.literal("a"), size: z.number() }), z.object({ kind: z.literal("b"), name: z.string() })]);
    expect(unknownFields(schema, { kind: "b", nmae: "x" })).toEqual([{ property: "nmae", reason: 'unknown field; did you mean "name"?' }]);
  });

  it("suggests nothing for a name far from every field", () => {
    expect(nearestName("colour", ["size", "name"])).toBeUndefined();
  });
});
