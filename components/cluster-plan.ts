/**
 * What the cluster component builds, derived from its args and checked before any resource is
 * registered: every field error names its path (`vms[1].slot`) and the fix.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { DrbdResourceArgs } from "../provider/drbd/drbd-resource";
import { drbdResourceSchema, MAX_MINOR, META_BYTES_PER_INDEX, nodeName as drbdNodeName, resourceName } from "../provider/drbd/schema";
import { ValidationError, type InputFailure } from "../provider/errors";
import type { HeartbeatClusterArgs } from "../provider/heartbeat/cluster";
import { authKey, heartbeatClusterSchema } from "../provider/heartbeat/schema";
import { isUnknown, parseInputs, UNKNOWN } from "../provider/inputs";
import { blockDevice, logicalVolumeName, lvmName } from "../provider/lvm/schema";
import { formatBytes } from "../provider/lvm/size";
import type { NodeNetworkArgs } from "../provider/network/node-network";
import { prefixLength } from "../provider/network/schema";
import { connectionSchema, type ConnectionInput } from "../provider/ssh/connection";
import { hostLabel, hostOrIPv4Address, interfaceName, ipv4Address, memoryMiB, parseSize, size } from "../provider/values";
import { commandLineText, domUName, guestTypes, hostPath } from "../provider/xen/schema";
import { xenToolsGuestName, xenToolsImageSchema, xenToolsSize } from "../provider/xen/xen-tools";
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

/** Whether a value is a pulumi Output, an unknown or a promise: checked by the child resource once known. */
function isDeferred(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return v.__pulumiOutput === true || v.__pulumiUnknown === true || typeof v.then === "function";
}

/** The args with every value not known yet replaced by the engine's unknown sentinel, which validation skips. */
function knownParts(value: unknown): unknown {
  if (isDeferred(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(knownParts);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, knownParts(v)]));
  return value;
}

/** A child schema's fields less those the component sets itself, each optional when `optional`. */
const fieldsOf = (shape: Record<string, z.ZodType>, omit: readonly string[], optional = false) =>
  Object.fromEntries(Object.entries(shape).filter(([k]) => !omit.includes(k)).map(([k, v]) => [k, optional ? v.optional() : v])) as Record<string, z.ZodType>;

const nodeArgsSchema = z.object({
  name: hostLabel,
  hostname: drbdNodeName,
  connection: connectionSchema,
  publicAddress: ipv4Address,
  crossoverAddress: ipv4Address,
  volumeGroupDevices: z.array(blockDevice).min(1, "needs at least one device for the volume group"),
  publicInterface: interfaceName.optional(),
  crossoverInterface: interfaceName.optional(),
  gateway: ipv4Address.optional(),
});

const xenToolsOptions = fieldsOf(xenToolsImageSchema.shape, ["connection", "name", "ip", "volumeGroup", "size", "swap", "memory"]);
const installSchema = z.discriminatedUnion("method", [
  z.object({ method: z.literal("xen-tools"), ...xenToolsOptions }),
  z.object({ method: z.literal("kernel"), kernel: hostPath, ramdisk: hostPath.optional(), root: commandLineText.optional(), extra: commandLineText.optional() }),
]);

const vmArgsSchema = z.object({
  name: domUName,
  slot: z.number().int("must be a whole number from 0").min(0, "must be a whole number from 0"),
  home: z.string(),
  type: z.enum(guestTypes).optional(),
  memory: memoryMiB.optional(),
  vcpus: z.number().int().min(1).max(512).optional(),
  ip: ipv4Address.optional(),
  diskSize: size.optional(),
  swapSize: size.nullable().optional(),
  install: installSchema,
  state: z.enum(["running", "stopped"]).optional(),
  allowNonLiveMove: z.boolean().optional(),
});

/** The component's args, with the same validators its children use; cross-field rules follow in `validate`. */
const clusterArgsSchema = z.object({
  nodes: z.tuple([nodeArgsSchema, nodeArgsSchema]),
  volumeGroupName: lvmName.optional(),
  metaVolumeSize: size.optional(),
  prefixLength: prefixLength.optional(),
  ntpServers: z.array(hostOrIPv4Address).optional(),
  drbd: z.object(fieldsOf(drbdResourceSchema.shape, ["name", "nodes", "initialSyncSource", "skipInitialSync"], true)).optional(),
  heartbeat: z.object({ ...fieldsOf(heartbeatClusterSchema.shape, ["nodes", "domains", "authKey"], true), authKey: authKey }),
  vms: z.array(vmArgsSchema),
});

/** The highest slot whose DRBD minors (2s+1, 2s+2) and ports (7788 + minor) exist. */
const MAX_SLOT = Math.min((65535 - 7790) / 2, (MAX_MINOR - 2) / 2);

/**
 * The component's own check, before any child is registered: every failure names the path the
 * user wrote (`vms[3].name`), never a child's derived field. Values not known yet (Outputs) are
 * left to the children.
 */
export function validate(args: TwoNodeXenHaArgs): InputFailure[] {
  const parsed = parseInputs(clusterArgsSchema, knownParts(args));
  const failures: InputFailure[] = parsed.ok ? [] : [...parsed.failures];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const nodes = Array.isArray(args.nodes) ? args.nodes : [];
  const vms = Array.isArray(args.vms) ? args.vms : [];
  const names = nodes.map((n) => n?.name);
  if (isKnown(names[0]) && names[0] === names[1]) fail("nodes[1].name", "the two nodes need different names");
  if (isKnown(nodes[0]?.hostname) && nodes[0]?.hostname === nodes[1]?.hostname) fail("nodes[1].hostname", "the two nodes need different host names");
  const metaBytes = isKnown(args.metaVolumeSize) ? parseSize(args.metaVolumeSize) : parseSize("1G");
  const slots = new Map<number, string>();
  const vmNames = new Set<string>();
  vms.forEach((vm, i) => {
    if (vm === null || typeof vm !== "object") return;
    const at = `vms[${i}]`;
    if (vmNames.has(vm.name)) fail(`${at}.name`, `"${vm.name}" is listed twice`);
    vmNames.add(vm.name);
    if (!names.includes(vm.home)) fail(`${at}.home`, `must name one of the nodes (${names.join(", ")})`);
    failures.push(...derivedNameFailures(vm, at), ...xenToolsFailures(vm, at));
    if (!Number.isInteger(vm.slot) || vm.slot < 0) return;
    const s = vm.slot;
    const numbering = `/dev/drbd${2 * s + 1}–${2 * s + 2}, ports ${7789 + 2 * s}–${7790 + 2 * s} and meta-data indexes ${2 * s}–${2 * s + 1}`;
    const other = slots.get(s);
    if (other !== undefined) fail(`${at}.slot`, `slot ${s} is already taken by ${other}; give each VM its own slot (a slot decides its DRBD devices ${numbering})`);
    slots.set(s, vm.name);
    if (s > MAX_SLOT) fail(`${at}.slot`, `slot ${s} would need DRBD ports or minors beyond what exists (${numbering}); use a slot of at most ${Math.floor(MAX_SLOT)}`);
    const needed = (2 * s + 2) * META_BYTES_PER_INDEX;
    if (metaBytes !== undefined && needed > metaBytes) {
      fail(`${at}.slot`, `slot ${s} needs meta-data indexes up to ${2 * s + 1}, so a meta volume of ${formatBytes(needed)}; raise metaVolumeSize or use a lower slot`);
    }
  });
  return failures;
}

const isKnown = (v: unknown): v is string | number => (typeof v === "string" || typeof v === "number") && !isUnknown(v);

/** What XenToolsImage would refuse in a VM installed with xen-tools, named by the VM's own fields. */
function xenToolsFailures(vm: ClusterVmArgs, at: string): InputFailure[] {
  if (vm.install?.method !== "xen-tools") return [];
  const failures: InputFailure[] = [];
  if (!vm.ip) failures.push({ property: `${at}.ip`, reason: "xen-create-image needs the guest's address (--ip)" });
  const method = vm.install.installMethod;
  if (isKnown(method) && (method === "tar" || method === "copy") !== (vm.install.installSource !== undefined)) {
    failures.push({ property: `${at}.install.installSource`, reason: "installSource is needed by the tar and copy install methods, and only by them" });
  }
  for (const field of ["diskSize", "swapSize"] as const) {
    const value = vm[field];
    if (isKnown(value) && size.safeParse(value).success && !xenToolsSize.safeParse(String(value)).success) {
      failures.push({ property: `${at}.${field}`, reason: 'xen-create-image takes only sizes in G or M, such as "5G" or "384M"' });
    }
  }
  return failures;
}

/** The children's names made from a VM's name must be valid too: its volumes, DRBD resources and xen-tools host name. */
function derivedNameFailures(vm: ClusterVmArgs, at: string): InputFailure[] {
  // A name refused in itself is reported once, by the schema.
  if (!isKnown(vm.name) || !domUName.safeParse(vm.name).success) return [];
  const failures: InputFailure[] = [];
  for (const volume of [`${vm.name}-disk`, `${vm.name}-swap`]) {
    const reason = resourceName.safeParse(volume).error?.issues[0]?.message ?? logicalVolumeName.safeParse(volume).error?.issues[0]?.message;
    if (reason) failures.push({ property: `${at}.name`, reason: `names the volume and DRBD resource ${volume}, which ${reason}` });
  }
  if (vm.install?.method === "xen-tools") {
    const reason = xenToolsGuestName.safeParse(vm.name).error?.issues[0]?.message;
    if (reason) failures.push({ property: `${at}.name`, reason: `is xen-create-image's --hostname for this VM, so it ${reason}` });
  }
  return failures.slice(0, 1);
}
