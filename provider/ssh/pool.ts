import { appendFileSync } from "node:fs";
import { Client } from "ssh2";
import { ConnectionError, HostKeyMismatchError } from "../errors";
import { describeHost, endpointOf, type Connection } from "./connection";
import { expectedHostKey as expectedKeyOf, fingerprintOf, verifyHostKey } from "./host-key";
import { Host } from "./host";

const CONNECT_ATTEMPTS = 3;
const RETRY_BASE_MS = 1000;
const KEEPALIVE_MS = 15_000;

/** Pooled connections of this process, one per endpoint, reused by every resource in a run. */
const pool = new Map<string, Promise<Host>>();
let opened = 0;

/**
 * A connection to the host, verified against the pinned `connection.hostKey`, else against
 * `recordedHostKey` (the key seen on first use, from state). Without either the presented key is
 * accepted and reported as `host.hostKey` so the caller can record it.
 */
export async function connect(connection: Connection, recordedHostKey?: string): Promise<Host> {
  const expectedHostKey = expectedKeyOf(connection.hostKey, recordedHostKey);
  const key = endpointOf(connection);
  let pending = pool.get(key);
  if (!pending) {
    pending = dialWithRetry(connection, expectedHostKey);
    pool.set(key, pending);
    pending.catch(() => pool.delete(key));
  }
  const host = await pending;
  if (host.closed) {
    if (pool.get(key) === pending) pool.delete(key);
    return connect(connection, recordedHostKey);
  }
  verifyHostKey(describeHost(connection), expectedHostKey, host.hostKey);
  return host;
}

/** Connections opened by this process so far. */
export function connectionsOpened(): number {
  return opened;
}

/** Closes every pooled connection (tests; the engine simply ends the provider process). */
export async function closeAll(): Promise<void> {
  const hosts = await Promise.allSettled([...pool.values()]);
  pool.clear();
  for (const h of hosts) if (h.status === "fulfilled") h.value.close();
}

async function dialWithRetry(connection: Connection, expectedHostKey: string | undefined): Promise<Host> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
    try {
      return await dial(connection, expectedHostKey);
    } catch (err) {
      lastError = err;
      if (!isRetryable(err) || attempt === CONNECT_ATTEMPTS) break;
      await new Promise((r) => setTimeout(r, RETRY_BASE_MS * 2 ** (attempt - 1)));
    }
  }
  throw lastError;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof HostKeyMismatchError) return false;
  const level = (err as { cause?: { level?: string } }).cause?.level;
  return level !== "client-authentication";
}

function dial(connection: Connection, expectedHostKey: string | undefined): Promise<Host> {
  const name = describeHost(connection);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    let mismatch: HostKeyMismatchError | undefined;
    client.on("ready", () => {
      opened++;
      recordOpen(endpointOf(connection));
      client.removeAllListeners("error");
      client.on("error", () => pool.delete(endpointOf(connection)));
      client.on("close", () => pool.delete(endpointOf(connection)));
      resolve(new Host(connection, client, presented as string));
    });
    client.on("error", (err: Error) => {
      reject(mismatch ?? new ConnectionError(name, `SSH connection failed: ${err.message}`, err));
    });
    client.connect({
      host: connection.host,
      port: connection.port,
      username: connection.user,
      ...(connection.privateKey !== undefined ? { privateKey: connection.privateKey } : {}),
      ...(connection.privateKeyPassword !== undefined ? { passphrase: connection.privateKeyPassword } : {}),
      ...(connection.password !== undefined ? { password: connection.password } : {}),
      readyTimeout: connection.dialTimeoutSeconds * 1000,
      keepaliveInterval: KEEPALIVE_MS,
      keepaliveCountMax: 4,
      // The key is checked before authentication, so credentials never reach an impostor.
      hostVerifier: (key: Buffer) => {
        presented = fingerprintOf(key);
        if (expectedHostKey !== undefined && expectedHostKey !== presented) {
          mismatch = new HostKeyMismatchError(name, expectedHostKey, presented);
          return false;
        }
        return true;
      },
    });
  });
}

function recordOpen(endpoint: string): void {
  const log = process.env.PULUMI_XEN_HA_SSH_LOG;
  if (log) appendFileSync(log, `${endpoint}\n`);
}
