"use strict";
/**
 * The power switch's hands: finds a node's QEMU process the way lab/lib/node.sh does (pid file,
 * then `-name NODE,` on its command line), talks to its HMP monitor socket, and runs the lab's
 * start command for `on`.
 */
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const { spawn } = require("node:child_process");

const PROMPT = "(qemu) ";
/** Connect, banner, command and answer together; QEMU answers in milliseconds even under TCG. */
const HMP_TIMEOUT_MS = 5000;

/** Whether process `pid` is the QEMU of `node`: its command line has `-name NODE` or `-name NODE,…`. */
function isQemuOf(pid, node, procDir = "/proc") {
  let args;
  try {
    args = fs.readFileSync(path.join(procDir, String(pid), "cmdline"), "utf8").split("\0");
  } catch {
    return false;
  }
  const i = args.indexOf("-name");
  const name = i >= 0 ? args[i + 1] || "" : "";
  return name === node || name.startsWith(`${node},`);
}

/** Reads a node's QEMU pid, or null when no QEMU of that node runs (a stale pid file is not one). */
function qemuPid(node, pidFile, procDir = "/proc") {
  let pid;
  try {
    pid = Number.parseInt(fs.readFileSync(pidFile, "utf8").trim(), 10);
  } catch {
    return null;
  }
  return Number.isInteger(pid) && pid > 0 && isQemuOf(pid, node, procDir) ? pid : null;
}

/**
 * The output of one HMP command from what the monitor sent: the banner and its prompt, the echo
 * of the command (drawn with terminal escapes), the output, and the next prompt.
 */
function hmpOutput(raw) {
  const clean = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
  const first = clean.indexOf(PROMPT);
  if (first < 0) return "";
  let body = clean.slice(first + PROMPT.length);
  if (body.endsWith(PROMPT)) body = body.slice(0, -PROMPT.length);
  const echoEnd = body.indexOf("\n");
  return echoEnd < 0 ? "" : body.slice(echoEnd + 1);
}

/** Whether the text holds the banner's prompt and, after it, the prompt that follows an answer. */
function answered(raw) {
  const clean = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
  const first = clean.indexOf(PROMPT);
  return first >= 0 && clean.endsWith(PROMPT) && clean.length > first + PROMPT.length;
}

/** Runs one HMP command over a monitor socket and resolves with its output. */
function hmpCommand(socketPath, command, timeoutMs = HMP_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let raw = "";
    let sent = false;
    let settled = false;
    const settle = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      fn(value);
    };
    const timer = setTimeout(() => settle(reject, new Error(`monitor ${socketPath} did not answer ${command} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      raw += chunk;
      if (!sent) {
        if (raw.includes(PROMPT)) {
          sent = true;
          raw = raw.slice(raw.indexOf(PROMPT));
          socket.write(`${command}\n`);
        }
      } else if (answered(raw)) {
        settle(resolve, hmpOutput(raw));
      }
    });
    socket.on("error", (err) => settle(reject, new Error(`monitor ${socketPath}: ${err.message}`)));
    socket.on("close", () => settle(reject, new Error(`monitor ${socketPath} closed before answering ${command}`)));
  });
}

/**
 * The real machine behind the protocol (see protocol.d.ts for the contract).
 * @param {{ nodes: Record<string, { monitor: string, pidFile: string }> }} config
 * @param {{ onCommand?: string[], onLogDir?: string, procDir?: string, hmpTimeoutMs?: number }} [options]
 */
function qemuMachine(config, options = {}) {
  const starting = new Map();
  const seen = new Map();
  const nodeOf = (node) => {
    const n = config.nodes[node];
    if (!n) throw new Error(`unknown node ${node}`);
    return n;
  };
  // QEMU removes its pid file on the way out, before the process is gone (and with it the locks
  // on the node's disks): the last pid seen counts for as long as that process is the node's QEMU.
  const pidOf = (node) => {
    const pid = qemuPid(node, nodeOf(node).pidFile, options.procDir);
    if (pid !== null) seen.set(node, pid);
    const last = seen.get(node);
    if (pid === null && last !== undefined && isQemuOf(last, node, options.procDir)) return last;
    return pid;
  };
  return {
    async isAlive(node) {
      return pidOf(node) !== null;
    },
    hmp(node, command) {
      return hmpCommand(nodeOf(node).monitor, command, options.hmpTimeoutMs);
    },
    async waitExit(node, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (pidOf(node) !== null) {
        if (Date.now() >= deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    },
    async kill(node) {
      const pid = pidOf(node);
      if (pid !== null) process.kill(pid, "SIGKILL");
    },
    async start(node) {
      if (!options.onCommand || options.onCommand.length === 0) throw new Error("this switch has no on-command (serve -- COMMAND...)");
      if (starting.has(node)) return "already-starting";
      const logFile = path.join(options.onLogDir || ".", `on-${node}.log`);
      const out = fs.openSync(logFile, "a", 0o600);
      try {
        const [cmd, ...args] = options.onCommand;
        // Detached and unreferenced: the boot outlives this request, and the switch's restart.
        const child = spawn(cmd, [...args, node], { detached: true, stdio: ["ignore", out, out] });
        starting.set(node, child);
        child.on("exit", () => starting.delete(node));
        child.on("error", (err) => {
          starting.delete(node);
          fs.appendFileSync(logFile, `power switch: cannot run ${cmd}: ${err.message}\n`);
        });
        child.unref();
      } finally {
        fs.closeSync(out);
      }
      return "started";
    },
  };
}

module.exports = { PROMPT, isQemuOf, qemuPid, hmpOutput, hmpCommand, qemuMachine };
