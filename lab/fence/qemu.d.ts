/** Types of qemu.js, for the TypeScript tests. */
import type { Machine } from "./protocol";

export const PROMPT: string;
export function isQemuOf(pid: number, node: string, procDir?: string): boolean;
export function qemuPid(node: string, pidFile: string, procDir?: string): number | null;
export function hmpOutput(raw: string): string;
export function hmpCommand(socketPath: string, command: string, timeoutMs?: number): Promise<string>;
export function qemuMachine(
  config: { nodes: Record<string, { monitor: string; pidFile: string }> },
  options?: { onCommand?: string[]; onLogDir?: string; procDir?: string; hmpTimeoutMs?: number },
): Machine;
