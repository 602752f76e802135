/**
 * Errors raised by this package. Each class carries a brand so `isX()` works across two copies of
 * the module (the program's and the dynamic provider process's).
 */

const BRAND = Symbol.for("pulumi-xen-ha.error");

export type ErrorKind = "host-command" | "host-key" | "host-key-conflict" | "connection" | "refused" | "validation" | "host-state";

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

  constructor(failure: HostCommandFailure, options?: { cause?: unknown }) {
    const tail = tailOf(failure.stderr.trim() || failure.stdout.trim());
    const status = failure.exitCode === null ? `signal ${failure.signal ?? "?"}` : `exit code ${failure.exitCode}`;
    const lines = [`${failure.host}: command failed with ${status}: ${failure.command}`];
    if (tail) lines.push(tail);
    if (failure.hint) lines.push(`hint: ${failure.hint}`);
    super("host-command", lines.join("\n"), options);
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

/**
 * The commands ran, yet the hosts are not in the state they should have left: a guest still
 * listed after shutdown and destroy, a guest left suspended by a move that could not be undone.
 * The message names the guest, the host and what to do by hand.
 */
export class HostStateError extends XenHaError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("host-state", message, options);
  }
}

export function isHostStateError(value: unknown): value is HostStateError {
  return hasKind(value, "host-state");
}

/** Where the key a host had to present came from. */
export type HostKeyExpectation =
  /** `connection.hostKey` in the program. */
  | { from: "pin" }
  /** `observedHostKey(s)` in this resource's own state: the machine its data lives on. */
  | { from: "record" }
  /** Another pin or record of the stack, or a key this run already saw, for the same endpoint. */
  | { from: "known"; source: string };

/**
 * How the mismatch was caught: during the SSH handshake of a new connection, before
 * authentication; or from a connection to the same endpoint made earlier in this run.
 */
export type HostKeyRefusal = "handshake" | "pooled";

/** The host presented a key other than the one it had to present. */
export class HostKeyMismatchError extends XenHaError {
  readonly expectation: HostKeyExpectation;
  readonly refusedAt: HostKeyRefusal;

  constructor(
    readonly host: string,
    readonly expected: string,
    readonly presented: string,
    context: { expectation?: HostKeyExpectation; refusedAt?: HostKeyRefusal } = {},
  ) {
    const expectation = context.expectation ?? { from: "pin" };
    const refusedAt = context.refusedAt ?? "handshake";
    super("host-key", [`${host}: host key mismatch: ${expectationText(expectation, expected)}, but ${whatHappened(refusedAt, presented)}`, adviceFor(expectation, presented)].join("\n"));
    this.expectation = expectation;
    this.refusedAt = refusedAt;
  }
}

function expectationText(e: HostKeyExpectation, expected: string): string {
  switch (e.from) {
    case "pin":
      return `connection.hostKey pins ${expected}`;
    case "record":
      return `this resource's state records ${expected} (its observed host key), the key of the machine its data lives on`;
    case "known":
      return `this stack knows ${expected} for this endpoint (${e.source})`;
  }
}

function whatHappened(refusedAt: HostKeyRefusal, presented: string): string {
  return refusedAt === "handshake"
    ? `the host presented ${presented}. The connection was refused during the SSH handshake, before authentication: no credential and no command was sent to it.`
    : `another connection to this endpoint had already been made in this run (for another resource, or trusting the key on first use), and ${presented} is the key it presented. ` +
        `That connection had already logged in; it was not used for this resource, so nothing of this resource was sent over it.`;
}

function adviceFor(e: HostKeyExpectation, presented: string): string {
  switch (e.from) {
    case "pin":
      return `If the host was reinstalled on purpose, verify its new fingerprint out of band (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on its console) and set connection.hostKey to it.`;
    case "record":
      return (
        `This is another machine than the one this resource's data lives on. A connection change that still reaches that machine (host 127.0.0.1 → localhost, say) ` +
        `is an in-place update verified by the recorded key; this one reaches a host with another key. If the machine was reinstalled and still holds the data, ` +
        `set connection.hostKey to "${presented}" only after verifying that fingerprint out of band. To move volumes to another machine on purpose, ` +
        `create new resources on the new machine and copy the data, then delete the old ones.`
      );
    case "known":
      return `If the host was reinstalled on purpose, verify its new fingerprint out of band and set connection.hostKey to it in every resource that connects to this host.`;
  }
}

export function isHostKeyMismatchError(value: unknown): value is HostKeyMismatchError {
  return hasKind(value, "host-key");
}

/** One place a host key came from, for messages: `connection.hostKey of XenDomU "web"`, say. */
export interface HostKeySource {
  key: string;
  source: string;
}

/**
 * Two different keys are known for one SSH endpoint (a pin and a record, two records…): only one
 * machine answers there, so one of them is wrong. Refused before anything connects.
 */
export class HostKeyConflictError extends XenHaError {
  constructor(
    readonly endpoint: string,
    readonly known: HostKeySource,
    readonly claimed: HostKeySource,
    /** Whether a connection had already logged in when the conflict came to light (it is then closed). */
    readonly afterLogin = false,
  ) {
    super(
      "host-key-conflict",
      `${endpoint}: two different host keys are known for this SSH endpoint: ${known.key} (${known.source}) and ${claimed.key} (${claimed.source}). ` +
        (afterLogin
          ? `A connection of this run had already logged in there when the other key became known; it was closed and nothing more is sent over it. `
          : `Refused before connecting: nothing was sent to it. `) +
        `Verify the host's fingerprint out of band and set connection.hostKey to it in every resource that connects to ${endpoint}; ` +
        `a resource whose state records the other key has its data on another machine.`,
    );
  }
}

export function isHostKeyConflictError(value: unknown): value is HostKeyConflictError {
  return hasKind(value, "host-key-conflict");
}

/** The SSH connection could not be established or was lost. */
export class ConnectionError extends XenHaError {
  /** The command that was running or about to run when the connection failed (secrets redacted). */
  readonly command: string | undefined;

  constructor(
    readonly host: string,
    message: string,
    cause?: unknown,
    command?: string,
  ) {
    super("connection", `${host}: ${message}`, { cause });
    this.command = command;
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
