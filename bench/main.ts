/**
 * `npm run bench`: the package against doing the steps directly, on the lab, side by side in one
 * run. See bench/README.md for what is measured and how.
 */
import * as path from "node:path";
import { engineAvailable } from "../test/support/engine";
import { LAB_NODES, labConnection } from "../test/support/lab";
import { parseArgs, planOf, USAGE } from "./options";
import { failoverRuns } from "./phases/failover";
import { migrationPhase } from "./phases/migration";
import { noopPhase } from "./phases/noop";
import { packageBuild, plainBuild } from "./phases/build";
import { volumePhase } from "./phases/volume";
import type { BenchContext, ClusterStack } from "./phases/context";
import { labAccelerator, machineInfo, Recorder } from "./recorder";
import type { Phase } from "./samples";
import { benchVms } from "./vms";

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const options = parseArgs(process.argv.slice(2), path.join(__dirname, "results"));
  const plan = planOf(options);
  const engine = engineAvailable();
  if (!engine.ok) throw new Error(`the Pulumi engine is not available: ${engine.reason}`);
  const recorder = new Recorder(options.outDir, options.quick, machineInfo(labDescription()), LAB_NODES);
  const ctx: BenchContext = { plan, recorder };
  const has = (p: Phase) => plan.phases.includes(p);
  const step = async (phase: Phase, subject: string, params: Record<string, string | number>, fn: () => Promise<void>): Promise<boolean> => {
    try {
      await fn();
      return true;
    } catch (err) {
      recorder.failure(phase, subject, params, err);
      return false;
    }
  };
  const started = Date.now();
  const vm0 = benchVms(1)[0]!;

  // Larger clusters first: each build starts from bare hosts, and the last one below stays.
  if (has("build")) {
    for (const vms of plan.buildVms.filter((n) => n !== 1)) {
      for (const sync of plan.plainSyncs) await step("build", "plain script", { vms, sync }, () => plainBuild(ctx, vms, sync, true));
      await step("build", "pulumi up", { vms }, async () => (await packageBuild(ctx, vms, true)).stack.dispose({ destroy: false, removeStack: false }));
    }
  }

  // The plain cluster with one guest, skip-sync last: its failovers run on it.
  const plainSyncs = has("build") ? [...plan.plainSyncs].sort((a, b) => Number(a === "skip") - Number(b === "skip")) : has("failover") ? (["skip"] as const) : [];
  let plainReady = false;
  for (const sync of plainSyncs) plainReady = await step("build", "plain script", { vms: 1, sync }, () => plainBuild(ctx, 1, sync, has("build")));
  if (has("failover")) {
    if (plainReady && plainSyncs[plainSyncs.length - 1] === "skip") await failoverRuns(ctx, "plain Heartbeat (recipe)", "baseline", vm0, false);
    else recorder.failure("failover", "plain Heartbeat (recipe)", {}, new Error("the plain cluster was not built"));
  }

  // The package's cluster with one guest, then everything measured on it.
  let cluster: ClusterStack | undefined;
  if (plan.phases.some((p) => p !== "build") || plan.buildVms.includes(1)) {
    await step("build", "pulumi up", { vms: 1 }, async () => void (cluster = await packageBuild(ctx, 1, has("build"))));
  }
  if (cluster) {
    const c = cluster;
    try {
      if (has("noop")) await step("noop", "pulumi preview/refresh/up", { vms: 1 }, () => noopPhase(ctx, c, 1));
      if (has("migration")) await step("migration", "moves", {}, () => migrationPhase(ctx, c));
      if (has("volume")) await step("volume", "volumes", {}, () => volumePhase(ctx));
      const more = has("noop") ? plan.noopVms.filter((n) => n > 1) : [];
      // From wherever the migration phase left the guest (its home moves with it).
      if (has("failover")) await failoverRuns(ctx, "package (Heartbeat and its resource scripts)", "package", c.desired.vms[0]!, more.length > 0);
      for (const vms of more) await step("noop", "pulumi preview/refresh/up", { vms }, () => noopPhase(ctx, c, vms));
    } finally {
      await c.stack.dispose({ destroy: false, removeStack: false });
    }
  }

  const files = recorder.finish();
  process.stdout.write(`[bench] done in ${Math.round((Date.now() - started) / 1000)} s; wrote:\n${files.map((f) => `  ${f}\n`).join("")}`);
  if (has("failover")) process.stdout.write("[bench] the lab is left as the last phase left it (after a failover, ha1 may be off): 'npm run lab:start -- ha1' or 'bash lab/lab.sh test-prepare'\n");
}

function labDescription(): string {
  try {
    const lab = labConnection();
    return `${labAccelerator()}, Xen hypervisor ${lab.hypervisor} (${lab.hypervisorPackage})`;
  } catch {
    return labAccelerator();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
