/** Building the cluster from bare hosts: the package's `pulumi up` against the plain script. */
import { execFile } from "node:child_process";
import * as path from "node:path";
import { createEngineStack } from "../../test/support/engine";
import { prepareBareHosts, waitGuestsAnswer } from "../lab-ops";
import type { SyncMode } from "../options";
import { clusterProgram, HEARTBEAT_KEY, type ClusterDesired } from "../program";
import { benchVms, metaVolumeMiB, plainScriptArgs } from "../vms";
import { seconds, type BenchContext, type ClusterStack } from "./context";

const PLAIN_SCRIPT = path.join(__dirname, "..", "plain", "build.sh");

/**
 * `pulumi up` of the whole cluster from bare hosts, until every guest answers ping; recorded when
 * `record`. The stack stays for the next phases.
 */
export async function packageBuild(ctx: BenchContext, vms: number, record: boolean): Promise<ClusterStack> {
  await prepareBareHosts();
  const desired: ClusterDesired = { vms: benchVms(vms) };
  const stack = await createEngineStack({ program: clusterProgram(desired), projectName: "bench-cluster", onOutput: engineLog });
  const at = new Date().toISOString();
  const started = Date.now();
  const up = await stack.up();
  const upSeconds = seconds(started);
  await waitGuestsAnswer(desired.vms);
  if (!record) return { stack, desired };
  ctx.recorder.sample({
    phase: "build",
    subject: "pulumi up",
    role: "package",
    params: { vms },
    at,
    metrics: { wallSeconds: seconds(started), upSeconds, resources: Object.values(up.changes).reduce((n, c) => n + (c ?? 0), 0) },
  });
  return { stack, desired };
}

/** The plain script from bare hosts, until every guest answers ping; recorded when `record`. */
export async function plainBuild(ctx: BenchContext, vms: number, sync: SyncMode, record: boolean): Promise<void> {
  await prepareBareHosts();
  const guests = benchVms(vms);
  const at = new Date().toISOString();
  const started = Date.now();
  await runPlainScript(["--sync", sync, "--meta-size", `${metaVolumeMiB(guests)}M`, ...plainScriptArgs(guests)]);
  const scriptSeconds = seconds(started);
  await waitGuestsAnswer(guests);
  if (record) ctx.recorder.sample({ phase: "build", subject: "plain script", role: "baseline", params: { vms, sync }, at, metrics: { wallSeconds: seconds(started), scriptSeconds } });
}

function runPlainScript(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile("bash", [PLAIN_SCRIPT, ...args], { env: { ...process.env, PLAIN_HEARTBEAT_KEY: HEARTBEAT_KEY }, maxBuffer: 64 << 20, timeout: 60 * 60_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`the plain script failed: ${err.message}\n${stderr.split("\n").slice(-30).join("\n")}`));
      else resolve();
    });
    child.stderr?.on("data", (d: Buffer) => process.stderr.write(d));
  });
}

/** The engine's output, to stderr so the bench's own lines stand out on stdout. */
export function engineLog(text: string): void {
  process.stderr.write(text);
}
