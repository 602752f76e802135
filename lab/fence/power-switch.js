#!/usr/bin/env node
"use strict";
/**
 * The lab's power switch: a tiny TCP service on 127.0.0.1 that powers the lab's QEMU nodes off
 * and on and resets them, for the nodes' STONITH plugin (xen-ha-lab-switch). See README.md.
 *
 *   power-switch.js setup   --dir DIR --run-dir RUN --node NAME [--node NAME ...]
 *   power-switch.js serve   --config FILE [--port N] [--pid-file FILE] [-- ON_COMMAND...]
 *   power-switch.js request --config FILE [--port N] ACTION NODE
 *
 * It listens on 127.0.0.1 only; the port may also come from LAB_FENCE_PORT. ON_COMMAND is run
 * with the node's name appended for `on` (the lab's is `bash lab/lab.sh start`). Plain Node.js 20,
 * no dependencies.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const { MAX_REQUEST_BYTES, formatLogLine, handleRequest } = require("./protocol");
const { qemuMachine } = require("./qemu");

/** How long a client has to send its request once connected. */
const READ_TIMEOUT_MS = 5000;
/** How long the client waits for an answer: `off` may take two exit waits of 10 s each. */
const ANSWER_TIMEOUT_MS = 60000;
const NODE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const FLAGS = { setup: ["dir", "run-dir", "node"], serve: ["config", "port", "pid-file"], request: ["config", "port"] };

class UsageError extends Error {}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const flags = { node: [] };
  const positional = [];
  let after = null;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === "--") {
      after = rest.slice(i + 1);
      break;
    }
    const m = /^--([a-z-]+)$/.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const value = rest[++i];
    if (value === undefined) throw new UsageError(`${a} needs a value`);
    if (m[1] === "node") flags.node.push(value);
    else flags[m[1]] = value;
  }
  return { command, flags, positional, onCommand: after };
}

/** Writes DIR/config.json (every time) and DIR/secret (only when missing: the nodes hold copies). */
function setup({ dir, runDir, nodes }) {
  if (!dir || !runDir || nodes.length === 0) throw new UsageError("setup needs --dir, --run-dir and at least one --node");
  for (const n of nodes) if (!NODE_NAME.test(n)) throw new UsageError(`not a node name: ${JSON.stringify(n)}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const secretFile = path.resolve(dir, "secret");
  if (!fs.existsSync(secretFile)) {
    fs.writeFileSync(secretFile, `${crypto.randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  }
  const config = {
    secretFile,
    logFile: path.resolve(dir, "power-switch.log"),
    onLogDir: path.resolve(dir),
    nodes: Object.fromEntries(
      nodes.map((n) => [n, { monitor: path.resolve(runDir, `${n}.monitor`), pidFile: path.resolve(runDir, `${n}.pid`) }]),
    ),
  };
  const file = path.resolve(dir, "config.json");
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

function loadConfig(file) {
  if (!file) throw new UsageError("--config FILE is required");
  const config = JSON.parse(fs.readFileSync(file, "utf8"));
  const problems = [];
  for (const key of ["secretFile", "logFile"]) {
    if (typeof config[key] !== "string" || !path.isAbsolute(config[key])) problems.push(`${key} must be an absolute path`);
  }
  const nodes = config.nodes && typeof config.nodes === "object" ? Object.entries(config.nodes) : [];
  if (nodes.length === 0) problems.push("nodes must name at least one node");
  for (const [name, n] of nodes) {
    if (!NODE_NAME.test(name)) problems.push(`nodes: ${JSON.stringify(name)} is not a node name`);
    for (const key of ["monitor", "pidFile"]) {
      if (!n || typeof n[key] !== "string" || !path.isAbsolute(n[key])) problems.push(`nodes.${name}.${key} must be an absolute path`);
    }
  }
  if (problems.length > 0) throw new Error(`${file}: ${problems.join("; ")}`);
  return config;
}

/** The secret, from a file only its owner can read (as ssh insists for keys). */
function readSecret(file) {
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) throw new Error(`${file} must be readable by its owner only (chmod 600 ${file})`);
  if (typeof process.getuid === "function" && st.uid !== process.getuid()) throw new Error(`${file} must belong to the user running the switch`);
  const secret = fs.readFileSync(file, "utf8").trim();
  if (!/^\S{16,}$/.test(secret)) throw new Error(`${file} must hold one word of at least 16 characters`);
  return secret;
}

function portFrom(flags) {
  const raw = flags.port ?? process.env.LAB_FENCE_PORT;
  const port = Number(raw);
  if (raw === undefined || raw === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError("give the port with --port N or LAB_FENCE_PORT");
  }
  return port;
}

/**
 * Starts the switch; resolves with the listening server. Requests are answered one at a time:
 * two requests for one node must never interleave (an `on` while an `off` waits for the exit).
 */
function startSwitch({ config, secret, machine, port, log }) {
  let queue = Promise.resolve();
  // Half-open: a client may end its side once it has sent the request, and still read the answer.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const chunks = [];
    let size = 0;
    let taken = false;
    const take = () => {
      if (taken) return;
      taken = true;
      socket.setTimeout(0);
      socket.pause();
      const text = Buffer.concat(chunks).toString("utf8");
      queue = queue
        .then(async () => {
          const { response, logLine } = await handleRequest(text, { secret, nodes: config.nodes }, machine, { peer });
          log(logLine);
          if (!socket.destroyed) socket.end(response);
        })
        .catch((err) => {
          process.stderr.write(`power switch: ${err.message}\n`);
          socket.destroy();
        });
    };
    socket.setTimeout(READ_TIMEOUT_MS, () => {
      if (taken) return;
      taken = true;
      log(formatLogLine({ time: new Date().toISOString(), peer, outcome: "ERR timeout: no complete request" }, secret));
      socket.end("ERR timeout\n");
    });
    socket.on("data", (chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      const text = Buffer.concat(chunks).toString("utf8");
      if (size > MAX_REQUEST_BYTES || text.split("\n").length > 2) take();
    });
    socket.on("end", take);
    socket.on("error", () => {});
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function appendLog(file) {
  return (line) => fs.appendFileSync(file, `${line}\n`, { mode: 0o600 });
}

async function serve(flags, onCommand) {
  const config = loadConfig(flags.config);
  const secret = readSecret(config.secretFile);
  const port = portFrom(flags);
  const log = appendLog(config.logFile);
  const machine = qemuMachine(config, { onCommand: onCommand || [], onLogDir: config.onLogDir || path.dirname(config.logFile) });
  const server = await startSwitch({ config, secret, machine, port, log });
  const address = server.address();
  log(`${new Date().toISOString()} listening on ${address.address}:${address.port} for ${Object.keys(config.nodes).join(", ")}`);
  if (flags["pid-file"]) fs.writeFileSync(flags["pid-file"], `${process.pid}\n`);
  const stop = (signal) => {
    log(`${new Date().toISOString()} stopping (${signal})`);
    if (flags["pid-file"]) fs.rmSync(flags["pid-file"], { force: true });
    server.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.stdout.write(`listening on ${address.address}:${address.port}\n`);
}

/** A client for people and scripts on the lab's machine: prints the answer; exit 0 on OK. */
function request(flags, [action, node]) {
  if (!action || !node) throw new UsageError("request needs ACTION NODE");
  const config = loadConfig(flags.config);
  const secret = readSecret(config.secretFile);
  const socket = net.createConnection(portFrom(flags), "127.0.0.1");
  let answer = "";
  socket.setEncoding("utf8");
  socket.setTimeout(ANSWER_TIMEOUT_MS, () => socket.destroy(new Error("no answer in time")));
  socket.on("connect", () => socket.write(`SECRET ${secret}\n${action} ${node}\n`));
  socket.on("data", (d) => (answer += d));
  socket.on("error", (err) => {
    process.stderr.write(`power switch: ${err.message}\n`);
    process.exitCode = 1;
  });
  socket.on("close", () => {
    if (process.exitCode) return;
    process.stdout.write(answer);
    process.exitCode = answer.startsWith("OK") ? 0 : 1;
  });
}

async function main(argv) {
  const { command, flags, positional, onCommand } = parseArgs(argv);
  const given = Object.keys(flags).filter((f) => f !== "node" || flags.node.length > 0);
  const unknown = given.filter((f) => !(FLAGS[command] || []).includes(f));
  if (unknown.length > 0) throw new UsageError(`${command}: unknown option --${unknown[0]}`);
  switch (command) {
    case "setup":
      process.stdout.write(`${setup({ dir: flags.dir, runDir: flags["run-dir"], nodes: flags.node })}\n`);
      return;
    case "serve":
      return serve(flags, onCommand);
    case "request":
      return request(flags, positional);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command ?? "")}; expected setup, serve or request`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`power switch: ${err.message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}

module.exports = { setup, loadConfig, readSecret, startSwitch };
