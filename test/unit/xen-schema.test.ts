import { parseInputs } from "../../provider/inputs";
import { xenDomUSchema } from "../../provider/xen/schema";
import { xenToolsImageSchema } from "../../provider/xen/xen-tools";
import { explicitGuest, parsed, seedGuest, seedHosts, seedImage } from "./fixtures/xen/inputs";

function failures(schema: Parameters<typeof parseInputs>[0], raw: unknown): string[] {
  const result = parseInputs(schema, raw);
  return result.ok ? [] : result.failures.map((f) => `${f.property}: ${f.reason}`);
}
const domU = (raw: unknown) => failures(xenDomUSchema, raw);
const image = (raw: unknown) => failures(xenToolsImageSchema, raw);
const imageArgs = { connection: seedHosts[0]!.connection, name: "test", ip: "10.1.1.50" };

describe("XenDomU inputs", () => {
  it("defaults to the xl toolstack, a running PV guest of 384 MiB and one vCPU that is preserved on a crash", () => {
    expect(parsed(seedGuest())).toMatchObject({ toolstack: "xl", state: "running", type: "pv", memory: 384, vcpus: 1, onCrash: "preserve", allowNonLiveMove: false });
  });

  it("refuses a runOn that is not one of the hosts", () => {
    expect(domU(seedGuest({ runOn: "ha3" }))).toEqual(["runOn: must name one of hosts"]);
  });

  it("refuses a PVH guest on xm, which knows only pv and hvm", () => {
    expect(domU(explicitGuest({ toolstack: "xm" }))).toEqual(["type: pvh guests need the xl toolstack (xm knows only pv and hvm)"]);
  });

  it("refuses a disk that names both a DRBD resource and a device", () => {
    expect(domU(explicitGuest({ disks: [{ drbd: "r", phy: "/dev/vg/x", vdev: "xvda" }] }))).toEqual(["disks[0].drbd: needs exactly one of drbd or phy"]);
  });

  it("refuses a guest with both a kernel and a bootloader", () => {
    expect(domU(explicitGuest({ bootloader: "pygrub" }))).toEqual(["kernel: needs exactly one of kernel or bootloader"]);
  });

  it("refuses a name xl gives a domain during a migration", () => {
    expect(domU(seedGuest({ name: "test--incoming" }))).toHaveLength(1);
  });

  it("refuses a crossover name that xl would pass to sh unquoted", () => {
    const hosts = [seedHosts[0]!, { ...seedHosts[1]!, crossoverName: "ha2X;reboot" }];
    expect(domU(seedGuest({ hosts }))).toEqual([expect.stringMatching(/^hosts\[1\]\.crossoverName: must be a host name or IPv4 address/)]);
  });

  it("refuses maxMemory below memory", () => {
    expect(domU(seedGuest({ memory: 512, maxMemory: 384 }))).toEqual(["maxMemory: must be at least memory"]);
  });

  it("takes extra config settings: strings, whole numbers, booleans and lists of strings", () => {
    expect(domU(seedGuest({ extraConfig: { cpus: "0-1", cpu_weight: 512, vnc: false, bootloader_args: ["-q"] } }))).toEqual([]);
  });

  it("refuses an extra config key the resource writes itself, naming the input to use", () => {
    expect(domU(seedGuest({ extraConfig: { on_crash: "restart", builder: "hvm" } }))).toEqual([
      "extraConfig.on_crash: is written by pulumi-xen-ha itself; set onCrash instead",
      "extraConfig.builder: is written by pulumi-xen-ha itself; set type instead",
    ]);
  });

  it.each(["Memory", "1st", "cpu-weight", "vnc = 1\nx", "constructor_"])("refuses the extra config key %j unless it is xl.cfg's key syntax", (key) => {
    const failures = domU(seedGuest({ extraConfig: { [key]: 1 } }));
    expect(failures).toEqual(key === "constructor_" ? [] : [expect.stringContaining("is not a Xen config key")]);
  });

  it("takes an extra config key named like an object's built-in property", () => {
    expect(domU(seedGuest({ extraConfig: { constructor: "x", tostring: 1 } }))).toEqual([]);
  });

  it.each([
    ["a line break in a string", { cpus: "0'\nmemory = '9" }, /^extraConfig\.cpus: must not contain line breaks/],
    ["a line break in a list item", { bootloader_args: ["-q", "x\ny"] }, /^extraConfig\.bootloader_args\[1\]: must not contain line breaks/],
    ["a fraction", { cpu_weight: 1.5 }, /^extraConfig\.cpu_weight: must be a whole number/],
    ["a negative number", { cpu_cap: -1 }, /^extraConfig\.cpu_cap: must not be negative/],
  ])("refuses %s in extra config", (_what, extraConfig, reason) => {
    expect(domU(seedGuest({ extraConfig }))).toEqual([expect.stringMatching(reason)]);
  });
});

describe("XenDomU inputs shared with other resources", () => {
  it.each(["all", "-x", "disk", "1.2.3.4", "123", ".hidden", "a b", "x".repeat(129)])("refuses the DRBD resource name %j, as DrbdResource does", (drbd) => {
    expect(domU(seedGuest({ disks: [{ drbd, vdev: "xvda2" }] }))).toEqual([expect.stringMatching(/^disks\[0\]\.drbd: /)]);
  });

  it("neither adopts a domain nor deletes an adopted one unless asked", () => {
    const d = parsed(seedGuest());
    expect([d.adopt, d.deleteAdopted]).toEqual([false, false]);
  });

  it("refuses a guest address with leading zeros", () => {
    expect(domU(seedGuest({ vifs: [{ ip: "010.1.1.50" }] }))[0]).toMatch(/^vifs\[0\]\.ip: must not have leading zeros/);
  });

  it("refuses a bridge name starting with -", () => {
    expect(domU(seedGuest({ vifs: [{ bridge: "-xenbr0" }] }))).toEqual(["vifs[0].bridge: must not start with - (commands would read it as an option)"]);
  });

  it("refuses a kernel path with a parent segment", () => {
    expect(domU(seedGuest({ kernel: "/boot/../etc/shadow" }))).toEqual(["kernel: must not contain . or .. segments: write the path itself"]);
  });
});

describe("XenToolsImage inputs", () => {
  it("does not allow a destructive replace unless asked", () => {
    expect(seedImage().allowDestructiveReplace).toBe(false);
  });

  it("refuses a size above 1 PiB", () => {
    expect(image({ ...imageArgs, size: "2000000G" })).toEqual(["size: must be at most 1 PiB (1048576G)"]);
  });

  it("refuses a root password on several lines, which would be cut at the first", () => {
    expect(image({ ...imageArgs, password: "first\nsecond" })[0]).toMatch(/^password: must be one line/);
  });

  it("fills in the seed's xen-tools.conf settings", () => {
    expect(seedImage()).toMatchObject({
      volumeGroup: "vg",
      size: "5Gb",
      swap: "384Mb",
      memory: 384,
      fs: "ext3",
      image: "sparse",
      gateway: "10.1.1.1",
      netmask: "255.255.255.0",
      broadcast: "10.1.1.255",
      arch: "amd64",
      pygrub: false,
    });
  });

  it("refuses the tar install method without a tarball", () => {
    expect(image({ ...imageArgs, installMethod: "tar" })).toEqual(["installSource: installSource is needed by the tar and copy install methods, and only by them"]);
  });

  it.each([
    ["a path with a space", { installSource: "/srv/my image.tar" }],
    ["a path with a backquote, which xen-tools would run", { installSource: "/srv/`id`.tar" }],
    ["a size in kilobytes, which xen-tools does not take", { size: "512k" }],
  ])("refuses %s", (_what, change) => {
    expect(image({ ...imageArgs, installMethod: "tar", installSource: "/srv/x.tar", ...change })).toHaveLength(1);
  });

  it("refuses an underscore in the name, which xen-create-image rejects as a host name", () => {
    expect(image({ ...imageArgs, name: "web_1" })).toEqual(["name: must be a valid host name for xen-create-image (letters, digits, - and .)"]);
  });
});
