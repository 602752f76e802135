/**
 * The lab's power switch on loopback with two fake QEMUs behind it, and wrappers that record the
 * commands a fence agent or STONITH plugin runs: what the tests of both talk to.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startFakeQemu, type FakeQemu } from "../../lab/fence/fake-qemu";
import { listeningPort } from "./switch-process";

const SWITCH = path.resolve(__dirname, "../../lab/fence/power-switch.js");
/** The commands the agent and the plugin run, each wrapped to record its arguments and environment. */
const WRAPPED = ["timeout", "bash", "cat", "head", "logger", "find", "tr", "sleep"];

export interface SwitchFixture {
  dir: string;
  port: number;
  ha1: FakeQemu;
  ha2: FakeQemu;
  /** A directory to put first on PATH: the wrapped commands append to `recorded`. */
  wrappers: string;
  secretFile: string;
  recorded: string;
  /** Where the switch writes the node it starts again. */
  started: string;
  close(): Promise<void>;
}

/** `startedLog`: whether the switch appends each started node to `started` or keeps only the last. */
export async function startSwitchFixture(prefix: string, startedLog: "append" | "last"): Promise<SwitchFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const recorded = path.join(dir, "commands.log");
  const started = path.join(dir, "started");
  const setup = spawnSync(process.execPath, [SWITCH, "setup", "--dir", path.join(dir, "fence"), "--run-dir", path.join(dir, "run"), "--node", "ha1", "--node", "ha2"], { encoding: "utf8" });
  if (setup.status !== 0) throw new Error(`setup failed: ${setup.stderr}`);
  const ha1 = await startFakeQemu({ runDir: path.join(dir, "run"), node: "ha1" });
  const ha2 = await startFakeQemu({ runDir: path.join(dir, "run"), node: "ha2" });
  const write = startedLog === "append" ? 'echo "$1" >>"$0"' : 'echo "$1" >"$0"';
  const serve: ChildProcess = spawn(process.execPath, [SWITCH, "serve", "--config", setup.stdout.trim(), "--port", "0", "--", "sh", "-c", write, started]);
  const port = await listeningPort(serve);
  const wrappers = path.join(dir, "bin");
  fs.mkdirSync(wrappers);
  for (const name of WRAPPED) {
    const real = spawnSync("sh", ["-c", 'command -v "$1"', "sh", name], { encoding: "utf8" }).stdout.trim();
    fs.writeFileSync(path.join(wrappers, name), `#!/bin/sh\n{ printf '%s\\n' "${name} $*"; env; } >>'${recorded}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  }
  return {
    dir,
    port,
    ha1,
    ha2,
    wrappers,
    secretFile: path.join(dir, "fence", "secret"),
    recorded,
    started,
    async close() {
      serve.kill();
      await Promise.all([ha1.close(), ha2.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
