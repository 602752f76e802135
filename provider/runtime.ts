/**
 * Entry point of the dynamic provider process. The serialized providers in the state only name a
 * resource kind; the implementation is required from here at call time, so state stays small
 * and old state keeps working with newer code.
 */
import type { Lifecycle, Props } from "./lifecycle";
import type { ResourceKind } from "./resource-kind";
import { claimsOfCall } from "./ssh/host-key-claims";
import { knownHosts } from "./ssh/known-hosts";

export type { ResourceKind };

const loaders: Record<ResourceKind, () => Lifecycle> = {
  VolumeGroup: () => require("./lvm/volume-group").volumeGroupLifecycle,
  LogicalVolume: () => require("./lvm/logical-volume").logicalVolumeLifecycle,
  DrbdResource: () => require("./drbd/drbd-resource").drbdResourceLifecycle,
  NodeNetwork: () => require("./network/node-network").nodeNetworkLifecycle,
  HeartbeatCluster: () => require("./heartbeat/cluster").heartbeatClusterLifecycle,
  XenDomU: () => require("./xen/domu").xenDomULifecycle,
  XenMigrationTrust: () => require("./xen/migration-trust").xenMigrationTrustLifecycle,
  XenToolsImage: () => require("./xen/xen-tools-image").xenToolsImageLifecycle,
  CorosyncCluster: () => require("./corosync/corosync-cluster").corosyncClusterLifecycle,
  PacemakerConfig: () => require("./pacemaker/pacemaker-config").pacemakerConfigLifecycle,
};

export function implementation(kind: ResourceKind): Lifecycle {
  const load = loaders[kind];
  if (!load) throw new Error(`pulumi-xen-ha: unknown resource kind ${String(kind)}: the installed package is older than the state`);
  const lifecycle = load();
  const learn = (id: string | undefined, bags: { news?: Props; olds?: Props }) => learnHostKeys(kind, id, bags);
  return {
    async check(olds, news) {
      learn(undefined, { news, olds });
      return lifecycle.check(olds, news);
    },
    async diff(id, olds, news) {
      learn(id, { news, olds });
      return lifecycle.diff(id, olds, news);
    },
    async create(inputs) {
      learn(undefined, { news: inputs });
      const result = await lifecycle.create(inputs).catch((err: unknown) => rethrowWithProvider(err, inputs));
      return { ...result, outs: withoutUndefined(result.outs) };
    },
    async read(id, props) {
      learn(id, { olds: props });
      const result = await lifecycle.read(id, props);
      if (!result.props) return result;
      const read = { ...result, props: withoutUndefined(result.props) };
      return lifecycle.refreshedInputs ? { ...read, inputs: withoutUndefined(lifecycle.refreshedInputs(read.props)) } : read;
    },
    async update(id, olds, news) {
      learn(id, { news, olds });
      const result = await lifecycle.update(id, olds, news);
      return { ...result, outs: withoutUndefined(result.outs) };
    },
    async delete(id, props) {
      learn(id, { olds: props });
      return lifecycle.delete(id, props);
    },
  };
}

/**
 * Every call tells the process-wide registry which host keys this resource states (pins in the
 * program, keys recorded in its state), before it runs: a later resource on the same host is then
 * held to them, and two keys for one host are refused (HostKeyConflictError).
 */
function learnHostKeys(kind: ResourceKind, id: string | undefined, bags: { news?: Props; olds?: Props }): void {
  const name = id ?? (typeof bags.news?.name === "string" ? bags.news.name : undefined);
  knownHosts.learnAll(claimsOfCall(name === undefined ? kind : `${kind} "${name}"`, bags));
}

/**
 * The engine records a partly created resource with exactly the properties the error carries; the
 * serialized provider must be among them, or no later update or delete can load it.
 */
function rethrowWithProvider(err: unknown, inputs: Props): never {
  if (err instanceof Error && "properties" in err && typeof err.properties === "object" && err.properties !== null) {
    (err.properties as Props).__provider ??= inputs.__provider;
  }
  throw err;
}

/**
 * The engine's property serialisation (protobuf Struct) refuses undefined ("Unexpected struct
 * type"): undefined properties are left out, as JSON leaves them, and undefined list items become null.
 */
export function withoutUndefined<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => (v === undefined ? null : withoutUndefined(v))) as T;
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => [k, withoutUndefined(v)])) as T;
  }
  return value;
}
