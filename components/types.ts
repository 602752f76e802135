/**
 * The `TwoNodeXenHa` component's args, outputs and children, documented field by field: this file
 * is the component's manual.
 *
 * Which fields take `pulumi.Input`s: addresses, memory, vCPUs, sizes and the connection (every
 * field of it) may come from other resources or from secrets. Names, slots, `home`, `state`, the
 * install method and the presence of swap stay plain values: they decide which resources exist and
 * what they are called (resource names, DRBD devices and ports, Heartbeat's groups), which a
 * program must know before anything is created.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConnectionArgs } from "../provider/args";
import type { DrbdResource, DrbdResourceArgs } from "../provider/drbd/drbd-resource";
import type { DrbdNodeStatus } from "../provider/drbd/status";
import type { HeartbeatClusterArgs } from "../provider/heartbeat/cluster";
import type { GroupPlacement } from "../provider/heartbeat/status";
import type { LogicalVolume } from "../provider/lvm/logical-volume";
import type { VolumeGroup } from "../provider/lvm/volume-group";
import type { NodeNetwork } from "../provider/network/node-network";
import type { XenDomU } from "../provider/xen/domu";
import type { CrashAction, ExtraConfigValue } from "../provider/xen/schema";
import type { XenToolsImage, XenToolsImageArgs } from "../provider/xen/xen-tools-image";

/** One of the two hosts (the seed's ha1 and ha2). */
export interface ClusterNodeArgs {
  /** Short name used in resource names, `vms[].home` and the reports (the seed's `ha1`). Plain: it names resources. */
  name: string;
  /** Fully qualified name, set as the host name; DRBD and Heartbeat know the node by it (the seed's `ha1.domain.local`). Plain. */
  hostname: string;
  /** How to reach the dom0 over SSH; each field may be an Input, such as a secret key from config (pin `hostKey` in production). */
  connection: pulumi.Input<ConnectionArgs>;
  /** Public address, carried by the guests' bridge (the seed's 10.1.1.100). */
  publicAddress: pulumi.Input<string>;
  /** Crossover address: DRBD, migration and a Heartbeat path (the seed's 192.168.1.100). */
  crossoverAddress: pulumi.Input<string>;
  /** Devices of the volume group (the seed's `/dev/sda3`). */
  volumeGroupDevices: string[];
  /** Public NIC. Default `eth0`. */
  publicInterface?: string;
  /** Crossover NIC. Default `eth1`. */
  crossoverInterface?: string;
  /** Default gateway on the public network (the seed's 10.1.1.1). Default none. */
  gateway?: pulumi.Input<string>;
}

/** A network interface of a guest. */
export interface ClusterVifArgs {
  /**
   * Bridge in the dom0s. Default: the cluster's `publicBridge`. Another bridge must exist on both
   * nodes already: the component makes only the public one.
   */
  bridge?: string;
  /** The guest's address on it, for the vif hotplug script. Default: the VM's `ip` for the first interface, none for the others. */
  ip?: pulumi.Input<string>;
  /** MAC address. Default: derived from the VM's name (and the interface's index) in Xen's 00:16:3e range, so it is stable. */
  mac?: pulumi.Input<string>;
}

/** A guest of the cluster, replicated with DRBD and watched by Heartbeat. */
export interface ClusterVmArgs {
  /** Domain name (the seed's `test`); it also names the VM's volumes and DRBD resources (`NAME-disk`, `NAME-swap`). Plain. */
  name: string;
  /**
   * Fixed place of the VM in the cluster's numbering: it decides its DRBD devices
   * (`/dev/drbd{2s+1}`, `/dev/drbd{2s+2}`), ports (7789+2s, 7790+2s) and meta-data indexes (2s, 2s+1),
   * so adding or removing another VM never renumbers this one. Unique, from 0. Plain.
   */
  slot: number;
  /** Node the VM runs on while both are up (a `nodes[].name`); it decides its Heartbeat group. Plain. */
  home: string;
  /** `pv` (default, the seed's) or `pvh` (live-migrates on hypervisors without shadow paging). */
  type?: "pv" | "pvh";
  /** MiB. Default 384 (the seed's). */
  memory?: pulumi.Input<number>;
  /** MiB the running guest may balloon up to, so `memory` can be raised without a restart. Default: `memory`. */
  maxMemory?: pulumi.Input<number>;
  /** Default 1. */
  vcpus?: pulumi.Input<number>;
  /** Most vCPUs the running guest can bring online. Default: `vcpus`. */
  maxVcpus?: pulumi.Input<number>;
  /** The guest's address on the public network (the seed's 10.1.1.50): xen-create-image's `--ip` and the first interface's. */
  ip?: pulumi.Input<string>;
  /** The guest's interfaces. Default: one on `publicBridge` with `ip`. */
  vifs?: ClusterVifArgs[];
  /** Root disk size ("5G", "384M"; xen-tools takes only G or M). Default "5G" (the seed's). */
  diskSize?: pulumi.Input<string>;
  /** Swap size, or null for none (plain null: it decides whether the swap volume exists). Default "384M" (the seed's). */
  swapSize?: pulumi.Input<string> | null;
  /** How the guest is installed. Plain method: it decides the volumes and the boot. */
  install: VmInstall;
  /** `pygrub` boots the kernel installed inside the guest; needs `install: { method: "xen-tools", pygrub: true }`, which sets it. Default: a dom0 kernel. */
  bootloader?: "pygrub";
  /** `running` (default) or `stopped`; a stopped VM is left out of Heartbeat's groups. Plain. */
  state?: "running" | "stopped";
  /** What Xen does when the guest crashes. Default `preserve` (kept for diagnosis, no restart loop). */
  onCrash?: CrashAction;
  /** What Xen does when the guest reboots. Default `restart`. */
  onReboot?: CrashAction;
  /** What Xen does when the guest powers off. Default `destroy`. */
  onPoweroff?: CrashAction;
  /**
   * More Xen config settings for what the fields above do not cover (`cpu_weight: 512`,
   * `bootloader_args: ["-q"]`): a string, a whole number, a boolean (written 1 or 0) or a list of
   * strings, keyed by xl.cfg's key (`[a-z_][a-z0-9_]*`). Strings are quoted and escaped as xl.cfg
   * reads them; line breaks are refused. Keys the package writes (`memory`, `vif`, `disk`,
   * `on_crash`…) are refused, naming the field to use. Default none.
   */
  extraConfig?: Record<string, pulumi.Input<ExtraConfigValue>>;
  /** Let a change of `home` save, copy and restore a guest that cannot live-migrate. Default false. */
  allowNonLiveMove?: boolean;
  /**
   * The VM's DRBD numbering where it is not the one `slot` gives: for a cluster built by hand whose
   * resources the component takes over (`adopt`). Per disk (`disk`, and `swap` when the VM has
   * one). Plain: it names resources and decides devices and ports. Default: the slot's numbering.
   */
  drbd?: { disk?: VmDrbdNumbering; swap?: VmDrbdNumbering };
  /** This VM's `protectData`, instead of the cluster's. Default: the cluster's. */
  protectData?: boolean;
  /** This VM's `retainDataOnDelete`, instead of the cluster's. Default: the cluster's. */
  retainDataOnDelete?: boolean;
}

/** One disk's DRBD numbering, each field defaulting to what the VM's `slot` gives. */
export interface VmDrbdNumbering {
  /** DRBD resource name, also the backing volume's name. Default `NAME-disk` / `NAME-swap`. */
  resource?: string;
  /** Device minor (`/dev/drbdN`). Default 2×slot+1 for the disk, 2×slot+2 for swap. */
  minor?: number;
  /** TCP port on the crossover link, the same on both nodes. Default 7788 + minor. */
  port?: number;
  /** Index in the shared meta-data volume, the same on both nodes. Default minor − 1. */
  metaIndex?: number;
  /** Device the guest sees (`xvda2`). Default `xvda2`/`xvda1` for a xen-tools VM, `xvda`/`xvdb` otherwise. */
  vdev?: string;
}

export type VmInstall =
  /**
   * `xen-create-image` on the home node, as the seed does; its data is synced in full to the peer.
   * `pygrub` is plain: it decides how the DomU boots.
   */
  | ({ method: "xen-tools"; pygrub?: boolean } & Omit<XenToolsImageArgs, "connection" | "name" | "ip" | "volumeGroup" | "size" | "swap" | "memory" | "pygrub">)
  /** A kernel on the dom0s and new, empty volumes (their initial sync is skipped). */
  | { method: "kernel"; kernel: string; ramdisk?: string; root?: string; extra?: string };

export interface TwoNodeXenHaArgs {
  /** The two hosts. */
  nodes: [ClusterNodeArgs, ClusterNodeArgs];
  /** Volume group name. Default "vg" (the seed's). Plain: it is in every volume's path. */
  volumeGroupName?: string;
  /** Size of the shared DRBD meta-data volume; 128 MiB per index. Default "1G" (the seed's: slots 0–3). */
  metaVolumeSize?: pulumi.Input<string>;
  /** Prefix length of both networks. Default 24. */
  prefixLength?: number;
  /** The bridge on the public link that carries the node's address and the guests' interfaces. Default `xenbr0` (the seed's). */
  publicBridge?: string;
  /** Upstream NTP servers. Default none: the nodes keep time together over the crossover link. */
  ntpServers?: string[];
  /** DRBD options for every resource (protocol, timeouts, resync rate…); defaults are the seed's. */
  drbd?: Partial<Omit<DrbdResourceArgs, "name" | "nodes" | "initialSyncSource" | "skipInitialSync">>;
  /**
   * Heartbeat: the shared secret (a secret), the seed's timers, and fencing: `stonith` (each node's
   * power device, for its peer to reset it; a secret as a whole) and `dopd` (DRBD's peer outdater).
   * With `dopd` and no `drbd.fencing`, every DRBD resource gets `fencing resource-only` and a
   * fence-peer handler that calls dopd once the peer's DRBD must have noticed the lost link.
   * `startAtBoot: "afterCleanStop"` keeps a fenced, reset or crashed node out until `up` starts it.
   */
  heartbeat?: Partial<Omit<HeartbeatClusterArgs, "nodes" | "domains" | "authKey">> & { authKey: pulumi.Input<string> };
  /**
   * Which cluster manager fails the guests over: `heartbeat` (default, the seed's; needs
   * `heartbeat`) or `pacemaker` (Corosync and Pacemaker, Heartbeat's maintained successors, with
   * quorum and fencing; needs `pacemaker`). Everything else stays the same. Changing a running
   * cluster from `heartbeat` to `pacemaker` restarts no guest: Pacemaker takes every guest over
   * where it runs, and Heartbeat is stopped only afterwards.
   */
  clusterManager?: "heartbeat" | "pacemaker";
  /** Corosync and Pacemaker, with `clusterManager: "pacemaker"`. */
  pacemaker?: ClusterPacemakerArgs;
  /** The guests. */
  vms: ClusterVmArgs[];
  /**
   * Take over what exists on the nodes: a cluster built by hand. Volume groups, volumes, DRBD
   * resources and guests that exist are adopted as they are (no volume made again, no create-md,
   * no resync, no guest restarted) instead of being refused; Heartbeat's files, the resource
   * scripts and the migration trust are rewritten in place without a restart. A DRBD resource
   * that runs on another minor, port, disk or meta-data index than the inputs say, or that is not
   * Connected and UpToDate on both nodes, is refused in preview, naming the difference (set the
   * VM's `drbd` numbering to what runs). What was adopted is left on the nodes when it is deleted.
   * Default false.
   */
  adopt?: boolean;
  /**
   * Pulumi's `protect` on every resource that holds data: the volume groups, the meta and backing
   * volumes, the DRBD resources and the xen-tools images. A program that drops a VM, or a
   * `pulumi destroy`, then fails before anything is deleted; set it false (one `up`) to delete
   * deliberately. Default false. Overridden per VM by `vms[].protectData`.
   */
  protectData?: boolean;
  /**
   * Pulumi's `retainOnDelete` on the same resources: when one is deleted (a VM dropped from the
   * program, `pulumi destroy`, a replace), Pulumi forgets it but does not run its delete, so the
   * host keeps the volume, its data and the DRBD configuration. Creating it again later finds
   * them and refuses until they are adopted or removed by hand. Default false. Overridden per VM
   * by `vms[].retainDataOnDelete`.
   */
  retainDataOnDelete?: boolean;
}

/** The device that fences one node under Pacemaker: a fence agent and its parameters. */
export interface ClusterFenceArgs {
  /** The fence agent: `fence_ipmilan` for a BMC, `fence_xen_ha_lab` for the lab's power switch. Plain. */
  agent: string;
  /** The agent's parameters, such as `{ ip, username, password, lanplus: "1" }` (a secret as a whole). Default none. */
  parameters?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Seconds it waits before fencing its node (`pcmk_delay_base`): set it on one node's device, so that node survives a fence race. Default 0. */
  delaySeconds?: number;
}

/** Corosync and Pacemaker (`clusterManager: "pacemaker"`). */
export interface ClusterPacemakerArgs {
  /** Corosync's authkey: 128 to 4096 printable characters, a secret. */
  authKey: pulumi.Input<string>;
  /** Corosync's `cluster_name`. Default `xen-ha`. Plain. */
  clusterName?: string;
  /**
   * The quorum arbiter, a `corosync-qnetd` on a third machine the nodes reach: `host`, `port`
   * (default 5403), `algorithm` (default `ffsplit`), `tls` (default `off`). Without one the two
   * nodes run votequorum's `two_node`, which preview warns about.
   */
  arbiter?: { host: pulumi.Input<string>; port?: number; algorithm?: "ffsplit" | "lms"; tls?: "on" | "off" };
  /** The device that fences each node, in `nodes` order. Required unless `allowNoFencing`. */
  fencing?: [ClusterFenceArgs, ClusterFenceArgs];
  /** Run with `stonith-enabled=false`. Default false. Only for a lab without a power switch. */
  allowNoFencing?: boolean;
  /** A guest goes back to its home when that node returns (the seed's `auto_failback on`). Default true. */
  autoFailback?: boolean;
  /** What a partition without quorum does with its guests. Default `stop`. */
  noQuorumPolicy?: "stop" | "freeze" | "suspend";
  /** Milliseconds without corosync's token before a node is declared lost. Default 3000. */
  tokenMs?: number;
  /** Seconds a fence action may take. Default 120. */
  fenceTimeoutSeconds?: number;
  /** Seconds up waits for every node to join with quorum. Default 300. */
  joinTimeoutSeconds?: number;
  /** Seconds up waits for every guest to run where the configuration puts it. Default 900. */
  settleTimeoutSeconds?: number;
}

/** What the component reports about one VM. */
export interface VmReport {
  /** The node the program places it on (`vms[].home`). */
  home: string;
  /** The node it runs on as last read (a failover may have moved it), a `nodes[].name`. */
  runsOn: string;
  /** `running` or `stopped`, as last read. */
  state: "running" | "stopped";
  /** Per DRBD resource (`NAME-disk`, `NAME-swap`), per node name: connection, roles, disk states and sync progress. */
  drbd: Record<string, Record<string, DrbdNodeStatus>>;
}

/** Which node holds which Heartbeat group, and where each group's DomUs run, as Heartbeat reports them (nodes by host name). */
export type HeartbeatGroupReport = GroupPlacement;

/** The resources the component made for one VM, for `dependsOn` or exports. */
export interface VmResources {
  /** The guest. */
  domain: XenDomU;
  /** Its DRBD resources, by resource name (`NAME-disk`, and `NAME-swap` when it has swap). */
  drbd: Record<string, DrbdResource>;
  /**
   * Its backing volumes, by volume name (the DRBD resource's), then by node name. For a VM installed
   * by xen-tools, the home node's volumes are made by `image` (see its `volumes` output), so only the
   * peer's are here.
   */
  volumes: Record<string, Record<string, LogicalVolume>>;
  /** The xen-create-image installation, for a VM installed with `method: "xen-tools"`. */
  image?: XenToolsImage;
}

/** The resources the component made for one node. */
export interface NodeResources {
  network: NodeNetwork;
  volumeGroup: VolumeGroup;
  /** The volume that holds every DRBD resource's meta-data on this node. */
  metaVolume: LogicalVolume;
}

