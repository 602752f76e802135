/** A new replicated volume until UpToDate on both nodes: skip-sync against full sync, by size. */
import { createEngineStack } from "../../test/support/engine";
import { waitFor, LAB_NODES } from "../../test/support/lab";
import { diskStates } from "../lab-ops";
import type { SyncMode } from "../options";
import { BENCH_VOLUME, volumeProgram, type VolumeDesired } from "../program";
import { engineLog } from "./build";
import { seconds, type BenchContext } from "./context";

export async function volumePhase(ctx: BenchContext): Promise<void> {
  const desired: VolumeDesired = { sizeMiB: ctx.plan.volumeSizesMiB[0]!, sync: "skip" };
  const stack = await createEngineStack({ program: volumeProgram(desired), projectName: "bench-volume", onOutput: engineLog });
  try {
    for (const sizeMiB of ctx.plan.volumeSizesMiB) {
      for (let run = 0; run < ctx.plan.runs.volume; run++) {
        for (const sync of ["skip", "full"] as SyncMode[]) {
          desired.sizeMiB = sizeMiB;
          desired.sync = sync;
          const subject = sync === "skip" ? "skip-sync" : "full sync";
          try {
            const at = new Date().toISOString();
            const started = Date.now();
            await stack.up();
            const upSeconds = seconds(started);
            await waitFor(
              async () => (await Promise.all(LAB_NODES.map((n) => diskStates(n, BENCH_VOLUME.name)))).every((s) => s === "UpToDate/UpToDate") || undefined,
              { timeoutMs: 60 * 60_000, intervalMs: 1000, what: `${BENCH_VOLUME.name} UpToDate on both nodes` },
            );
            ctx.recorder.sample({ phase: "volume", subject, role: sync === "skip" ? "package" : "baseline", params: { sizeMiB }, at, metrics: { wallSeconds: seconds(started), upSeconds } });
          } catch (err) {
            ctx.recorder.failure("volume", subject, { sizeMiB }, err);
          } finally {
            await stack.destroy();
          }
        }
      }
    }
  } finally {
    await stack.dispose();
  }
}
