/**
 * Errors raised by this package. Each class carries a brand so `isX()` works across two copies of
 * the module (the program's and the dynamic provider process's).
 */

const BRAND = Symbol.for("pulumi-xen-ha.error");

export type ErrorKind = "host-command" | "host-key" | "connection" | "refused" | "validation";

abstract class XenHaError extends Error {
  readonly [BRAND]: ErrorKind;
  constructor(kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this[BRAND] = kind;
    this.name = new.target.name;
  }
}

function hasKind(value: unknown, kind: ErrorKind): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === kind;
}

const STDERR_TAIL_CHARS = 2000;

export interface HostCommandFailure {
  host: string;
  /** The command as run, with secrets already redacted by the caller. */
  command: string;
  exitCode: number | null;
  signal?: string | undefined;
  stdout: string;
  stderr: string;
  /** What usually causes this failure and what to do about it. */
  hint?: string | undefined;
}

/** A command on a host exited with a code the caller did not expect. */
export class HostCommandError extends XenHaError implements HostCommandFailure {
  readonly host: string;
  readonly command: string;
  readonly exitCode: number | null;
  readonly signal: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly hint: string | undefined;

  constructor(failure: HostCommandFailure) {
    const tail = tailOf(failure.stderr.trim() || failure.stdout.trim());
    const status = failure.exitCode === null ? `signal ${failure.signal ?? "?"}` : `exit code ${failure.exitCode}`;
    const lines = [`${failure.host}: command failed with ${status}: ${failure.command}`];
    if (tail) lines.push(tail);
    if (failure.hint) lines.push(`hint: ${failure.hint}`);
    super("host-command", lines.join("\n"));
    this.host = failure.host;
    this.command = failure.command;
    this.exitCode = failure.exitCode;
    this.signal = failure.signal;
    this.stdout = failure.stdout;
    this.stderr = failure.stderr;
    this.hint = failure.hint;
  }
}

export function isHostCommandError(value: unknown): value is HostCommandError {
  return hasKind(value, "host-command");
}

/** The host presented a key other than the pinned or previously recorded one. */
export class HostKeyMismatchError extends XenHaError {
  constructor(
    readonly host: string,
    readonly expected: string,
    readonly presented: string,
  ) {
    super(
      "host-key",
      `${host}: host key changed: expected ${expected}, the host presented ${presented}. ` +
        `Nothing was sent to it. If the host was reinstalled on purpose, verify the new fingerprint ` +
        `out of band and set connection.hostKey to "${presented}".`,
    );
  }
}

export function isHostKeyMismatchError(value: unknown): value is HostKeyMismatchError {
  return hasKind(value, "host-key");
}

/** The SSH connection could not be established or was lost. */
export class ConnectionError extends XenHaError {
  constructor(
    readonly host: string,
    message: string,
    cause?: unknown,
  ) {
    super("connection", `${host}: ${message}`, { cause });
  }
}

export function isConnectionError(value: unknown): value is ConnectionError {
  return hasKind(value, "connection");
}

/**
 * We refused to do something that would destroy data or break the cluster. The message says why
 * and how to proceed deliberately.
 */
export class RefusedError extends XenHaError {
  constructor(message: string) {
    super("refused", message);
  }
}

export function isRefusedError(value: unknown): value is RefusedError {
  return hasKind(value, "refused");
}

export interface InputFailure {
  /** Input path such as `disks[0].size`. */
  property: string;
  reason: string;
}

/** Inputs failed validation; raised before anything touches a host. */
export class ValidationError extends XenHaError {
  constructor(
    readonly resource: string,
    readonly failures: InputFailure[],
  ) {
    super("validation", `${resource}: invalid inputs:\n${failures.map((f) => `  ${f.property}: ${f.reason}`).join("\n")}`);
  }
}

export function isValidationError(value: unknown): value is ValidationError {
  return hasKind(value, "validation");
}

function tailOf(text: string): string {
  return text.length <= STDERR_TAIL_CHARS ? text : `…${text.slice(-STDERR_TAIL_CHARS)}`;
}
