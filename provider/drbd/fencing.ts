/**
 * Resource-level fencing (DRBD's `disk { fencing …; }` and the `handlers` it calls), as Heartbeat's
 * dopd uses it: a node that loses the replication link outdates its peer's disk through
 * Heartbeat's own links before it may go on writing, so an outdated copy is never promoted.
 */
import { z } from "zod";
import { checkedString } from "../values";

export const fencingPolicies = ["dont-care", "resource-only", "resource-and-stonith"] as const;
export type FencingPolicy = (typeof fencingPolicies)[number];

/**
 * Heartbeat's dopd client as Debian bookworm's heartbeat package installs it; older Heartbeat
 * packages (and the DRBD 8.3/8.4 user guides) have it in /usr/lib/heartbeat.
 */
export const DOPD_FENCE_PEER = "/usr/libexec/heartbeat/drbd-peer-outdater -t 5";

/** DRBD's ping-timeout when none is set, in tenths of a second. */
export const DEFAULT_PING_TIMEOUT_TENTHS = 5;
/** Covers dopd's message over Heartbeat and the peer's handling of the lost link. */
const PEER_NOTICE_MARGIN_SECONDS = 1;

/** Where HeartbeatCluster with `dopd` installs the fence-peer handler `dopdFencePeer` names. */
export const DOPD_FENCE_PEER_PATH = "/usr/local/lib/pulumi-xen-ha/dopd-fence-peer";

/**
 * The fence-peer handler for dopd on the resource with this minor: the script HeartbeatCluster
 * installs with `dopd` (provider/heartbeat/dopd-fence-peer.sh). A Primary that loses the link first
 * waits until the peer's DRBD must have noticed the loss too (its next ping, at most `pingInt`
 * plus ping-timeout later): dopd's `drbdadm outdate` on a peer that still counts itself Connected
 * changes nothing, yet drbd-peer-outdater reports the peer outdated, and that peer could later be
 * promoted with stale data. A Secondary being promoted (its peer declared dead) does not wait, so
 * failover pays nothing. The script also asks again when dopd, which Heartbeat respawns after each
 * request it served, left one unanswered while the peer is alive.
 */
export function dopdFencePeer(minor: number, pingIntSeconds: number, pingTimeoutTenths = DEFAULT_PING_TIMEOUT_TENTHS): string {
  const wait = pingIntSeconds + Math.ceil(pingTimeoutTenths / 10) + PEER_NOTICE_MARGIN_SECONDS;
  return `${DOPD_FENCE_PEER_PATH} ${minor} ${wait}`;
}

/** drbdadm reads at most 255 characters between double quotes. */
const MAX_HANDLER_LENGTH = 255;

/**
 * A handler goes into drbd.conf as one double-quoted string: a quote or a backslash would end or
 * escape it, and a semicolon or line break would start another statement.
 */
export function handlerCommandProblem(command: string): string | undefined {
  if (command.trim() === "") return "must be a command, not empty";
  if (/["\\;\r\n]/.test(command)) return "must not contain a double quote, backslash, semicolon or line break (drbd.conf holds it as one quoted string)";
  if (command.length > MAX_HANDLER_LENGTH) return `must be at most ${MAX_HANDLER_LENGTH} characters (drbdadm's limit for a quoted string)`;
  return undefined;
}

export const handlerCommand = checkedString(handlerCommandProblem);

export const handlersSchema = z.object({
  /** Run when this node must fence its peer (with `fencing` set): with Heartbeat, `dopdFencePeer(minor, pingInt, pingTimeout)`. Optional. */
  fencePeer: handlerCommand.optional(),
  /** Run on the node whose disk a resync has just made consistent again. Optional. */
  afterResyncTarget: handlerCommand.optional(),
});
export type DrbdHandlers = z.output<typeof handlersSchema>;

/** Why the fencing inputs cannot be used together, with the input to change, or undefined. */
export function fencingProblem(r: { fencing?: FencingPolicy; handlers?: DrbdHandlers }): { path: (string | number)[]; message: string } | undefined {
  // dont-care never calls the handler.
  if (r.fencing === undefined || r.fencing === "dont-care" || r.handlers?.fencePeer !== undefined) return undefined;
  return {
    path: ["handlers", "fencePeer"],
    message:
      `must be set when fencing is "${r.fencing}": DRBD calls it to outdate the peer's disk when a Primary loses the replication link. ` +
      `With Heartbeat's dopd that is dopdFencePeer(minor, pingInt, pingTimeout), the script HeartbeatCluster installs with dopd, which calls "${DOPD_FENCE_PEER}"; ` +
      `TwoNodeXenHa sets it for you with heartbeat.dopd`,
  };
}
