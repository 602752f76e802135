/**
 * Every host key a resource's property bag states, wherever the resource keeps it: pins
 * (`connection.hostKey`, at any depth) and keys recorded in state on first use. Pure: the
 * provider feeds what this finds in every call to the process-wide registry (known-hosts.ts).
 */
import { isUnknown } from "../inputs";
import { hostKeyFingerprint } from "./connection";

export interface HostKeyClaim {
  /** The SSH server, `host:port` (see `serverEndpoint`). */
  endpoint: string;
  key: string;
  /** A pin the user wrote, or a key recorded in state when it was first seen. */
  kind: "pin" | "record";
  /** Where in the bag: `nodes[1].connection.hostKey`, `observedHostKeys.ha1`, `observedHostKeys[0]`. */
  path: string;
}

/** A claim with the words that name its origin in messages. */
export interface SourcedClaim {
  endpoint: string;
  key: string;
  source: string;
}

/**
 * The SSH server a connection reaches: host and port, whatever the user. Host keys belong to the
 * server, so this (not the pool's `user@host:port`) is what they are known by.
 */
export function serverEndpoint(connection: { host: string; port?: number | undefined }): string {
  return `${connection.host.toLowerCase()}:${connection.port ?? 22}`;
}

/**
 * Claims in one property bag. Shapes understood, at any depth:
 * - `connection: { host, port?, hostKey }`: a pin;
 * - `observedHostKey` beside `connection`: a record (single-host resources);
 * - `observedHostKeys: { [name]: key }` beside an array whose element has that `name` or
 *   `hostname` and a `connection` (DrbdResource nodes, XenDomU and XenMigrationTrust hosts);
 * - `observedHostKeys: key[]` beside an array of elements with a `connection`, by index
 *   (HeartbeatCluster nodes).
 * Values still unknown during preview, and anything that is not a fingerprint, are skipped.
 */
export function hostKeyClaims(bag: unknown): HostKeyClaim[] {
  const claims: HostKeyClaim[] = [];
  visit(bag, "", claims);
  return claims;
}

/**
 * The claims of one provider call, with their sources. A pin in the program (`news`) decides for
 * its endpoint over what the same resource's state says: setting `connection.hostKey` is how a
 * user accepts a reinstalled host, so the stale record beside it must not count against it.
 */
export function claimsOfCall(resource: string, bags: { news?: unknown; olds?: unknown }): SourcedClaim[] {
  const fresh = hostKeyClaims(bags.news).filter((c) => c.kind === "pin");
  const pinned = new Set(fresh.map((c) => c.endpoint));
  const stored = hostKeyClaims(bags.olds).filter((c) => !pinned.has(c.endpoint));
  return [
    ...fresh.map((c) => ({ endpoint: c.endpoint, key: c.key, source: `pinned at ${c.path} of ${resource} in the program` })),
    ...stored.map((c) => ({
      endpoint: c.endpoint,
      key: c.key,
      source: `${c.kind === "pin" ? "pinned at" : "recorded at"} ${c.path} in the state of ${resource}`,
    })),
  ];
}

type Bag = Record<string, unknown>;

function isBag(value: unknown): value is Bag {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function at(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}

function isFingerprint(value: unknown): value is string {
  return typeof value === "string" && hostKeyFingerprint.safeParse(value).success;
}

function endpointOfValue(connection: unknown): string | undefined {
  if (!isBag(connection)) return undefined;
  const { host, port } = connection;
  if (typeof host !== "string" || host === "" || isUnknown(host)) return undefined;
  if (port !== undefined && (typeof port !== "number" || !Number.isInteger(port))) return undefined;
  return serverEndpoint({ host, port });
}

function visit(value: unknown, path: string, claims: HostKeyClaim[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => visit(item, `${path}[${i}]`, claims));
    return;
  }
  if (!isBag(value)) return;
  for (const [name, item] of Object.entries(value)) {
    if (name === "connection") {
      const endpoint = endpointOfValue(item);
      const pin = isBag(item) ? item.hostKey : undefined;
      if (endpoint && isFingerprint(pin)) claims.push({ endpoint, key: pin, kind: "pin", path: `${at(path, name)}.hostKey` });
    } else {
      visit(item, at(path, name), claims);
    }
  }
  claims.push(...recordsIn(value, path));
}

function recordsIn(bag: Bag, path: string): HostKeyClaim[] {
  const claims: HostKeyClaim[] = [];
  const record = (connection: unknown, key: unknown, where: string) => {
    const endpoint = endpointOfValue(connection);
    if (endpoint && isFingerprint(key)) claims.push({ endpoint, key, kind: "record", path: where });
  };
  record(bag.connection, bag.observedHostKey, at(path, "observedHostKey"));
  const keys = bag.observedHostKeys;
  const where = at(path, "observedHostKeys");
  const members = membersOf(bag);
  if (Array.isArray(keys)) {
    // By index: the array of connections that lines up with the keys.
    const list = members.find((m) => m.length === keys.length) ?? members[0] ?? [];
    keys.forEach((key, i) => record(list[i]?.connection, key, `${where}[${i}]`));
  } else if (isBag(keys)) {
    for (const [name, key] of Object.entries(keys)) {
      const member = members.flat().find((m) => m.name === name || m.hostname === name);
      record(member?.connection, key, `${where}.${name}`);
    }
  }
  return claims;
}

/** Sibling arrays whose elements carry a `connection` (nodes, hosts). */
function membersOf(bag: Bag): Bag[][] {
  return Object.values(bag)
    .filter((v): v is unknown[] => Array.isArray(v))
    .map((list) => list.map((item) => (isBag(item) ? item : {})))
    .filter((list) => list.some((item) => isBag(item.connection)));
}
