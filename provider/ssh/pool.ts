import { appendFileSync } from "node:fs";
import { Client } from "ssh2";
import { ConnectionError, HostKeyMismatchError, isHostKeyConflictError, isHostKeyMismatchError } from "../errors";
import { sleep } from "../poll";
import { describeHost, endpointOf, type Connection } from "./connection";
import { expectedHostKey, fingerprintOf, type ExpectedHostKey } from "./host-key";
import { serverEndpoint } from "./host-key-claims";
import { knownHosts } from "./known-hosts";
import { Host } from "./host";

const CONNECT_ATTEMPTS = 3;
const RETRY_BASE_MS = 1000;
const KEEPALIVE_MS = 15_000;

interface Pooled {
  pending: Promise<Host>;
  host?: Host;
}

/**
 * Pooled connections of this process, reused by every resource in a run. An entry is keyed by the
 * login and by the key the host had to present (`*` on first use), so a caller that expects one
 * key is never handed a connection that logged in to a host presenting another.
 */
const pool = new Map<string, Pooled>();
let opened = 0;

function poolKey(connection: Connection, hostKey: string | undefined): string {
  return `${endpointOf(connection)} ${hostKey ?? "*"}`;
}

/**
 * A connection to the host, held to the first of: the pinned `connection.hostKey`; the key
 * recorded in this resource's state (`recordedHostKey`); the key this process knows for the SSH
 * server from any other resource's pin or state, or from an earlier first-use dial (known-hosts.ts).
 * With none of them the presented key is accepted, remembered for the rest of the process, and
 * reported as `host.hostKey` so the caller can record it.
 *
 * A key mismatch is refused before any credential is sent: during the handshake of a new
 * connection, or at once when a connection of this run to the same server presented another key.
 */
export async function connect(connection: Connection, recordedHostKey?: string): Promise<Host> {
  const server = serverEndpoint(connection);
  const expected = expectedHostKey(connection.hostKey, recordedHostKey, knownHosts.keyFor(server));
  if (expected) refuseIfSeenOtherwise(connection, expected);
  const key = poolKey(connection, expected?.key);
  let entry = pool.get(key);
  if (!entry) {
    const pending = dialWithRetry(connection, expected).then((host) => adopt(host, expected));
    const created: Pooled = { pending };
    entry = created;
    pool.set(key, created);
    pending.catch(() => {
      if (pool.get(key) === created) pool.delete(key);
    });
  }
  const host = await entry.pending;
  if (host.closed) {
    forget(host);
    return connect(connection, recordedHostKey);
  }
  return host;
}

/** Connections opened by this process so far. */
export function connectionsOpened(): number {
  return opened;
}

/** Closes every pooled connection and forgets every known key (tests; the engine simply ends the provider process). */
export async function closeAll(): Promise<void> {
  const hosts = await Promise.allSettled([...pool.values()].map((e) => e.pending));
  pool.clear();
  knownHosts.forget();
  for (const h of hosts) if (h.status === "fulfilled") h.value.close();
}

/** A live connection of this run to the same SSH server that presented another key settles it. */
function refuseIfSeenOtherwise(connection: Connection, expected: ExpectedHostKey): void {
  const server = serverEndpoint(connection);
  for (const { host } of pool.values()) {
    if (host && !host.closed && serverEndpoint(host.connection) === server && host.hostKey !== expected.key) {
      throw new HostKeyMismatchError(describeHost(connection), expected.key, host.hostKey, { expectation: expected.expectation, refusedAt: "pooled" });
    }
  }
}

/**
 * A new connection joins the pool under the key it presented too, so later callers that expect
 * that key share it; the key becomes known for the server (a conflict closes the connection).
 */
function adopt(host: Host, expected: ExpectedHostKey | undefined): Host {
  const source = expected
    ? `presented to this run's connection to ${endpointOf(host.connection)}, which verified it`
    : `trusted on first use by this run's connection to ${endpointOf(host.connection)}`;
  try {
    knownHosts.learn({ endpoint: serverEndpoint(host.connection), key: host.hostKey, source }, { afterLogin: true });
  } catch (err) {
    host.close();
    throw err;
  }
  const pending = Promise.resolve(host);
  for (const key of [poolKey(host.connection, expected?.key), poolKey(host.connection, host.hostKey)]) {
    const entry = pool.get(key);
    if (entry && !entry.host) entry.host = host;
    else if (!entry) pool.set(key, { pending, host });
  }
  return host;
}

function forget(host: Host): void {
  for (const [key, entry] of pool) if (entry.host === host) pool.delete(key);
}

async function dialWithRetry(connection: Connection, expected: ExpectedHostKey | undefined): Promise<Host> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= CONNECT_ATTEMPTS; attempt++) {
    try {
      return await dial(connection, expected);
    } catch (err) {
      lastError = err;
      if (!isRetryable(err) || attempt === CONNECT_ATTEMPTS) break;
      await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
    }
  }
  throw lastError;
}

function isRetryable(err: unknown): boolean {
  if (isHostKeyMismatchError(err) || isHostKeyConflictError(err)) return false;
  const level = (err as { cause?: { level?: string } }).cause?.level;
  return level !== "client-authentication";
}

function dial(connection: Connection, expected: ExpectedHostKey | undefined): Promise<Host> {
  const name = describeHost(connection);
  return new Promise((resolve, reject) => {
    const client = new Client();
    let presented: string | undefined;
    let mismatch: HostKeyMismatchError | undefined;
    client.on("ready", () => {
      opened++;
      recordOpen(endpointOf(connection));
      const host = new Host(connection, client, presented as string);
      client.removeAllListeners("error");
      client.on("error", () => forget(host));
      client.on("close", () => forget(host));
      resolve(host);
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
        if (expected !== undefined && expected.key !== presented) {
          mismatch = new HostKeyMismatchError(name, expected.key, presented, { expectation: expected.expectation, refusedAt: "handshake" });
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
