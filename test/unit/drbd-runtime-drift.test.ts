import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffInputs } from "../../provider/diff";
import { parseAdjustDryRun } from "../../provider/drbd/adjust-dry-run";
import { runtimeDriftAttention } from "../../provider/drbd/attention";
import { buildStatusProbeScript } from "../../provider/drbd/commands";
import { drbdResourceLifecycle } from "../../provider/drbd/drbd-resource";
import { resourceConfigPath } from "../../provider/drbd/render";
import { drbdResourceRules, observedDriftRules, planRepair, planUpdate, runtimeDriftOf } from "../../provider/drbd/rules";
import { drbdResourceSchema, type DrbdResourceInputs } from "../../provider/drbd/schema";
import { parseStatusProbe } from "../../provider/drbd/status-probe";
import { seedTestDisk } from "./fixtures/drbd/seed-inputs";

const HA1 = "ha1.domain.local";
const HA2 = "ha2.domain.local";
const seed = (): DrbdResourceInputs => drbdResourceSchema.parse(seedTestDisk);

// `drbdadm -d adjust test-disk` on a DRBD 8.4.11 node with drbd-utils 9.22, the seed's test-disk up.
const NET_OPTIONS =
  "drbdsetup-84 net-options ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --set-defaults --protocol=C --allow-two-primaries=yes " +
  "--after-sb-0pri=discard-zero-changes --after-sb-1pri=discard-secondary --timeout=60 --connect-int=10 --ping-int=10 --max-buffers=2048 --max-epoch-size=2048";
const DISK_OPTIONS = "drbdsetup-84 disk-options 1 --set-defaults --on-io-error=detach --resync-rate=90M";
const RESOURCE_OPTIONS = "drbdsetup-84 resource-options test-disk --set-defaults";
const normalised = (line: string) => line.replace(/^drbdsetup-84 /, "drbdsetup ");

// The same resource taken down (`drbdadm down test-disk`): adjust would bring it up.
const DOWN = [
  "drbdsetup-84 new-resource test-disk",
  "drbdsetup-84 new-minor test-disk 1 0",
  "drbdmeta 1 v08 /dev/vg/meta 0 apply-al",
  "drbdsetup-84 attach 1 /dev/vg/test-disk /dev/vg/meta 0 --on-io-error=detach --resync-rate=90M",
  "drbdsetup-84 connect test-disk ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --protocol=C --allow-two-primaries=yes --max-buffers=2048",
  "",
].join("\n");

describe("adjust dry run", () => {
  it("reports nothing when the running options are the file's", () => {
    expect(parseAdjustDryRun("")).toEqual([]);
  });

  it("reports a changed net option as the command adjust would run", () => {
    expect(parseAdjustDryRun(`${NET_OPTIONS}\n`)).toEqual([normalised(NET_OPTIONS)]);
  });

  it("reports disk, net and resource options together, in drbdadm's order", () => {
    expect(parseAdjustDryRun(`${RESOURCE_OPTIONS}\n${DISK_OPTIONS}\n${NET_OPTIONS}\n`)).toEqual([RESOURCE_OPTIONS, DISK_OPTIONS, NET_OPTIONS].map(normalised));
  });

  it("ignores what would bring a resource that is down back up", () => {
    expect(parseAdjustDryRun(DOWN)).toEqual([]);
  });

  it("ignores reconnecting a StandAlone resource", () => {
    expect(parseAdjustDryRun("drbdsetup-84 connect test-disk ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --protocol=C\n")).toEqual([]);
  });

  it.each([
    ["drbdsetup (drbd-utils with a DRBD 9 module in 8.4 compatibility)", "drbdsetup disk-options 1 --set-defaults --on-io-error=detach --resync-rate=90M"],
    ["drbdsetup-84 called by path", "/usr/lib/drbd/drbdsetup-84 disk-options 1 --set-defaults --on-io-error=detach --resync-rate=90M"],
    ["drbdsetup-84 with surrounding blanks", "  drbdsetup-84 disk-options 1 --set-defaults --on-io-error=detach --resync-rate=90M \r"],
  ])("names the program drbdsetup whatever the dry run calls it: %s", (_spelling, line) => {
    expect(parseAdjustDryRun(`${line}\n`)).toEqual(["drbdsetup disk-options 1 --set-defaults --on-io-error=detach --resync-rate=90M"]);
  });

  it("keeps peer-device options", () => {
    expect(parseAdjustDryRun("drbdsetup peer-device-options test-disk 1 0 --set-defaults --c-max-rate=100M\n")).toEqual([
      "drbdsetup peer-device-options test-disk 1 0 --set-defaults --c-max-rate=100M",
    ]);
  });

  it("keeps a shared secret from the file out of the report", () => {
    expect(parseAdjustDryRun("drbdsetup-84 net-options ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --set-defaults --shared-secret=s3cr\\ et --protocol=C\n")).toEqual([
      "drbdsetup net-options ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --set-defaults --shared-secret=*** --protocol=C",
    ]);
  });
});

describe("status probe with the dry run", () => {
  const probeOutput = (adjust: string) =>
    `nodename\t${HA1}\nmodule\t8.4.11\n--8<-- proc\n--8<-- status\nexit\t0\n--8<-- kernel\n--8<-- adjust\n${adjust}--8<-- config\nresource test-disk {}\n`;

  it("reads the option changes of the node into the probe", () => {
    expect(parseStatusProbe(probeOutput(`${NET_OPTIONS}\n`), { name: "test-disk", minor: 1 }).runtimeDrift).toEqual([normalised(NET_OPTIONS)]);
  });

  it("leaves runtimeDrift out of the probe of a node whose options are the file's", () => {
    expect("runtimeDrift" in parseStatusProbe(probeOutput(""), { name: "test-disk", minor: 1 })).toBe(false);
  });

  it("leaves runtimeDrift out of the probe of a resource that is down", () => {
    expect("runtimeDrift" in parseStatusProbe(probeOutput(DOWN), { name: "test-disk", minor: 1 })).toBe(false);
  });

  describe("run in dash", () => {
    let work: string;
    beforeEach(() => {
      work = mkdtempSync(join(tmpdir(), "drbd-runtime-drift-"));
      mkdirSync(join(work, "bin"));
      for (const [name, body] of [
        ["uname", `echo ${HA1}`],
        ["modinfo", "echo 8.4.11"],
        ["drbdsetup", "exit 0"],
        ["dmesg", "exit 0"],
        ["drbdadm", `echo '${NET_OPTIONS}'\necho 'WARN: something about another resource' >&2\nexit 1`],
      ]) {
        writeFileSync(join(work, "bin", name!), `#!/bin/sh\n${body}\n`);
        chmodSync(join(work, "bin", name!), 0o755);
      }
    });
    afterEach(() => rmSync(work, { recursive: true, force: true }));

    /** The probe with the resource file looked for in the test's folder instead of /etc/drbd.d. */
    function probe(installed: boolean) {
      const file = join(work, "test-disk.res");
      if (installed) writeFileSync(file, "resource test-disk {}\n");
      const text = buildStatusProbeScript("test-disk", "/dev/drbd1").text.split(resourceConfigPath("test-disk")).join(file);
      const result = spawnSync("dash", ["-c", text], { encoding: "utf8", env: { ...process.env, PATH: `${join(work, "bin")}:${process.env.PATH}` } });
      return { status: result.status, probe: parseStatusProbe(result.stdout, { name: "test-disk", minor: 1 }) };
    }

    it("reports the dry run's option changes, whatever drbdadm says on stderr or exits with", () => {
      expect(probe(true)).toMatchObject({ status: 0, probe: { runtimeDrift: [normalised(NET_OPTIONS)] } });
    });

    it("reports nothing for a node without the resource file", () => {
      expect("runtimeDrift" in probe(false).probe).toBe(false);
    });
  });
});

describe("runtime drift in the state", () => {
  it("keeps only the nodes with option changes", () => {
    expect(runtimeDriftOf({ [HA1]: [normalised(NET_OPTIONS)], [HA2]: [] })).toEqual({ [HA1]: [normalised(NET_OPTIONS)] });
  });

  it("is undefined when no node has option changes", () => {
    expect(runtimeDriftOf({ [HA1]: undefined, [HA2]: [] })).toBeUndefined();
  });

  it("is recorded as an input by a refresh, so the preview shows it removed", () => {
    const runtimeDrift = { [HA1]: [normalised(NET_OPTIONS)] };
    expect(drbdResourceLifecycle.refreshedInputs!({ ...seed(), status: {}, runtimeDrift }).runtimeDrift).toEqual(runtimeDrift);
  });

  it("is not recorded as an input when there is none", () => {
    expect("runtimeDrift" in drbdResourceLifecycle.refreshedInputs!({ ...seed(), status: {}, runtimeDrift: undefined })).toBe(false);
  });
});

describe("diff and update", () => {
  const rules = { ...drbdResourceRules, ...observedDriftRules };
  const drifted = { ...seed(), runtimeDrift: { [HA1]: [normalised(NET_OPTIONS)] } };

  it("recorded runtime drift is an update, never a replace", () => {
    expect(diffInputs(drifted, seed(), rules)).toEqual({ changes: true, replaces: [], updates: ["runtimeDrift"] });
  });

  it("no runtime drift is no change", () => {
    expect(diffInputs({ ...seed(), runtimeDrift: undefined }, seed(), rules).changes).toBe(false);
  });

  it("an update with only runtime drift adjusts the drifted node, without rewriting the files", () => {
    expect(planRepair(planUpdate(seed(), seed()), [HA1, HA2], drifted)).toEqual({ installFiles: false, adjustOn: [HA1] });
  });

  it("an update with nothing drifted and no option changed adjusts nothing", () => {
    expect(planRepair(planUpdate(seed(), { ...seed(), waitForSync: false }), [HA1, HA2], {})).toEqual({ installFiles: false, adjustOn: [] });
  });

  it("a changed option installs the files and adjusts both nodes", () => {
    expect(planRepair(planUpdate(seed(), { ...seed(), maxBuffers: 4096 }), [HA1, HA2], drifted)).toEqual({ installFiles: true, adjustOn: [HA1, HA2] });
  });

  it("a file edited on a node installs the files and adjusts both nodes", () => {
    expect(planRepair(planUpdate(seed(), seed()), [HA1, HA2], { driftedNodes: [HA2] })).toEqual({ installFiles: true, adjustOn: [HA1, HA2] });
  });
});

describe("warning", () => {
  it("names the node and the commands adjust would run", () => {
    expect(runtimeDriftAttention("test-disk", { [HA1]: ["drbdsetup net-options ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --set-defaults --max-buffers=2048"] })).toEqual([
      "DRBD test-disk: on ha1.domain.local the running options differ from /etc/drbd.d/test-disk.res " +
        "(drbdadm adjust would run: drbdsetup net-options ipv4:192.168.1.1:7789 ipv4:192.168.1.2:7789 --set-defaults --max-buffers=2048); " +
        "the next up runs drbdadm adjust test-disk there to put the file's options back. Change the program's options instead if the running values should stay.",
    ]);
  });

  it("says nothing without runtime drift", () => {
    expect(runtimeDriftAttention("test-disk", undefined)).toEqual([]);
  });
});
