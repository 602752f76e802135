/**
 * Entry point of the dynamic provider process. The serialized providers in the state only name a
 * resource kind; the implementation is required from here at call time, so state stays small
 * and old state keeps working with newer code.
 */
import type { Lifecycle } from "./lifecycle";

export type ResourceKind = "VolumeGroup" | "LogicalVolume" | "DrbdResource" | "XenDomU" | "XenMigrationTrust" | "XenToolsImage";

const loaders: Record<ResourceKind, () => Lifecycle> = {
  VolumeGroup: () => require("./lvm/volume-group").volumeGroupLifecycle,
  LogicalVolume: () => require("./lvm/logical-volume").logicalVolumeLifecycle,
  DrbdResource: () => require("./drbd/drbd-resource").drbdResourceLifecycle,
  XenDomU: () => require("./xen/domu").xenDomULifecycle,
  XenMigrationTrust: () => require("./xen/migration-trust").xenMigrationTrustLifecycle,
  XenToolsImage: () => require("./xen/xen-tools-image").xenToolsImageLifecycle,
};

export function implementation(kind: ResourceKind): Lifecycle {
  const load = loaders[kind];
  if (!load) throw new Error(`pulumi-xen-ha: unknown resource kind ${String(kind)}: the installed package is older than the state`);
  return load();
}
