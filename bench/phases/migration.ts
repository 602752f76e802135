/**
 * Live migration of the cluster's first guest to the other node and back: by a change of its home
 * applied with `pulumi up`, against the same `xl migrate` the package runs, typed by hand.
 */
import type { EngineStep } from "../../test/support/engine";
import { labConnection, labRun, type LabNodeName } from "../../test/support/lab";
import { xl } from "../../provider/xen/toolstack";
import { sleep } from "../../provider/poll";
import { firstAnswer, peerOf, startPinger, waitSettled } from "../lab-ops";
import { longestGap, pingReplyTimes } from "../timeline";
import type { BenchVm } from "../vms";
import { seconds, type BenchContext, type ClusterStack } from "./context";

/** The node that pings the guest during every move, so both sides are measured alike. */
const PINGER: LabNodeName = "ha2";

/**
 * `runs` round trips by each method. Without `plan.packageMovesBack` the package's last move is not
 * undone: the guest stays on the other node with its home there, and the failover starts from it.
 */
export async function migrationPhase(ctx: BenchContext, cluster: ClusterStack): Promise<void> {
  const vm = cluster.desired.vms[0]!;
  const home = vm.home;
  const away = peerOf(home);
  const runs = ctx.plan.runs.migration;
  for (let run = 0; run < runs; run++) {
    for (const [from, to] of [[home, away], [away, home]] as const) {
      await attempt(ctx, "xl migrate", "baseline", () => move(ctx, vm, from, to, "xl migrate", "baseline", () => rawMigrate(vm, from, to)));
    }
    const last = run === runs - 1;
    const moves = last && !ctx.plan.packageMovesBack ? ([[home, away]] as const) : ([[home, away], [away, home]] as const);
    for (const [from, to] of moves) {
      await attempt(ctx, "pulumi up (home changed)", "package", () =>
        move(ctx, vm, from, to, "pulumi up (home changed)", "package", async () => {
          cluster.desired.vms = cluster.desired.vms.map((v) => (v.name === vm.name ? { ...v, home: to } : v));
          return stepSeconds((await cluster.stack.up()).steps);
        }),
      );
    }
  }
}

async function attempt(ctx: BenchContext, subject: string, _role: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    ctx.recorder.failure("migration", subject, {}, err);
  }
}

async function move(ctx: BenchContext, vm: BenchVm, from: LabNodeName, to: LabNodeName, subject: string, role: "package" | "baseline", action: () => Promise<Record<string, number> | void>): Promise<void> {
  await waitSettled(vm, from);
  const pinger = startPinger(PINGER, vm.ip);
  // Let the pinger see the guest answer before the move starts.
  await sleep(2000);
  const at = new Date().toISOString();
  const started = Date.now();
  let wallSeconds: number;
  let steps: Record<string, number> = {};
  try {
    steps = (await action()) ?? {};
    wallSeconds = seconds(started);
    await firstAnswer(PINGER, vm.ip, 300);
  } finally {
    await pinger.stop();
  }
  const out = (await pinger.done).trim().split("\n");
  const startedOnHost = Number(out[0]);
  const endedOnHost = Number(out[out.length - 1]);
  const pingGapSeconds = longestGap(startedOnHost, pingReplyTimes(out.join("\n")), endedOnHost);
  ctx.recorder.sample({ phase: "migration", subject, role, params: {}, at, metrics: { wallSeconds, pingGapSeconds, ...steps }, notes: [`${vm.name} from ${from} to ${to}`] });
  await waitSettled(vm, to);
}

/** How long each resource's step took in an up, by the engine's clock: `XenDomUSeconds` and so on. */
function stepSeconds(steps: readonly EngineStep[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) if (s.seconds !== undefined) out[`${s.type.split(/[:/]/).pop()}Seconds`] = s.seconds;
  return out;
}

/** `xl migrate` exactly as the package runs it (its key, pinned known_hosts and the peer's gate), over one SSH session to the source. */
async function rawMigrate(vm: BenchVm, from: LabNodeName, to: LabNodeName): Promise<void> {
  const address = labConnection().nodes[to].crossoverAddress;
  await labRun(from, xl.migrate(vm.name, { address }).text, { timeoutMs: 15 * 60_000 });
}
