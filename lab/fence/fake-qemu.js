"use strict";
/**
 * A stand-in for one lab node's QEMU, to try the power switch and the STONITH plugin without the
 * lab, and for the unit tests: a process whose command line carries `-name NODE,…` (which is how
 * the switch, like lab/lib/node.sh, recognises a node's QEMU), its pid file, and an HMP monitor
 * socket that answers as QEMU 7.2's does (banner, prompt, the echo of what is typed drawn with
 * terminal escapes, output, prompt). Every command it receives is recorded.
 *
 *   node lab/fence/fake-qemu.js RUN_DIR NODE     runs until Ctrl-C
 */
const fs = require("node:fs");
const net = require("node:net");
const path = require("node:path");
const { spawn } = require("node:child_process");

const BANNER = "QEMU 7.2.22 monitor - type 'help' for more information\r\n";
const PROMPT = "(qemu) ";

/** How QEMU's readline echoes a typed line: each keystroke redraws the line so far. */
function echoOf(line) {
  let out = line.slice(0, 1);
  for (let i = 2; i <= line.length; i++) out += `\x1b[K${"\x1b[D".repeat(i - 1)}${line.slice(0, i)}`;
  return `${out}\x1b[K\r\n`;
}

/**
 * Starts a fake QEMU for `node` with its pid file and monitor socket in `runDir` (the names
 * lab/lib/node.sh uses: NODE.pid, NODE.monitor).
 */
async function startFakeQemu({ runDir, node }) {
  fs.mkdirSync(runDir, { recursive: true });
  const pidFile = path.join(runDir, `${node}.pid`);
  const monitor = path.join(runDir, `${node}.monitor`);
  // The stand-in process ends by itself when its parent goes, so a crashed test leaves nothing.
  const keepAlive = `setInterval(() => { try { process.kill(${process.pid}, 0); } catch { process.exit(0); } }, 500);`;
  const child = spawn(process.execPath, ["-e", keepAlive, "--", "-name", `${node},process=fake-${node}`], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));
  fs.writeFileSync(pidFile, `${child.pid}\n`);

  const fake = { node, pid: child.pid, pidFile, monitor, commands: [], vmStatus: "running", exited, close };
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.setEncoding("utf8");
    socket.write(BANNER + PROMPT);
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, "");
        pending = pending.slice(nl + 1);
        fake.commands.push(line);
        socket.write(echoOf(line));
        if (line === "quit") {
          // QEMU exits at once: the monitor goes with the process, and so does its pid file.
          socket.destroy();
          void close();
          return;
        }
        socket.write(answer(line) + PROMPT);
      }
    });
  });
  const answer = (line) => {
    if (line === "info status") return `VM status: ${fake.vmStatus}\r\n`;
    if (line === "system_reset" || line === "") return "";
    return `unknown command: '${line.split(" ")[0]}'\r\n`;
  };
  fs.rmSync(monitor, { force: true });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(monitor, resolve);
  });

  let closing;
  function close() {
    closing ??= (async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
      fs.rmSync(pidFile, { force: true });
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    })();
    return closing;
  }
  return fake;
}

if (require.main === module) {
  const [runDir, node] = process.argv.slice(2);
  if (!runDir || !node) {
    process.stderr.write("usage: fake-qemu.js RUN_DIR NODE\n");
    process.exit(2);
  }
  startFakeQemu({ runDir: path.resolve(runDir), node }).then((fake) => {
    process.stdout.write(`fake ${node}: pid ${fake.pid}, monitor ${fake.monitor}\n`);
    const stop = () => fake.close().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    fake.exited.then(() => {
      process.stdout.write(`fake ${node}: powered off (commands: ${fake.commands.join(", ")})\n`);
      process.exit(0);
    });
  });
}

module.exports = { BANNER, PROMPT, echoOf, startFakeQemu };
