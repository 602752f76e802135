import { z } from "zod";
import { formatPath, parseInputs, UNKNOWN } from "../../provider/inputs";
import { volumeGroupSchema } from "../../provider/lvm/schema";

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
