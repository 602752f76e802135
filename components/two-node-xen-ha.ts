import * as pulumi from "@pulumi/pulumi";
import { DrbdResource } from "../provider/drbd/drbd-resource";
import { CorosyncCluster } from "../provider/corosync/corosync-cluster";
import { HeartbeatCluster } from "../provider/heartbeat/cluster";
import { PacemakerConfig, type GuestPlacementReport } from "../provider/pacemaker/pacemaker-config";
import { LogicalVolume } from "../provider/lvm/logical-volume";
import { VolumeGroup } from "../provider/lvm/volume-group";
import { NodeNetwork } from "../provider/network/node-network";
import { XenDomU, type XenDomUArgs } from "../provider/xen/domu";
import { XenMigrationTrust } from "../provider/xen/migration-trust";
import { XenToolsImage } from "../provider/xen/xen-tools-image";
import { clusterPlan, type ClusterPlan, type VmPlan } from "./cluster-plan";
import { fencingFactsOf, fencingWarning } from "./fencing";
import { childOptionsOf, type ChildOptions } from "./options";
import { vmReport } from "./reports";
import type { HeartbeatGroupReport, NodeResources, TwoNodeXenHaArgs, VmReport, VmResources } from "./types";

export type {
  ClusterNodeArgs,
  ClusterVifArgs,
  ClusterVmArgs,
  HeartbeatGroupReport,
  NodeResources,
  TwoNodeXenHaArgs,
  VmInstall,
  VmReport,
  VmResources,
} from "./types";

/**
 * The seed's whole cluster: node networks, LVM, DRBD for every VM disk, the DomUs with live
 * migration between the hosts, and Heartbeat restarting a dead host's DomUs on the survivor; or,
 * with `clusterManager: "pacemaker"`, Corosync (with a quorum arbiter) and Pacemaker doing it,
 * fencing the lost node first.
 *
 * Children are named after the component (`NAME-ha1-network`, `NAME-test-disk`…) and exposed as
 * `vmResources`, `nodeResources`, `heartbeat` and `migrationTrust`, so a program can depend on one
 * VM or export a volume's path.
 *
 * Resource options given to the component:
 * - `dependsOn` is added to every child (each one touches a host), so nothing is changed on a
 *   host before what the component depends on exists. The Node SDK does not do it: children only
 *   wait for the component's registration, and the engine records no dependency from them.
 * - `customTimeouts` is set on every child. The engine leaves enforcing it to the provider, and
 *   the Node SDK's dynamic provider (3.248) does not read it, so it bounds nothing today; the
 *   children's own deadlines do (command deadlines, `shutdownTimeoutSeconds`,
 *   `migrationTimeoutSeconds`, xen-tools' `timeoutSeconds`).
 * - `protect` is passed down by Pulumi to every child, the networks and DomUs included; use
 *   `protectData` to protect only what holds data. `retainOnDelete` on the component itself is
 *   not passed down: use `retainDataOnDelete`.
 * - `provider` and `providers` change nothing: every child is a dynamic resource, always run by
 *   the SDK's own dynamic provider in the program's process, and reaches the hosts through the
 *   nodes' `connection`s.
 */
export class TwoNodeXenHa extends pulumi.ComponentResource {
  /** Per VM name: its home, the node it runs on, its state and its DRBD resources' state per node. */
  readonly vms: pulumi.Output<Record<string, VmReport>>;
  /** Heartbeat's two groups: which node holds each, and where each group's DomUs run (empty under Pacemaker). */
  readonly heartbeatGroups: pulumi.Output<HeartbeatGroupReport[]>;
  /** Per VM name: its XenDomU, DRBD resources, backing volumes and xen-tools image. */
  readonly vmResources: Readonly<Record<string, VmResources>>;
  /** Per node name: its network, volume group and DRBD meta-data volume. */
  readonly nodeResources: Readonly<Record<string, NodeResources>>;
  /** Heartbeat on both nodes (`clusterManager: "heartbeat"`). */
  readonly heartbeat: HeartbeatCluster | undefined;
  /** Corosync and the owned Pacemaker configuration (`clusterManager: "pacemaker"`). */
  readonly pacemaker: { corosync: CorosyncCluster; config: PacemakerConfig } | undefined;
  /** Where Pacemaker runs each guest, as last read (empty under Heartbeat). */
  readonly pacemakerPlacement: pulumi.Output<GuestPlacementReport[]>;
  /** Root SSH between the dom0s for migrations and the peer checks. */
  readonly migrationTrust: XenMigrationTrust;

  constructor(name: string, args: TwoNodeXenHaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("pulumi-xen-ha:index:TwoNodeXenHa", name, {}, opts);
    const plan = clusterPlan(args);
    const options = childOptionsOf(this, opts);
    const facts = fencingFactsOf(args);
    const unfenced = facts && fencingWarning(facts);
    if (unfenced) void pulumi.log.warn(unfenced, this);

    const nodes = plan.nodes.map((n) => {
      const network = new NodeNetwork(`${name}-${n.name}-network`, n.network, options([]));
      const volumeGroup = new VolumeGroup(`${name}-${n.name}-vg`, { connection: n.connection, name: plan.volumeGroupName, devices: n.volumeGroupDevices, ...adopting(plan) }, options([network], plan.keep));
      const metaVolume = new LogicalVolume(
        `${name}-${n.name}-meta`,
        { connection: n.connection, volumeGroup: plan.volumeGroupName, name: "meta", size: plan.metaVolumeSize, zeroOnCreate: true, ...adopting(plan) },
        options([volumeGroup], plan.keep),
      );
      return { network, volumeGroup, metaVolume };
    });
    const networks = nodes.map((n) => n.network);
    this.migrationTrust = new XenMigrationTrust(`${name}-migration`, { hosts: pulumi.output(plan.xenHosts) }, options(networks));

    const vmResources: Record<string, VmResources> = {};
    for (const vm of plan.vms) vmResources[vm.name] = buildVm(name, plan, vm, nodes, this.migrationTrust, options);
    const domains = Object.values(vmResources).map((r) => r.domain);
    this.heartbeat = plan.heartbeat && new HeartbeatCluster(`${name}-heartbeat`, plan.heartbeat, options([...domains, ...networks]));
    if (plan.pacemaker) {
      const corosync = new CorosyncCluster(`${name}-corosync`, plan.pacemaker.corosync, options(networks));
      // After the guests: Pacemaker takes each one over where it already runs (a switch from Heartbeat restarts none).
      const config = new PacemakerConfig(`${name}-pacemaker`, plan.pacemaker.config, options([corosync, this.migrationTrust, ...domains]));
      this.pacemaker = { corosync, config };
    } else {
      this.pacemaker = undefined;
    }

    this.vmResources = vmResources;
    this.nodeResources = Object.fromEntries(plan.nodes.map((n, i) => [n.name, nodes[i]!]));
    const nodeNames = Object.fromEntries(plan.nodes.map((n) => [n.hostname, n.name]));
    this.vms = pulumi.output(Object.fromEntries(plan.vms.map((vm) => [vm.name, vmReport(vm.home, vmResources[vm.name]!, nodeNames)]))) as pulumi.Output<Record<string, VmReport>>;
    this.heartbeatGroups = this.heartbeat ? this.heartbeat.groups : pulumi.output([]);
    this.pacemakerPlacement = this.pacemaker ? this.pacemaker.config.placement : pulumi.output([]);
    this.registerOutputs({ vms: this.vms, heartbeatGroups: this.heartbeatGroups, pacemakerPlacement: this.pacemakerPlacement });
  }
}

/** `adopt` for a child, only when taking over: a program that never adopts keeps its inputs as they were. */
const adopting = (plan: ClusterPlan): { adopt?: true } => (plan.adopt ? { adopt: true } : {});

/** One VM's volumes, DRBD resources, image (for xen-tools) and DomU. */
function buildVm(name: string, plan: ClusterPlan, vm: VmPlan, nodes: NodeResources[], trust: XenMigrationTrust, options: ChildOptions): VmResources {
  const home = vm.homeIndex;
  const peer = 1 - home;
  const networks = nodes.map((n) => n.network);
  const metaVolumes = nodes.map((n) => n.metaVolume);
  const volumes: Record<string, Record<string, LogicalVolume>> = Object.fromEntries(vm.drbdResources.map((r) => [r.volume, {}]));
  const volume = (i: number, lvName: string, size: pulumi.Input<string>, deps: pulumi.Resource[], zeroOnCreate: boolean) => {
    const node = plan.nodes[i]!;
    const lv = new LogicalVolume(
      `${name}-${node.name}-${lvName}`,
      { connection: node.connection, volumeGroup: plan.volumeGroupName, name: lvName, size, zeroOnCreate, ...adopting(plan) },
      options([nodes[i]!.volumeGroup, ...deps], vm.keep),
    );
    volumes[lvName]![node.name] = lv;
  };

  let boot: Pick<XenDomUArgs, "kernel" | "ramdisk" | "root" | "extra" | "bootloader">;
  let image: XenToolsImage | undefined;
  if (vm.install.method === "xen-tools") {
    const { method: _method, ...imageOptions } = vm.install;
    const made = new XenToolsImage(
      `${name}-${vm.name}-image`,
      { ...imageOptions, connection: plan.nodes[home]!.connection, name: vm.name, ip: vm.ip ?? "", volumeGroup: plan.volumeGroupName, size: vm.xenToolsDiskSize, swap: vm.xenToolsSwapSize, memory: vm.memory, ...adopting(plan) },
      options([metaVolumes[home]!], vm.keep),
    );
    image = made;
    // xen-create-image writes a kernel line for a direct boot, or (with pygrub) only root and extra.
    boot = vm.bootloader
      ? { bootloader: vm.bootloader, root: made.root as pulumi.Output<string>, extra: made.extra }
      : { kernel: made.kernel as pulumi.Output<string>, ramdisk: made.ramdisk as pulumi.Output<string>, root: made.root as pulumi.Output<string>, extra: made.extra };
    for (const r of vm.drbdResources) {
      const size = pulumi.all([made.volumes, r.size]).apply(([vs, fallback]) => (vs ?? []).find((v) => v.name === r.volume)?.size ?? fallback);
      volume(peer, r.volume, size, [made], false);
    }
  } else {
    const { kernel, ramdisk, root, extra } = vm.install;
    boot = { kernel, ...(ramdisk ? { ramdisk } : {}), ...(root ? { root } : {}), ...(extra ? { extra } : {}) };
    // These volumes skip DRBD's initial sync, so both copies must really be identical: zeroed, not
    // whatever earlier volumes left on reused extents.
    for (const r of vm.drbdResources) for (const i of [0, 1]) volume(i, r.volume, r.size, [], true);
  }
  const backing = Object.values(volumes).flatMap((byNode) => Object.values(byNode));
  const drbd = Object.fromEntries(
    vm.drbdResources.map((r) => [
      r.name,
      new DrbdResource(`${name}-${r.name}`, { ...plan.drbdDefaults, ...r.args }, {
        ...options([...backing, ...metaVolumes, ...networks, ...(image ? [image] : [])], vm.keep),
        // The initial sync source follows the home only when the pair is made: a later change of
        // home moves the guest, not its data, and must not show as a change of DRBD in the diff.
        ignoreChanges: ["initialSyncSource"],
      }),
    ]),
  );
  const domain = new XenDomU(
    `${name}-${vm.name}`,
    {
      name: vm.name,
      hosts: pulumi.output(plan.xenHosts),
      runOn: plan.nodes[home]!.name,
      // The cluster manager owns its way home: Heartbeat's group of the home node, or Pacemaker's resource.
      placedBy: plan.pacemaker ? "pacemaker" : "heartbeat",
      ...vm.domain,
      ...boot,
      disks: vm.drbdResources.map((r) => ({ drbd: r.name, vdev: r.vdev })),
      ...adopting(plan),
    },
    options([...Object.values(drbd), trust, ...networks]),
  );
  return { domain, drbd, volumes, ...(image ? { image } : {}) };
}
