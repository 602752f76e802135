import { parseInputs } from "../../provider/inputs";
import { logicalVolumeSchema, volumeGroupSchema } from "../../provider/lvm/schema";
import { parseSize } from "../../provider/values";

const connection = { host: "10.1.1.100", privateKey: "key" };
const vg = { connection, name: "vg", devices: ["/dev/sda3"] };
const lv = { connection, volumeGroup: "vg", name: "test-disk", size: "5G" };

function failures(schema: Parameters<typeof parseInputs>[0], raw: unknown): string[] {
  const parsed = parseInputs(schema, raw);
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

describe("VolumeGroup and LogicalVolume inputs", () => {
  it("neither adopts, deletes what it adopted, nor allows a destructive replace unless asked", () => {
    const g = volumeGroupSchema.parse(vg);
    const v = logicalVolumeSchema.parse(lv);
    expect([g.adopt, g.deleteAdopted, g.allowDestructiveReplace, v.adopt, v.deleteAdopted, v.allowDestructiveReplace]).toEqual([false, false, false, false, false, false]);
  });

  it("takes a size without a unit as MiB, as lvcreate -L does", () => {
    expect(parseSize(logicalVolumeSchema.parse({ ...lv, size: 512 }).size)).toBe(512 * 1024 ** 2);
  });

  it("refuses a size above 1 PiB, saying so", () => {
    expect(failures(logicalVolumeSchema, { ...lv, size: "2P" })).toEqual(["size: must be at most 1 PiB (1024T); a number without a unit is MiB"]);
  });

  it.each(["-1G", "5X", "1e9", "5G; reboot"])("refuses the size %j", (size) => {
    expect(failures(logicalVolumeSchema, { ...lv, size })).toEqual([expect.stringMatching(/^size: must be a size such as/)]);
  });

  it("refuses a device path that would break out of a command or a config", () => {
    expect(failures(volumeGroupSchema, { ...vg, devices: ["/dev/sdb;reboot"] })).toEqual([expect.stringMatching(/^devices\[0\]: must be a block device path/)]);
  });

  it("refuses a volume name starting with -", () => {
    expect(failures(logicalVolumeSchema, { ...lv, name: "-rf" })).toEqual(["name: may hold only letters, digits and + _ . - and must not start with -"]);
  });
});
