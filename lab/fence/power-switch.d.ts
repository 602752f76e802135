/** Types of power-switch.js, for the TypeScript tests. */
import type { Server } from "node:net";
import type { Machine } from "./protocol";

export interface SwitchFileConfig {
  secretFile: string;
  logFile: string;
  onLogDir?: string;
  nodes: Record<string, { monitor: string; pidFile: string }>;
}

export function setup(options: { dir: string; runDir: string; nodes: string[] }): string;
export function loadConfig(file: string): SwitchFileConfig;
export function readSecret(file: string): string;
export function startSwitch(options: {
  config: SwitchFileConfig;
  secret: string;
  machine: Machine;
  port: number;
  log: (line: string) => void;
}): Promise<Server>;
