/**
 * Failover: the guest's home node hard-killed while it runs the guest, until the guest answers
 * ping from the peer; the survivor's journal says where the time went. The same for the package's
 * cluster and for the plain script's (the recipe's Heartbeat and xendomains copies).
 */
import { labKill, labStart } from "../../test/support/lab";
import { clockOffset, firstAnswer, journalSince, peerOf, waitSettled } from "../lab-ops";
import type { Role } from "../samples";
import { failoverBreakdown, failoverTimeline, parseShortUnix } from "../timeline";
import type { BenchVm } from "../vms";
import type { BenchContext } from "./context";

const ANSWER_LIMIT_S = 900;

/**
 * `runs` failovers of `vm` from its home. Between runs the home boots again and, with
 * auto_failback on, takes the guest back; after the last run it is booted again only when
 * `restartAfterLast`.
 */
export async function failoverRuns(ctx: BenchContext, subject: string, role: Role, vm: BenchVm, restartAfterLast: boolean): Promise<void> {
  const dead = vm.home;
  const survivor = peerOf(dead);
  // The recipe's and the package's group of a node's guests: xendomainsHA1 on ha1, and so on.
  const group = `xendomainsHA${dead.replace(/^ha/, "")}`;
  for (let run = 1; run <= ctx.plan.runs.failover; run++) {
    try {
      await waitSettled(vm, dead);
      const offset = await clockOffset(survivor);
      const at = new Date().toISOString();
      await labKill(dead);
      const killed = Date.now() / 1000 + offset;
      const answered = await firstAnswer(survivor, vm.ip, ANSWER_LIMIT_S);
      const journal = await journalSince(survivor, killed - 5);
      const timeline = failoverTimeline(parseShortUnix(journal), `${dead}.domain.local`, group, vm.name);
      const breakdown = failoverBreakdown(killed, answered, timeline);
      const rel = (t: number | undefined) => (t === undefined ? "not in the log" : `${(t - killed).toFixed(1)} s`);
      ctx.recorder.sample({
        phase: "failover",
        subject,
        role,
        params: {},
        at,
        metrics: { wallSeconds: answered - killed, ...breakdown },
        notes: [
          `${dead} killed, ${vm.name} taken over by ${survivor}: declared dead ${rel(timeline.declaredDeadAt)}, resource script started ${rel(timeline.scriptStartedAt)}, start decided ${rel(timeline.startDecidedAt)}, answering ${rel(answered)} after the kill`,
        ],
      });
    } catch (err) {
      ctx.recorder.failure("failover", subject, {}, err);
    }
    if (run < ctx.plan.runs.failover || restartAfterLast) {
      await labStart(dead);
      await waitSettled(vm, dead);
    }
  }
}
