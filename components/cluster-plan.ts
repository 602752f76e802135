/**
 * What the cluster component builds, derived from its args and checked before any resource is
 * registered (see validate.ts): every field error names its path (`vms[1].slot`) and the fix.
 * Values that may be Inputs are carried through untouched; only plain values shape the plan.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionArgs } from "../provider/args";
import type { DrbdResourceArgs } from "../provider/drbd/drbd-resource";
import { ValidationError } from "../provider/errors";
import type { CorosyncClusterArgs } from "../provider/corosync/corosync-cluster";
import type { HeartbeatClusterArgs } from "../provider/heartbeat/cluster";
import type { PacemakerConfigArgs } from "../provider/pacemaker/pacemaker-config";
import type { NodeNetworkArgs } from "../provider/network/node-network";
import type { XenDomUArgs } from "../provider/xen/domu";
import { DEFAULT_BRIDGE } from "../provider/xen/schema";
import type { ClusterPacemakerArgs, ClusterVmArgs, TwoNodeXenHaArgs, VmInstall } from "./types";
import { diskNumberingOf } from "./drbd-numbering";
import { dopdFencingOf } from "./fencing";
import { validate } from "./validate";

export interface NodePlan {
  name: string;
  hostname: string;
  connection: pulumi.Input<ConnectionArgs>;
  volumeGroupDevices: string[];
  network: NodeNetworkArgs;
}

export interface DrbdPlan {
  /** Resource name, also the backing volume's name (the seed's `test-disk`). */
  name: string;
  volume: string;
  size: pulumi.Input<string>;
  vdev: string;
  args: DrbdResourceArgs;
}

/** Pulumi's options for the resources that hold data. */
export interface DataKeeping {
  protect?: boolean;
  retainOnDelete?: boolean;
}

export interface VmPlan {
  name: string;
  home: string;
  homeIndex: number;
  install: VmInstall;
  ip: pulumi.Input<string> | undefined;
  memory: pulumi.Input<number>;
  xenToolsDiskSize: pulumi.Input<string>;
  xenToolsSwapSize: pulumi.Input<string> | false;
  drbdResources: DrbdPlan[];
  /** The XenDomU's settings other than its hosts, placement, boot and disks. */
  domain: Pick<XenDomUArgs, "state" | "type" | "memory" | "maxMemory" | "vcpus" | "maxVcpus" | "vifs" | "onCrash" | "onReboot" | "onPoweroff" | "extraConfig" | "allowNonLiveMove">;
  bootloader: "pygrub" | undefined;
  keep: DataKeeping;
}

export interface ClusterPlan {
  nodes: NodePlan[];
  volumeGroupName: string;
  metaVolumeSize: pulumi.Input<string>;
  xenHosts: { name: string; connection: pulumi.Input<ConnectionArgs>; crossoverAddress: pulumi.Input<string>; crossoverName: string }[];
  drbdDefaults: Partial<DrbdResourceArgs>;
  /** Heartbeat's args with `clusterManager: "heartbeat"`. */
  heartbeat: HeartbeatClusterArgs | undefined;
  /** Corosync's and Pacemaker's args with `clusterManager: "pacemaker"`. */
  pacemaker: { corosync: CorosyncClusterArgs; config: PacemakerConfigArgs } | undefined;
  vms: VmPlan[];
  /** For the node-wide data: the volume groups and meta volumes. */
  keep: DataKeeping;
  /** Take over what exists (`adopt`): passed to every child that can find its thing made already. */
  adopt: boolean;
}

const shortNameOf = (fqdn: string) => fqdn.split(".")[0]!;
/** The seed's name of a node on the crossover link: `ha1X`. */
export const crossoverNameOf = (fqdn: string) => `${shortNameOf(fqdn)}X`;

/** The object without its undefined fields, so an unset option is not sent to a child as a property. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function clusterPlan(args: TwoNodeXenHaArgs): ClusterPlan {
  const failures = validate(args);
  if (failures.length > 0) throw new ValidationError("TwoNodeXenHa", failures);
  const [a, b] = args.nodes;
  const prefixLength = args.prefixLength ?? 24;
  const bridge = args.publicBridge ?? DEFAULT_BRIDGE;
  const network = (self: typeof a, peer: typeof a): NodeNetworkArgs => ({
    connection: self.connection,
    hostname: self.hostname,
    public: { device: self.publicInterface ?? "eth0", address: self.publicAddress, prefixLength, bridge, ...(self.gateway ? { gateway: self.gateway } : {}) },
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
    heartbeat:
      args.clusterManager === "pacemaker" || !args.heartbeat
        ? undefined
        : {
            ...args.heartbeat,
            nodes: [a, b].map((n) => ({ connection: n.connection, name: n.hostname, publicAddress: n.publicAddress, crossoverAddress: n.crossoverAddress, crossoverName: crossoverNameOf(n.hostname) })) as HeartbeatClusterArgs["nodes"],
            // A VM meant to be stopped is left out of Heartbeat's groups, which would start it.
            domains: args.vms.filter((vm) => (vm.state ?? "running") === "running").map((vm) => ({ name: vm.name, home: hostnameOf(args, vm.home) })),
          },
    pacemaker: args.clusterManager === "pacemaker" && args.pacemaker ? pacemakerPlan(args, args.pacemaker) : undefined,
    vms: args.vms.map((vm) => vmPlan(vm, args, volumeGroupName, bridge)),
    keep: defined({ protect: args.protectData, retainOnDelete: args.retainDataOnDelete }),
    adopt: args.adopt === true,
  };
}

const hostnameOf = (args: TwoNodeXenHaArgs, node: string) => args.nodes.find((n) => n.name === node)!.hostname;

/** Corosync over both links, and Pacemaker placing every VM (a stopped one has its target role stopped). */
function pacemakerPlan(args: TwoNodeXenHaArgs, p: ClusterPacemakerArgs): { corosync: CorosyncClusterArgs; config: PacemakerConfigArgs } {
  const [a, b] = args.nodes;
  const corosync: CorosyncClusterArgs = defined({
    clusterName: p.clusterName ?? "xen-ha",
    nodes: [a, b].map((n) => ({ connection: n.connection, name: n.hostname, addresses: [n.publicAddress, n.crossoverAddress] })) as CorosyncClusterArgs["nodes"],
    authKey: p.authKey,
    arbiter: p.arbiter,
    tokenMs: p.tokenMs,
    joinTimeoutSeconds: p.joinTimeoutSeconds,
  });
  const config: PacemakerConfigArgs = defined({
    nodes: [a, b].map((n) => ({ connection: n.connection, name: n.hostname, migrationAddress: n.crossoverAddress })) as PacemakerConfigArgs["nodes"],
    fencing: p.fencing?.map((f, i) => defined({ node: [a, b][i]!.hostname, agent: f.agent, parameters: f.parameters, delaySeconds: f.delaySeconds })) as PacemakerConfigArgs["fencing"],
    allowNoFencing: p.allowNoFencing,
    guests: args.vms.map((vm) => ({ name: vm.name, home: hostnameOf(args, vm.home), state: vm.state ?? "running" })),
    autoFailback: p.autoFailback,
    noQuorumPolicy: p.noQuorumPolicy,
    fenceTimeoutSeconds: p.fenceTimeoutSeconds,
    settleTimeoutSeconds: p.settleTimeoutSeconds,
  });
  return { corosync, config };
}

function vmPlan(vm: ClusterVmArgs, args: TwoNodeXenHaArgs, volumeGroupName: string, bridge: string): VmPlan {
  const homeIndex = args.nodes.findIndex((n) => n.name === vm.home);
  const diskSize = vm.diskSize ?? "5G";
  const swapSize = vm.swapSize === undefined ? "384M" : vm.swapSize;
  const xenTools = vm.install.method === "xen-tools";
  const adopt = args.adopt === true;
  const drbdResources = diskNumberingOf(vm).map((d) => {
    return {
      name: d.resource,
      volume: d.volume,
      size: d.kind === "disk" ? diskSize : (swapSize as pulumi.Input<string>),
      vdev: d.vdev,
      args: {
        name: d.resource,
        initialSyncSource: args.nodes[homeIndex]!.hostname,
        // xen-create-image put a system on the home node's volumes: it must be copied. New volumes are empty.
        skipInitialSync: !xenTools,
        // The component deletes the backing volumes with the resource: meta-data left in the slot's
        // index would make a VM added again there take fresh volumes for an UpToDate pair.
        wipeMetadataOnDelete: true,
        ...(adopt ? { adopt: true } : {}),
        ...dopdFencingOf(args, d.minor),
        nodes: args.nodes.map((n) => ({
          connection: n.connection,
          hostname: n.hostname,
          address: n.crossoverAddress,
          port: d.port,
          device: `/dev/drbd${d.minor}`,
          disk: `/dev/${volumeGroupName}/${d.volume}`,
          metaDisk: { device: `/dev/${volumeGroupName}/meta`, index: d.metaIndex },
        })) as DrbdResourceArgs["nodes"],
      },
    };
  });
  const memory = vm.memory ?? 384;
  // The first interface is the public one: it takes the VM's address unless it names its own.
  const vifs = (vm.vifs ?? [{}]).map((v, i) => defined({ bridge: v.bridge ?? bridge, mac: v.mac, ip: v.ip ?? (i === 0 ? vm.ip : undefined) }));
  return {
    name: vm.name,
    home: vm.home,
    homeIndex,
    install: vm.install,
    ip: vm.ip,
    memory,
    xenToolsDiskSize: diskSize,
    xenToolsSwapSize: swapSize ?? false,
    drbdResources,
    domain: defined({
      state: vm.state ?? "running",
      type: vm.type ?? "pv",
      memory,
      maxMemory: vm.maxMemory,
      vcpus: vm.vcpus ?? 1,
      maxVcpus: vm.maxVcpus,
      vifs,
      onCrash: vm.onCrash,
      onReboot: vm.onReboot,
      onPoweroff: vm.onPoweroff,
      extraConfig: vm.extraConfig && Object.keys(vm.extraConfig).length > 0 ? vm.extraConfig : undefined,
      allowNonLiveMove: vm.allowNonLiveMove ?? false,
    }),
    bootloader: vm.bootloader ?? (vm.install.method === "xen-tools" && vm.install.pygrub === true ? "pygrub" : undefined),
    keep: defined({ protect: vm.protectData ?? args.protectData, retainOnDelete: vm.retainDataOnDelete ?? args.retainDataOnDelete }),
  };
}
