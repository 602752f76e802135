import * as pulumi from "@pulumi/pulumi";
import { DrbdResource, type DrbdResourceArgs } from "../provider/drbd/drbd-resource";
import { HeartbeatCluster, type HeartbeatClusterArgs } from "../provider/heartbeat/cluster";
import { LogicalVolume } from "../provider/lvm/logical-volume";
import { VolumeGroup } from "../provider/lvm/volume-group";
import { NodeNetwork } from "../provider/network/node-network";
import type { ConnectionInput } from "../provider/ssh/connection";
import { XenDomU } from "../provider/xen/domu";
import { XenMigrationTrust } from "../provider/xen/migration-trust";
import { XenToolsImage, type XenToolsImageArgs } from "../provider/xen/xen-tools-image";
import { clusterPlan, type ClusterPlan, type VmPlan } from "./cluster-plan";

/** One of the two hosts (the seed's ha1 and ha2). */
export interface ClusterNodeArgs {
  /** Short name used in resource names and in `vms[].home` (the seed's `ha1`). */
  name: string;
  /** Fully qualified name, set as the host name; DRBD and Heartbeat know the node by it (the seed's `ha1.domain.local`). */
  hostname: string;
  /** How to reach the dom0 over SSH (pin `hostKey` in production). */
  connection: pulumi.Input<ConnectionInput>;
  /** Public address, carried by the guests' bridge (the seed's 10.1.1.100). */
  publicAddress: string;
  /** Crossover address: DRBD, migration and a Heartbeat path (the seed's 192.168.1.100). */
  crossoverAddress: string;
  /** Devices of the volume group (the seed's `/dev/sda3`). */
  volumeGroupDevices: string[];
  /** Public NIC. Default `eth0`. */
  publicInterface?: string;
  /** Crossover NIC. Default `eth1`. */
  crossoverInterface?: string;
  /** Default gateway on the public network (the seed's 10.1.1.1). Default none. */
  gateway?: string;
}

/** A guest of the cluster, replicated with DRBD and watched by Heartbeat. */
export interface ClusterVmArgs {
  /** Domain name (the seed's `test`). */
  name: string;
  /**
   * Fixed place of the VM in the cluster's numbering: it decides its DRBD devices
   * (`/dev/drbd{2s+1}`, `/dev/drbd{2s+2}`), ports (7789+2s, 7790+2s) and meta-data indexes (2s, 2s+1),
   * so adding or removing another VM never renumbers this one. Unique, from 0.
   */
  slot: number;
  /** Node the VM runs on while both are up (a `nodes[].name`). */
  home: string;
  /** `pv` (default, the seed's) or `pvh` (live-migrates on hypervisors without shadow paging). */
  type?: "pv" | "pvh";
  /** MiB. Default 384 (the seed's). */
  memory?: number;
  /** Default 1. */
  vcpus?: number;
  /** The guest's address on the public network (the seed's 10.1.1.50). */
  ip?: string;
  /** Root disk size. Default "5G" (the seed's). */
  diskSize?: string;
  /** Swap size, or null for none. Default "384M" (the seed's). */
  swapSize?: string | null;
  /** How the guest is installed. */
  install: VmInstall;
  /** `running` (default) or `stopped`. */
  state?: "running" | "stopped";
  /** Let a change of `home` save, copy and restore a guest that cannot live-migrate. Default false. */
  allowNonLiveMove?: boolean;
}

export type VmInstall =
  /** `xen-create-image` on the home node, as the seed does; its data is synced in full to the peer. */
  | ({ method: "xen-tools" } & Omit<XenToolsImageArgs, "connection" | "name" | "ip" | "volumeGroup" | "size" | "swap" | "memory">)
  /** A kernel on the dom0s and new, empty volumes (their initial sync is skipped). */
  | { method: "kernel"; kernel: string; ramdisk?: string; root?: string; extra?: string };

export interface TwoNodeXenHaArgs {
  /** The two hosts. */
  nodes: [ClusterNodeArgs, ClusterNodeArgs];
  /** Volume group name. Default "vg" (the seed's). */
  volumeGroupName?: string;
  /** Size of the shared DRBD meta-data volume; 128 MiB per index. Default "1G" (the seed's: slots 0–3). */
  metaVolumeSize?: string;
  /** Prefix length of both networks. Default 24. */
  prefixLength?: number;
  /** Upstream NTP servers. Default none: the nodes keep time together over the crossover link. */
  ntpServers?: string[];
  /** DRBD options for every resource (protocol, timeouts, resync rate…); defaults are the seed's. */
  drbd?: Partial<Omit<DrbdResourceArgs, "name" | "nodes" | "initialSyncSource" | "skipInitialSync">>;
  /** Heartbeat: the shared secret (a secret) and the seed's timers. */
  heartbeat: Partial<Omit<HeartbeatClusterArgs, "nodes" | "domains" | "authKey">> & { authKey: pulumi.Input<string> };
  /** The guests. */
  vms: ClusterVmArgs[];
}

export interface VmReport {
  /** Where the guest runs, as last read. */
  runsOn: string;
  state: string;
  /** Per DRBD resource, per node: connection, roles and disk states. */
  drbd: Record<string, unknown>;
}

/**
 * The seed's whole cluster: node networks, LVM, DRBD for every VM disk, the DomUs with live
 * migration between the hosts, and Heartbeat restarting a dead host's DomUs on the survivor.
 */
export class TwoNodeXenHa extends pulumi.ComponentResource {
  /** Per VM: where it runs and its DRBD state. */
  declare readonly vms: pulumi.Output<Record<string, VmReport>>;
  /** Which node holds which Heartbeat group. */
  declare readonly heartbeatGroups: pulumi.Output<unknown>;

  constructor(name: string, args: TwoNodeXenHaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pulumi-xen-ha:index:TwoNodeXenHa", name, {}, opts);
    const plan = clusterPlan(args);
    const parent = { parent: this };

    const networks = plan.nodes.map((n) => new NodeNetwork(`${name}-${n.name}-network`, n.network, parent));
    const groups = plan.nodes.map(
      (n, i) => new VolumeGroup(`${name}-${n.name}-vg`, { connection: n.connection, name: plan.volumeGroupName, devices: n.volumeGroupDevices }, { parent: this, dependsOn: networks[i] }),
    );
    const volume = (i: number, lvName: string, size: pulumi.Input<string>, deps: pulumi.Resource[] = [], zeroOnCreate = false) =>
      new LogicalVolume(
        `${name}-${plan.nodes[i]!.name}-${lvName}`,
        { connection: plan.nodes[i]!.connection, volumeGroup: plan.volumeGroupName, name: lvName, size, zeroOnCreate },
        { parent: this, dependsOn: [groups[i]!, ...deps] },
      );
    const metaVolumes = plan.nodes.map((_n, i) => volume(i, "meta", plan.metaVolumeSize, [], true));
    const trust = new XenMigrationTrust(`${name}-migration`, { hosts: pulumi.output(plan.xenHosts) }, { parent: this, dependsOn: networks });

    const domains: pulumi.Resource[] = [];
    const reports: Record<string, pulumi.Output<VmReport>> = {};
    for (const vm of plan.vms) {
      const built = this.buildVm(name, plan, vm, volume, metaVolumes, networks, trust);
      domains.push(built.domain);
      reports[vm.name] = pulumi.output({
        runsOn: built.domain.runOn,
        state: built.domain.state,
        drbd: Object.fromEntries(vm.drbdResources.map((r, i) => [r.name, built.drbd[i]!.status])),
      }) as pulumi.Output<VmReport>;
    }
    const heartbeat = new HeartbeatCluster(`${name}-heartbeat`, plan.heartbeat, { parent: this, dependsOn: [...domains, ...networks] });

    this.vms = pulumi.output(reports) as pulumi.Output<Record<string, VmReport>>;
    this.heartbeatGroups = heartbeat.groups;
    this.registerOutputs({ vms: this.vms, heartbeatGroups: this.heartbeatGroups });
  }

  private buildVm(
    name: string,
    plan: ClusterPlan,
    vm: VmPlan,
    volume: (i: number, lvName: string, size: pulumi.Input<string>, deps?: pulumi.Resource[], zeroOnCreate?: boolean) => LogicalVolume,
    metaVolumes: LogicalVolume[],
    networks: NodeNetwork[],
    trust: XenMigrationTrust,
  ): { domain: XenDomU; drbd: DrbdResource[] } {
    const home = vm.homeIndex;
    const peer = 1 - home;
    let boot: { kernel?: pulumi.Input<string>; ramdisk?: pulumi.Input<string>; root?: pulumi.Input<string>; extra?: pulumi.Input<string> };
    const backing: LogicalVolume[] = [];
    let imageDeps: pulumi.Resource[] = [];
    if (vm.install.method === "xen-tools") {
      const { method: _method, ...options } = vm.install;
      const image = new XenToolsImage(
        `${name}-${vm.name}-image`,
        { ...options, connection: plan.nodes[home]!.connection, name: vm.name, ip: vm.ip ?? "", volumeGroup: plan.volumeGroupName, size: vm.xenToolsDiskSize, swap: vm.xenToolsSwapSize, memory: vm.memory },
        { parent: this, dependsOn: [metaVolumes[home]!] },
      );
      imageDeps = [image];
      // xen-create-image always writes a kernel line for the direct boot these images use.
      boot = { kernel: image.kernel as pulumi.Output<string>, ramdisk: image.ramdisk as pulumi.Output<string>, root: image.root as pulumi.Output<string>, extra: image.extra };
      for (const r of vm.drbdResources) {
        const size = image.volumes.apply((vs) => (vs ?? []).find((v) => v.name === r.volume)?.size ?? r.size);
        backing.push(volume(peer, r.volume, size, [image]));
      }
    } else {
      const { kernel, ramdisk, root, extra } = vm.install;
      boot = { kernel, ...(ramdisk ? { ramdisk } : {}), ...(root ? { root } : {}), ...(extra ? { extra } : {}) };
      // These volumes skip DRBD's initial sync, so both copies must really be identical: zeroed, not
      // whatever earlier volumes left on reused extents.
      for (const r of vm.drbdResources) for (const i of [0, 1]) backing.push(volume(i, r.volume, r.size, [], true));
    }
    const drbd = vm.drbdResources.map(
      (r) =>
        new DrbdResource(`${name}-${r.name}`, { ...plan.drbdDefaults, ...r.args }, { parent: this, dependsOn: [...backing, ...metaVolumes, ...networks, ...imageDeps] }),
    );
    const domain = new XenDomU(
      `${name}-${vm.name}`,
      {
        name: vm.name,
        hosts: pulumi.output(plan.xenHosts),
        runOn: plan.nodes[home]!.name,
        state: vm.state,
        type: vm.type,
        memory: vm.memory,
        vcpus: vm.vcpus,
        ...boot,
        vifs: [{ bridge: "xenbr0", ...(vm.ip ? { ip: vm.ip } : {}) }],
        disks: vm.drbdResources.map((r) => ({ drbd: r.name, vdev: r.vdev })),
        allowNonLiveMove: vm.allowNonLiveMove,
      },
      { parent: this, dependsOn: [...drbd, trust, ...networks] },
    );
    return { domain, drbd };
  }
}
