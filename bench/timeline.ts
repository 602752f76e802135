/**
 * Reading times out of the hosts' own logs: a failover's steps from the survivor's journal, and
 * the gaps in a guest's answers to ping during a migration. Pure.
 */

/** One journal entry as `journalctl -o short-unix` prints it. */
export interface LogLine {
  /** Seconds since the epoch, on the host's clock. */
  at: number;
  /** The syslog identifier (`heartbeat`, `ResourceManager`, the resource script's group). */
  ident: string;
  message: string;
}

const SHORT_UNIX = /^(\d+(?:\.\d+)?) \S+ ([^\s:[]+)(?:\[\d+\])?: (.*)$/;

export function parseShortUnix(text: string): LogLine[] {
  return text.split("\n").flatMap((line) => {
    const m = SHORT_UNIX.exec(line);
    return m ? [{ at: Number(m[1]), ident: m[2]!, message: m[3]! }] : [];
  });
}

/** When the survivor's Heartbeat and resource script reached each step of a take-over (host clock). */
export interface FailoverTimeline {
  /** Heartbeat's `node NAME: is dead`. */
  declaredDeadAt?: number;
  /** Heartbeat runs the dead node's resource script with `start`. */
  scriptStartedAt?: number;
  /** The package's resource script has checked the peer and DRBD and starts the guest (`starting NAME from CONFIG`). */
  startDecidedAt?: number;
}

/** The first time each step shows in the log, for the dead node `deadNode`, its group's script `group` and guest `domain`. */
export function failoverTimeline(lines: readonly LogLine[], deadNode: string, group: string, domain: string): FailoverTimeline {
  const first = (test: (l: LogLine) => boolean) => lines.find(test)?.at;
  const dead = first((l) => new RegExp(`node ${escapeRegExp(deadNode)}: is dead`, "i").test(l.message));
  const script = first((l) => new RegExp(`Running \\S*/${escapeRegExp(group)}\\s+start\\b`).test(l.message));
  const decided = first((l) => l.message.includes(`starting ${domain} from `));
  return {
    ...(dead !== undefined ? { declaredDeadAt: dead } : {}),
    ...(script !== undefined ? { scriptStartedAt: script } : {}),
    ...(decided !== undefined ? { startDecidedAt: decided } : {}),
  };
}

/** Seconds spent in each step, given the kill and the first ping answer on the host's clock. */
export interface FailoverBreakdown {
  detectSeconds?: number;
  takeoverSeconds?: number;
  checksSeconds?: number;
  startSeconds?: number;
}

export function failoverBreakdown(killedAt: number, answeredAt: number, t: FailoverTimeline): FailoverBreakdown {
  const out: FailoverBreakdown = {};
  if (t.declaredDeadAt !== undefined) out.detectSeconds = t.declaredDeadAt - killedAt;
  if (t.declaredDeadAt !== undefined && t.scriptStartedAt !== undefined) out.takeoverSeconds = t.scriptStartedAt - t.declaredDeadAt;
  if (t.scriptStartedAt !== undefined && t.startDecidedAt !== undefined) out.checksSeconds = t.startDecidedAt - t.scriptStartedAt;
  const startFrom = t.startDecidedAt ?? t.scriptStartedAt;
  if (startFrom !== undefined) out.startSeconds = answeredAt - startFrom;
  return out;
}

/** The reply times in `ping -D` output (`[1700000000.123456] 64 bytes from …`). */
export function pingReplyTimes(text: string): number[] {
  return text.split("\n").flatMap((line) => {
    const m = /^\[(\d+(?:\.\d+)?)\] \d+ bytes from /.exec(line);
    return m ? [Number(m[1])] : [];
  });
}

/** The longest time without an answer between the pinger's start and end, both on the host's clock. */
export function longestGap(startedAt: number, replies: readonly number[], endedAt: number): number {
  const times = [startedAt, ...replies.filter((t) => t >= startedAt && t <= endedAt).sort((a, b) => a - b), endedAt];
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
