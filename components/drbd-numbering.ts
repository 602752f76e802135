/**
 * Each VM disk's DRBD numbering: what its `slot` gives (minor 2s+1+k, port 7788+minor, meta-data
 * index minor−1, the seed's), or what its `drbd` field says for a cluster built by hand. Pure:
 * the plan and the component's check both read it.
 */
import type { ClusterVmArgs } from "./types";

export interface DiskNumbering {
  /** `disk` or `swap`: the VM's field that overrides it. */
  kind: "disk" | "swap";
  resource: string;
  /** The backing volume's name: the resource's, except the volumes xen-create-image names itself. */
  volume: string;
  minor: number;
  port: number;
  metaIndex: number;
  vdev: string;
}

/** The VM's disks in order (the root disk, then swap unless `swapSize` is null). */
export function diskNumberingOf(vm: Pick<ClusterVmArgs, "name" | "slot" | "swapSize" | "install" | "drbd">): DiskNumbering[] {
  const xenTools = vm.install?.method === "xen-tools";
  const kinds: ("disk" | "swap")[] = vm.swapSize === null ? ["disk"] : ["disk", "swap"];
  return kinds.map((kind, k) => {
    const given = vm.drbd?.[kind] ?? {};
    const ownName = `${vm.name}-${kind}`;
    const resource = given.resource ?? ownName;
    const minor = given.minor ?? 2 * vm.slot + 1 + k;
    const vdev = given.vdev ?? (xenTools ? (kind === "disk" ? "xvda2" : "xvda1") : kind === "disk" ? "xvda" : "xvdb");
    return { kind, resource, volume: xenTools ? ownName : resource, minor, port: given.port ?? 7788 + minor, metaIndex: given.metaIndex ?? minor - 1, vdev };
  });
}
