/**
 * Running the hand-back of a Heartbeat group (see heartbeat-placement.ts): ask the holder to give
 * the group up, asking again while Heartbeat has let the request drop, then wait until the guest
 * runs at home and nowhere else.
 */
import { pollUntil } from "../poll";
import { surveyHosts, whereabouts, type HostView, type Views } from "./domu-ops";
import { buildHoldingProbe } from "../heartbeat/holding";
import { buildHandBackCommand, groupMove, handBackProgress, parseHolding, type HandBackProgress, type HeartbeatHolding } from "./heartbeat-placement";
import type { XenDomUInputs } from "./schema";

const PROBE_TIMEOUT_MS = 60_000;
/** A request that started nothing within this time was dropped by Heartbeat, and is sent again. */
const ASK_AGAIN_AFTER_MS = 60_000;

async function holdingOf(view: HostView): Promise<HeartbeatHolding> {
  return parseHolding(await view.host.output(buildHoldingProbe(), { timeoutMs: PROBE_TIMEOUT_MS }));
}

/** How a hand-back ended: the guest is home, the caller must move it itself, or it stays for now. */
export type HandBack = { kind: "home" } | { kind: "direct" } | { kind: "deferred"; reason: string };

/**
 * Brings the guest from `source` to `target` through Heartbeat when Heartbeat holds its group on
 * `source`. `direct` when Heartbeat does not hold it there, so the caller moves the guest itself.
 */
export async function handBackThroughHeartbeat(inputs: XenDomUInputs, views: Views, source: string, target: string): Promise<HandBack> {
  const timeoutMs = (inputs.migrationTimeoutSeconds + 120) * 1000;
  const at = (name: string) => ({ name, view: views[name]! });
  let looks = 0;
  const look = async () => {
    looks += 1;
    const [s, t] = await Promise.all([holdingOf(at(source).view), holdingOf(at(target).view)]);
    return groupMove(inputs.name, { name: source, holding: s }, { name: target, holding: t });
  };
  // Another guest of the same group may have started the hand-back a moment ago.
  const move = await pollUntil(look, (m) => m.kind !== "wait", { timeoutMs, intervalMs: 3000, what: `Heartbeat on ${source} to finish moving resources` });
  // Heartbeat settled at the first look and holds no group away from home: the survey the caller made still holds.
  if (move.kind === "direct" && looks === 1) return move;
  // Heartbeat may have brought it home meanwhile (auto_failback on, a node that has just joined).
  const now = whereabouts(inputs.name, await surveyHosts(inputs));
  if (now.where === "one" && now.host === target && now.presence === "running") return { kind: "home" };
  if (move.kind === "deferred" || move.kind === "direct") return move;
  let askedAt = 0;
  let asked = 0;
  let last: HandBackProgress = "idle";
  const observe = async () => {
    if (last === "idle" && Date.now() - askedAt >= ASK_AGAIN_AFTER_MS) {
      await at(source).view.host.exec(buildHandBackCommand(), { timeoutMs: PROBE_TIMEOUT_MS });
      askedAt = Date.now();
      asked += 1;
    }
    const where = whereabouts(inputs.name, await surveyHosts(inputs));
    const [s, t] = await Promise.all([holdingOf(at(source).view), holdingOf(at(target).view)]);
    last = handBackProgress(where, target, { name: source, holding: s }, t);
    return { where, source: s.resources, target: t.resources };
  };
  await pollUntil(
    observe,
    () => last === "done",
    { timeoutMs, intervalMs: 5000, what: `${inputs.name} to run on ${target} once Heartbeat on ${source} gave the group back (hb_standby foreign)` },
    (o) =>
      `${JSON.stringify(o.where)}, Heartbeat on ${source} holds ${o.source} and on ${target} ${o.target}, asked ${asked} time(s); ` +
      `Heartbeat says why on both nodes (journalctl -u heartbeat | grep -i standby)`,
  );
  return { kind: "home" };
}
