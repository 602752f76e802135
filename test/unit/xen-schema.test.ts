import { parseInputs } from "../../provider/inputs";
import { xenDomUSchema } from "../../provider/xen/schema";
import { explicitGuest, parsed, seedGuest, seedHosts } from "./fixtures/xen/inputs";

function failures(raw: unknown): string[] {
  const result = parseInputs(xenDomUSchema, raw);
  return result.ok ? [] : result.failures.map((f) => `${f.property}: ${f.reason}`);
}

describe("XenDomU inputs", () => {
  it("fills in the seed's xen-tools.conf settings", () => {
    expect(parsed(seedGuest()).definition).toMatchObject({
      volumeGroup: "vg",
      size: "5Gb",
      swap: "384Mb",
      fs: "ext3",
      image: "sparse",
      gateway: "10.1.1.1",
      netmask: "255.255.255.0",
      broadcast: "10.1.1.255",
      arch: "amd64",
      drbd: true,
    });
  });

  it("defaults to the xl toolstack, a running PV guest of 384 MiB and one vCPU that is preserved on a crash", () => {
    expect(parsed(seedGuest())).toMatchObject({ toolstack: "xl", state: "running", type: "pv", memory: 384, vcpus: 1, onCrash: "preserve", allowNonLiveMove: false });
  });

  it("refuses a runOn that is not one of the hosts", () => {
    expect(failures(seedGuest({ runOn: "ha3" }))).toEqual(["runOn: must name one of hosts"]);
  });

  it("refuses a PVH guest on xm, which knows only pv and hvm", () => {
    expect(failures(explicitGuest({ toolstack: "xm" }))).toEqual(["type: pvh guests need the xl toolstack (xm knows only pv and hvm)"]);
  });

  it("refuses the tar install method without a tarball", () => {
    expect(failures(seedGuest({ definition: { mode: "xen-tools", ip: "10.1.1.50", installMethod: "tar" } }))).toEqual([
      "definition.installSource: installSource is needed by the tar and copy install methods, and only by them",
    ]);
  });

  it("refuses a disk that names both a DRBD resource and a device", () => {
    const guest = explicitGuest({ definition: { mode: "explicit", kernel: "/boot/vmlinuz", disks: [{ drbd: "r", phy: "/dev/vg/x", vdev: "xvda" }] } });
    expect(failures(guest)).toEqual(["definition.disks[0].drbd: needs exactly one of drbd or phy"]);
  });

  it("refuses a guest with both a kernel and a bootloader", () => {
    const guest = explicitGuest({ definition: { mode: "explicit", kernel: "/boot/vmlinuz", bootloader: "pygrub", disks: [{ phy: "/dev/vg/x", vdev: "xvda" }] } });
    expect(failures(guest)).toEqual(["definition.kernel: needs exactly one of kernel or bootloader"]);
  });

  it.each([
    ["a path with a space", { installSource: "/srv/my image.tar" }],
    ["a path with a backquote, which xen-tools would run", { installSource: "/srv/`id`.tar" }],
    ["a size in kilobytes, which xen-tools does not take", { size: "512k" }],
  ])("refuses %s in xen-tools settings", (_what, change) => {
    expect(failures(seedGuest({ definition: { mode: "xen-tools", ip: "10.1.1.50", installMethod: "tar", installSource: "/srv/x.tar", ...change } }))).toHaveLength(1);
  });

  it("refuses a name xl gives a domain during a migration", () => {
    expect(failures(seedGuest({ name: "test--incoming" }))).toHaveLength(1);
  });

  it("refuses a crossover name that xl would pass to sh unquoted", () => {
    const hosts = [seedHosts[0]!, { ...seedHosts[1]!, crossoverName: "ha2X;reboot" }];
    expect(failures(seedGuest({ hosts }))).toEqual(["hosts[1].crossoverName: must be a host name or IPv4 address"]);
  });

  it("refuses maxMemory below memory", () => {
    expect(failures(seedGuest({ memory: 512, maxMemory: 384 }))).toEqual(["maxMemory: must be at least memory"]);
  });

  it("refuses an underscore in the name of a xen-tools guest, which xen-create-image rejects as a host name", () => {
    expect(failures(seedGuest({ name: "web_1" }))).toEqual([
      "name: must be a valid host name for xen-create-image (letters, digits, - and .)",
    ]);
  });
});
