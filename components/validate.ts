/**
 * The cluster component's own check, before any child is registered: every failure names the path
 * the user wrote (`vms[3].name`), never a child's derived field. Values not known yet (Outputs,
 * Promises) are left to the children, which check them once known.
 */
import { z } from "zod";
import { drbdResourceSchema, MAX_MINOR, metaVolumeBytesNeeded, nodeName as drbdNodeName, resourceName } from "../provider/drbd/schema";
import type { InputFailure } from "../provider/errors";
import { authKey, heartbeatClusterSchema } from "../provider/heartbeat/schema";
import { arbiterSchema, clusterName, corosyncAuthKey, corosyncClusterSchema } from "../provider/corosync/schema";
import { fenceDeviceSchema, pacemakerConfigSchema } from "../provider/pacemaker/schema";
import { parseInputs } from "../provider/inputs";
import { blockDevice, logicalVolumeName, lvmName } from "../provider/lvm/schema";
import { formatBytes } from "../provider/lvm/size";
import { prefixLength } from "../provider/network/schema";
import { connectionSchema } from "../provider/ssh/connection";
import { hostLabel, hostOrIPv4Address, interfaceName, ipv4Address, memoryMiB, parseSize, size } from "../provider/values";
import { bridgeName, commandLineText, crashActions, domUName, extraConfigSchema, guestTypes, hostPath, macAddress } from "../provider/xen/schema";
import { xenToolsGuestName, xenToolsImageSchema, xenToolsSize } from "../provider/xen/xen-tools";
import { diskNumberingOf } from "./drbd-numbering";
import type { ClusterVmArgs, TwoNodeXenHaArgs } from "./types";
import { isDeferred } from "./deferred";
import { wantsDopdFencing } from "./fencing";
import { isKnown, knownParts } from "./known-parts";
import { managerFailures, stonithFailures } from "./validate-manager";

export { isDeferred };

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

/** The VM's field to set instead of a config key the package writes. */
const VM_FIELD_FOR_CONFIG_KEY: Readonly<Record<string, string>> = {
  name: "name",
  type: "type",
  builder: "type",
  bootloader: "bootloader",
  kernel: "install.kernel",
  ramdisk: "install.ramdisk",
  root: "install.root",
  extra: "install.extra",
  cmdline: "install.root and install.extra",
  memory: "memory",
  maxmem: "maxMemory",
  vcpus: "vcpus",
  maxvcpus: "maxVcpus",
  vif: "vifs (or ip)",
  disk: "diskSize and swapSize (the disks are the VM's DRBD resources)",
  on_poweroff: "onPoweroff",
  on_reboot: "onReboot",
  on_crash: "onCrash",
};

const numberingSchema = z
  .object({
    resource: resourceName.optional(),
    minor: z.number().int().min(0).max(MAX_MINOR).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    metaIndex: z.number().int().min(0).optional(),
    vdev: z.string().regex(/^(xvd|hd|sd)[a-z]+[0-9]*$/, "must be a virtual device such as xvda2").optional(),
  })
  .strict();

const vmArgsSchema = z.object({
  name: domUName,
  slot: z.number().int("must be a whole number from 0").min(0, "must be a whole number from 0"),
  home: z.string(),
  type: z.enum(guestTypes).optional(),
  memory: memoryMiB.optional(),
  maxMemory: memoryMiB.optional(),
  vcpus: z.number().int().min(1).max(512).optional(),
  maxVcpus: z.number().int().min(1).max(512).optional(),
  ip: ipv4Address.optional(),
  vifs: z.array(z.object({ bridge: bridgeName.optional(), ip: ipv4Address.optional(), mac: macAddress.optional() })).optional(),
  diskSize: size.optional(),
  swapSize: size.nullable().optional(),
  install: installSchema,
  bootloader: z.literal("pygrub").optional(),
  state: z.enum(["running", "stopped"]).optional(),
  onCrash: z.enum(crashActions).optional(),
  onReboot: z.enum(crashActions).optional(),
  onPoweroff: z.enum(crashActions).optional(),
  extraConfig: extraConfigSchema((key) => (Object.hasOwn(VM_FIELD_FOR_CONFIG_KEY, key) ? VM_FIELD_FOR_CONFIG_KEY[key] : undefined)).optional(),
  allowNonLiveMove: z.boolean().optional(),
  drbd: z
    .object({ disk: numberingSchema.optional(), swap: numberingSchema.optional() })
    .strict()
    .optional(),
  protectData: z.boolean().optional(),
  retainDataOnDelete: z.boolean().optional(),
});

const clusterFenceSchema = z.object({ agent: fenceDeviceSchema.shape.agent, parameters: fenceDeviceSchema.shape.parameters.optional(), delaySeconds: fenceDeviceSchema.shape.delaySeconds.optional() });

/** The component's args, with the same validators its children use; cross-field rules follow in `validate`. */
const clusterArgsSchema = z.object({
  nodes: z.tuple([nodeArgsSchema, nodeArgsSchema]),
  volumeGroupName: lvmName.optional(),
  metaVolumeSize: size.optional(),
  prefixLength: prefixLength.optional(),
  publicBridge: bridgeName.optional(),
  ntpServers: z.array(hostOrIPv4Address).optional(),
  drbd: z.object(fieldsOf(drbdResourceSchema.shape, ["name", "nodes", "initialSyncSource", "skipInitialSync"], true)).optional(),
  heartbeat: z.object({ ...fieldsOf(heartbeatClusterSchema.shape, ["nodes", "domains", "authKey"], true), authKey: authKey }).optional(),
  clusterManager: z.enum(["heartbeat", "pacemaker"]).optional(),
  pacemaker: z
    .object({
      authKey: corosyncAuthKey,
      clusterName: clusterName.optional(),
      arbiter: z.object({ ...arbiterSchema.shape, port: arbiterSchema.shape.port.optional(), algorithm: arbiterSchema.shape.algorithm.optional(), tls: arbiterSchema.shape.tls.optional() }).optional(),
      fencing: z.tuple([clusterFenceSchema, clusterFenceSchema]).optional(),
      allowNoFencing: z.boolean().optional(),
      ...fieldsOf(pacemakerConfigSchema.shape, ["nodes", "fencing", "allowNoFencing", "guests"], true),
      tokenMs: corosyncClusterSchema.shape.tokenMs.optional(),
      joinTimeoutSeconds: corosyncClusterSchema.shape.joinTimeoutSeconds.optional(),
    })
    .optional(),
  vms: z.array(vmArgsSchema),
  protectData: z.boolean().optional(),
  retainDataOnDelete: z.boolean().optional(),
  adopt: z.boolean().optional(),
});

/** The highest slot whose DRBD minors (2s+1, 2s+2) and ports (7788 + minor) exist. */
const MAX_SLOT = Math.min((65535 - 7790) / 2, (MAX_MINOR - 2) / 2);

export function validate(args: TwoNodeXenHaArgs): InputFailure[] {
  const parsed = parseInputs(clusterArgsSchema, knownParts(args));
  const failures: InputFailure[] = parsed.ok ? [] : [...parsed.failures];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const nodes = Array.isArray(args.nodes) ? args.nodes : [];
  const vms = Array.isArray(args.vms) ? args.vms : [];
  const names = nodes.map((n) => n?.name);
  if (isKnown(names[0]) && names[0] === names[1]) fail("nodes[1].name", "the two nodes need different names");
  if (isKnown(nodes[0]?.hostname) && nodes[0]?.hostname === nodes[1]?.hostname) fail("nodes[1].hostname", "the two nodes need different host names");
  failures.push(...stonithFailures(args), ...managerFailures(args));
  if (isDeferred(args.heartbeat?.dopd)) fail("heartbeat.dopd", "must be a plain true or false: it decides the DRBD resources' fencing when the program is run");
  for (const field of ["pingInt", "pingTimeout"] as const) {
    const value = args.drbd?.[field];
    if (wantsDopdFencing(args) && value !== undefined && !isKnown(value)) {
      fail(`drbd.${field}`, "must be a plain number with heartbeat.dopd: dopd's fence-peer handler waits ping-int plus ping-timeout, written when the program is run; or set drbd.fencing and drbd.handlers.fencePeer yourself");
    }
  }
  // A meta volume size not known yet is checked against the slots by DrbdResource, once known.
  const metaBytes = args.metaVolumeSize === undefined ? parseSize("1G") : isKnown(args.metaVolumeSize) ? parseSize(args.metaVolumeSize) : undefined;
  const slots = new Map<number, string>();
  const vmNames = new Set<string>();
  vms.forEach((vm, i) => {
    if (vm === null || typeof vm !== "object") return;
    const at = `vms[${i}]`;
    if (vmNames.has(vm.name)) fail(`${at}.name`, `"${vm.name}" is listed twice`);
    vmNames.add(vm.name);
    if (!names.includes(vm.home)) fail(`${at}.home`, `must name one of the nodes (${names.join(", ")})`);
    failures.push(...derivedNameFailures(vm, at), ...xenToolsFailures(vm, at), ...bootFailures(vm, at));
    if (isKnown(vm.memory) && isKnown(vm.maxMemory) && vm.maxMemory < vm.memory) fail(`${at}.maxMemory`, "must be at least memory");
    const vcpus = vm.vcpus ?? 1;
    if (isKnown(vcpus) && isKnown(vm.maxVcpus) && vm.maxVcpus < vcpus) fail(`${at}.maxVcpus`, "must be at least vcpus");
    if (!Number.isInteger(vm.slot) || vm.slot < 0) return;
    const s = vm.slot;
    const numbering = `/dev/drbd${2 * s + 1}–${2 * s + 2}, ports ${7789 + 2 * s}–${7790 + 2 * s} and meta-data indexes ${2 * s}–${2 * s + 1}`;
    const other = slots.get(s);
    if (other !== undefined) fail(`${at}.slot`, `slot ${s} is already taken by ${other}; give each VM its own slot (a slot decides its DRBD devices ${numbering})`);
    slots.set(s, vm.name);
    if (s > MAX_SLOT) fail(`${at}.slot`, `slot ${s} would need DRBD ports or minors beyond what exists (${numbering}); use a slot of at most ${Math.floor(MAX_SLOT)}`);
    if (vm.drbd === undefined) {
      const last = Math.max(...diskNumberingOf(vm).map((d) => d.metaIndex));
      const needed = metaVolumeBytesNeeded(last);
      if (metaBytes !== undefined && needed > metaBytes) {
        fail(`${at}.slot`, `slot ${s} needs meta-data indexes up to ${last}, so a meta volume of ${formatBytes(needed)}; raise metaVolumeSize or use a lower slot`);
      }
    }
  });
  failures.push(...numberingFailures(vms, metaBytes));
  return failures;
}

/**
 * The DRBD numbering of every disk, as the slots and the VMs' `drbd` fields give it: no two disks
 * may share a resource name, minor, port or meta-data index, and every index must fit the meta
 * volume. Clashes between slots alone are reported on the slot, above.
 */
function numberingFailures(vms: readonly ClusterVmArgs[], metaBytes: number | undefined): InputFailure[] {
  const failures: InputFailure[] = [];
  type Holder = { what: string; own: boolean };
  const taken = { resource: new Map<string, Holder>(), minor: new Map<string, Holder>(), port: new Map<string, Holder>(), metaIndex: new Map<string, Holder>() };
  vms.forEach((vm, i) => {
    if (vm === null || typeof vm !== "object" || !Number.isInteger(vm.slot) || vm.slot < 0 || !isKnown(vm.name)) return;
    const own = vm.drbd !== undefined;
    for (const d of diskNumberingOf(vm)) {
      const at = `vms[${i}].drbd.${d.kind}`;
      const what = `${vm.name}'s ${d.kind}`;
      for (const field of ["resource", "minor", "port", "metaIndex"] as const) {
        const key = String(d[field]);
        const other = taken[field].get(key);
        if (other !== undefined && (own || other.own)) failures.push({ property: `${at}.${field}`, reason: `${field} ${key} is already ${other.what}'s; give each disk its own` });
        if (other === undefined) taken[field].set(key, { what, own });
      }
      const needed = metaVolumeBytesNeeded(d.metaIndex);
      if (own && metaBytes !== undefined && needed > metaBytes) {
        failures.push({ property: `${at}.metaIndex`, reason: `meta-data index ${d.metaIndex} needs a meta volume of ${formatBytes(needed)}; raise metaVolumeSize` });
      }
    }
  });
  return failures;
}

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

/** pygrub needs a kernel and a boot menu inside the guest, which only xen-tools' pygrub install puts there. */
function bootFailures(vm: ClusterVmArgs, at: string): InputFailure[] {
  if (vm.bootloader !== "pygrub") return [];
  if (vm.install?.method === "kernel") {
    return [{ property: `${at}.bootloader`, reason: "a kernel install boots the dom0's kernel (install.kernel); pygrub boots a kernel inside the guest: install it with xen-tools and pygrub: true" }];
  }
  if (vm.install?.method === "xen-tools" && vm.install.pygrub !== true) {
    return [{ property: `${at}.bootloader`, reason: "xen-create-image puts a kernel and a boot menu in the guest only with install.pygrub: true; set it (which also sets this bootloader)" }];
  }
  return [];
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
