import type { z } from "zod";
import {
  absolutePath,
  blockDevicePath,
  hostLabel,
  hostName,
  hostOrIPAddress,
  hostOrIPv4Address,
  interfaceName,
  ipAddress,
  ipv4Address,
  memoryMiB,
  parseSize,
  size,
} from "../../provider/values";

const MiB = 1024 ** 2;

/** The failure sentence for a value, or "ok". */
function verdict(schema: z.ZodType, value: unknown): string {
  const result = schema.safeParse(value);
  return result.success ? "ok" : (result.error.issues[0]?.message ?? "?");
}

describe("IPv4 addresses", () => {
  it.each(["10.1.1.100", "0.0.0.0", "255.255.255.255", "192.168.1.1"])("accepts %s", (address) => {
    expect(verdict(ipv4Address, address)).toBe("ok");
  });

  it("refuses leading zeros, which glibc reads as octal, and says what the address would be in decimal", () => {
    expect(verdict(ipv4Address, "010.001.001.050")).toBe(
      "must not have leading zeros (glibc reads them as octal: 010.001.001.050 is 8.1.1.40); write 10.1.1.50 if that is the address meant",
    );
  });

  it.each(["1.2.3", "1.2.3.4.5", "1..2.3", "a.b.c.d", " 1.2.3.4", "1.2.3.4\n", "+1.2.3.4", "0x7f.0.0.1"])("refuses %j as not a dotted quad", (address) => {
    expect(verdict(ipv4Address, address)).toMatch(/^must be an IPv4 address of four dot-separated numbers/);
  });

  it("refuses a part above 255", () => {
    expect(verdict(ipv4Address, "256.1.1.1")).toMatch(/^has a part above 255/);
  });

  it("takes IPv6 only where both families are allowed", () => {
    expect([verdict(ipAddress, "fd00::1"), verdict(ipv4Address, "fd00::1") === "ok"]).toEqual(["ok", false]);
  });

  it("refuses an IPv6 address with a zone, which names an interface", () => {
    expect(verdict(ipAddress, "fe80::1%eth0")).toMatch(/without a %zone/);
  });

  it("holds an IPv4 address among IPv6 ones to the same rule", () => {
    expect(verdict(ipAddress, "010.1.1.1")).toMatch(/leading zeros/);
  });
});

describe("host names", () => {
  const label63 = "a".repeat(63);

  it("accepts a name of 64 characters, what uname -n holds", () => {
    expect(verdict(hostName, `${"a".repeat(31)}.${"b".repeat(32)}`)).toBe("ok");
  });

  it("refuses a name of 65 characters", () => {
    expect(verdict(hostName, `${"a".repeat(32)}.${"b".repeat(32)}`)).toMatch(/at most|1 to 64/);
  });

  it("accepts a label of 63 characters and refuses one of 64", () => {
    expect([verdict(hostName, label63), verdict(hostName, `${label63}a`) === "ok"]).toEqual(["ok", false]);
  });

  it.each(["-ha1", "ha1-", "ha_1", "ha1..local", "ha1.", "ha 1", "ha1;reboot", "hä1", ""])("refuses %j", (name) => {
    expect(verdict(hostName, name)).not.toBe("ok");
  });

  it.each(["10.1.1.1", "127.1", "0x7f000001", "123"])("refuses %j, which a resolver reads as an address", (name) => {
    expect(verdict(hostName, name)).toBe("reads as an IPv4 address, not a host name");
  });

  it("takes one label where a short name is meant", () => {
    expect([verdict(hostLabel, "ha1X"), verdict(hostLabel, "ha1.domain.local") === "ok"]).toEqual(["ok", false]);
  });

  it("holds what looks like an address to the address rules where a name or an address is allowed", () => {
    expect(verdict(hostOrIPv4Address, "010.1.1.1")).toMatch(/leading zeros/);
  });

  it("says both forms where a name or an address is allowed", () => {
    expect(verdict(hostOrIPv4Address, "ha2X;reboot")).toMatch(/^must be a host name or IPv4 address/);
  });

  it.each(["ha1.domain.local", "10.1.1.100", "fd00::1"])("lets an SSH host be %s", (host) => {
    expect(verdict(hostOrIPAddress, host)).toBe("ok");
  });
});

describe("interface names", () => {
  it.each(["eth0", "xenbr0", "enp0s31f6", "bond0.100", "veth_1"])("accepts %s", (name) => {
    expect(verdict(interfaceName, name)).toBe("ok");
  });

  it("refuses a leading -, which commands would read as an option", () => {
    expect(verdict(interfaceName, "-eth0")).toBe("must not start with - (commands would read it as an option)");
  });

  it("refuses an alias, which is an address label and not an interface", () => {
    expect(verdict(interfaceName, "eth0:1")).toBe("must name an interface, not an address alias (no :)");
  });

  it("refuses 16 characters, beyond IFNAMSIZ", () => {
    expect(verdict(interfaceName, "a".repeat(16))).toMatch(/1 to 15 characters/);
  });

  it.each(["a/b", "a b", ".", "..", "lo", ""])("refuses %j", (name) => {
    expect(verdict(interfaceName, name)).not.toBe("ok");
  });
});

describe("sizes", () => {
  it.each([
    ["5G", 5 * 1024 * MiB],
    ["5120M", 5 * 1024 * MiB],
    ["5Gb", 5 * 1024 * MiB],
    ["1GiB", 1024 * MiB],
    ["384M", 384 * MiB],
    ["1.5G", 1536 * MiB],
    ["4096B", 4096],
  ])("reads %j as %d bytes", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it("reads a number without a unit as MiB, as lvcreate -L does", () => {
    expect([parseSize("512"), parseSize(512)]).toEqual([512 * MiB, 512 * MiB]);
  });

  it("reads 5G and 5120M as the same size", () => {
    expect(parseSize("5G")).toBe(parseSize("5120M"));
  });

  it("accepts 1 PiB and refuses more, saying so", () => {
    expect([verdict(size, "1P"), verdict(size, "1025T")]).toEqual(["ok", "must be at most 1 PiB (1024T); a number without a unit is MiB"]);
  });

  it("refuses a huge number of MiB with the bound", () => {
    expect(verdict(size, 2 ** 40)).toMatch(/at most 1 PiB/);
  });

  it.each(["-1G", "5X", "1e9", "1e3G", " 5G", "5G\n", "5 G", "", "G", "0x10M"])("refuses %j as unreadable", (text) => {
    expect(verdict(size, text)).toMatch(/^must be a size such as "5G" or "384M"/);
  });

  it.each(["0", 0, "0G"])("refuses %j as empty", (value) => {
    expect(verdict(size, value)).toMatch(/^must be more than zero/);
  });

  it("refuses a negative number", () => {
    expect(verdict(size, -5)).not.toBe("ok");
  });
});

describe("paths and devices", () => {
  it.each(["/boot/vmlinuz", "/etc/xen/auto/HA1", "/srv/rootfs.tar"])("accepts the path %s", (path) => {
    expect(verdict(absolutePath, path)).toBe("ok");
  });

  it.each(["relative/path", "/etc/xen/../shadow", "/etc/./xen", "/etc//xen", "/etc/xen/", "/a b", "/a;b", "/`id`"])("refuses the path %j", (path) => {
    expect(verdict(absolutePath, path)).not.toBe("ok");
  });

  it.each(["/dev/sdb", "/dev/vg/test-disk", "/dev/disk/by-path/pci-0000:00:1f.2-ata-1", "/dev/mapper/vg-lv"])("accepts the device %s", (device) => {
    expect(verdict(blockDevicePath, device)).toBe("ok");
  });

  it.each(["sdb", "/dev/", "/dev/x;y", "/dev/$(id)", "/dev/../etc/passwd", "/dev/a b", "/dev/x{"])("refuses the device %j, which would break drbd.conf or a command", (device) => {
    expect(verdict(blockDevicePath, device)).not.toBe("ok");
  });
});

describe("memory", () => {
  it("takes MiB from 32 to 16 TiB", () => {
    expect([verdict(memoryMiB, 32), verdict(memoryMiB, 16 * 1024 * 1024), verdict(memoryMiB, 16 * 1024 * 1024 + 1) === "ok", verdict(memoryMiB, 31) === "ok"]).toEqual([
      "ok",
      "ok",
      false,
      false,
    ]);
  });
});
