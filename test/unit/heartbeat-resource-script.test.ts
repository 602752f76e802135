/**
 * The resource scripts run in dash against stand-ins for xl, ssh, drbdadm, timeout and sleep that
 * keep their state in files, so each decision the script makes is observed from the outside.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderResourceScript } from "../../provider/heartbeat/resource-script";
import { heartbeatClusterSchema, type HeartbeatClusterInputArgs } from "../../provider/heartbeat/schema";

const connection = { host: "127.0.0.1", privateKey: "key" };
/** xl's and drbdadm's own words, as captured on the lab. */
const FIXTURES = join(__dirname, "fixtures", "heartbeat");

/** The script runs here on a temporary directory, which the schema refuses (only /etc/xen/auto/NAME is allowed): it is set after parsing. */
function cluster(autoDirectory: string, overrides: Partial<HeartbeatClusterInputArgs> = {}) {
  const c = heartbeatClusterSchema.parse({
    nodes: [
      { connection, name: "ha1.domain.local", publicAddress: "10.1.1.100", crossoverAddress: "192.168.1.100" },
      { connection, name: "ha2.domain.local", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
    ],
    authKey: "SecretKey123!!!",
    drbdSettleSeconds: 3,
    ...overrides,
  });
  const [g1, g2] = c.resourceGroups;
  return { ...c, resourceGroups: [{ ...g1, autoDirectory }, { ...g2, autoDirectory: `${autoDirectory}-2` }] as typeof c.resourceGroups };
}

const STUBS: Record<string, string> = {
  // Running domains are lines of $S/here; a migration or a create moves them as $S/* say.
  xl: `echo "xl $*" >>"$S/calls"
case "$1" in
  list) grep -qx "$2" "$S/here" 2>/dev/null && exit 0; sed "s/^nosuch /$2 /" "$F/xl-list-not-found.txt" >&2; exit 1 ;;
  create) n=$(basename "$2" .cfg); [ -e "$S/create-fails" ] && exit 1; echo "$n" >>"$S/here" ;;
  migrate) [ -e "$S/migrate-fails" ] && exit 1; n=$4; grep -vx "$n" "$S/here" >"$S/here.new"; mv "$S/here.new" "$S/here" ;;
  shutdown|destroy) n=$(eval echo \\$$#); grep -vx "$n" "$S/here" >"$S/here.new"; mv "$S/here.new" "$S/here" ;;
esac`,
  // $S/peer.ADDRESS holds running, absent, down (ssh cannot connect), together: down, once every
  // address in $S/together has been asked (or after 5 s, noted in $S/alone), or late: down, once
  // the script has slept twice waiting on DRBD (or after 5 s, noted in $S/late).
  ssh: `while [ "$1" = -o ] || [ "$1" = -i ]; do shift 2; done
echo "ssh $*" >>"$S/calls"
if [ "$(cat "$S/peer.$1" 2>/dev/null)" = together ]; then
  touch "$S/asked.$1"
  i=0
  for a in $(cat "$S/together"); do
    until [ -e "$S/asked.$a" ] || [ "$i" -ge 50 ]; do /bin/sleep 0.1; i=$((i + 1)); done
  done
  [ "$i" -ge 50 ] && echo "$1" >>"$S/alone"
fi
if [ "$(cat "$S/peer.$1" 2>/dev/null)" = late ]; then
  i=0
  until [ "$(wc -l <"$S/sleeps" 2>/dev/null || echo 0)" -ge 2 ] || [ "$i" -ge 50 ]; do /bin/sleep 0.1; i=$((i + 1)); done
  [ "$i" -ge 50 ] && echo "$1" >>"$S/late"
fi
case "$(cat "$S/peer.$1" 2>/dev/null || echo down)" in
  running) exit 0 ;;
  absent) sed "s/^nosuch /$4 /" "$F/xl-list-not-found.txt" >&2; exit 1 ;;
  *) echo "ssh: connect to host $1 port 22: No route to host" >&2; exit 255 ;;
esac`,
  // Roles and cstate per resource; after $S/settle-after sleeps they turn into the .later values.
  drbdadm: `slept=$(wc -l <"$S/sleeps" 2>/dev/null || echo 0)
[ -e "$S/no-resources" ] && { cat "$F/drbdadm-role-no-resources.txt" >&2; exit 1; }
f="$S/$1.$2"
if [ -e "$f.later" ] && [ "$slept" -ge "$(cat "$S/settle-after")" ]; then f="$f.later"; fi
cat "$f" 2>/dev/null || { [ "$1" = role ] && echo Secondary/Secondary || echo Connected; }`,
  timeout: `shift; exec "$@"`,
  sleep: `echo slept >>"$S/sleeps"`,
  logger: `shift 4; echo "$*" >>"$S/log"`,
};

interface Node {
  dir: string;
  auto: string;
  state: string;
  run(action: string, overrides?: Partial<HeartbeatClusterInputArgs>): { code: number; stdout: string; log: string; calls: string[] };
  set(file: string, content: string): void;
  here(): string[];
  /** How many times the script slept (each sleep is one second of waiting on DRBD). */
  sleeps(): number;
}

function node(): Node {
  const dir = mkdtempSync(join(tmpdir(), "hbrs-"));
  const bin = join(dir, "bin");
  const state = join(dir, "state");
  const auto = join(dir, "auto");
  for (const d of [bin, state, auto, `${auto}-2`]) mkdirSync(d);
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  writeFileSync(join(state, "here"), "");
  writeFileSync(join(state, "settle-after"), "0");
  const config = join(dir, "test.cfg");
  writeFileSync(config, "name = 'test'\n# disk = ['drbd:old-disk,xvda,w']\ndisk = [ 'drbd:test-swap,xvda1,w', 'drbd:test-disk,xvda2,w' ]\n");
  symlinkSync(config, join(auto, "test"));
  const read = (f: string) => (existsSync(join(state, f)) ? readFileSync(join(state, f), "utf8") : "");
  return {
    dir,
    auto,
    state,
    run(action, overrides = {}) {
      const script = join(dir, "xendomainsHA1");
      writeFileSync(script, renderResourceScript(cluster(auto, overrides), 0, 0));
      chmodSync(script, 0o755);
      writeFileSync(join(state, "calls"), "");
      const r = spawnSync("sh", [script, action], { env: { PATH: `${bin}:/usr/bin:/bin`, S: state, F: FIXTURES }, encoding: "utf8" });
      return { code: r.status ?? -1, stdout: r.stdout, log: read("log"), calls: read("calls").trim().split("\n").filter(Boolean) };
    },
    set(file, content) {
      writeFileSync(join(state, file), content);
    },
    here() {
      return read("here").split("\n").filter(Boolean);
    },
    sleeps() {
      return read("sleeps").split("\n").filter(Boolean).length;
    },
  };
}

/** The killed peer still shows test-disk Primary and Connected until the script has slept `after` times. */
function peerNoticedGoneAfter(n: Node, after: number): void {
  n.set("settle-after", String(after));
  n.set("role.test-disk", "Secondary/Primary\n");
  n.set("role.test-disk.later", "Secondary/Unknown\n");
  n.set("cstate.test-disk.later", "WFConnection\n");
}

describe("the resource script's start", () => {
  it("starts a DomU the peer says it does not run", () => {
    const n = node();
    n.set("peer.192.168.1.101", "absent");
    const r = n.run("start");
    expect([r.code, n.here()]).toEqual([0, ["test"]]);
  });

  it("takes xl's not-found answer from the peer as a clear no", () => {
    const n = node();
    n.set("peer.192.168.1.101", "absent");
    const r = n.run("start");
    expect([r.code, r.log.includes("could not say"), r.log.includes("does not answer"), r.calls]).toEqual([0, false, false, expect.arrayContaining(["ssh 192.168.1.101 xl list test"])]);
  });

  it("refuses a DomU that still runs on the peer, and says why", () => {
    const n = node();
    n.set("peer.192.168.1.101", "running");
    const r = n.run("start");
    expect([r.code, n.here(), r.log]).toEqual([1, [], expect.stringContaining("not starting test: it runs on the peer")]);
  });

  it("asks a dead peer's addresses once per run, not once per DomU", () => {
    const n = node();
    symlinkSync(join(n.dir, "test.cfg"), join(n.auto, "web"));
    for (const res of ["test-disk", "test-swap"]) n.set(`cstate.${res}`, "WFConnection\n");
    const r = n.run("start");
    expect(r.calls.filter((c) => c.startsWith("ssh")).sort()).toEqual(["ssh 10.1.1.101 xl list test", "ssh 192.168.1.101 xl list test"]);
  });

  it("asks all of a dead peer's addresses at once: it costs one connect timeout, not one per address", () => {
    const n = node();
    for (const res of ["test-disk", "test-swap"]) n.set(`cstate.${res}`, "WFConnection\n");
    n.set("together", "192.168.1.101 10.1.1.101\n");
    for (const address of ["192.168.1.101", "10.1.1.101"]) n.set(`peer.${address}`, "together");
    const r = n.run("start");
    expect([r.code, n.here(), existsSync(join(n.state, "alone"))]).toEqual([0, ["test"], false]);
  });

  it("asks the peer over SSH while it waits for DRBD to notice the peer is gone: the two waits overlap", () => {
    const n = node();
    peerNoticedGoneAfter(n, 2);
    for (const address of ["192.168.1.101", "10.1.1.101"]) n.set(`peer.${address}`, "late");
    const r = n.run("start");
    expect([r.code, n.here(), existsSync(join(n.state, "late"))]).toEqual([0, ["test"], false]);
  });

  it("refuses as soon as the peer says it runs the DomU, without waiting out DRBD's settle time", () => {
    const n = node();
    n.set("peer.192.168.1.101", "running");
    n.set("role.test-disk", "Secondary/Primary\n");
    const r = n.run("start", { drbdSettleSeconds: 600 });
    expect([r.code, n.here(), r.log]).toEqual([1, [], expect.stringContaining("not starting test: it runs on the peer")]);
    expect(n.sleeps()).toBeLessThan(100);
  });

  it("refuses when the public link says the peer runs it and the crossover link does not answer", () => {
    const n = node();
    n.set("peer.10.1.1.101", "running");
    const r = n.run("start");
    expect([r.code, n.here(), r.calls.filter((c) => c.startsWith("ssh")).sort()]).toEqual([1, [], ["ssh 10.1.1.101 xl list test", "ssh 192.168.1.101 xl list test"]]);
  });

  it("starts after a hard kill of the peer: no SSH answer and DRBD no longer connected", () => {
    const n = node();
    for (const res of ["test-disk", "test-swap"]) {
      n.set(`cstate.${res}`, "WFConnection\n");
      n.set(`role.${res}`, "Secondary/Unknown\n");
    }
    const r = n.run("start");
    expect([r.code, n.here(), r.log]).toEqual([0, ["test"], expect.stringContaining("presumed dead")]);
  });

  it("waits for DRBD to notice the dead peer that still shows Primary, then starts", () => {
    const n = node();
    peerNoticedGoneAfter(n, 2);
    const r = n.run("start");
    expect([r.code, n.here(), n.sleeps()]).toEqual([0, ["test"], 2]);
  });

  it("refuses when the peer keeps a disk of the DomU Primary past the settle time", () => {
    const n = node();
    n.set("peer.192.168.1.101", "absent");
    n.set("role.test-disk", "Secondary/Primary\n");
    const r = n.run("start");
    expect([r.code, n.here(), r.log]).toEqual([1, [], expect.stringContaining("the peer still holds its DRBD disk(s) test-disk as Primary after 3 s")]);
  });

  it("starts when the peer is silent over SSH but connected as Secondary: it cannot be running the guest", () => {
    const n = node();
    const r = n.run("start");
    expect([r.code, r.log]).toEqual([0, expect.stringContaining("DRBD is connected to it as Secondary for test-disk test-swap")]);
  });

  it("starts when this node's DRBD knows none of the DomU's resources: the peer cannot hold them through it", () => {
    const n = node();
    n.set("peer.192.168.1.101", "absent");
    n.set("no-resources", "");
    expect([n.run("start").code, n.here()]).toEqual([0, ["test"]]);
  });

  it("ignores drbd: disks in comments", () => {
    const n = node();
    n.set("role.old-disk", "Secondary/Primary\n");
    expect(n.run("start").code).toBe(0);
  });

  it("leaves a DomU that already runs here alone", () => {
    const n = node();
    n.set("here", "test\n");
    const r = n.run("start");
    expect([r.code, r.calls]).toEqual([0, ["xl list test"]]);
  });

  it("ignores a link whose name could not be a domain", () => {
    const n = node();
    n.set("peer.192.168.1.101", "absent");
    symlinkSync(join(n.dir, "test.cfg"), join(n.auto, "bad;name"));
    const r = n.run("start");
    expect([n.here(), r.log]).toEqual([["test"], expect.stringContaining("not a domain name")]);
  });
});

describe("the resource script's stop", () => {
  it("live-migrates a running DomU to the peer's crossover name", () => {
    const n = node();
    n.set("here", "test\n");
    const r = n.run("stop");
    expect([r.code, n.here(), r.calls]).toEqual([0, [], expect.arrayContaining(["xl migrate -s ssh -o BatchMode=yes -o ConnectTimeout=15 test ha2X"])]);
    expect(r.calls.some((c) => c.startsWith("xl shutdown"))).toBe(false);
  });

  it("shuts the DomU down when the migration fails", () => {
    const n = node();
    n.set("here", "test\n");
    n.set("migrate-fails", "");
    const r = n.run("stop");
    expect([r.code, n.here(), r.calls]).toEqual([0, [], expect.arrayContaining(["xl shutdown -w test"])]);
  });

  it("shuts down without trying to migrate when migration is off", () => {
    const n = node();
    n.set("here", "test\n");
    const r = n.run("stop", { migrateOnStop: false });
    expect(r.calls.some((c) => c.startsWith("xl migrate"))).toBe(false);
  });

  it("succeeds at once when nothing of the group runs here", () => {
    const n = node();
    expect(n.run("stop")).toMatchObject({ code: 0, calls: ["xl list test"] });
  });

  it("in release mode leaves the DomUs running", () => {
    const n = node();
    n.set("here", "test\n");
    const script = join(n.dir, "release");
    writeFileSync(script, renderResourceScript(cluster(n.auto), 0, 0, { release: true }));
    const r = spawnSync("sh", [script, "stop"], { env: { PATH: `${n.dir}/bin:/usr/bin:/bin`, S: n.state, F: FIXTURES }, encoding: "utf8" });
    expect([r.status, n.here()]).toEqual([0, ["test"]]);
  });

  it("in release mode the peer's takeover starts nothing either", () => {
    const n = node();
    n.set("peer.192.168.1.101", "absent");
    const script = join(n.dir, "release");
    writeFileSync(script, renderResourceScript(cluster(n.auto), 0, 0, { release: true }));
    const r = spawnSync("sh", [script, "start"], { env: { PATH: `${n.dir}/bin:/usr/bin:/bin`, S: n.state, F: FIXTURES }, encoding: "utf8" });
    expect([r.status, n.here()]).toEqual([0, []]);
  });
});

describe("the resource script's status", () => {
  it("answers running when every DomU of the group runs here", () => {
    const n = node();
    n.set("here", "test\n");
    expect(n.run("status")).toMatchObject({ code: 0, stdout: "running\n" });
  });

  it("answers stopped, without the word running, when one of them does not", () => {
    const n = node();
    symlinkSync(join(n.dir, "test.cfg"), join(n.auto, "web"));
    n.set("here", "test\n");
    expect(n.run("status")).toMatchObject({ code: 3, stdout: "stopped\n" });
  });

  it("lists the group's DomUs for the probe", () => {
    const n = node();
    n.set("here", "test\n");
    expect(n.run("list").stdout).toBe(`test\there\t${join(n.dir, "test.cfg")}\n`);
  });
});

describe("the resource script's text", () => {
  const text = renderResourceScript(cluster("/etc/xen/auto/HA1"), 1, 0);

  it("on ha2, the HA1 group's peer is ha1", () => {
    expect(text).toMatch(/\nMIGRATION_TARGET=ha1X\nPEER_ADDRESSES='192\.168\.1\.100 10\.1\.1\.100'\n/);
  });

  it("quotes every setting", () => {
    expect(renderResourceScript(cluster("/etc/xen/auto/HA1"), 0, 0, { sshCommand: () => "ssh -i /root/.ssh/it's" })).toContain(`SSH='ssh -i /root/.ssh/it'\\''s'`);
  });

  it("waits the peer SSH timeout to connect for its checks, and longer for a migration", () => {
    const text = renderResourceScript(cluster("/etc/xen/auto/HA1", { peerSshTimeoutSeconds: 3 }), 0, 0, { sshCommand: (seconds) => `ssh -o ConnectTimeout=${seconds}` });
    expect([text.match(/^CHECK_SSH=.*$/m)?.[0], text.match(/^SSH=.*$/m)?.[0]]).toEqual(["CHECK_SSH='ssh -o ConnectTimeout=3'", "SSH='ssh -o ConnectTimeout=15'"]);
  });

  it("is a valid POSIX shell script", () => {
    expect(() => execFileSync("sh", ["-n", "-c", text])).not.toThrow();
  });

  it("with xm, migrates the seed's way through xend's relocation server", () => {
    const xm = renderResourceScript(cluster("/etc/xen/auto/HA1", { toolstack: "xm" }), 0, 0);
    expect([xm.includes("\nTOOLSTACK=xm\n"), xm.includes(`xm migrate "$1" "$MIGRATION_TARGET" --live`)]).toEqual([true, true]);
  });
});
