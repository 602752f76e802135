import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { FakeQemu } from "../../lab/fence/fake-qemu";
import { startSwitchFixture, type SwitchFixture } from "../support/switch-fixture";
import { parseXml, type XmlElement } from "../support/lab";
import { closedPort, listeningPort, waitForFile, when } from "../support/switch-process";

/**
 * The Pacemaker fence agent as the fencer runs it: `sh AGENT` with its options as NAME=VALUE lines
 * on stdin (or on the command line, as a person runs it), here against the power switch on
 * loopback and two fake QEMUs.
 */
const LAB = path.resolve(__dirname, "../../lab");
const AGENT = path.join(LAB, "fence", "fence_xen_ha_lab");
const SWITCH = path.join(LAB, "fence", "power-switch.js");

jest.setTimeout(60000);

let fixture: SwitchFixture | undefined;
let dir: string;
let port: number;
let ha1: FakeQemu;
let ha2: FakeQemu;
let wrappers: string;
const secretFile = () => fixture!.secretFile;
const recorded = () => fixture!.recorded;
const started = () => fixture!.started;

beforeAll(async () => {
  fixture = await startSwitchFixture("fence-agent-", "append");
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

/** The switch's options as the lab's nodes would give them, pointed at the switch on loopback. */
const device = () => ({ switch_address: "127.0.0.1", switch_port: String(port), secret_file: secretFile() });

/** Runs the agent as the fencer does: no arguments, NAME=VALUE lines on stdin. */
function fence(options: Record<string, string>, agent = AGENT): Promise<Run> {
  const stdin = Object.entries({ ...device(), ...options })
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
  return run(agent, [], stdin);
}

/** Runs the agent under sh with arguments and stdin, asynchronously: the fake monitors answer from this process. */
function run(agent: string, args: string[], stdin = "", env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("sh", [agent, ...args], { env: { PATH: `${wrappers}:${process.env.PATH}`, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe("metadata, as the fencer reads it", () => {
  const metadata = async () => parseXml((await fence({ action: "metadata" })).stdout);
  const child = (e: XmlElement, name: string) => e.children.filter((c) => c.name === name);

  it("is a fence-agents resource-agent named fence_xen_ha_lab, with its parameters and actions", async () => {
    const root = await metadata();
    expect([root.name, root.attributes.name, root.children.map((c) => c.name)]).toEqual(["resource-agent", "fence_xen_ha_lab", ["longdesc", "vendor-url", "parameters", "actions"]]);
  });

  it("describes each parameter as fence-agents' schema asks: unique, required, getopt, content, shortdesc", async () => {
    const parameters = child(await metadata(), "parameters")[0]!.children;
    const shapes = parameters.map((p) => [p.name, p.attributes.name, /^[01]$/.test(p.attributes.unique ?? ""), /^[01]$/.test(p.attributes.required ?? ""), p.children.map((c) => c.name)]);
    expect(shapes).toEqual(
      ["action", "plug", "switch_address", "switch_port", "secret_file", "delay"].map((n) => ["parameter", n, true, true, ["getopt", "content", "shortdesc"]]),
    );
  });

  it("passes the target as plug (no port parameter, which the fencer would prefer)", async () => {
    const names = child(await metadata(), "parameters")[0]!.children.map((p) => p.attributes.name);
    expect([names.includes("plug"), names.includes("port")]).toEqual([true, false]);
  });

  it("lists the actions it performs, and needs no unfencing", async () => {
    const actions = child(await metadata(), "actions")[0]!.children;
    expect([actions.map((a) => a.attributes.name), actions.some((a) => a.attributes.automatic === "1")]).toEqual([
      ["on", "off", "reboot", "status", "list", "monitor", "metadata", "validate-all"],
      false,
    ]);
  });

  it("is printed for -o metadata too, without a secret or a switch", async () => {
    const r = await run(AGENT, ["-o", "metadata"]);
    expect([r.code, parseXml(r.stdout).attributes.name]).toEqual([0, "fence_xen_ha_lab"]);
  });
});

describe("status: 0 on, 2 off, 1 when the switch does not say", () => {
  it("answers 0 for a node that runs", async () => {
    expect((await fence({ action: "status", plug: "ha1" })).code).toBe(0);
  });

  it("answers 2 for a node whose QEMU is paused (it runs nothing)", async () => {
    ha1.vmStatus = "paused";
    try {
      expect((await fence({ action: "status", plug: "ha1" })).code).toBe(2);
    } finally {
      ha1.vmStatus = "running";
    }
  });

  it("takes the node from nodename when no plug is given", async () => {
    expect((await fence({ action: "status", nodename: "ha1" })).code).toBe(0);
  });

  it("takes the deprecated port and option names too", async () => {
    expect((await fence({ option: "status", port: "ha1" })).code).toBe(0);
  });

  it("answers 1 with a wrong secret, and says why", async () => {
    const wrong = path.join(dir, "wrong-secret");
    fs.writeFileSync(wrong, "0000000000000000000000000000000000\n", { mode: 0o600 });
    const r = await fence({ action: "status", plug: "ha1", secret_file: wrong });
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining("ERR unauthorized")]);
  });

  it("answers 1 when nothing listens at the switch's address", async () => {
    expect((await fence({ action: "status", plug: "ha1", switch_port: String(await closedPort()) })).code).toBe(1);
  });

  it("answers 1 for a node the switch does not know", async () => {
    expect((await fence({ action: "status", plug: "ha3" })).code).toBe(1);
  });

  it("answers 1 without a node, and asks the switch nothing", async () => {
    const before = fs.existsSync(recorded()) ? fs.readFileSync(recorded(), "utf8").length : 0;
    const r = await fence({ action: "status" });
    const asked = fs.existsSync(recorded()) && fs.readFileSync(recorded(), "utf8").slice(before).includes("timeout 60 bash");
    expect([r.code, asked]).toEqual([1, false]);
  });
});

describe("what the fencer asks of the device", () => {
  it("monitor succeeds when the switch answers for the lab's nodes", async () => {
    expect((await fence({ action: "monitor" })).code).toBe(0);
  });

  it("monitor fails with a wrong secret", async () => {
    const wrong = path.join(dir, "wrong-secret-monitor");
    fs.writeFileSync(wrong, "1111111111111111111111111111111111\n", { mode: 0o600 });
    expect((await fence({ action: "monitor", secret_file: wrong })).code).toBe(1);
  });

  it("list prints the lab's nodes, one per line", async () => {
    expect(await fence({ action: "list" })).toEqual({ code: 0, stdout: "ha1\nha2\n", stderr: "" });
  });

  it("validate-all accepts the lab's settings and asks the switch nothing", async () => {
    expect((await fence({ action: "validate-all", switch_port: String(await closedPort()) })).code).toBe(0);
  });

  it.each([
    ["a port that is not a number", { switch_port: "http" }],
    ["an unreadable secret file", { secret_file: "/nonexistent/secret" }],
    ["a delay over 600", { delay: "601" }],
    ["a delay that is not plain decimal", { delay: "010" }],
  ])("validate-all refuses %s", async (_what, options) => {
    expect((await fence({ action: "validate-all", ...options })).code).toBe(1);
  });

  it("refuses an action it does not know with the words the fencer maps to 'not supported'", async () => {
    const r = await fence({ action: "list-status", plug: "ha1" });
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining("Unrecognised action 'list-status'")]);
  });

  it("ignores comments, blank lines, leading blanks and options it does not know", async () => {
    const stdin = `# a comment\n\n  action=status\nnodeid=2\npcmk_whatever=1\nplug=ha1\nswitch_address=127.0.0.1\nswitch_port=${port}\nsecret_file=${secretFile()}\n`;
    expect((await run(AGENT, [], stdin)).code).toBe(0);
  });
});

describe("the command line", () => {
  const args = () => ["-a", "127.0.0.1", "-u", String(port), `--secret-file=${secretFile()}`];

  it("takes -o ACTION -n PLUG", async () => {
    expect((await run(AGENT, ["-o", "status", "-n", "ha1", ...args()])).code).toBe(0);
  });

  it("takes --action=ACTION --plug=PLUG", async () => {
    expect((await run(AGENT, ["--action=status", "--plug=ha1", ...args()])).code).toBe(0);
  });

  it("refuses an option it does not know", async () => {
    expect((await run(AGENT, ["-o", "status", "-n", "ha1", "--bogus=1", ...args()])).code).toBe(1);
  });
});

describe("fencing", () => {
  it("reboot resets the node through its QEMU monitor with system_reset", async () => {
    const before = ha1.commands.length;
    const r = await fence({ action: "reboot", plug: "ha1" });
    expect([r.code, ha1.commands.slice(before)]).toEqual([0, ["system_reset"]]);
  });

  it("reboot is the default action", async () => {
    const before = ha2.commands.length;
    expect([(await fence({ plug: "ha2" })).code, ha2.commands.slice(before)]).toEqual([0, ["system_reset"]]);
  });

  it("reboot waits delay seconds before it asks the switch", async () => {
    const before = ha1.commands.length;
    const start = Date.now();
    const r = fence({ action: "reboot", plug: "ha1", delay: "1" });
    const askedAfterMs = (await when(() => ha1.commands.length > before)) - start;
    const done = await r;
    expect([done.code, askedAfterMs >= 1000, done.stderr.includes("waiting delay=1s before reboot ha1")]).toEqual([0, true, true]);
  });

  it.each(["601", "-1", "1.5", "010", "abc"])("refuses delay %j and resets nothing", async (value) => {
    const before = ha1.commands.length;
    const r = await fence({ action: "reboot", plug: "ha1", delay: value });
    expect([r.code, ha1.commands.length, r.stderr]).toEqual([1, before, expect.stringContaining("is not a whole number of seconds from 0 to 600")]);
  });

  it("status does not wait for delay", async () => {
    const start = Date.now();
    const r = await fence({ action: "status", plug: "ha1", delay: "30" });
    expect([r.code, Date.now() - start < 10000]).toEqual([0, true]);
  });

  it("off powers ha2 off: its QEMU exits, and status then answers 2", async () => {
    expect((await fence({ action: "off", plug: "ha2" })).code).toBe(0);
    await ha2.exited;
    expect((await fence({ action: "status", plug: "ha2" })).code).toBe(2);
  });

  it("on starts ha2 with the lab's start command", async () => {
    fs.rmSync(started(), { force: true });
    expect((await fence({ action: "on", plug: "ha2" })).code).toBe(0);
    expect(await waitForFile(started())).toBe("ha2\n");
  });

  it("reboot of a node that is off succeeds (it is fenced) and switches it on", async () => {
    fs.rmSync(started(), { force: true });
    const r = await fence({ action: "reboot", plug: "ha2" });
    expect([r.code, await waitForFile(started())]).toEqual([0, "ha2\n"]);
  });

  it("puts the secret on no command line and in no environment of the commands it runs", () => {
    const secret = fs.readFileSync(secretFile(), "utf8").trim();
    const log = fs.readFileSync(recorded(), "utf8");
    expect([log.includes("timeout 60 bash -c"), log.includes(secret)]).toEqual([true, false]);
  });
});

describe("as installed on a node", () => {
  /** What fence_install writes: the agent with the switch's client put in, run from a directory without it. */
  const installed = (file: string) => {
    const text = execFileSync("bash", ["-c", 'LAB_DIR=/nonexistent LAB_SRC="$1" && source "$1/fence/fence.sh" && fence_inline "$2"', "_", LAB, file], { encoding: "utf8" });
    const target = path.join(dir, "installed", path.basename(file));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text, { mode: 0o755 });
    return target;
  };

  it("the fence agent stands alone", async () => {
    expect((await fence({ action: "status", plug: "ha1" }, installed(AGENT))).code).toBe(0);
  });

  it("the STONITH plugin stands alone", async () => {
    const plugin = installed(path.join(LAB, "fence", "xen-ha-lab-switch"));
    expect(await run(plugin, ["status"], "", { hostlist: "ha1", ...device() })).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("is refused for a file that does not source the switch's client", () => {
    expect(() => installed(SWITCH)).toThrow();
  });
});

it("is executable, as the fencer requires of an agent", () => {
  expect(fs.statSync(AGENT).mode & 0o111).toBe(0o111);
});

