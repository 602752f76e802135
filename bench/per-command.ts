/**
 * The remote.Command-like baseline: every command on an SSH connection of its own, dialled,
 * authenticated, used once and closed, as `@pulumi/command`'s `remote.Command` does per command.
 */
import { Client } from "ssh2";
import { fingerprintOf } from "../provider/ssh/host-key";
import type { Shell } from "../provider/shell";

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The pinned SHA256 fingerprint of the host's key. */
  hostKey: string;
}

/** Dials a new connection, runs one command with empty standard input, closes; the exit code (null for a signal). */
export function runOnItsOwnConnection(endpoint: Endpoint, command: Shell, timeoutMs = 10 * 60_000): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let settled = false;
    const done = (err: Error | undefined, code?: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      if (err) reject(err);
      else resolve(code ?? null);
    };
    const timer = setTimeout(() => done(new Error(`${endpoint.host}:${endpoint.port}: no exit within ${timeoutMs} ms: ${command.display.slice(0, 120)}`)), timeoutMs);
    client.on("ready", () => {
      client.exec(command.text, (err, channel) => {
        if (err) return done(err);
        let code: number | null = null;
        channel.on("exit", (c: number | null) => (code = c));
        channel.on("data", () => undefined);
        channel.stderr.on("data", () => undefined);
        channel.on("close", () => done(undefined, code));
        channel.end();
      });
    });
    client.on("error", (err) => done(err));
    client.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      privateKey: endpoint.privateKey,
      readyTimeout: 60_000,
      hostVerifier: (key: Buffer) => fingerprintOf(key) === endpoint.hostKey,
    });
  });
}

/** Runs the commands in order, each on its own connection, at most `concurrency` at a time; their exit codes in that order. */
export async function runEachOnItsOwnConnection(endpoint: Endpoint, commands: readonly Shell[], concurrency: number): Promise<(number | null)[]> {
  const codes: (number | null)[] = new Array(commands.length).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < commands.length) {
      const i = next++;
      codes[i] = await runOnItsOwnConnection(endpoint, commands[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, commands.length)) }, worker));
  return codes;
}
