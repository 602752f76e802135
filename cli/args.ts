/** The command line of `pulumi-xen-ha`. Pure. */

export const USAGE = `Usage: pulumi-xen-ha status [--stack NAME] [--cwd DIR] [--watch [SECONDS]]

Shows the cluster of a stack as its hosts report it now: nodes and links, where each guest
runs, DRBD, Heartbeat, and what needs a person. The hosts are reached over the stack's own
connections (from \`pulumi stack export --show-secrets\`), each held to its pinned or recorded
host key.

  --stack NAME       the stack (default: the selected one)
  --cwd DIR          the Pulumi project's directory (passed to pulumi)
  --watch [SECONDS]  redraw every SECONDS (default 5) until Ctrl-C

Exit code: 0 when nothing needs a person, 1 when something does, 2 on an error.
`;

export type Command =
  | { command: "status"; stack: string | undefined; cwd: string | undefined; watchSeconds: number | undefined }
  | { command: "help" };

export class UsageError extends Error {}

const DEFAULT_WATCH_SECONDS = 5;

export function parseCommandLine(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") return { command: "help" };
  if (command !== "status") throw new UsageError(`unknown command ${JSON.stringify(command)}: the only command is status`);
  let stack: string | undefined;
  let cwd: string | undefined;
  let watchSeconds: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = splitFlag(rest[i]!);
    const value = (): string => {
      const v = inline ?? rest[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--stack":
      case "-s":
        stack = value();
        break;
      case "--cwd":
      case "-C":
        cwd = value();
        break;
      case "--watch":
      case "-w": {
        const next = inline ?? (rest[i + 1] !== undefined && /^\d/.test(rest[i + 1]!) ? rest[++i] : undefined);
        watchSeconds = next === undefined ? DEFAULT_WATCH_SECONDS : Number(next);
        if (!Number.isFinite(watchSeconds) || watchSeconds < 1 || watchSeconds > 3600) throw new UsageError(`--watch takes a number of seconds from 1 to 3600, not ${JSON.stringify(next)}`);
        break;
      }
      case "--help":
      case "-h":
        return { command: "help" };
      default:
        throw new UsageError(`unknown option ${JSON.stringify(rest[i])}`);
    }
  }
  return { command: "status", stack, cwd, watchSeconds };
}

/** `--stack=lab` → [`--stack`, `lab`]; `--stack` → [`--stack`, undefined]. */
function splitFlag(arg: string): [string, string | undefined] {
  const at = arg.indexOf("=");
  return arg.startsWith("--") && at > 0 ? [arg.slice(0, at), arg.slice(at + 1)] : [arg, undefined];
}
