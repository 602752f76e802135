import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildSetRootPasswordScript,
  buildXenCreateImageScript,
  disablePygrubFor,
  forcesPygrub,
  readGeneratedGuest,
  renderXenToolsConfig,
  validateImageChange,
  xenToolsVolumes,
} from "../../provider/xen/xen-tools";
import { fixture, seedImage } from "./fixtures/xen/inputs";

const guest = seedImage;

describe("xen-tools.conf", () => {
  it("holds the seed's settings, installs offline from a tarball, leaves booting and /etc/hosts to us, and writes its config outside /etc/xen", () => {
    expect(renderXenToolsConfig(guest())).toBe(
      [
        "# xen-tools settings for test, written by pulumi-xen-ha.",
        "install-method = tar",
        "install-source = /srv/bookworm.tar",
        "size = 5Gb",
        "memory = 384M",
        "swap = 384Mb",
        "fs = ext3",
        "dist = bookworm",
        "image = sparse",
        "gateway = 10.1.1.1",
        "netmask = 255.255.255.0",
        "broadcast = 10.1.1.255",
        "mac = 00:16:3e:1f:86:d0",
        "arch = amd64",
        "boot = 0",
        "nohosts = 1",
        "output = /var/lib/xen-ha/xen-tools",
        "extension = .cfg",
        "",
      ].join("\n"),
    );
  });

  it("says nothing of pygrub unless it is wanted: xen-tools' template only asks whether it is defined", () => {
    expect([renderXenToolsConfig(guest()).includes("pygrub"), renderXenToolsConfig(guest({ pygrub: true })).includes("\npygrub = 1\n")]).toEqual([false, true]);
  });

  it("writes noswap for a guest without swap", () => {
    expect(renderXenToolsConfig(guest({ swap: false }))).toContain("\nnoswap = 1\n");
  });

  it("never writes the password into the file", () => {
    expect(renderXenToolsConfig(guest())).not.toContain("S3cret");
  });
});

describe("xen-create-image", () => {
  it("names the guest, its address and the volume group, reads our file, and never takes a password on its command line", () => {
    expect(buildXenCreateImageScript(guest()).text.split("\n")[3]).toBe(
      "xen-create-image --hostname=test --ip=10.1.1.50 --lvm=vg --config=/etc/xen-tools/xen-ha-test.conf --nopasswd --genpass=0 >/dev/null || status=$?",
    );
  });

  it("keeps the root password out of every command text", () => {
    const texts = [buildXenCreateImageScript(guest()).text, buildSetRootPasswordScript(guest()).text];
    expect(texts.some((t) => t.includes("S3cret"))).toBe(false);
  });

  it("sets root's password in the guest's shadow file from standard input, as a SHA-512 crypt hash", () => {
    const dir = mkdtempSync(join(tmpdir(), "xci-"));
    const fake = (name: string, body: string) => {
      writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, name), 0o755);
    };
    // mount DEV DIR gives the "guest" a shadow file; umount keeps a copy of what was written.
    fake("mount", `mkdir -p "$3/etc" && printf 'root:*:19000:0:99999:7:::\\ndaemon:*:19000:0:99999:7:::\\n' > "$3/etc/shadow"`);
    fake("umount", `[ -f "$1/etc/shadow" ] && cp "$1/etc/shadow" ${dir}/shadow; rm -rf "$1/etc"`);
    const password = "it's $(touch x) `id`";
    const run = spawnSync("sh", ["-c", buildSetRootPasswordScript(guest()).text], { input: `${password}\n`, env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: "utf8" });
    const [root, daemon] = readFileSync(join(dir, "shadow"), "utf8").split("\n");
    const hash = root!.split(":")[1]!;
    const verify = spawnSync("perl", ["-e", "my $pw = <STDIN>; chomp $pw; print crypt($pw, $ARGV[0]) eq $ARGV[0] ? q(match) : q(differs)", hash], { input: `${password}\n`, encoding: "utf8" });
    expect([run.status, hash.startsWith("$6$"), verify.stdout, daemon]).toEqual([0, true, "match", "daemon:*:19000:0:99999:7:::"]);
  });

  it("lists the volumes it makes with the sizes the peer needs, swap first as xen-tools numbers them", () => {
    expect(xenToolsVolumes(guest())).toEqual([
      { name: "test-disk", size: "5120M", vdev: "xvda2" },
      { name: "test-swap", size: "384M", vdev: "xvda1" },
    ]);
  });

  it("puts the root on xvda1 when there is no swap", () => {
    expect(xenToolsVolumes(guest({ swap: false }))).toEqual([{ name: "test-disk", size: "5120M", vdev: "xvda1" }]);
  });
});

describe("what the DomU takes from the generated config", () => {
  it("reads the boot settings and adds net.ifnames=0, as the generated network config names eth0", () => {
    expect(readGeneratedGuest(fixture("xen-tools-4.9.2-test.cfg"))).toMatchObject({
      kernel: "/boot/vmlinuz-6.1.0-28-amd64",
      ramdisk: "/boot/initrd.img-6.1.0-28-amd64",
      root: "/dev/xvda2 ro",
      extra: "elevator=noop net.ifnames=0",
    });
  });

  it("gives the volumes as written and as the seed's DRBD resources named after them", () => {
    const generated = readGeneratedGuest(fixture("xen-tools-4.9.2-test.cfg"));
    expect([generated.disks, generated.drbdDisks]).toEqual([
      [
        { phy: "/dev/vg/test-disk", vdev: "xvda2", access: "w" },
        { phy: "/dev/vg/test-swap", vdev: "xvda1", access: "w" },
      ],
      [
        { drbd: "test-disk", vdev: "xvda2", access: "w" },
        { drbd: "test-swap", vdev: "xvda1", access: "w" },
      ],
    ]);
  });
});

describe("changes to an installed guest", () => {
  it("refuses a new disk size and says how to reinstall deliberately", () => {
    expect(validateImageChange(guest(), guest({ size: "10Gb" }))).toEqual([
      { property: "size", reason: expect.stringMatching(/reinstall over test's disks\. Set it back to "5Gb", or .*pulumi up --replace/) },
    ]);
  });

  it("lets a new root password through: it was used once, at installation", () => {
    expect(validateImageChange(guest(), guest({ password: "other" }))).toEqual([]);
  });
});

describe("distributions.conf", () => {
  it("sees that xen-tools 4.9.2 forces pygrub for bookworm", () => {
    expect(forcesPygrub(fixture("distributions.conf"), "bookworm")).toBe(true);
  });

  it("stops forcing pygrub for one distribution only", () => {
    const after = disablePygrubFor(fixture("distributions.conf"), "bookworm");
    expect(after).toBe(fixture("distributions.conf").replace("bookworm     = debian pygrub", "bookworm     = debian"));
  });
});

describe("XenToolsImage diffs", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { xenToolsImageLifecycle } = require("../../provider/xen/xen-tools-image") as typeof import("../../provider/xen/xen-tools-image");
  const recorded = { ...guest({ kernel: undefined }), kernel: "/boot/vmlinuz-6.1.0-28-amd64" };

  it("a kernel left to xen-tools' default is no change against the one it used", async () => {
    expect((await xenToolsImageLifecycle.diff("id", recorded, guest({ kernel: undefined }))).changes).toBe(false);
  });

  it("another kernel is a reinstall", async () => {
    expect((await xenToolsImageLifecycle.diff("id", recorded, guest({ kernel: "/boot/vmlinuz-other" }))).replaces).toEqual(["kernel"]);
  });
});
