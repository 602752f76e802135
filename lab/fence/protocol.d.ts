/** Types of protocol.js, for the TypeScript tests (the lab runs the .js with plain Node). */

export type Action = "status" | "on" | "off" | "reset";

/** What the switch acts through: one QEMU per node. qemu.js has the real one. */
export interface Machine {
  /** Whether the node's QEMU process runs. */
  isAlive(node: string): Promise<boolean>;
  /** Runs one HMP command on the node's monitor and resolves with its output. */
  hmp(node: string, command: string): Promise<string>;
  /** Resolves true once the node's QEMU has exited, false when `timeoutMs` passed first. */
  waitExit(node: string, timeoutMs: number): Promise<boolean>;
  /** SIGKILL to the node's QEMU. */
  kill(node: string): Promise<void>;
  /** Starts the node in the background (the lab's start command). */
  start(node: string): Promise<"started" | "already-starting">;
}

export interface SwitchConfig {
  secret: string;
  nodes: Record<string, unknown>;
}

export const ACTIONS: readonly Action[];
export const MAX_REQUEST_BYTES: number;
export const EXIT_WAIT_MS: number;

export function parseRequest(text: string): { ok: true; secret: string; action: string; node: string } | { ok: false; reason: string };
export function secretsEqual(given: string, expected: string): boolean;
export function formatLogLine(entry: { time: string; peer?: string; node?: string; action?: string; outcome: string }, secret?: string): string;
export function handleRequest(
  text: string,
  config: SwitchConfig,
  machine: Machine,
  context?: { peer?: string; now?: () => Date },
): Promise<{ response: string; logLine: string }>;
