/**
 * Whether Heartbeat runs on a node and which haresources lines it holds (`cl_status rscstatus`):
 * one probe and one parser for every reader of that answer.
 */
import { joinLines, literal, type Shell } from "../shell";

/** `cl_status rscstatus` in a v1 cluster: which haresources lines this node holds. */
export type ResourceHolding = "local" | "foreign" | "all" | "none" | "transition" | "unknown";

const HOLDINGS: readonly ResourceHolding[] = ["local", "foreign", "all", "none", "transition"];

/** `cl_status rscstatus`'s word; anything else (Heartbeat stopped, an answer not known) is "unknown". */
export function parseResourceHolding(value: string): ResourceHolding {
  return HOLDINGS.find((h) => h === value.trim()) ?? "unknown";
}

/**
 * Prints `heartbeat\trunning` or `heartbeat\tstopped` and, while Heartbeat runs,
 * `resources\t<rscstatus>` followed by what `whileRunning` prints.
 */
export function buildHoldingProbe(whileRunning: readonly Shell[] = []): Shell {
  return joinLines([
    literal("if cl_status hbstatus >/dev/null 2>&1; then"),
    literal(`  printf 'heartbeat\\trunning\\n'`),
    literal(`  printf 'resources\\t%s\\n' "$(cl_status rscstatus 2>/dev/null || true)"`),
    ...whileRunning,
    literal("else"),
    literal(`  printf 'heartbeat\\tstopped\\n'`),
    literal("fi"),
  ]);
}
