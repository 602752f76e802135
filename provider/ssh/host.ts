import { appendFileSync } from "node:fs";
import type { Client, ClientChannel } from "ssh2";
import { ConnectionError, HostCommandError } from "../errors";
import { argv, sh, Shell } from "../shell";
import type { Connection } from "./connection";
import { describeHost } from "./connection";

export interface ExecOptions {
  /** Bytes written to the command's standard input (file contents travel here, never in the command). */
  stdin?: string | Buffer;
  /** Kill the command after this long. Default 10 minutes. */
  timeoutMs?: number;
  /** Exit codes that are answers rather than failures (for example "not found"), or "any" to return every outcome. 0 is always fine. */
  okExitCodes?: readonly number[] | "any";
  /** What usually causes a failure of this command, added to the error. */
  hint?: string;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface WriteFileOptions {
  /** Octal mode such as `0644` or `0600`. */
  mode: string;
  /** `user:group`; default `root:root`. */
  owner?: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000;
/** After the deadline, how long the host gets to end the command before the channel is closed. */
const CLIENT_GRACE_MS = 20_000;
const ABANDON_AFTER_MS = 15_000;

/** One SSH connection to one host, shared by every resource of a run that talks to it. */
export class Host {
  constructor(
    readonly connection: Connection,
    private readonly client: Client,
    /** The SHA256 fingerprint the host presented when the connection was made. */
    readonly hostKey: string,
  ) {
    client.on("close", () => (this.ended = true));
  }

  private ended = false;

  get name(): string {
    return describeHost(this.connection);
  }

  /** Runs a command; the exit code decides success, stderr alone never does. */
  async exec(command: Shell | readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const shell = command instanceof Shell ? command : argv(command);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // The host kills the command (and its process group) at the deadline itself: sshd ignores
    // signal requests, and closing the channel does not end a command that is still running.
    const bounded = sh`timeout -k 10 ${String(Math.max(1, Math.ceil(timeoutMs / 1000)))} sh -c ${shell.text}`;
    const wrapped = this.connection.sudo ? sh`sudo -n ${bounded}` : bounded;
    const started = Date.now();
    const result = await this.run(wrapped.text, shell.display, timeoutMs, options.stdin);
    recordCommand(this.name, started, result.exitCode, shell.display);
    const accepted = options.okExitCodes ?? [];
    const ok = result.exitCode === 0 || (result.exitCode !== null && (accepted === "any" || accepted.includes(result.exitCode)));
    if (!ok) {
      throw new HostCommandError({
        host: this.name,
        command: shell.display,
        exitCode: result.exitCode,
        signal: result.signal,
        stdout: result.stdout,
        stderr: result.stderr,
        hint: options.hint,
      });
    }
    return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode as number };
  }

  /** Standard output of a command that must succeed. */
  async output(command: Shell | readonly string[], options: ExecOptions = {}): Promise<string> {
    return (await this.exec(command, options)).stdout;
  }

  /**
   * Writes a file atomically: a temporary file beside it, created under umask 077 so a secret is
   * never readable by others even for a moment, then chmod/chown and rename.
   */
  async writeFile(path: string, content: string, options: WriteFileOptions): Promise<void> {
    const owner = options.owner ?? "root:root";
    const dir = path.replace(/\/[^/]*$/, "") || "/";
    await this.exec(
      sh`set -eu
umask 077
mkdir -p ${dir}
tmp=$(mktemp ${path + ".XXXXXX"})
trap 'rm -f "$tmp"' EXIT
cat > "$tmp"
chmod ${options.mode} "$tmp"
chown ${owner} "$tmp"
mv -f "$tmp" ${path}
trap - EXIT`,
      { stdin: content },
    );
  }

  /** Contents of a file, or undefined when it does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const result = await this.exec(sh`if [ -e ${path} ]; then cat ${path}; else exit 3; fi`, { okExitCodes: [3] });
    return result.exitCode === 3 ? undefined : result.stdout;
  }

  /** Removes files; files already gone are fine. */
  async removeFiles(paths: readonly string[]): Promise<void> {
    if (paths.length > 0) await this.exec(sh`rm -f -- ${paths}`);
  }

  /** Ends the connection (the pool forgets it). */
  close(): void {
    this.ended = true;
    this.client.end();
  }

  /** Whether the connection has ended: the pool dials a new one instead. */
  get closed(): boolean {
    return this.ended;
  }

  /**
   * Runs the command text and collects its outcome. A connection lost before the command reported
   * its exit status rejects with a ConnectionError: the command may still be running on the host.
   */
  private run(command: string, display: string, timeoutMs: number, stdin: string | Buffer | undefined): Promise<RunResult> {
    const started = Date.now();
    const timedOut = `timeout after ${Math.round(timeoutMs / 1000)} s`;
    return new Promise((resolve, reject) => {
      const fail = (what: string, next: string, cause?: unknown) => reject(new ConnectionError(this.name, `${what}: ${display}\n${next}`, cause, display));
      const lost = (what: string, cause?: unknown) =>
        fail(`${what}; the command may still be running on the host`, "Check on the host whether it finished before running it again; the next run reconnects.", cause);
      const notRun = (what: string, cause?: unknown) => fail(`${what}; the command was not run`, "The next run reconnects.", cause);
      const notStarted = (why: string, cause?: unknown) =>
        this.closed ? lost(`the connection was lost while the command was being started (${why})`, cause) : notRun(`the host refused to start the command (${why})`, cause);
      const onChannel = (err: Error | undefined, channel: ClientChannel) => {
        if (err) return notStarted(err.message, err);
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let exitCode: number | null = null;
        let exited = false;
        let signal: string | undefined;
        let abandon: NodeJS.Timeout | undefined;
        let settled = false;
        const settle = () => {
          if (settled) return;
          settled = true;
          clearTimeout(fallback);
          clearTimeout(abandon);
          const killedOnHost = (exitCode === 124 || exitCode === 137) && Date.now() - started >= timeoutMs;
          if (killedOnHost) signal = timedOut;
          if (!exited && !signal?.startsWith("timeout")) {
            return lost(this.closed ? "the connection was lost while the command was running" : "the host closed the command's channel without an exit status");
          }
          resolve({
            stdout: Buffer.concat(stdout).toString("utf8"),
            stderr: Buffer.concat(stderr).toString("utf8"),
            exitCode: signal?.startsWith("timeout") ? null : exitCode,
            ...(signal !== undefined ? { signal } : {}),
          });
        };
        // Should the host not end the command (one stuck in the kernel, or a child that left the
        // process group and holds the output open), close the channel, then drop the connection.
        const fallback = setTimeout(() => {
          signal = timedOut;
          channel.close();
          abandon = setTimeout(() => {
            signal = `${timedOut}; the host did not end the command, so the connection was dropped`;
            settle();
            this.close();
          }, ABANDON_AFTER_MS);
        }, timeoutMs + Math.min(CLIENT_GRACE_MS, timeoutMs));
        channel.on("data", (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        channel.on("exit", (code: number | null, sig?: string) => {
          exited = true;
          exitCode = code;
          if (sig && !signal) signal = sig;
        });
        channel.on("error", () => undefined);
        channel.on("close", settle);
        if (stdin !== undefined) channel.end(stdin);
        else channel.end();
      };
      if (this.closed) return notRun("the connection had ended (an earlier command hung, or the host dropped it)");
      try {
        this.client.exec(command, onChannel);
      } catch (err) {
        notRun(`the command could not be sent (${err instanceof Error ? err.message : String(err)})`, err);
      }
    });
  }
}

interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal?: string;
}

/**
 * With PULUMI_XEN_HA_COMMAND_LOG set, one line per command run: when it started, the host, how
 * long it took, its exit code and its first line as shown to people (secrets masked). The
 * benchmark splits the package's time with it.
 */
function recordCommand(host: string, started: number, exitCode: number | null, display: string): void {
  const log = process.env.PULUMI_XEN_HA_COMMAND_LOG;
  if (!log) return;
  const first = display.split("\n").find((l) => l.trim() !== "" && l.trim() !== "set -eu" && l.trim() !== "set -u") ?? "";
  appendFileSync(log, `${new Date(started).toISOString()}\t${host}\t${Date.now() - started}\t${exitCode ?? "signal"}\t${first.slice(0, 160)}\n`);
}
