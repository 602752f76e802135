/**
 * What the cluster component builds, derived from its args and checked before any resource is
 * registered: every field error names its path (`vms[1].slot`) and the fix.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DrbdResourceArgs } from "../provider/drbd/drbd-resource";
import { META_BYTES_PER_INDEX } from "../provider/drbd/schema";
import { ValidationError, type InputFailure } from "../provider/errors";
import type { HeartbeatClusterArgs } from "../provider/heartbeat/cluster";
import { formatBytes, parseSize } from "../provider/lvm/size";
import type { NodeNetworkArgs } from "../provider/network/node-network";
import type { ConnectionInput } from "../provider/ssh/connection";
import type { ClusterVmArgs, TwoNodeXenHaArgs, VmInstall } from "./two-node-xen-ha";

export interface NodePlan {
  name: string;
  hostname: string;
  connection: pulumi.Input<ConnectionInput>;
  volumeGroupDevices: string[];
  network: NodeNetworkArgs;
}

export interface DrbdPlan {
  /** Resource name, also the backing volume's name (the seed's `test-disk`). */
  name: string;
  volume: string;
  size: string;
  vdev: string;
  args: DrbdResourceArgs;
}

export interface VmPlan {
  name: string;
  homeIndex: number;
  install: VmInstall;
  ip: string | undefined;
  memory: number;
  vcpus: number;
  type: "pv" | "pvh";
  state: "running" | "stopped";
  allowNonLiveMove: boolean;
  xenToolsDiskSize: string;
  xenToolsSwapSize: string | false;
  drbdResources: DrbdPlan[];
}

export interface ClusterPlan {
  nodes: NodePlan[];
  volumeGroupName: string;
  metaVolumeSize: string;
  xenHosts: { name: string; connection: pulumi.Input<ConnectionInput>; crossoverAddress: string; crossoverName: string }[];
  drbdDefaults: Partial<DrbdResourceArgs>;
  heartbeat: HeartbeatClusterArgs;
  vms: VmPlan[];
}

const shortNameOf = (fqdn: string) => fqdn.split(".")[0]!;
/** The seed's name of a node on the crossover link: `ha1X`. */
export const crossoverNameOf = (fqdn: string) => `${shortNameOf(fqdn)}X`;

export function clusterPlan(args: TwoNodeXenHaArgs): ClusterPlan {
  const failures = validate(args);
  if (failures.length > 0) throw new ValidationError("TwoNodeXenHa", failures);
  const [a, b] = args.nodes;
  const prefixLength = args.prefixLength ?? 24;
  const network = (self: typeof a, peer: typeof a): NodeNetworkArgs => ({
    connection: self.connection,
    hostname: self.hostname,
    public: { device: self.publicInterface ?? "eth0", address: self.publicAddress, prefixLength, bridge: "xenbr0", ...(self.gateway ? { gateway: self.gateway } : {}) },
    crossover: { device: self.crossoverInterface ?? "eth1", address: self.crossoverAddress, prefixLength },
    peer: { hostname: peer.hostname, publicAddress: peer.publicAddress, crossoverAddress: peer.crossoverAddress },
    ntp: { servers: args.ntpServers ?? [] },
  });
  const nodes: NodePlan[] = [a, b].map((n, i) => ({
    name: n.name,
    hostname: n.hostname,
    connection: n.connection,
    volumeGroupDevices: n.volumeGroupDevices,
    network: network(n, i === 0 ? b : a),
  }));
  const volumeGroupName = args.volumeGroupName ?? "vg";
  return {
    nodes,
    volumeGroupName,
    metaVolumeSize: args.metaVolumeSize ?? "1G",
    xenHosts: [a, b].map((n) => ({ name: n.name, connection: n.connection, crossoverAddress: n.crossoverAddress, crossoverName: crossoverNameOf(n.hostname) })),
    drbdDefaults: (args.drbd ?? {}) as Partial<DrbdResourceArgs>,
    heartbeat: {
      ...args.heartbeat,
      nodes: [a, b].map((n) => ({ connection: n.connection, name: n.hostname, publicAddress: n.publicAddress, crossoverAddress: n.crossoverAddress, crossoverName: crossoverNameOf(n.hostname) })) as HeartbeatClusterArgs["nodes"],
      // A VM meant to be stopped is left out of Heartbeat's groups, which would start it.
      domains: args.vms.filter((vm) => (vm.state ?? "running") === "running").map((vm) => ({ name: vm.name, home: args.nodes.find((n) => n.name === vm.home)!.hostname })),
    },
    vms: args.vms.map((vm) => vmPlan(vm, args, volumeGroupName)),
  };
}

function vmPlan(vm: ClusterVmArgs, args: TwoNodeXenHaArgs, volumeGroupName: string): VmPlan {
  const homeIndex = args.nodes.findIndex((n) => n.name === vm.home);
  const diskSize = vm.diskSize ?? "5G";
  const swapSize = vm.swapSize === undefined ? "384M" : vm.swapSize;
  const xenTools = vm.install.method === "xen-tools";
  const volumes: { volume: string; size: string; vdev: string }[] = [
    { volume: `${vm.name}-disk`, size: diskSize, vdev: xenTools ? "xvda2" : "xvda" },
    ...(swapSize ? [{ volume: `${vm.name}-swap`, size: swapSize, vdev: xenTools ? "xvda1" : "xvdb" }] : []),
  ];
  const drbdResources = volumes.map((v, k) => {
    const minor = 2 * vm.slot + 1 + k;
    return {
      name: v.volume,
      volume: v.volume,
      size: v.size,
      vdev: v.vdev,
      args: {
        name: v.volume,
        initialSyncSource: args.nodes[homeIndex]!.hostname,
        // xen-create-image put a system on the home node's volumes: it must be copied. New volumes are empty.
        skipInitialSync: !xenTools,
        // The component deletes the backing volumes with the resource: meta-data left in the slot's
        // index would make a VM added again there take fresh volumes for an UpToDate pair.
        wipeMetadataOnDelete: true,
        nodes: args.nodes.map((n) => ({
          connection: n.connection,
          hostname: n.hostname,
          address: n.crossoverAddress,
          port: 7788 + minor,
          device: `/dev/drbd${minor}`,
          disk: `/dev/${volumeGroupName}/${v.volume}`,
          metaDisk: { device: `/dev/${volumeGroupName}/meta`, index: minor - 1 },
        })) as DrbdResourceArgs["nodes"],
      },
    };
  });
  return {
    name: vm.name,
    homeIndex,
    install: vm.install,
    ip: vm.ip,
    memory: vm.memory ?? 384,
    vcpus: vm.vcpus ?? 1,
    type: vm.type ?? "pv",
    state: vm.state ?? "running",
    allowNonLiveMove: vm.allowNonLiveMove ?? false,
    xenToolsDiskSize: diskSize,
    xenToolsSwapSize: swapSize ?? false,
    drbdResources,
  };
}

function validate(args: TwoNodeXenHaArgs): InputFailure[] {
  const failures: InputFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const names = args.nodes.map((n) => n.name);
  if (names[0] === names[1]) fail("nodes[1].name", "the two nodes need different names");
  args.nodes.forEach((n, i) => {
    if (!/^[a-z0-9][a-z0-9-]*$/i.test(n.name)) fail(`nodes[${i}].name`, "must be a short name of letters, digits and - (it becomes part of resource names)");
    if (n.volumeGroupDevices.length === 0) fail(`nodes[${i}].volumeGroupDevices`, "needs at least one device for the volume group");
  });
  const metaBytes = parseSize(args.metaVolumeSize ?? "1G");
  if (metaBytes === undefined) fail("metaVolumeSize", 'must be a size such as "1G"');
  const slots = new Map<number, string>();
  const vmNames = new Set<string>();
  args.vms.forEach((vm, i) => {
    if (vmNames.has(vm.name)) fail(`vms[${i}].name`, `"${vm.name}" is listed twice`);
    vmNames.add(vm.name);
    if (!names.includes(vm.home)) fail(`vms[${i}].home`, `must name one of the nodes (${names.join(", ")})`);
    if (!Number.isInteger(vm.slot) || vm.slot < 0) fail(`vms[${i}].slot`, "must be a whole number from 0");
    const other = slots.get(vm.slot);
    if (other !== undefined) fail(`vms[${i}].slot`, `slot ${vm.slot} is already taken by ${other}; give each VM its own slot`);
    slots.set(vm.slot, vm.name);
    const needed = (2 * vm.slot + 2) * META_BYTES_PER_INDEX;
    if (metaBytes !== undefined && needed > metaBytes) {
      fail(`vms[${i}].slot`, `slot ${vm.slot} needs meta-data indexes up to ${2 * vm.slot + 1}, so a meta volume of ${formatBytes(needed)}; raise metaVolumeSize or use a lower slot`);
    }
    if (vm.install.method === "xen-tools" && !vm.ip) fail(`vms[${i}].ip`, "xen-create-image needs the guest's address (--ip)");
  });
  return failures;
}
