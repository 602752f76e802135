/**
 * Doing nothing as the cluster grows: no-op preview, refresh and up, counted on the hosts, against
 * the same commands replayed one SSH connection each.
 */
import { changeCount } from "../../test/support/engine";
import { LAB_NODES, labConnection, type LabNodeName } from "../../test/support/lab";
import { replayCommand, type HostCount } from "../counters";
import { installCounters, labEndpoint, markCounters, readCounters, removeCounters } from "../hosts";
import { waitGuestsAnswer } from "../lab-ops";
import { runEachOnItsOwnConnection } from "../per-command";
import { resourcesPerEndpoint } from "../state";
import { benchVms } from "../vms";
import { seconds, type BenchContext, type ClusterStack } from "./context";

export const NOOP_OPS = ["preview", "refresh", "up"] as const;
export type NoopOp = (typeof NOOP_OPS)[number];

/** Commands of the replay in flight at once per host: sshd starts refusing beyond 10 unauthenticated connections. */
export const REPLAY_CONCURRENCY = 4;

/** Grows the cluster to `vms` guests if needed, converges it, then measures each operation `plan.runs.noop` times. */
export async function noopPhase(ctx: BenchContext, cluster: ClusterStack, vms: number): Promise<void> {
  if (cluster.desired.vms.length !== vms) {
    cluster.desired.vms = benchVms(vms);
    await cluster.stack.up();
    await waitGuestsAnswer(cluster.desired.vms);
  }
  await cluster.stack.refresh();
  await cluster.stack.up();
  const resources = await resourcesPerNode(cluster);
  await installCounters();
  try {
    for (let run = 0; run < ctx.plan.runs.noop; run++) {
      for (const op of NOOP_OPS) {
        try {
          await measure(ctx, cluster, vms, op, resources);
        } catch (err) {
          ctx.recorder.failure("noop", `pulumi ${op}`, { vms, op }, err);
        }
      }
    }
  } finally {
    await removeCounters();
  }
}

async function measure(ctx: BenchContext, cluster: ClusterStack, vms: number, op: NoopOp, resources: Record<LabNodeName, number>): Promise<void> {
  const marks = await markCounters();
  const at = new Date().toISOString();
  const started = Date.now();
  const result = op === "preview" ? await cluster.stack.preview() : op === "refresh" ? await cluster.stack.refresh() : await cluster.stack.up();
  const wallSeconds = seconds(started);
  const counts = await readCounters(marks);
  const changes = changeCount(result.changes);
  ctx.recorder.sample({
    phase: "noop",
    subject: `pulumi ${op}`,
    role: "package",
    params: { vms, op },
    at,
    metrics: { wallSeconds, ...countMetrics(counts), ...Object.fromEntries(LAB_NODES.map((n) => [`resources.${n}`, resources[n]])), changes },
  });
  // A no-op up runs what preview runs (check and diff); an up that changed something also wrote, and is not replayed.
  if (op === "up" && changes > 0) {
    ctx.recorder.failure("noop", "one connection per command", { vms, op }, new Error(`the up was not a no-op (${changes} changes): its commands are not replayed`));
    return;
  }
  await replay(ctx, vms, op, counts);
}

async function replay(ctx: BenchContext, vms: number, op: NoopOp, counted: Partial<Record<LabNodeName, HostCount>>): Promise<void> {
  const marks = await markCounters();
  const at = new Date().toISOString();
  const started = Date.now();
  const codes = await Promise.all(LAB_NODES.map((node) => runEachOnItsOwnConnection(labEndpoint(node), (counted[node]?.calls ?? []).map(replayCommand), REPLAY_CONCURRENCY)));
  const wallSeconds = seconds(started);
  const counts = await readCounters(marks);
  ctx.recorder.sample({
    phase: "noop",
    subject: "one connection per command",
    role: "baseline",
    params: { vms, op },
    at,
    metrics: { wallSeconds, ...countMetrics(counts), failedCommands: codes.flat().filter((c) => c !== 0).length },
    notes: [`replayed ${codes.flat().length} commands, at most ${REPLAY_CONCURRENCY} at a time per host`],
  });
}

function countMetrics(counts: Partial<Record<LabNodeName, HostCount>>): Record<string, number> {
  const out: Record<string, number> = { connections: 0, commands: 0 };
  for (const node of LAB_NODES) {
    const c = counts[node] ?? { connections: 0, commands: 0 };
    out[`connections.${node}`] = c.connections;
    out[`commands.${node}`] = c.commands;
    out.connections! += c.connections;
    out.commands! += c.commands;
  }
  return out;
}

/** How many of the stack's resources talk to each node. */
async function resourcesPerNode(cluster: ClusterStack): Promise<Record<LabNodeName, number>> {
  const deployment = (await cluster.stack.exportState({ showSecrets: true })).deployment;
  const counts = resourcesPerEndpoint(deployment);
  const lab = labConnection();
  return Object.fromEntries(LAB_NODES.map((n) => [n, counts.get(`${lab.nodes[n].host}:${lab.nodes[n].port}`) ?? 0])) as Record<LabNodeName, number>;
}
