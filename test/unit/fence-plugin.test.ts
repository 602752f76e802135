import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FakeQemu } from "../../lab/fence/fake-qemu";
import { startSwitchFixture, type SwitchFixture } from "../support/switch-fixture";
import { parseXml } from "../support/lab";
import { closedPort, listeningPort, waitForFile, when } from "../support/switch-process";

/**
 * The STONITH plugin as cluster-glue runs it: `sh PLUGIN ACTION [HOST]` with its parameters in
 * the environment, here against the power switch on loopback and two fake QEMUs.
 */
const PLUGIN = path.resolve(__dirname, "../../lab/fence/xen-ha-lab-switch");

jest.setTimeout(60000);

let fixture: SwitchFixture | undefined;
let dir: string;
let port: number;
let ha1: FakeQemu;
let ha2: FakeQemu;
let wrappers: string;
const secretFile = () => fixture!.secretFile;
const recorded = () => fixture!.recorded;
const marker = () => fixture!.started;

beforeAll(async () => {
  fixture = await startSwitchFixture("fence-plugin-", "last");
  ({ dir, port, ha1, ha2, wrappers } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the plugin under sh, asynchronously: the fake monitors answer from this process. */
function plugin(args: string[], params: Record<string, string> = {}): Promise<Run> {
  const env = {
    PATH: `${wrappers}:${process.env.PATH}`,
    hostlist: "ha1,ha2",
    switch_address: "127.0.0.1",
    switch_port: String(port),
    secret_file: secretFile(),
    ...params,
  };
  return new Promise((resolve, reject) => {
    const child = spawn("sh", [PLUGIN, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("what cluster-glue asks about the device", () => {
  it("lists the hosts of hostlist, one per line, without the switch's names", async () => {
    expect(await plugin(["gethosts"], { hostlist: "ha1.example.org:ha1, ha2.example.org:ha2" })).toEqual({ code: 0, stdout: "ha1.example.org\nha2.example.org\n", stderr: "" });
  });

  it("names its parameters in the order positional configs give them", async () => {
    expect(await plugin(["getconfignames"])).toEqual({ code: 0, stdout: "hostlist\nswitch_address\nswitch_port\nsecret_file\nreset_delay\n", stderr: "" });
  });

  it.each(["getinfo-devid", "getinfo-devname", "getinfo-devdescr", "getinfo-devurl"])("answers %s", async (action) => {
    const run = await plugin([action]);
    expect([run.code, run.stdout.trim().length > 0]).toEqual([0, true]);
  });

  it("describes its parameters in well-formed XML, each with a content type and descriptions", async () => {
    const run = await plugin(["getinfo-xml"]);
    const root = parseXml(run.stdout);
    const described = root.children.map((p) => [p.name, p.attributes.name, p.children.map((c) => c.name)]);
    expect([run.code, root.name, described]).toEqual([
      0,
      "parameters",
      ["hostlist", "switch_address", "switch_port", "secret_file", "reset_delay"].map((n) => ["parameter", n, ["content", "shortdesc", "longdesc"]]),
    ]);
  });

  it("fails an action it does not know", async () => {
    expect((await plugin(["poweroff", "ha1"])).code).toBe(1);
  });
});

describe("status: whether the device answers", () => {
  it("succeeds when the switch reports a power state for every host", async () => {
    expect((await plugin(["status"])).code).toBe(0);
  });

  it("fails with a wrong secret", async () => {
    const wrong = path.join(dir, "wrong-secret");
    fs.writeFileSync(wrong, "0000000000000000000000000000000000\n", { mode: 0o600 });
    const run = await plugin(["status"], { secret_file: wrong });
    expect([run.code, run.stderr]).toEqual([1, expect.stringContaining("ERR unauthorized")]);
  });

  it("fails when nothing listens at the switch's address", async () => {
    expect((await plugin(["status"], { switch_port: String(await closedPort()) })).code).toBe(1);
  });

  it("fails without a hostlist", async () => {
    expect((await plugin(["status"], { hostlist: "" })).code).toBe(1);
  });
});

describe("fencing", () => {
  it("resets ha1 through its QEMU monitor with system_reset", async () => {
    const run = await plugin(["reset", "ha1"]);
    expect([run.code, ha1.commands.at(-1)]).toEqual([0, "system_reset"]);
  });

  it("maps a cluster node name, lower-cased by cluster-glue, to the switch's node", async () => {
    const before = ha2.commands.length;
    const run = await plugin(["reset", "ha2.example.org"], { hostlist: "HA1.Example.org:ha1,HA2.Example.org:ha2" });
    expect([run.code, ha2.commands.slice(before)]).toEqual([0, ["system_reset"]]);
  });

  it("refuses a host that is not in hostlist, and asks the switch nothing", async () => {
    const before = [ha1.commands.length, ha2.commands.length];
    const run = await plugin(["reset", "ha3"]);
    expect([run.code, [ha1.commands.length, ha2.commands.length]]).toEqual([1, before]);
  });

  it("powers ha2 off: its QEMU process exits", async () => {
    expect((await plugin(["off", "ha2"])).code).toBe(0);
    await ha2.exited;
  });

  it("powers ha2 on with the lab's start command", async () => {
    expect((await plugin(["on", "ha2"])).code).toBe(0);
    expect(await waitForFile(marker())).toBe("ha2\n");
  });

  it("puts the secret on no command line and in no environment of the commands it runs", () => {
    const secret = fs.readFileSync(secretFile(), "utf8").trim();
    const log = fs.readFileSync(recorded(), "utf8");
    expect([log.includes("timeout 60 bash -c"), log.includes(secret)]).toEqual([true, false]);
  });
});

describe("reset_delay: who waits in a fence race", () => {
  it("waits reset_delay seconds before it asks the switch to reset", async () => {
    const before = ha1.commands.length;
    const start = Date.now();
    const run = plugin(["reset", "ha1"], { reset_delay: "1" });
    const askedAfterMs = (await when(() => ha1.commands.length > before)) - start;
    expect([(await run).code, ha1.commands.slice(before), askedAfterMs >= 1000]).toEqual([0, ["system_reset"], true]);
  });

  it("says in the log that it waits, and for what", async () => {
    const run = await plugin(["reset", "ha1"], { reset_delay: "1" });
    expect(run.stderr).toContain("waiting reset_delay=1s before reset ha1");
  });

  it("waits before an off too: with no switch to answer, the off fails only after the wait", async () => {
    const start = Date.now();
    const run = await plugin(["off", "ha1"], { reset_delay: "1", switch_port: String(await closedPort()) });
    expect([run.code, Date.now() - start >= 1000, run.stderr.includes("waiting reset_delay=1s before off ha1")]).toEqual([1, true, true]);
  });

  it.each([["status"], ["on", "ha1"]])("does not wait for %s", async (...args) => {
    const start = Date.now();
    const run = await plugin(args, { reset_delay: "30" });
    expect([run.code, run.stderr.includes("waiting"), Date.now() - start < 10000]).toEqual([0, false, true]);
  });

  it("resets at once when configured with the first four parameters only, as before reset_delay existed", async () => {
    const before = ha1.commands.length;
    const run = await plugin(["reset", "ha1"]);
    expect([run.code, run.stderr.includes("waiting"), ha1.commands.slice(before)]).toEqual([0, false, ["system_reset"]]);
  });

  it("takes an empty reset_delay as 0", async () => {
    const run = await plugin(["reset", "ha1"], { reset_delay: "" });
    expect([run.code, run.stderr.includes("waiting")]).toEqual([0, false]);
  });

  it.each(["0", "600", " 2 ", "3\t"])("accepts %j (a positional last parameter keeps the line's blanks)", async (value) => {
    expect((await plugin(["status"], { reset_delay: value })).code).toBe(0);
  });

  it.each(["601", "-1", "1.5", "010", "0x10", "1e2", "abc", "1 2", "+5"])("refuses %j and resets nothing", async (value) => {
    const before = ha1.commands.length;
    const run = await plugin(["reset", "ha1"], { reset_delay: value });
    expect([run.code, ha1.commands.length, run.stderr]).toEqual([1, before, expect.stringContaining("is not a whole number of seconds from 0 to 600")]);
  });

  it("refuses an invalid reset_delay in status too, so Heartbeat finds it when it checks the device", async () => {
    expect((await plugin(["status"], { reset_delay: "601" })).code).toBe(1);
  });
});

it("is executable, as cluster-glue requires of a plugin", () => {
  expect(fs.statSync(PLUGIN).mode & 0o100).toBe(0o100);
});

