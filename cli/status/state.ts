/**
 * The cluster as the stack recorded it, from a deployment export: the hosts and how to reach them,
 * the guests with their homes, the DRBD resources, and the Heartbeat groups. Pure: what the hosts
 * say now is read separately (survey.ts).
 */
import { asArray, asRecord, asString, stackOfUrn, xenHaResources, type StackResource } from "./deployment";
import { endpointOfRaw, nodesFromSightings, type ClusterNode, type Sighting } from "./nodes";

export type { ClusterNode } from "./nodes";

export interface ClusterVm {
  name: string;
  /** The node it runs on while both are up: Heartbeat's home for it, else `runOn` as recorded. */
  home: string | undefined;
  /** Where the stack last saw it (a node name). */
  runOn: string | undefined;
  /** `running` or `stopped`, as the stack last saw it. */
  state: string;
  /** The DRBD resources its disks use. */
  resources: string[];
  /** Whether Heartbeat starts it (a guest meant to be stopped is left out of Heartbeat's groups). */
  underHeartbeat: boolean;
}

export interface ClusterDrbd {
  name: string;
  /** Per node: the minor of /dev/drbdN, by which /proc/drbd lists it. */
  nodes: { node: string; hostname: string | undefined; minor: number | undefined }[];
}

export interface ClusterHeartbeat {
  /**
   * In the resource's `nodes` order; node i's group is `resourceGroups[i]`. `upBootId`: the boot id
   * the last `up` saw, when the state records one.
   */
  nodes: { node: string; hostname: string | undefined; group: string; upBootId: string | undefined }[];
}

export interface ClusterState {
  /** The stack's name, from the resources' URNs. */
  stack: string | undefined;
  nodes: ClusterNode[];
  vms: ClusterVm[];
  drbd: ClusterDrbd[];
  heartbeat: ClusterHeartbeat | undefined;
}

/** The seed's groups, which HeartbeatCluster uses unless told otherwise. */
const DEFAULT_GROUPS = ["xendomainsHA1", "xendomainsHA2"];

export function clusterFromDeployment(deployment: unknown): ClusterState {
  const resources = xenHaResources(deployment);
  const nodes = nodesFromSightings(resources.flatMap(sightingsOf));
  const nodeAt = (connection: unknown): ClusterNode | undefined => nodes.find((n) => n.endpoint === endpointOfRaw(connection));
  const heartbeatResource = resources.find((r) => r.kind === "HeartbeatCluster");
  const heartbeat = heartbeatResource ? heartbeatOf(heartbeatResource, nodeAt) : undefined;
  const homes = new Map<string, string>();
  for (const d of asArray(heartbeatResource?.outputs.domains)) {
    const name = asString(asRecord(d)?.name);
    const home = nodes.find((n) => n.hostname === asString(asRecord(d)?.home));
    if (name && home) homes.set(name, home.name);
  }
  const vms = resources.filter((r) => r.kind === "XenDomU").map((r) => vmOf(r, nodeAt, homes));
  const drbd = resources.filter((r) => r.kind === "DrbdResource").map((r) => drbdOf(r, nodeAt));
  return {
    stack: resources.map((r) => stackOfUrn(r.urn)).find((s) => s !== undefined),
    nodes,
    vms: vms.sort((a, b) => a.name.localeCompare(b.name)),
    drbd: drbd.sort((a, b) => a.name.localeCompare(b.name)),
    heartbeat,
  };
}

/** Every host a resource talks to, with what the resource knows about it. */
export function sightingsOf(r: StackResource): Sighting[] {
  const o = r.outputs;
  const where = `${r.kind} ${r.name}`;
  const keys = asRecord(o.observedHostKeys) ?? {};
  const keyList = asArray(o.observedHostKeys);
  switch (r.kind) {
    case "NodeNetwork": {
      const peer = asRecord(o.peer);
      return [
        {
          connection: o.connection,
          where,
          hostname: asString(o.hostname),
          shortName: asString(o.shortName),
          publicAddress: asString(asRecord(o.public)?.address),
          crossoverAddress: asString(asRecord(o.crossover)?.address),
          peer: peer ? { hostname: asString(peer.hostname), publicAddress: asString(peer.publicAddress), crossoverAddress: asString(peer.crossoverAddress) } : undefined,
          recordedKey: asString(o.observedHostKey),
        },
      ];
    }
    case "XenDomU":
    case "XenMigrationTrust":
      return asArray(o.hosts).map((h) => {
        const host = asRecord(h) ?? {};
        const name = asString(host.name);
        return { connection: host.connection, where, name, crossoverAddress: asString(host.crossoverAddress), recordedKey: name ? asString(keys[name]) : undefined };
      });
    case "DrbdResource":
      return asArray(o.nodes).map((n) => {
        const node = asRecord(n) ?? {};
        const hostname = asString(node.hostname);
        return { connection: node.connection, where, hostname, recordedKey: hostname ? asString(keys[hostname]) : undefined };
      });
    case "HeartbeatCluster":
      return asArray(o.nodes).map((n, i) => {
        const node = asRecord(n) ?? {};
        return {
          connection: node.connection,
          where,
          hostname: asString(node.name),
          publicAddress: asString(node.publicAddress),
          crossoverAddress: asString(node.crossoverAddress),
          recordedKey: asString(keyList[i]),
        };
      });
    default:
      // VolumeGroup, LogicalVolume, XenToolsImage: one host, its key recorded beside the connection.
      return o.connection === undefined ? [] : [{ connection: o.connection, where, recordedKey: asString(o.observedHostKey) }];
  }
}

function vmOf(r: StackResource, nodeAt: (c: unknown) => ClusterNode | undefined, homes: ReadonlyMap<string, string>): ClusterVm {
  const o = r.outputs;
  const name = asString(o.name) ?? r.name;
  const recorded = asString(o.runOn);
  const host = asArray(o.hosts).map(asRecord).find((h) => asString(h?.name) === recorded);
  const runOn = (host ? nodeAt(host.connection)?.name : undefined) ?? recorded;
  return {
    name,
    home: homes.get(name) ?? runOn,
    runOn,
    state: asString(o.state) ?? "running",
    resources: asArray(o.disks).flatMap((d) => asString(asRecord(d)?.drbd) ?? []),
    underHeartbeat: homes.has(name),
  };
}

function drbdOf(r: StackResource, nodeAt: (c: unknown) => ClusterNode | undefined): ClusterDrbd {
  return {
    name: asString(r.outputs.name) ?? r.name,
    nodes: asArray(r.outputs.nodes).map((n) => {
      const node = asRecord(n) ?? {};
      const hostname = asString(node.hostname);
      const minor = /^\/dev\/drbd(\d+)$/.exec(asString(node.device) ?? "")?.[1];
      return { node: nodeAt(node.connection)?.name ?? hostname ?? "?", hostname, minor: minor === undefined ? undefined : Number(minor) };
    }),
  };
}

function heartbeatOf(r: StackResource, nodeAt: (c: unknown) => ClusterNode | undefined): ClusterHeartbeat {
  const groups = asArray(r.outputs.resourceGroups).map((g) => asString(asRecord(g)?.name));
  return {
    nodes: asArray(r.outputs.nodes).map((n, i) => {
      const node = asRecord(n) ?? {};
      const hostname = asString(node.name);
      const upBootId = asString(asArray(r.outputs.upBootIds)[i]);
      return { node: nodeAt(node.connection)?.name ?? hostname ?? "?", hostname, group: groups[i] ?? DEFAULT_GROUPS[i] ?? `group ${i + 1}`, upBootId };
    }),
  };
}
