#!/usr/bin/env node
/**
 * `pulumi-xen-ha status`: one screen of the cluster as its hosts report it now, or redrawn every
 * few seconds with `--watch`. Exit code 0 when nothing needs a person, 1 when something does, 2 on
 * an error.
 */
import { closeAll } from "../provider/ssh/pool";
import { parseCommandLine, USAGE, UsageError, type Command } from "./args";
import { statusReport } from "./status/report";
import { exportDeployment } from "./status/stack-export";

const CLEAR_SCREEN = "\x1b[H\x1b[2J";

async function once(command: Extract<Command, { command: "status" }>): Promise<number> {
  const deployment = await exportDeployment({ stack: command.stack, cwd: command.cwd });
  const report = await statusReport(deployment, { ...(command.stack ? { stack: command.stack } : {}) });
  process.stdout.write(report.text);
  return report.exitCode;
}

async function watch(command: Extract<Command, { command: "status" }>, seconds: number): Promise<number> {
  let code = 2;
  let stopped = false;
  let wake: (() => void) | undefined;
  process.on("SIGINT", () => {
    // A second Ctrl-C does not wait for the hosts that are still being asked.
    if (stopped) process.exit(130);
    stopped = true;
    wake?.();
  });
  // A stack that cannot be exported at all is an error at once; later rounds keep its last export.
  let deployment = await exportDeployment({ stack: command.stack, cwd: command.cwd });
  let stale: string | undefined;
  while (!stopped) {
    let text: string;
    try {
      const report = await statusReport(deployment, { ...(command.stack ? { stack: command.stack } : {}), keepConnections: true });
      text = report.text;
      code = report.exitCode;
    } catch (err) {
      text = `pulumi-xen-ha status: ${(err as Error).message}\n`;
      code = 2;
    }
    const note = stale ? `(the stack could not be exported again, so this uses its last export: ${stale})\n` : "";
    process.stdout.write(`${process.stdout.isTTY ? CLEAR_SCREEN : "\n"}${text}\n${note}(every ${seconds} s; Ctrl-C to stop)\n`);
    if (stopped) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    if (stopped) break;
    // The stack may have changed meanwhile (an `up` added a guest); the next screen follows it.
    try {
      deployment = await exportDeployment({ stack: command.stack, cwd: command.cwd });
      stale = undefined;
    } catch (err) {
      stale = (err as Error).message.split("\n")[0];
    }
  }
  await closeAll();
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pulumi-xen-ha: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  return command.watchSeconds === undefined ? once(command) : watch(command, command.watchSeconds);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pulumi-xen-ha status: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
