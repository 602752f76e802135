import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readlinkSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseInputs, UNKNOWN } from "../../provider/inputs";
import {
  buildAutoLinksScript,
  buildDisableStockXendomainsScript,
  buildInstallAndReloadScript,
  buildRemoveAutoLinksScript,
  buildStopHeartbeatScript,
  heartbeatFiles,
  heartbeatTime,
  renderAuthkeys,
  renderClusterAuthkeys,
  renderHaCf,
  renderHaresources,
} from "../../provider/heartbeat/render";
import { heartbeatClusterSchema, type HeartbeatClusterInputArgs, type HeartbeatClusterInputs } from "../../provider/heartbeat/schema";
import { seedArgs } from "./fixtures/heartbeat/seed";

const seed = heartbeatClusterSchema.parse(seedArgs);

describe("ha.cf", () => {
  it("has every directive the seed sets, heartbeats on both links, and v1 mode", () => {
    expect(renderHaCf(seed).split("\n").slice(1)).toEqual([
      "logfacility local0",
      "udpport 694",
      "keepalive 1",
      "deadtime 10",
      "warntime 3",
      "initdead 20",
      "ucast xenbr0 10.1.1.100",
      "ucast xenbr0 10.1.1.101",
      "ucast eth1 192.168.1.100",
      "ucast eth1 192.168.1.101",
      "auto_failback on",
      "watchdog /dev/watchdog",
      "debugfile /var/log/ha-debug",
      "node ha1.domain.local",
      "node ha2.domain.local",
      "crm no",
      "",
    ]);
  });

  it("names the NIC itself in ucast when the public address is not on a bridge (the seed's eth0)", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, publicInterface: "eth0", links: ["public"] });
    expect(renderHaCf(c).match(/^ucast .*$/gm)).toEqual(["ucast eth0 10.1.1.100", "ucast eth0 10.1.1.101"]);
  });

  it("leaves out the watchdog when there is none (the lab)", () => {
    expect(renderHaCf(heartbeatClusterSchema.parse({ ...seedArgs, watchdog: null }))).not.toMatch(/watchdog/);
  });

  it("writes fractions of a second in milliseconds", () => {
    expect([heartbeatTime(0.5), heartbeatTime(10)]).toEqual(["500ms", "10"]);
  });
});

describe("haresources and authkeys", () => {
  it("gives each node its own group", () => {
    expect(renderHaresources(seed).split("\n").slice(1)).toEqual(["ha1.domain.local xendomainsHA1", "ha2.domain.local xendomainsHA2", ""]);
  });

  it("writes the seed's authkeys", () => {
    expect(renderClusterAuthkeys(seed)).toBe("auth 1\n1 sha1 SecretKey123!!!\n");
  });

  it("refuses an active key that is not listed", () => {
    expect(() => renderAuthkeys(2, [{ index: 1, method: "sha1", secret: "x" }])).toThrow(/not listed/);
  });

  it("writes authkeys with mode 0600 and marks it secret", () => {
    expect(heartbeatFiles(seed, 0).find((f) => f.path === "/etc/ha.d/authkeys")).toMatchObject({ mode: "0600", secret: true });
  });

  it("keeps the secret out of every other file", () => {
    expect(heartbeatFiles(seed, 0).filter((f) => !f.secret && f.content.includes("SecretKey123!!!"))).toEqual([]);
  });
});

describe("HeartbeatCluster inputs", () => {
  it("refuses timers Heartbeat cannot use", () => {
    const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, warntime: 12 });
    expect(parsed.ok ? [] : parsed.failures.map((f) => f.property)).toEqual(["warntime"]);
  });

  it("refuses a DomU whose home is not a node", () => {
    const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, domains: [{ name: "test", home: "ha3" }] });
    expect(parsed.ok ? [] : parsed.failures.map((f) => f.property)).toEqual(["domains[0].home"]);
  });

  it("refuses a secret that authkeys would read as two words", () => {
    const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, authKey: "two words here" });
    expect(parsed.ok ? [] : parsed.failures.map((f) => f.property)).toEqual(["authKey"]);
  });

  it("accepts a secret still unknown during preview", () => {
    const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, authKey: UNKNOWN });
    expect(parsed.ok || parsed.onlyUnknowns).toBe(true);
  });
});

describe("the home links", () => {
  /** The scripts run here on temporary directories, which the schema refuses (only /etc/xen/auto/NAME is allowed): set them after parsing. */
  const inSandbox = (c: HeartbeatClusterInputs, ha1: string, ha2: string): HeartbeatClusterInputs => ({
    ...c,
    resourceGroups: [{ ...c.resourceGroups[0], autoDirectory: ha1 }, { ...c.resourceGroups[1], autoDirectory: ha2 }],
  });

  function runLinks(args: HeartbeatClusterInputArgs, prepare: (ha1: string, ha2: string) => void = () => {}) {
    const dir = mkdtempSync(join(tmpdir(), "hblinks-"));
    const ha1 = join(dir, "HA1");
    const ha2 = join(dir, "HA2");
    mkdirSync(ha1);
    prepare(ha1, ha2);
    const c = inSandbox(heartbeatClusterSchema.parse(args), ha1, ha2);
    execFileSync("sh", ["-c", buildAutoLinksScript(c).text]);
    const list = (d: string) => (existsSync(d) ? readdirSync(d).sort().map((n) => (lstatSync(join(d, n)).isSymbolicLink() ? `${n} -> ${readlinkSync(join(d, n))}` : n)) : []);
    return [list(ha1), list(ha2)];
  }

  it("links each DomU's config from its home node's directory", () => {
    expect(runLinks(seedArgs)).toEqual([["test -> /etc/xen/test.cfg"], []]);
  });

  it("moves a DomU's link when its home changes, and leaves files put there by hand", () => {
    const moved = { ...seedArgs, domains: [{ name: "test", home: "ha2.domain.local" }] };
    expect(
      runLinks(moved, (ha1) => {
        symlinkSync("/etc/xen/test.cfg", join(ha1, "test"));
        writeFileSync(join(ha1, "README"), "mine\n");
      }),
    ).toEqual([["README"], ["test -> /etc/xen/test.cfg"]]);
  });

  it("on delete, removes the links and the directories they leave empty, but not a file put there by hand", () => {
    const dir = mkdtempSync(join(tmpdir(), "hbunlink-"));
    const [ha1, ha2] = [join(dir, "HA1"), join(dir, "HA2")];
    mkdirSync(ha1);
    mkdirSync(ha2);
    symlinkSync("/etc/xen/test.cfg", join(ha1, "test"));
    writeFileSync(join(ha2, "README"), "mine\n");
    const c = inSandbox(seed, ha1, ha2);
    execFileSync("sh", ["-c", buildRemoveAutoLinksScript(c).text]);
    expect([existsSync(ha1), readdirSync(ha2)]).toEqual([false, ["README"]]);
  });
});

describe("service commands", () => {
  it("stops the stock xendomains only while no DomU runs", () => {
    expect(buildDisableStockXendomainsScript("xl").text).toContain(`if [ "$(xl list | awk 'NR > 1 && $1 != "Domain-0"' | wc -l)" -eq 0 ]; then systemctl stop xendomains.service; fi`);
  });

  it("are valid POSIX shell scripts", () => {
    for (const s of [buildDisableStockXendomainsScript("xm"), buildInstallAndReloadScript([{ staged: "/etc/ha.d/.ha.cf.new", live: "/etc/ha.d/ha.cf" }])]) {
      expect(() => execFileSync("sh", ["-n", "-c", s.text])).not.toThrow();
    }
  });

  it("gives an installed file a later mtime than the one it replaces, so Heartbeat notices it", () => {
    const dir = mkdtempSync(join(tmpdir(), "hbinstall-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "cl_status"), "#!/bin/sh\nexit 1\n");
    chmodSync(join(bin, "cl_status"), 0o755);
    const live = join(dir, "authkeys");
    const staged = join(dir, ".authkeys.new");
    writeFileSync(live, "old\n");
    writeFileSync(staged, "new\n");
    const before = Math.floor(lstatSync(live).mtimeMs / 1000);
    execFileSync("sh", ["-c", buildInstallAndReloadScript([{ staged, live }]).text], { env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(Math.floor(lstatSync(live).mtimeMs / 1000)).toBeGreaterThan(before);
  });

  describe("stopping Heartbeat", () => {
    // systemctl is faked: "stop" takes as long as STOP_SECONDS says.
    function stop(stopSeconds: number) {
      const dir = mkdtempSync(join(tmpdir(), "hb-stop-"));
      writeFileSync(join(dir, "systemctl"), '#!/bin/sh\nif [ "$1" = stop ]; then sleep "$STOP_SECONDS"; fi\n');
      chmodSync(join(dir, "systemctl"), 0o755);
      writeFileSync(join(dir, "ha-debug"), "heartbeat: WARN: Shutdown delayed until current resource activity finishes.\n");
      const r = spawnSync("sh", ["-c", buildStopHeartbeatScript(1, join(dir, "ha-debug")).text], {
        env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, STOP_SECONDS: String(stopSeconds) },
        encoding: "utf8",
      });
      return [r.status, r.stderr];
    }

    it("succeeds when Heartbeat stops in time", () => {
      expect(stop(0)).toEqual([0, ""]);
    });

    it("gives up after the bound with Heartbeat's last log lines, instead of waiting for the unit's 30 minutes", () => {
      expect(stop(5)).toEqual([1, "Heartbeat did not stop within 1 s; its last log lines:\nheartbeat: WARN: Shutdown delayed until current resource activity finishes.\n"]);
    });
  });
});
