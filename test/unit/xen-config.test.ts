import { spawnSync } from "node:child_process";
import { defaultMac, domUConfigOf, renderDomUConfig } from "../../provider/xen/config";
import { parseConfigFile, parseDiskSpec, readDomUConfig, rewriteDisksToDrbd } from "../../provider/xen/config-parse";
import { explicitGuest, fixture, parsed, seedGuest } from "./fixtures/xen/inputs";

const generated = () => readDomUConfig(fixture("xen-tools-4.9.2-test.cfg"));

describe("reading DomU configs", () => {
  it("reads back the disks of a config xen-create-image wrote", () => {
    expect(generated().disks).toEqual([
      { phy: "/dev/vg/test-disk", vdev: "xvda2", access: "w" },
      { phy: "/dev/vg/test-swap", vdev: "xvda1", access: "w" },
    ]);
  });

  it("reads numbers xen-tools writes quoted", () => {
    expect(generated()).toMatchObject({ memory: 384, vcpus: 1, kernel: "/boot/vmlinuz-6.1.0-28-amd64", root: "/dev/xvda2 ro" });
  });

  it("reads the seed's DRBD disks", () => {
    expect(readDomUConfig(fixture("xen-tools-seed-test.cfg")).disks.map((d) => d.drbd)).toEqual(["test-swap", "test-disk"]);
  });

  it.each([
    ["drbd:test-disk,xvda2,w", { drbd: "test-disk", vdev: "xvda2", access: "w" }],
    ["phy:/dev/vg/test-swap,xvda1,w", { phy: "/dev/vg/test-swap", vdev: "xvda1", access: "w" }],
    ["format=raw, vdev=xvdb, access=ro, target=/dev/vg/data", { phy: "/dev/vg/data", vdev: "xvdb", access: "r" }],
    ["/dev/vg/guest-volume,raw,hda,rw", { phy: "/dev/vg/guest-volume", vdev: "hda", access: "w" }],
    ["vdev=xvda, script=block-drbd, target=test-disk", { drbd: "test-disk", vdev: "xvda", access: "w" }],
    ["file:/srv/x.img,xvda,w", { other: "file:/srv/x.img,xvda,w", vdev: "xvda", access: "w" }],
  ])("reads the disk %j", (spec, disk) => {
    expect(parseDiskSpec(spec)).toEqual(disk);
  });

  it("names the line of syntax only python would read", () => {
    expect(() => parseConfigFile("name = 'x'\nmemory = 128 * 2\n")).toThrow(/^line 2: /);
  });

  it("takes settings separated by semicolons and lists over several lines", () => {
    expect(parseConfigFile("name='h0'; type=\"pvh\"\ndisk = [\n 'a',\n\n 'b' ]").map((s) => s.value)).toEqual(["h0", "pvh", ["a", "b"]]);
  });

  it("unescapes quotes and backslashes as libxlu does", () => {
    expect(parseConfigFile("extra = 'a\\'b\\\\c'")[0]!.value).toBe("a'b\\c");
  });
});

describe("the seed's edit onto DRBD", () => {
  it("rewrites phy: volumes to the DRBD resources named after them and leaves the rest of the file alone", () => {
    const before = fixture("xen-tools-4.9.2-test.cfg");
    const after = rewriteDisksToDrbd(before);
    expect(after).toBe(
      before.replace("'phy:/dev/vg/test-disk,xvda2,w'", "'drbd:test-disk,xvda2,w'").replace("'phy:/dev/vg/test-swap,xvda1,w'", "'drbd:test-swap,xvda1,w'"),
    );
  });

  it("changes nothing in a config already on DRBD", () => {
    const text = fixture("xen-tools-seed-test.cfg");
    expect(rewriteDisksToDrbd(text)).toBe(text);
  });
});

describe("rendering DomU configs", () => {
  it("renders the seed's guest on DRBD, with the boot settings xen-create-image wrote, preserved on a crash", () => {
    expect(renderDomUConfig(domUConfigOf(parsed(seedGuest())), "xl")).toBe(
      [
        "# Managed by pulumi-xen-ha and written identically to every host of this guest; edits are overwritten.",
        "name = 'test'",
        "type = 'pv'",
        "kernel = '/boot/vmlinuz-6.1.0-28-amd64'",
        "ramdisk = '/boot/initrd.img-6.1.0-28-amd64'",
        "root = '/dev/xvda2 ro'",
        "extra = 'elevator=noop net.ifnames=0'",
        "memory = 384",
        "vcpus = 1",
        "vif = [",
        "    'mac=00:16:3e:1f:86:d0,ip=10.1.1.50',",
        "]",
        "disk = [",
        "    'drbd:test-disk,xvda2,w',",
        "    'drbd:test-swap,xvda1,w',",
        "]",
        "on_poweroff = 'destroy'",
        "on_reboot = 'restart'",
        "on_crash = 'preserve'",
        "",
      ].join("\n"),
    );
  });

  it("renders an explicit PVH guest for xl", () => {
    expect(renderDomUConfig(domUConfigOf(parsed(explicitGuest({ maxMemory: 512, extra: "console=hvc0" }))), "xl")).toBe(
      [
        "# Managed by pulumi-xen-ha and written identically to every host of this guest; edits are overwritten.",
        "name = 'probe'",
        "type = 'pvh'",
        "kernel = '/boot/vmlinuz-6.1.0-28-amd64'",
        "ramdisk = '/var/lib/xen-ha/probe-initrd.img'",
        "root = '/dev/xvda ro'",
        "extra = 'console=hvc0'",
        "memory = 256",
        "maxmem = 512",
        "vcpus = 1",
        "vif = [",
        "    'mac=00:16:3e:3a:9c:73,bridge=xenbr0,ip=10.1.1.60',",
        "]",
        "disk = [",
        "    'drbd:probe-disk,xvda,w',",
        "]",
        "on_poweroff = 'destroy'",
        "on_reboot = 'restart'",
        "on_crash = 'preserve'",
        "",
      ].join("\n"),
    );
  });

  it("leaves out type for xm, which does not know it", () => {
    expect(renderDomUConfig(domUConfigOf(parsed(seedGuest({ toolstack: "xm" }))), "xm")).not.toMatch(/^type/m);
  });

  it("gives a second interface a MAC of its own", () => {
    const macs = domUConfigOf(parsed(seedGuest({ vifs: [{}, {}] }))).vifs.map((v) => v.mac);
    expect(new Set(macs).size).toBe(2);
  });

  it("escapes quotes in kernel arguments", () => {
    const text = renderDomUConfig(domUConfigOf(parsed(explicitGuest({ extra: `init=/bin/sh -c 'echo \\ok'` }))), "xl");
    expect(readDomUConfig(text).extra).toBe(`init=/bin/sh -c 'echo \\ok'`);
  });

  it("reads back what it renders", () => {
    const config = domUConfigOf(parsed(explicitGuest()));
    const back = readDomUConfig(renderDomUConfig(config, "xl"));
    expect({ disks: back.disks, vifs: back.vifs, memory: back.memory }).toEqual({ disks: config.disks, vifs: config.vifs, memory: config.memory });
  });

  it("writes extra settings after the typed ones in key order: strings quoted, booleans as 1 or 0, lists of strings", () => {
    const extraConfig = { vnc: true, cpu_weight: 512, bootloader_args: ["-q", "--entry=xvda2"], cpus: "0-1" };
    expect(renderDomUConfig(domUConfigOf(parsed(explicitGuest({ extraConfig }))), "xl").split("on_crash = 'preserve'\n")[1]).toBe(
      ["bootloader_args = [", "    '-q',", "    '--entry=xvda2',", "]", "cpu_weight = 512", "cpus = '0-1'", "vnc = 1", ""].join("\n"),
    );
  });

  it("keeps an extra string with quotes and backslashes inside its own setting", () => {
    const hostile = "x' memory = 99999 '\\";
    const settings = parseConfigFile(renderDomUConfig(domUConfigOf(parsed(explicitGuest({ extraConfig: { cpus: hostile, vnclisten: [hostile] } }))), "xl"));
    expect(settings.filter((s) => ["memory", "cpus", "vnclisten"].includes(s.key)).map((s) => [s.key, s.value])).toEqual([
      ["memory", "256"],
      ["cpus", hostile],
      ["vnclisten", [hostile]],
    ]);
  });

  it("refuses to render an extra string with a line break, which would start a setting of its own", () => {
    const config = { ...domUConfigOf(parsed(explicitGuest())), extraConfig: { cpus: "0'\nmemory = '99999" } };
    expect(() => renderDomUConfig(config, "xl")).toThrow(/extraConfig\.cpus: refused/);
  });

  it("writes no extra settings when there are none, so existing guests' configs are unchanged", () => {
    expect(renderDomUConfig(domUConfigOf(parsed(explicitGuest({ extraConfig: {} }))), "xl")).toBe(renderDomUConfig(domUConfigOf(parsed(explicitGuest())), "xl"));
  });

  it("derives a stable MAC in Xen's range from the guest's name", () => {
    expect(defaultMac("test")).toBe("00:16:3e:1f:86:d0");
  });

  // xm reads configs as python; without python3 on the machine running the tests this cannot be checked.
  const hasPython = spawnSync("python3", ["--version"]).status === 0;
  (hasPython ? it : it.skip)("renders python that xm can read, with the same values", () => {
    const text = renderDomUConfig(domUConfigOf(parsed(seedGuest({ toolstack: "xm" }))), "xm");
    const run = spawnSync("python3", ["-c", "import json,sys; d={}; exec(sys.stdin.read(), {}, d); print(json.dumps(d))"], { input: text, encoding: "utf8" });
    expect(JSON.parse(run.stdout)).toMatchObject({ name: "test", memory: 384, disk: ["drbd:test-disk,xvda2,w", "drbd:test-swap,xvda1,w"], on_crash: "preserve" });
  });

  (hasPython ? it : it.skip)("renders extra settings python reads back as written, quotes and backslashes included", () => {
    const extraConfig = { cpus: "a'b\\c", cpu_weight: 512, bootloader_args: ["-q"] };
    const text = renderDomUConfig(domUConfigOf(parsed(seedGuest({ toolstack: "xm", extraConfig }))), "xm");
    const run = spawnSync("python3", ["-c", "import json,sys; d={}; exec(sys.stdin.read(), {}, d); print(json.dumps(d))"], { input: text, encoding: "utf8" });
    expect(JSON.parse(run.stdout)).toMatchObject(extraConfig);
  });
});
