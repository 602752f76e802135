/**
 * Failover: ha1 hard-killed while it runs the cluster's first guest, until the guest answers ping
 * from ha2; the survivor's journal says where the time went. The same for the package's cluster
 * and for the plain script's (the recipe's Heartbeat and xendomains copies).
 */
import { labKill, labStart } from "../../test/support/lab";
import { clockOffset, firstAnswer, journalSince, waitSettled } from "../lab-ops";
import type { Role } from "../samples";
import { failoverBreakdown, failoverTimeline, parseShortUnix } from "../timeline";
import type { BenchVm } from "../vms";
import type { BenchContext } from "./context";

const DEAD = "ha1";
const SURVIVOR = "ha2";
const GROUP = "xendomainsHA1";
const ANSWER_LIMIT_S = 900;

/**
 * `runs` failovers of `vm` (whose home is ha1). Between runs ha1 boots again and, with
 * auto_failback on, takes the guest back; after the last run it is booted again only when
 * `restartAfterLast`.
 */
export async function failoverRuns(ctx: BenchContext, subject: string, role: Role, vm: BenchVm, restartAfterLast: boolean): Promise<void> {
  for (let run = 1; run <= ctx.plan.runs.failover; run++) {
    try {
      await waitSettled(vm, DEAD);
      const offset = await clockOffset(SURVIVOR);
      const at = new Date().toISOString();
      await labKill(DEAD);
      const killed = Date.now() / 1000 + offset;
      const answered = await firstAnswer(SURVIVOR, vm.ip, ANSWER_LIMIT_S);
      const journal = await journalSince(SURVIVOR, killed - 5);
      const timeline = failoverTimeline(parseShortUnix(journal), `${DEAD}.domain.local`, GROUP, vm.name);
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
          `declared dead ${rel(timeline.declaredDeadAt)}, resource script started ${rel(timeline.scriptStartedAt)}, start decided ${rel(timeline.startDecidedAt)}, answering ${rel(answered)} after the kill`,
        ],
      });
    } catch (err) {
      ctx.recorder.failure("failover", subject, {}, err);
    }
    if (run < ctx.plan.runs.failover || restartAfterLast) {
      await labStart(DEAD);
      await waitSettled(vm, DEAD);
    }
  }
}
