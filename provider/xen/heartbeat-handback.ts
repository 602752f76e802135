/**
 * Running the hand-back of a Heartbeat group (see heartbeat-placement.ts): ask the holder to give
 * the group up, then wait until the guest runs at home and nowhere else.
 */
import { RefusedError } from "../errors";
import { pollUntil } from "../poll";
import { surveyHosts, whereabouts, type HostView, type Views } from "./domu-ops";
import { buildHoldingProbe } from "../heartbeat/holding";
import { buildHandBackCommand, groupMove, handBackProgress, parseHolding, type HandBackProgress, type HeartbeatHolding } from "./heartbeat-placement";
import type { XenDomUInputs } from "./schema";

const PROBE_TIMEOUT_MS = 60_000;
/** A request that started nothing within this time was dropped by Heartbeat, and is sent again. */
const ASK_AGAIN_AFTER_MS = 60_000;
const LOOK_EVERY_MS = 5000;

async function holdingOf(view: HostView): Promise<HeartbeatHolding> {
  return parseHolding(await view.host.output(buildHoldingProbe(), { timeoutMs: PROBE_TIMEOUT_MS }));
}

/**
 * Brings the guest from `source` to `target` through Heartbeat when Heartbeat holds its group on
 * `source`. Returns false when Heartbeat does not hold it there, so the caller moves the guest itself.
 */
export async function handBackThroughHeartbeat(inputs: XenDomUInputs, views: Views, source: string, target: string): Promise<boolean> {
  const timeoutMs = (inputs.migrationTimeoutSeconds + 120) * 1000;
  const at = (name: string) => ({ name, view: views[name]! });
  const look = async () => {
    const [s, t] = await Promise.all([holdingOf(at(source).view), holdingOf(at(target).view)]);
    return groupMove(inputs.name, { name: source, holding: s }, { name: target, holding: t });
  };
  // Another guest of the same group may have started the hand-back a moment ago.
  const move = await pollUntil(look, (m) => m.kind !== "wait", { timeoutMs, intervalMs: 3000, what: `Heartbeat on ${source} to finish moving resources` });
  if (move.kind === "refused") throw new RefusedError(move.reason);
  if (move.kind === "direct") return false;
  const deadline = Date.now() + timeoutMs;
  let askedAt = 0;
  let asked = 0;
  let last: HandBackProgress = "idle";
  for (;;) {
    if (last === "idle" && Date.now() - askedAt >= ASK_AGAIN_AFTER_MS) {
      await at(source).view.host.exec(buildHandBackCommand(), { timeoutMs: PROBE_TIMEOUT_MS });
      askedAt = Date.now();
      asked += 1;
    }
    await new Promise((r) => setTimeout(r, LOOK_EVERY_MS));
    const where = whereabouts(inputs.name, await surveyHosts(inputs));
    const [s, t] = await Promise.all([holdingOf(at(source).view), holdingOf(at(target).view)]);
    last = handBackProgress(where, target, { name: source, holding: s }, t);
    if (last === "done") return true;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${inputs.name} to run on ${target} once Heartbeat on ${source} gave the group back ` +
          `(hb_standby foreign, asked ${asked} time(s)); last seen: ${JSON.stringify(where)}, Heartbeat on ${source}: ${s.resources}, on ${target}: ${t.resources}. ` +
          `Heartbeat says why on both nodes (journalctl -u heartbeat | grep -i standby).`,
      );
    }
  }
  return true;
}
