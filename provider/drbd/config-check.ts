/** drbdadm's verdict on a candidate configuration. */
import type { CommandOutcome } from "./metadata";

export type ConfigCheck = { ok: true } | { ok: false; errors: string[] };

/**
 * drbdadm's verdict on a candidate configuration (`buildCheckConfigScript`). Errors are drbdadm's
 * lines verbatim, with the candidate's temporary paths replaced by the paths it will have once
 * installed, so the messages point at the file users will look at. A dump can exit 0 yet complain
 * that the node's address is not on this host (`up` then fails) or show the resource ignored (no
 * `on` section for this `uname -n`): both count as errors.
 */
export function parseConfigCheck(outcome: CommandOutcome, name: string, rename: Readonly<Record<string, string>> = {}): ConfigCheck {
  const fix = (line: string) => Object.entries(rename).reduce((l, [from, to]) => l.split(from).join(to), line);
  const errors = outcome.stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "").map(fix);
  const ignored = new RegExp(`^# resource ${escapeRegExp(name)} on (\\S+): ignored`, "m").exec(outcome.stdout);
  if (ignored) errors.push(`resource ${name}: no "on ${ignored[1]}" section: a node's hostname must be its \`uname -n\``);
  const ipMissing = errors.some((l) => l.includes("not found on this host"));
  if (outcome.exitCode !== 0 || ignored || ipMissing) return { ok: false, errors: errors.length > 0 ? errors : [`drbdadm exited with code ${outcome.exitCode}`] };
  return { ok: true };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
