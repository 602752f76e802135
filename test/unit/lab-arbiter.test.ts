import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The quorum arbiter's gate (lab/arbiter/gate) as QEMU's guestfwd runs it, with the connection on
 * its stdin and stdout, in front of a stand-in for corosync-qnetd on loopback; and `lab.sh
 * arbiter`'s functions (lab/arbiter/arbiter.sh) that cut a node off and let it through again.
 */
const LAB = path.resolve(__dirname, "../../lab");

jest.setTimeout(30000);

let labDir: string;
let arbiterDir: string;
let server: net.Server;
let port: number;
/** What the stand-in received, per connection, and the sockets it holds. */
const received: string[] = [];
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  labDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-arbiter-"));
  arbiterDir = path.join(labDir, "arbiter");
  fs.mkdirSync(arbiterDir);
  fs.copyFileSync(path.join(LAB, "arbiter", "gate"), path.join(arbiterDir, "gate"));
  // An echo service that records what each connection sent, like qnetd answering a client.
  server = net.createServer((socket) => {
    const index = received.push("") - 1;
    sockets.add(socket);
    socket.on("data", (d) => {
      received[index] += d.toString();
      socket.write(d);
    });
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(labDir, { recursive: true, force: true });
});

/** The gate for NODE, as QEMU spawns it for a node's connection. */
function gate(node: string): { child: ChildProcessWithoutNullStreams; exited: Promise<number | null>; output: () => string } {
  const index = node === "ha1" ? 1 : 2;
  const child = spawn("bash", [path.join(arbiterDir, "gate"), node, String(port), `127.0.1.${index}`]);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, exited, output: () => out };
}

/** Runs `lab.sh arbiter ARGS…`'s function with the lab dir and qnetd port of this test. */
function arbiter(...args: string[]): Promise<string> {
  const script = [
    "set -euo pipefail",
    'LAB_SRC="$1"; shift',
    'source "$LAB_SRC/lib/common.sh"; source "$LAB_SRC/lib/node.sh"; source "$LAB_SRC/fence/fence.sh"; source "$LAB_SRC/arbiter/arbiter.sh"',
    '"arbiter_$1" "${@:2}"',
  ].join("\n");
  return new Promise((resolve, reject) => {
    execFile("bash", ["-c", script, "_", LAB, ...args], { env: { ...process.env, XEN_HA_LAB_DIR: labDir, LAB_QNETD_PORT: String(port) } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout + stderr),
    );
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the gate", () => {
  it("carries a node's connection to the arbiter both ways, from the node's own source address", async () => {
    const sources: string[] = [];
    server.once("connection", (s) => sources.push(s.remoteAddress ?? ""));
    const g = gate("ha2");
    g.child.stdin.write("preinit\n");
    await until(() => g.output() === "preinit\n", "the echo through the gate");
    g.child.stdin.end();
    await g.exited;
    expect(sources).toEqual(["127.0.1.2"]);
  });

  it("writes nothing of its own to the connection, and logs each connection beside it", async () => {
    const g = gate("ha1");
    g.child.stdin.end("x");
    await g.exited;
    expect([g.output(), fs.readFileSync(path.join(arbiterDir, "gate.log"), "utf8")]).toEqual(["x", expect.stringMatching(/ha1: connection \d+ to 127\.0\.0\.1:\d+\n/)]);
  });
});

describe("cutting a node off the arbiter", () => {
  afterEach(async () => {
    await arbiter("restore", "ha1");
    await arbiter("restore", "ha2");
  });

  it("drops the node's established connection at once", async () => {
    const g = gate("ha1");
    g.child.stdin.write("hello\n");
    await until(() => g.output() === "hello\n", "the connection to carry data");
    const log = await arbiter("cut", "ha1");
    expect([await g.exited, log]).toEqual([expect.anything(), expect.stringContaining("ha1 cut off the quorum arbiter (1 connection(s) dropped)")]);
  });

  it("refuses the node's new connections: they close at once, and nothing reaches the arbiter", async () => {
    await arbiter("cut", "ha1");
    const before = received.length;
    const g = gate("ha1");
    g.child.stdin.write("preinit\n");
    expect([await g.exited, g.output(), received.length]).toEqual([0, "", before]);
  });

  it("leaves the other node's connections alone", async () => {
    const g = gate("ha2");
    g.child.stdin.write("still here\n");
    await until(() => g.output() === "still here\n", "ha2's connection to carry data");
    await arbiter("cut", "ha1");
    g.child.stdin.write("and now\n");
    await until(() => g.output() === "still here\nand now\n", "ha2's connection to go on");
    g.child.stdin.end();
    await g.exited;
  });

  it("lets the node through again once restored", async () => {
    await arbiter("cut", "ha1");
    await arbiter("restore", "ha1");
    const g = gate("ha1");
    g.child.stdin.write("back\n");
    await until(() => g.output() === "back\n", "the restored node's connection to carry data");
    g.child.stdin.end();
    await g.exited;
  });

  it("reports each node's state and the connections it has", async () => {
    const g = gate("ha2");
    g.child.stdin.write("x");
    await until(() => g.output() === "x", "ha2's connection");
    await arbiter("cut", "ha1");
    const report = await arbiter("status");
    g.child.stdin.end();
    await g.exited;
    expect(report.split("\n").slice(1, 3)).toEqual(["  ha1: cut, 0 connection(s)", "  ha2: open, 1 connection(s)"]);
  });
});

describe("the node's guestfwd", () => {
  it("runs the gate from the lab dir for each connection to 10.0.2.101:5403, quoted as QEMU splits it", async () => {
    expect(await arbiter("guestfwd", "ha2")).toBe(`,guestfwd=tcp:10.0.2.101:5403-cmd:bash '${arbiterDir}/gate' ha2 ${port} 127.0.1.2`);
  });
});

it("the gate is executable", () => {
  expect(fs.statSync(path.join(LAB, "arbiter", "gate")).mode & 0o111).toBe(0o111);
});
