import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { handleRequest, parseRequest, secretsEqual, type Machine } from "../../lab/fence/protocol";
import { hmpOutput, qemuMachine, qemuPid } from "../../lab/fence/qemu";
import { startFakeQemu, type FakeQemu } from "../../lab/fence/fake-qemu";
import { listeningPort, waitForFile } from "../support/switch-process";

const SWITCH = path.resolve(__dirname, "../../lab/fence/power-switch.js");
const SECRET = "0123456789abcdef0123456789abcdef";
const NODES = { ha1: {}, ha2: {} };
const request = (action: string, node: string, secret = SECRET) => `SECRET ${secret}\n${action} ${node}\n`;

jest.setTimeout(30000);

/** A machine whose nodes are as the test says, recording every call. */
function fakeMachine(state: { alive?: Record<string, boolean>; hmp?: Record<string, string>; exitsAfter?: "quit" | "kill" | "never" } = {}) {
  const calls: string[] = [];
  const alive: Record<string, boolean> = { ha1: true, ha2: false, ...state.alive };
  const machine: Machine = {
    async isAlive(node) {
      return alive[node] ?? false;
    },
    async hmp(node, command) {
      calls.push(`hmp ${node} ${command}`);
      return state.hmp?.[command] ?? (command === "info status" ? "VM status: running\n" : "");
    },
    async waitExit(node) {
      calls.push(`waitExit ${node}`);
      const exits = state.exitsAfter ?? "quit";
      return exits === "quit" || (exits === "kill" && calls.includes(`kill ${node}`));
    },
    async kill(node) {
      calls.push(`kill ${node}`);
    },
    async start(node) {
      calls.push(`start ${node}`);
      return "started";
    },
  };
  return { machine, calls };
}

async function answer(text: string, machine: Machine) {
  return handleRequest(text, { secret: SECRET, nodes: NODES }, machine, { peer: "127.0.0.1:40000", now: () => new Date("2026-01-02T03:04:05Z") });
}

describe("parsing a request", () => {
  it("reads the secret, the action in any case and the node", () => {
    expect(parseRequest(`SECRET ${SECRET}\r\nRESET ha1\r\n`)).toEqual({ ok: true, secret: SECRET, action: "reset", node: "ha1" });
  });

  it.each([
    ["no secret line", "RESET ha1\n"],
    ["no node", `SECRET ${SECRET}\nRESET\n`],
    ["a third line", `SECRET ${SECRET}\nRESET ha1\nOFF ha2\n`],
    ["an unfinished second line", `SECRET ${SECRET}\nRESET ha1`],
    ["nothing", ""],
    ["too many bytes", `SECRET ${"x".repeat(600)}\nRESET ha1\n`],
  ])("refuses %s", (_what, text) => {
    expect(parseRequest(text).ok).toBe(false);
  });
});

describe("comparing secrets", () => {
  it("accepts the same secret", () => {
    expect(secretsEqual(SECRET, SECRET)).toBe(true);
  });

  it.each([SECRET.slice(0, -1), `${SECRET}0`, SECRET.toUpperCase(), ""])("refuses %j", (given) => {
    expect(secretsEqual(given, SECRET)).toBe(false);
  });
});

describe("answering requests (fake machine)", () => {
  it("reports a running node as on, from QEMU's `info status`", async () => {
    const { machine, calls } = fakeMachine();
    expect((await answer(request("status", "ha1"), machine)).response).toBe("OK on\n");
    expect(calls).toEqual(["hmp ha1 info status"]);
  });

  it("reports a node whose QEMU is paused as off", async () => {
    const { machine } = fakeMachine({ hmp: { "info status": "VM status: paused\n" } });
    expect((await answer(request("status", "ha1"), machine)).response).toBe("OK off\n");
  });

  it("reports a node without a QEMU process as off without touching its monitor", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("status", "ha2"), machine)).response, calls]).toEqual(["OK off\n", []]);
  });

  it("resets a running node with system_reset", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("reset", "ha1"), machine)).response, calls]).toEqual(["OK reset\n", ["hmp ha1 system_reset"]]);
  });

  it("answers a reset of a node that is off with OK off, and sends nothing", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("reset", "ha2"), machine)).response, calls]).toEqual(["OK off\n", []]);
  });

  it("fails a reset that QEMU complains about, with QEMU's words", async () => {
    const { machine } = fakeMachine({ hmp: { system_reset: "Error: no machine\n" } });
    expect((await answer(request("reset", "ha1"), machine)).response).toBe("ERR reset failed: system_reset: Error: no machine\n");
  });

  it("powers a node off with quit and waits for its QEMU to exit", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("off", "ha1"), machine)).response, calls]).toEqual(["OK off\n", ["hmp ha1 quit", "waitExit ha1"]]);
  });

  it("kills a QEMU that quit did not end", async () => {
    const { machine, calls } = fakeMachine({ exitsAfter: "kill" });
    expect([(await answer(request("off", "ha1"), machine)).response, calls]).toEqual([
      "OK off\n",
      ["hmp ha1 quit", "waitExit ha1", "kill ha1", "waitExit ha1"],
    ]);
  });

  it("fails an off when QEMU survives even SIGKILL", async () => {
    const { machine } = fakeMachine({ exitsAfter: "never" });
    expect((await answer(request("off", "ha1"), machine)).response).toMatch(/^ERR off failed: /);
  });

  it("runs the start command for on when the node is off", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("on", "ha2"), machine)).response, calls]).toEqual(["OK starting\n", ["start ha2"]]);
  });

  it("leaves a running node alone on on", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("on", "ha1"), machine)).response, calls]).toEqual(["OK on\n", []]);
  });

  it("refuses an unknown node and touches nothing", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("reset", "ha3"), machine)).response, calls]).toEqual(["ERR unknown node (expected ha1, ha2)\n", []]);
  });

  it("refuses an unknown action and touches nothing", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("cycle", "ha1"), machine)).response, calls]).toEqual(["ERR unknown action (expected status, on, off, reset)\n", []]);
  });

  it("refuses a wrong secret before it looks at the node or the action", async () => {
    const { machine, calls } = fakeMachine();
    expect([(await answer(request("cycle", "ha3", "guess"), machine)).response, calls]).toEqual(["ERR unauthorized\n", []]);
  });

  it("logs time, peer, node, action and outcome on one line", async () => {
    const { machine } = fakeMachine();
    expect((await answer(request("reset", "ha1"), machine)).logLine).toBe(
      '2026-01-02T03:04:05.000Z peer=127.0.0.1:40000 node=ha1 action=reset outcome="OK reset (system_reset)"',
    );
  });

  it("logs a refused secret as unauthorized", async () => {
    const { machine } = fakeMachine();
    expect((await answer(request("reset", "ha1", "guess"), machine)).logLine).toContain('outcome="ERR unauthorized: wrong secret"');
  });

  it("never writes the secret to the log, whatever the client sends", async () => {
    const { machine } = fakeMachine();
    const texts = [
      request("reset", "ha1"),
      request("status", SECRET),
      request(SECRET, "ha1"),
      request("reset", "ha1", `${SECRET}x`),
      `SECRET ${SECRET}\n`,
      `SECRET ${SECRET}\nRESET ha1\n${SECRET}\n`,
    ];
    const lines = await Promise.all(texts.map(async (t) => (await answer(t, machine)).logLine));
    expect(lines.filter((l) => l.includes(SECRET))).toEqual([]);
  });

  it("does not let a client write its own lines into the log", async () => {
    const { machine } = fakeMachine();
    const { logLine } = await answer(`SECRET ${SECRET}\nstatus ha1\u001b[2K\n`, machine);
    expect(logLine).not.toMatch(/[\u0000-\u001f]/);
  });
});

describe("QEMU's monitor, as captured from QEMU 7.2", () => {
  const banner = "QEMU 7.2.22 monitor - type 'help' for more information\r\n(qemu) ";
  const typed = (line: string) => {
    let out = line.slice(0, 1);
    for (let i = 2; i <= line.length; i++) out += `\u001b[K${"\u001b[D".repeat(i - 1)}${line.slice(0, i)}`;
    return `${out}\u001b[K\r\n`;
  };

  it("reads `info status` past the banner and the echo", () => {
    expect(hmpOutput(`${banner}${typed("info status")}VM status: running\r\n(qemu) `)).toBe("VM status: running\n");
  });

  it("reads system_reset's silence as no output", () => {
    expect(hmpOutput(`${banner}${typed("system_reset")}(qemu) `)).toBe("");
  });

  it("reads QEMU's complaint about a command it does not know", () => {
    expect(hmpOutput(`${banner}${typed("bogus")}unknown command: 'bogus'\r\n(qemu) `)).toBe("unknown command: 'bogus'\n");
  });
});

describe("finding a node's QEMU process", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fence-pid-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("does not take a live process without `-name NODE,` for the node's QEMU", () => {
    fs.writeFileSync(path.join(dir, "ha1.pid"), `${process.pid}\n`);
    expect(qemuPid("ha1", path.join(dir, "ha1.pid"))).toBeNull();
  });

  it("finds a process whose command line names the node", async () => {
    const fake = await startFakeQemu({ runDir: dir, node: "ha2" });
    try {
      expect(qemuPid("ha2", fake.pidFile)).toBe(fake.pid);
    } finally {
      await fake.close();
    }
  });

  it("follows a QEMU that removed its pid file until the process is gone", async () => {
    const fake = await startFakeQemu({ runDir: dir, node: "ha2" });
    const machine = qemuMachine({ nodes: { ha2: { monitor: fake.monitor, pidFile: fake.pidFile } } });
    try {
      await machine.isAlive("ha2");
      fs.rmSync(fake.pidFile);
      expect(await machine.waitExit("ha2", 300)).toBe(false);
    } finally {
      await fake.close();
    }
    expect(await machine.waitExit("ha2", 5000)).toBe(true);
  });

  it("does not take ha1's QEMU for ha10's", async () => {
    const fake = await startFakeQemu({ runDir: dir, node: "ha1" });
    try {
      expect(qemuPid("ha10", fake.pidFile)).toBeNull();
    } finally {
      await fake.close();
    }
  });
});

/** The switch as lab.sh runs it: `setup`, then `serve` in its own process. */
describe("the power switch on loopback", () => {
  let dir: string;
  let configFile: string;
  let serve: ChildProcess;
  let port: number;
  let ha1: FakeQemu;
  const marker = () => path.join(dir, "started");
  const log = () => fs.readFileSync(path.join(dir, "fence", "power-switch.log"), "utf8");
  const secret = () => fs.readFileSync(path.join(dir, "fence", "secret"), "utf8").trim();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "fence-switch-"));
    const setup = spawnSync(process.execPath, [SWITCH, "setup", "--dir", path.join(dir, "fence"), "--run-dir", path.join(dir, "run"), "--node", "ha1", "--node", "ha2"], { encoding: "utf8" });
    if (setup.status !== 0) throw new Error(`setup failed: ${setup.stderr}`);
    configFile = setup.stdout.trim();
    ha1 = await startFakeQemu({ runDir: path.join(dir, "run"), node: "ha1" });
    // The start command gets the node's name appended; this one writes it down.
    serve = spawn(process.execPath, [SWITCH, "serve", "--config", configFile, "--port", "0", "--", "sh", "-c", 'echo "$1" >"$0"', marker()]);
    port = await listeningPort(serve);
  });

  afterAll(async () => {
    serve?.kill();
    await ha1?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("setup makes a secret only its owner can read", () => {
    expect(fs.statSync(path.join(dir, "fence", "secret")).mode & 0o777).toBe(0o600);
  });

  it("setup keeps an existing secret (the nodes hold copies of it)", () => {
    const before = secret();
    spawnSync(process.execPath, [SWITCH, "setup", "--dir", path.join(dir, "fence"), "--run-dir", path.join(dir, "run"), "--node", "ha1", "--node", "ha2"]);
    expect(secret()).toBe(before);
  });

  it("reports the running node on and the node without QEMU off", async () => {
    expect([await ask(port, request("status", "ha1", secret())), await ask(port, request("status", "ha2", secret()))]).toEqual(["OK on\n", "OK off\n"]);
  });

  it("resets a node through its monitor with system_reset", async () => {
    expect([await ask(port, request("reset", "ha1", secret())), ha1.commands.at(-1)]).toEqual(["OK reset\n", "system_reset"]);
  });

  it("answers a wrong secret with ERR and logs it without the secret", async () => {
    const reply = await ask(port, request("reset", "ha1", "not-the-secret"));
    expect([reply, log().trim().split("\n").at(-1)]).toEqual([
      "ERR unauthorized\n",
      expect.stringMatching(/ peer=127\.0\.0\.1:\d+ node=ha1 action=reset outcome="ERR unauthorized: wrong secret"$/),
    ]);
  });

  it("answers a client that closes without a request, and logs it", async () => {
    expect(await ask(port, "")).toBe("ERR malformed request\n");
  });

  it("runs the start command with the node's name for on", async () => {
    expect(await ask(port, request("on", "ha2", secret()))).toBe("OK starting\n");
    expect(await waitForFile(marker())).toBe("ha2\n");
  });

  it("powers a node off: its QEMU process is gone", async () => {
    expect(await ask(port, request("off", "ha1", secret()))).toBe("OK off\n");
    await ha1.exited;
    expect(qemuPid("ha1", ha1.pidFile)).toBeNull();
  });

  it("writes one log line per request, none of them with the secret", () => {
    const lines = log().trim().split("\n");
    expect([lines.filter((l) => l.includes(" peer=")).length >= 7, lines.some((l) => l.includes(secret()))]).toEqual([true, false]);
  });

  it("refuses to serve with a secret others can read", () => {
    const loose = path.join(dir, "loose.json");
    const config = JSON.parse(fs.readFileSync(configFile, "utf8"));
    fs.writeFileSync(path.join(dir, "loose-secret"), `${SECRET}\n`, { mode: 0o644 });
    fs.writeFileSync(loose, JSON.stringify({ ...config, secretFile: path.join(dir, "loose-secret") }));
    const run = spawnSync(process.execPath, [SWITCH, "serve", "--config", loose, "--port", "0"], { encoding: "utf8", timeout: 10000 });
    expect([run.status, run.stderr]).toEqual([1, expect.stringContaining("readable by its owner only")]);
  });
});

/** Sends a request as the plugin does and resolves with the whole answer. */
function ask(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(port, "127.0.0.1");
    let reply = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.end(text));
    socket.on("data", (d) => (reply += d));
    socket.on("close", () => resolve(reply));
    socket.on("error", reject);
  });
}

