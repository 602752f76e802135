/** Types of fake-qemu.js, for the TypeScript tests. */

export interface FakeQemu {
  node: string;
  /** The stand-in process, whose command line carries `-name NODE,…`. */
  pid: number;
  pidFile: string;
  monitor: string;
  /** Every line received on the monitor, in order. */
  commands: string[];
  /** What `info status` reports; QEMU's words (`running`, `paused`, …). */
  vmStatus: string;
  /** Resolves when the stand-in process has exited (after `quit` or `close`). */
  exited: Promise<void>;
  close(): Promise<void>;
}

export const BANNER: string;
export const PROMPT: string;
export function echoOf(line: string): string;
export function startFakeQemu(options: { runDir: string; node: string }): Promise<FakeQemu>;
