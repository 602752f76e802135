/**
 * Entry point of the dynamic provider process. The serialized providers in the state only name a
 * resource kind; the implementation is required from here at call time, so state stays small
 * and old state keeps working with newer code.
 */
import type { Lifecycle, Props } from "./lifecycle";

export type ResourceKind = "VolumeGroup" | "LogicalVolume" | "DrbdResource" | "NodeNetwork" | "HeartbeatCluster" | "XenDomU" | "XenMigrationTrust" | "XenToolsImage";

const loaders: Record<ResourceKind, () => Lifecycle> = {
  VolumeGroup: () => require("./lvm/volume-group").volumeGroupLifecycle,
  LogicalVolume: () => require("./lvm/logical-volume").logicalVolumeLifecycle,
  DrbdResource: () => require("./drbd/drbd-resource").drbdResourceLifecycle,
  NodeNetwork: () => require("./network/node-network").nodeNetworkLifecycle,
  HeartbeatCluster: () => require("./heartbeat/cluster").heartbeatClusterLifecycle,
  XenDomU: () => require("./xen/domu").xenDomULifecycle,
  XenMigrationTrust: () => require("./xen/migration-trust").xenMigrationTrustLifecycle,
  XenToolsImage: () => require("./xen/xen-tools-image").xenToolsImageLifecycle,
};

export function implementation(kind: ResourceKind): Lifecycle {
  const load = loaders[kind];
  if (!load) throw new Error(`pulumi-xen-ha: unknown resource kind ${String(kind)}: the installed package is older than the state`);
  const lifecycle = load();
  return { ...lifecycle, create: (inputs) => lifecycle.create(inputs).catch((err: unknown) => rethrowWithProvider(err, inputs)) };
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
