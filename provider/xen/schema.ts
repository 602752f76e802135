import { z } from "zod";
import { lvmName } from "../lvm/schema";
import { parseSize } from "../lvm/size";
import { connectionSchema } from "../ssh/connection";

/**
 * Domain name. It is also the config file's name (`/etc/xen/NAME.cfg`), a word in commands and,
 * with xen-tools, the prefix of the volumes (`NAME-disk`), so it is kept to a portable alphabet.
 */
export const domUName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "may hold only letters, digits and _ . - and must start with a letter or digit")
  .refine((n) => !/--(incoming|migratedaway)$/.test(n) && !n.startsWith("migrating-"), "looks like the temporary name xl or xm gives a domain during a migration");

const nodeName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, "must be a host name such as ha1");

const ipv4 = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address such as 192.168.1.1")
  .refine((a) => a.split(".").every((o) => Number(o) <= 255), "has an octet above 255");

/** A word xl passes unquoted to `sh` (`xl migrate` builds `ssh HOST xl migrate-receive`), so only name characters. */
const hostAddress = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, "must be a host name or IPv4 address");

/** Paths that are safe unquoted everywhere they go: config files, xen-tools' own shell commands. */
export const hostPath = z.string().regex(/^\/[A-Za-z0-9._+/-]+$/, "must be an absolute path of letters, digits and . _ + - /");

const macAddress = z.string().regex(/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/, "must be a MAC address such as 00:16:3e:12:34:56");
const bridgeName = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/, "must be a network interface name such as xenbr0");
const drbdResourceName = z.string().regex(/^[A-Za-z0-9_.+-]+$/, "must be a DRBD resource name such as test-disk");
const vdev = z.string().regex(/^(xvd|hd|sd)[a-z]+[0-9]*$/, "must be a virtual device such as xvda2");

/** Printable text for kernel command lines; quotes and backslashes are escaped when rendered. */
const commandLineText = z.string().regex(/^[^\x00-\x1f\x7f]*$/, "must not contain control characters or line breaks");

/** Sizes as xen-tools takes them: a number with G or M, optionally followed by b ("5Gb", "384Mb"). */
const xenToolsSize = z
  .string()
  .regex(/^\d+(\.\d+)?[GM][Bb]?$/i, 'must be a size such as "5Gb" or "384Mb" (xen-tools takes only G and M)')
  .refine((s) => (parseSize(s) ?? 0) > 0, "must be more than zero");

export const guestTypes = ["pv", "pvh"] as const;
export type GuestType = (typeof guestTypes)[number];

export const crashActions = ["destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart"] as const;
export type CrashAction = (typeof crashActions)[number];

/** One dom0 the guest may run on. */
export const xenHostSchema = z.object({
  /** Node name, used by `runOn` (the seed's `ha1`). */
  name: nodeName,
  /** How to reach its dom0 over SSH. */
  connection: connectionSchema,
  /** Its address on the crossover link: the peer migrates to it and is allowed in from it only (the seed's 192.168.1.1). */
  crossoverAddress: ipv4,
  /** Its name on the crossover link, if /etc/hosts has one (the seed's `ha1X`); migrations then use it. */
  crossoverName: hostAddress.optional(),
});
export type XenHost = z.output<typeof xenHostSchema>;

export const vifSchema = z.object({
  /** Bridge on the public link. Default: the toolstack's (xl: `xenbr0`). */
  bridge: bridgeName.optional(),
  /** MAC address. Default: derived from the guest's name in Xen's 00:16:3e range, so it is stable. */
  mac: macAddress.optional(),
  /** The guest's address, passed to the vif hotplug script. */
  ip: ipv4.optional(),
});
export type Vif = z.output<typeof vifSchema>;

export const diskSchema = z
  .object({
    /** DRBD resource served by drbd-utils' `block-drbd` script (the seed's `drbd:test-disk`). */
    drbd: drbdResourceName.optional(),
    /** Block device on the dom0 (`phy:/dev/vg/test-disk`). The same path must exist on every host. */
    phy: hostPath.optional(),
    /** Device the guest sees, such as `xvda2`. */
    vdev,
    /** `w` (read-write, default) or `r` (read-only). */
    access: z.enum(["w", "r"]).default("w"),
  })
  .refine((d) => (d.drbd === undefined) !== (d.phy === undefined), { message: "needs exactly one of drbd or phy", path: ["drbd"] });
export type Disk = z.output<typeof diskSchema>;

/** A guest whose boot and disks are given here, however it was made. */
export const explicitDefinitionSchema = z
  .object({
    mode: z.literal("explicit"),
    /** Kernel on the dom0 for direct boot (identical path on every host). */
    kernel: hostPath.optional(),
    /** Initial ramdisk on the dom0. */
    ramdisk: hostPath.optional(),
    /** Root device and options appended as `root=` (xen-tools writes "/dev/xvda2 ro"). */
    root: commandLineText.optional(),
    /** Boot through a bootloader inside the guest's disk instead of a dom0 kernel. */
    bootloader: z.literal("pygrub").optional(),
    /** Network interfaces. Default: none. */
    vifs: z.array(vifSchema).default([]),
    /** Disks. */
    disks: z.array(diskSchema).min(1, "needs at least one disk"),
  })
  .refine((d) => (d.kernel === undefined) !== (d.bootloader === undefined), { message: "needs exactly one of kernel or bootloader", path: ["kernel"] })
  .refine((d) => d.ramdisk === undefined || d.kernel !== undefined, { message: "a ramdisk needs a kernel", path: ["ramdisk"] })
  .refine((d) => new Set(d.disks.map((x) => x.vdev)).size === d.disks.length, { message: "uses a vdev twice", path: ["disks"] });

/** A guest installed by `xen-create-image`, with the seed's xen-tools.conf settings as defaults. */
export const xenToolsDefinitionSchema = z
  .object({
    mode: z.literal("xen-tools"),
    /** The guest's address (`--ip`, the seed's 10.1.1.50). Set at installation. */
    ip: ipv4,
    /** Volume group for `NAME-disk` and `NAME-swap` (the seed's `lvm = vg`). */
    volumeGroup: lvmName.default("vg"),
    /** Root disk size. Default "5Gb". */
    size: xenToolsSize.default("5Gb"),
    /** Swap size, or false for no swap volume. Default "384Mb". */
    swap: z.union([xenToolsSize, z.literal(false)]).default("384Mb"),
    /** Root filesystem. Default ext3. */
    fs: z.enum(["ext2", "ext3", "ext4", "xfs", "reiserfs", "btrfs"]).default("ext3"),
    /** Distribution to install. Default bookworm (the seed's hardy is long gone from every mirror). */
    dist: z.string().regex(/^[a-z][a-z0-9.-]*$/, "must be a distribution name such as bookworm").default("bookworm"),
    /** Sparse or fully allocated images (only for file images). Default sparse. */
    image: z.enum(["sparse", "full"]).default("sparse"),
    /** Guest's default gateway. Default 10.1.1.1. */
    gateway: ipv4.default("10.1.1.1"),
    /** Guest's netmask. Default 255.255.255.0. */
    netmask: ipv4.default("255.255.255.0"),
    /** Guest's broadcast address. Default 10.1.1.255. */
    broadcast: ipv4.default("10.1.1.255"),
    /** Architecture to install. Default amd64. */
    arch: z.string().regex(/^[a-z0-9_]+$/, "must be an architecture such as amd64").default("amd64"),
    /** How to install: debootstrap (default), tar or copy (offline, from installSource), rinse, rpmstrap. */
    installMethod: z.enum(["debootstrap", "tar", "copy", "rinse", "rpmstrap"]).default("debootstrap"),
    /** Tarball (tar) or directory (copy) on the dom0 that runs xen-create-image. */
    installSource: hostPath.optional(),
    /** Package mirror for debootstrap. Default: xen-tools' own choice. */
    mirror: z.string().regex(/^(https?|file):\/\/[A-Za-z0-9._~:/%+-]+$/, "must be an http(s) or file URL").optional(),
    /** Root password (a secret). Used once, at installation; later changes are ignored. Default: none set. */
    password: z.string().min(1).optional(),
    /** Kernel for the guest. Default: xen-tools' (the dom0's running kernel). */
    kernel: hostPath.optional(),
    /** Initrd for the guest. Default: xen-tools' (the dom0's). */
    initrd: hostPath.optional(),
    /** Boot with pygrub and a kernel inside the guest instead of the dom0's kernel. Default false. */
    pygrub: z.boolean().default(false),
    /** Bridge for the guest's interface. Default: the toolstack's. */
    bridge: bridgeName.optional(),
    /** MAC address. Default: derived from the guest's name in Xen's 00:16:3e range. */
    mac: macAddress.optional(),
    /**
     * Name the DRBD resources in the config instead of the volumes, as the seed does
     * (`drbd:NAME-disk`: each resource named like its volume). Default true.
     */
    drbd: z.boolean().default(true),
  })
  .refine((d) => (d.installMethod === "tar" || d.installMethod === "copy") === (d.installSource !== undefined), {
    message: "installSource is needed by the tar and copy install methods, and only by them",
    path: ["installSource"],
  });

export const xenDomUSchema = z
  .object({
    /** Domain name (the seed's `test`). */
    name: domUName,
    /** The dom0s the guest may run on; its config is written identically to each. */
    hosts: z.array(xenHostSchema).min(1).max(2),
    /** The host it runs on (a `hosts[].name`). Changing it migrates the guest. */
    runOn: nodeName,
    /** `running` (default) or `stopped`. */
    state: z.enum(["running", "stopped"]).default("running"),
    /** Toolstack: `xl` (default, Xen 4.5 and later) or `xm` (xend, the seed's). */
    toolstack: z.enum(["xl", "xm"]).default("xl"),
    /** Guest type: `pv` (default, the seed's and what xen-tools makes) or `pvh` (needs Xen 4.10+ and xl). */
    type: z.enum(guestTypes).default("pv"),
    /** Memory in MiB. Default 384. */
    memory: z.number().int().min(32).default(384),
    /** Most memory in MiB the guest may balloon up to while running. Default: memory. */
    maxMemory: z.number().int().min(32).optional(),
    /** Virtual CPUs. Default 1. */
    vcpus: z.number().int().min(1).max(512).default(1),
    /** Most vCPUs that can be brought online while running. Default: vcpus. */
    maxVcpus: z.number().int().min(1).max(512).optional(),
    /** Kernel arguments appended to the boot's own (xen-tools guests always get `net.ifnames=0`). */
    extra: commandLineText.optional(),
    /** What Xen does when the guest crashes. Default `preserve`: kept for diagnosis instead of a restart loop. */
    onCrash: z.enum(crashActions).default("preserve"),
    /** What Xen does when the guest powers off. Default `destroy`. */
    onPoweroff: z.enum(crashActions).default("destroy"),
    /** What Xen does when the guest reboots. Default `restart`. */
    onReboot: z.enum(crashActions).default("restart"),
    /**
     * Allow a change of host to pause the guest (save, copy, restore: about a minute) when a live
     * migration is impossible (a PV guest on a hypervisor without shadow paging). Default false.
     */
    allowNonLiveMove: z.boolean().default(false),
    /** Seconds a graceful shutdown may take before the guest is destroyed. Default 120. */
    shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /** How the guest is defined. */
    definition: z.discriminatedUnion("mode", [xenToolsDefinitionSchema, explicitDefinitionSchema]),
  })
  .refine((d) => new Set(d.hosts.map((h) => h.name)).size === d.hosts.length, { message: "names a host twice", path: ["hosts"] })
  .refine((d) => new Set(d.hosts.map((h) => h.crossoverAddress)).size === d.hosts.length, { message: "gives two hosts the same crossoverAddress", path: ["hosts"] })
  .refine((d) => d.hosts.some((h) => h.name === d.runOn), { message: "must name one of hosts", path: ["runOn"] })
  .refine((d) => d.maxMemory === undefined || d.maxMemory >= d.memory, { message: "must be at least memory", path: ["maxMemory"] })
  .refine((d) => d.maxVcpus === undefined || d.maxVcpus >= d.vcpus, { message: "must be at least vcpus", path: ["maxVcpus"] })
  .refine((d) => d.toolstack === "xl" || d.type === "pv", { message: "pvh guests need the xl toolstack (xm knows only pv and hvm)", path: ["type"] })
  .refine((d) => d.definition.mode !== "xen-tools" || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(d.name), {
    message: "must be a valid host name for xen-create-image (letters, digits, - and .)",
    path: ["name"],
  });

export type XenDomUInputs = z.output<typeof xenDomUSchema>;
export type XenDomUArgsInput = z.input<typeof xenDomUSchema>;
export type XenToolsDefinition = z.output<typeof xenToolsDefinitionSchema>;
export type ExplicitDefinition = z.output<typeof explicitDefinitionSchema>;

export function hostNamed(inputs: Pick<XenDomUInputs, "hosts">, name: string): XenHost | undefined {
  return inputs.hosts.find((h) => h.name === name);
}

/** The other host of a two-node placement. */
export function peerOf(inputs: Pick<XenDomUInputs, "hosts">, name: string): XenHost | undefined {
  return inputs.hosts.find((h) => h.name !== name);
}

/** What the peer dials to reach this host on the crossover link. */
export function migrationAddressOf(host: Pick<XenHost, "crossoverAddress" | "crossoverName">): string {
  return host.crossoverName ?? host.crossoverAddress;
}
