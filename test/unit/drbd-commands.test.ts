import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildAdjustCommand,
  buildCheckConfigScript,
  buildCreateMetadataScript,
  buildDeviceSizesScript,
  buildDownCommand,
  buildNodeSettingsScript,
  buildForcePrimaryCommand,
  buildMetadataProbeCommand,
  buildResizeCommand,
  buildSecondaryCommand,
  buildSkipInitialSyncCommand,
  buildStatusProbeScript,
  buildReleaseScript,
  buildUpScript,
  buildVolumeContentProbeScript,
  buildWipeMetadataCommand,
  candidatePaths,
} from "../../provider/drbd/commands";
import { drbdResourceSchema, type DrbdResourceInputs } from "../../provider/drbd/schema";
import { parseStatusProbe } from "../../provider/drbd/status-probe";
import { parseDeviceSizes, parseVolumeContent } from "../../provider/drbd/volume-probe";
import type { Shell } from "../../provider/shell";
import { seedTestDisk } from "./fixtures/drbd/seed-inputs";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "drbd", name), "utf8");
const seed: DrbdResourceInputs = drbdResourceSchema.parse(seedTestDisk);
const [ha1] = seed.nodes;

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "drbd-commands-"));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Puts a fake tool first on PATH: a shell script body. */
function stub(name: string, body: string): void {
  const path = join(work, "bin", name);
  spawnSync("mkdir", ["-p", join(work, "bin")]);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Runs a script in dash, as the hosts' /bin/sh would. */
function run(script: Shell): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("dash", ["-c", script.text], { encoding: "utf8", env: { ...process.env, PATH: `${join(work, "bin")}:${process.env.PATH}` } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("commands", () => {
  it.each([
    [buildForcePrimaryCommand(seed), "drbdadm primary --force test-disk"],
    [buildForcePrimaryCommand({ ...seed, drbdVersion: "8.3" }), "drbdadm -- --overwrite-data-of-peer primary test-disk"],
    [buildSkipInitialSyncCommand("test-disk"), "drbdadm -- --clear-bitmap new-current-uuid test-disk"],
    [buildSecondaryCommand("test-disk"), "drbdadm secondary test-disk"],
    [buildAdjustCommand("test-disk"), "drbdadm adjust test-disk"],
    [buildResizeCommand("test-disk"), "drbdadm resize test-disk"],
    [buildDownCommand("test-disk"), "drbdadm down test-disk"],
    [buildMetadataProbeCommand(ha1), "drbdmeta 1 v08 /dev/vg/meta 0 get-gi </dev/null"],
    [buildMetadataProbeCommand({ ...ha1, metaDisk: "internal" }), "drbdmeta 1 v08 /dev/vg/test-disk internal get-gi </dev/null"],
    [buildWipeMetadataCommand(ha1), "drbdmeta --force 1 v08 /dev/vg/meta 0 wipe-md </dev/null"],
  ])("builds %s", (command, text) => {
    expect(command.text).toBe(text);
  });

  it("brings DRBD up at boot with systemd's unit, or the init script elsewhere", () => {
    expect(buildNodeSettingsScript().text).toMatch(/systemctl is-enabled --quiet drbd\.service 2>\/dev\/null \|\| systemctl enable --quiet drbd\.service\nelse\n  update-rc\.d drbd defaults/);
  });

  it("enables DRBD's unit once per node, one resource at a time: each enable reloads systemd", () => {
    const text = buildNodeSettingsScript().text;
    expect(text.indexOf("flock 9")).toBeGreaterThan(-1);
    expect(text.indexOf("flock 9")).toBeLessThan(text.indexOf("systemctl is-enabled"));
  });

  it("keeps DRBD from lending a guest's pages to TCP, now and at every module load", () => {
    const text = buildNodeSettingsScript().text;
    expect([
      text.includes("'options drbd disable_sendpage=1' >/etc/modprobe.d/pulumi-xen-ha-drbd.conf"),
      text.includes("echo Y >/sys/module/drbd/parameters/disable_sendpage"),
    ]).toEqual([true, true]);
  });

  it("demotes what a departed guest left Primary, retrying while the device is held open", () => {
    // Primary until the second `secondary` call: the first one finds the device held open.
    stub("drbdadm", `state=${work}/calls; n=$(cat "$state" 2>/dev/null || echo 0)
case "$1" in
  role) if [ "$n" -ge 2 ]; then echo Secondary/Secondary; else echo Primary/Secondary; fi ;;
  secondary) n=$((n + 1)); echo "$n" >"$state"; [ "$n" -ge 2 ] || { echo "Device is held open by someone" >&2; exit 11; } ;;
esac`);
    stub("udevadm", "exit 0");
    stub("sleep", "exit 0");
    const outcome = run(buildReleaseScript(["test-disk"], 5));
    expect([outcome.status, readFileSync(join(work, "calls"), "utf8").trim()]).toEqual([0, "2"]);
  });

  it("fails naming a resource still Primary after the settle time", () => {
    stub("drbdadm", `case "$1" in role) echo Primary/Secondary ;; secondary) exit 11 ;; esac`);
    stub("udevadm", "exit 0");
    stub("sleep", "exit 0");
    const outcome = run(buildReleaseScript(["test-disk"], 3));
    expect([outcome.status, outcome.stderr.trim()]).toEqual([1, "test-disk is still Primary here after 3 s: something holds it open"]);
  });

  it("creates meta-data with no terminal to answer drbdmeta's overwrite questions", () => {
    expect(buildCreateMetadataScript(seed).text.split("\n").pop()).toBe("drbdadm create-md test-disk </dev/null");
  });

  it("never forces create-md over internal meta-data, where it would write over the volume's data", () => {
    expect(buildCreateMetadataScript(seed, { metaDisk: "internal" }).text).not.toMatch(/--force/);
  });

  it("answers drbdmeta's question about stale bytes in an external meta-data index the probe found empty", () => {
    expect(buildCreateMetadataScript(seed, ha1).text.split("\n").pop()).toBe("drbdadm create-md --force test-disk </dev/null");
  });

  it("refuses to create meta-data when the kernel module is not DRBD 8.4", () => {
    stub("modinfo", "echo 9.2.12");
    stub("drbdadm", `echo called > ${join(work, "drbdadm-called")}`);
    const result = run(buildCreateMetadataScript(seed));
    expect([result.status, result.stderr.trim(), existsSync(join(work, "drbdadm-called"))]).toEqual([
      3,
      "the DRBD kernel module is version 9.2.12, not 8.4: refusing to go on",
      false,
    ]);
  });

  it("brings the resource up when the module is 8.4", () => {
    stub("modinfo", "echo 8.4.11");
    stub("modprobe", "exit 0");
    stub("drbdadm", 'echo "drbdadm $*"');
    expect(run(buildUpScript(seed)).stdout).toBe("drbdadm up test-disk\n");
  });
});

describe("configuration check", () => {
  function prepare(drbdadmBody: string) {
    const candidates = { resource: join(work, "test-disk.res"), globalCommon: join(work, "test-disk.global_common.conf") };
    writeFileSync(candidates.resource, "resource test-disk {}\n");
    writeFileSync(candidates.globalCommon, "global {}\n");
    stub("drbdadm", drbdadmBody);
    return candidates;
  }

  it("hands drbdadm a main file with the candidate global file first and the candidate resource last", () => {
    const candidates = prepare(`cp "$2" ${join(work, "seen.conf")}\necho "args: $*" | sed 's#-c [^ ]*#-c MAIN#'`);
    const result = run(buildCheckConfigScript("test-disk", candidates));
    const seen = readFileSync(join(work, "seen.conf"), "utf8").split("\n");
    expect([result.stdout, seen[0], seen.at(-2)]).toEqual([
      "args: -c MAIN dump test-disk\n",
      `include "${candidates.globalCommon}";`,
      `include "${candidates.resource}";`,
    ]);
  });

  it("passes drbdadm's exit code and words through", () => {
    const candidates = prepare(`echo "${fixture("dump-error-parse.txt").trim().replace(/\n/g, "\\n").replace(/\t/g, "\\t")}" >&2\nexit 10`);
    const result = run(buildCheckConfigScript("test-disk", candidates));
    expect([result.status, result.stderr]).toEqual([10, fixture("dump-error-parse.txt")]);
  });

  it("removes the candidate files afterwards", () => {
    const candidates = prepare("exit 10");
    run(buildCheckConfigScript("test-disk", candidates));
    expect([existsSync(candidates.resource), existsSync(candidates.globalCommon)]).toEqual([false, false]);
  });

  it("keeps candidates out of /etc/drbd.d, where drbdadm would read them", () => {
    expect(Object.values(candidatePaths("test-disk")).every((p) => !p.startsWith("/etc/drbd.d/"))).toBe(true);
  });
});

describe("status probe", () => {
  it("reports what the parser reads back, in one script", () => {
    stub("uname", "echo ha1.domain.local");
    stub("modinfo", "echo 8.4.11");
    stub("drbdsetup", `cat <<'EOF'\n${fixture("status-sync-source.txt")}EOF`);
    stub("dmesg", "echo '[  812.3] drbd test-disk: Handshake successful: Agreed network protocol version 101'");
    const probe = parseStatusProbe(run(buildStatusProbeScript("test-disk", "/dev/drbd1")).stdout, { name: "test-disk", minor: 1 });
    expect(probe).toEqual({
      nodename: "ha1.domain.local",
      moduleVersion: "8.4.11",
      up: true,
      minorTaken: false,
      status: { connection: "SyncSource", role: "Primary", peerRole: "Secondary", disk: "UpToDate", peerDisk: "Inconsistent", syncPercent: 22.7, splitBrain: false },
    });
  });

  it("reports a resource that is down with drbdadm's exit code, without failing", () => {
    stub("uname", "echo ha1.domain.local");
    stub("modinfo", "echo 8.4.11");
    stub("drbdsetup", "echo 'test-disk: No such resource' >&2\nexit 10");
    stub("dmesg", "exit 0");
    const result = run(buildStatusProbeScript("test-disk", "/dev/drbd1"));
    expect([result.status, result.stdout]).toEqual([
      0,
      "nodename\tha1.domain.local\nmodule\t8.4.11\n--8<-- proc\n--8<-- status\ntest-disk: No such resource\nexit\t10\n--8<-- show\n--8<-- kernel\n--8<-- adjust\n--8<-- config\n",
    ]);
  });
});

describe("device sizes", () => {
  it("reports a device that does not exist as missing", () => {
    const missing = join(work, "missing");
    expect(run(buildDeviceSizesScript([missing])).stdout).toBe(`size\t${missing}\t-\n`);
  });

  it("asks blockdev for the size of each block device", () => {
    expect(buildDeviceSizesScript(["/dev/vg/meta"]).text).toContain(`printf 'size\\t%s\\t%s\\n' /dev/vg/meta "$(blockdev --getsize64 /dev/vg/meta)"`);
  });

  it("reads sizes in bytes and missing devices", () => {
    expect([...parseDeviceSizes("size\t/dev/vg/meta\t1073741824\nsize\t/dev/vg/gone\t-\n")]).toEqual([
      ["/dev/vg/meta", 1073741824],
      ["/dev/vg/gone", undefined],
    ]);
  });
});

describe("volume content probe", () => {
  function probe(content: Buffer, signature: string) {
    const disk = join(work, "disk");
    writeFileSync(disk, content);
    stub("blkid", `echo ${signature}`);
    return parseVolumeContent(run(buildVolumeContentProbeScript(disk)).stdout);
  }

  it("finds a new zeroed volume empty", () => {
    expect(probe(Buffer.alloc(2 * 1024 * 1024), "").holdsData).toBe(false);
  });

  it("finds data on a volume with a filesystem", () => {
    expect(probe(Buffer.alloc(2 * 1024 * 1024), "ext3")).toEqual({ signature: "ext3", headIsZero: true, holdsData: true });
  });

  it("finds data on a volume whose first MiB is not zero", () => {
    const content = Buffer.alloc(2 * 1024 * 1024);
    content[4096] = 1;
    expect(probe(content, "").holdsData).toBe(true);
  });
});
