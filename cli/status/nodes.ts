/**
 * The cluster's hosts as the stack knows them: every resource that talks to a host names its SSH
 * connection, and the hosts are told apart by the endpoint they are reached at. Each host gets
 * the key it must present (its pin, else the key the stack recorded for it), or a reason it must
 * not be connected to at all. Pure.
 */
import { connectionSchema, type Connection } from "../../provider/ssh/connection";
import { asRecord, asString } from "./deployment";

/** One mention of a host by one resource. */
export interface Sighting {
  connection: unknown;
  /** Which resource, for messages: `NodeNetwork cluster-ha1-network`. */
  where: string;
  /** The cluster's name of the node (`hosts[].name` of XenDomU: `ha1`). */
  name?: string | undefined;
  /** The node's name as `uname -n` prints it (`ha1.domain.local`). */
  hostname?: string | undefined;
  /** NodeNetwork's short name, when set. */
  shortName?: string | undefined;
  publicAddress?: string | undefined;
  crossoverAddress?: string | undefined;
  /** NodeNetwork's view of the other node. */
  peer?: { hostname?: string | undefined; publicAddress?: string | undefined; crossoverAddress?: string | undefined } | undefined;
  /** The host key the resource recorded on first use. */
  recordedKey?: string | undefined;
}

export interface ClusterNode {
  /** The cluster's name of the node (`ha1`). */
  name: string;
  /** Its name as `uname -n` prints it, when the stack says (`ha1.domain.local`). */
  hostname: string | undefined;
  /** Where it is reached: `host:port`. */
  endpoint: string;
  /** How to reach it, credentials included: never print it. Undefined when `refusal` says why. */
  connection: Connection | undefined;
  /** The key the host must present. */
  hostKey: string | undefined;
  /** Where that key comes from: `pinned in …` or `recorded by …`. */
  hostKeyFrom: string | undefined;
  /** Why the node is not connected to (no usable connection, no known key, two different keys). */
  refusal: string | undefined;
  publicAddress: string | undefined;
  crossoverAddress: string | undefined;
  /** The other node: its name and the addresses this node pings to tell its links up or cut. */
  peer: { name: string | undefined; publicAddress: string | undefined; crossoverAddress: string | undefined };
}

/** `host:port` of a connection as recorded, before it is checked; undefined when it names no host. */
export function endpointOfRaw(connection: unknown): string | undefined {
  const c = asRecord(connection);
  const host = asString(c?.host);
  if (!host) return undefined;
  return `${host}:${typeof c?.port === "number" ? c.port : 22}`;
}

/** The hosts behind the sightings, sorted by name, each with its key or a refusal. */
export function nodesFromSightings(sightings: readonly Sighting[]): ClusterNode[] {
  const byEndpoint = new Map<string, Sighting[]>();
  for (const s of sightings) {
    const endpoint = endpointOfRaw(s.connection);
    if (endpoint) byEndpoint.set(endpoint, [...(byEndpoint.get(endpoint) ?? []), s]);
  }
  const nodes = [...byEndpoint.entries()].map(([endpoint, seen]) => nodeFrom(endpoint, seen));
  nodes.sort((a, b) => a.name.localeCompare(b.name));
  for (const node of nodes) node.peer = peerOf(node, nodes, byEndpoint.get(node.endpoint) ?? []);
  return nodes;
}

function first<T>(seen: readonly Sighting[], pick: (s: Sighting) => T | undefined): T | undefined {
  for (const s of seen) {
    const v = pick(s);
    if (v !== undefined) return v;
  }
  return undefined;
}

function nodeFrom(endpoint: string, seen: readonly Sighting[]): ClusterNode {
  const hostname = first(seen, (s) => s.hostname);
  const name = first(seen, (s) => s.name) ?? first(seen, (s) => s.shortName) ?? hostname?.split(".")[0] ?? endpoint;
  const parsed = first(seen, (s) => {
    const r = connectionSchema.safeParse(s.connection);
    return r.success ? r.data : undefined;
  });
  const key = hostKeyOf(endpoint, seen);
  const refusal = parsed
    ? key.refusal
    : `the stack holds no usable SSH connection for ${endpoint} (${connectionProblem(seen[0]!.connection)})`;
  return {
    name,
    hostname,
    endpoint,
    connection: parsed,
    hostKey: key.key,
    hostKeyFrom: key.from,
    refusal,
    publicAddress: first(seen, (s) => s.publicAddress),
    crossoverAddress: first(seen, (s) => s.crossoverAddress),
    peer: { name: undefined, publicAddress: undefined, crossoverAddress: undefined },
  };
}

function connectionProblem(raw: unknown): string {
  const r = connectionSchema.safeParse(raw);
  if (r.success) return "no problem found";
  // Issues name the field and the rule, never the value (which may be a credential).
  return r.error.issues.map((i) => `${["connection", ...i.path.map(String)].join(".")}: ${i.message}`).join("; ");
}

/**
 * The one key every pin and record of the stack agrees on. Two different keys for one endpoint
 * mean one of them is another machine's: nothing is sent there until a person settles it.
 */
function hostKeyOf(endpoint: string, seen: readonly Sighting[]): { key?: string; from?: string; refusal?: string } {
  const claims: { key: string; from: string }[] = [];
  for (const s of seen) {
    const pin = asString(asRecord(s.connection)?.hostKey);
    if (pin) claims.push({ key: pin, from: `pinned in ${s.where}` });
  }
  for (const s of seen) if (s.recordedKey) claims.push({ key: s.recordedKey, from: `recorded by ${s.where}` });
  const keys = [...new Set(claims.map((c) => c.key))];
  if (keys.length === 0) {
    return { refusal: `no host key is pinned or recorded for ${endpoint} in the stack, and status never talks to a host it cannot verify: pin connection.hostKey, or run pulumi refresh to record it` };
  }
  if (keys.length > 1) {
    const [a, b] = keys.map((k) => claims.find((c) => c.key === k)!);
    return { refusal: `two different host keys are known for ${endpoint}: ${a!.key} (${a!.from}) and ${b!.key} (${b!.from}); not connecting until a person checks the host's fingerprint and fixes the stack` };
  }
  return { key: keys[0], from: claims[0]!.from };
}

function peerOf(node: ClusterNode, nodes: readonly ClusterNode[], seen: readonly Sighting[]): ClusterNode["peer"] {
  const told = first(seen, (s) => s.peer);
  const others = nodes.filter((n) => n !== node);
  const peer = (told?.hostname ? others.find((n) => n.hostname === told.hostname) : undefined) ?? (others.length === 1 ? others[0] : undefined);
  return {
    name: peer?.name ?? told?.hostname?.split(".")[0],
    publicAddress: told?.publicAddress ?? peer?.publicAddress,
    crossoverAddress: told?.crossoverAddress ?? peer?.crossoverAddress,
  };
}
