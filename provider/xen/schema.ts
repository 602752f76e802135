import { z } from "zod";
import { resourceName as drbdResourceName } from "../drbd/schema";
import { connectionSchema } from "../ssh/connection";
import { absolutePath, hostName, hostOrIPv4Address, interfaceName, ipv4Address, memoryMiB } from "../values";

/**
 * Domain name. It is also the config file's name (`/etc/xen/NAME.cfg`) and a word in commands, so
 * it is kept to a portable alphabet.
 */
export const domUName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "may hold only letters, digits and _ . - and must start with a letter or digit")
  .refine((n) => !/--(incoming|migratedaway)$/.test(n) && !n.startsWith("migrating-"), "looks like the temporary name xl or xm gives a domain during a migration");

/** A dom0's name in `hosts[].name` and `runOn` (the seed's `ha1`). */
export const nodeName = hostName;

/** A dotted IPv4 address (no leading zeros). */
export const ipv4 = ipv4Address;

/** A word xl passes unquoted to `sh` (`xl migrate` builds `ssh HOST xl migrate-receive`), so only name characters. */
export const hostAddress = hostOrIPv4Address;

/** Paths that are safe unquoted everywhere they go: config files, xen-tools' own shell commands. */
export const hostPath = absolutePath;

export const macAddress = z.string().regex(/^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$/, "must be a MAC address such as 00:16:3e:12:34:56");
export const bridgeName = interfaceName;
const vdev = z.string().regex(/^(xvd|hd|sd)[a-z]+[0-9]*$/, "must be a virtual device such as xvda2");

/** Printable text for kernel command lines; quotes and backslashes are escaped when rendered. */
export const commandLineText = z
  .string()
  .max(2048, "must be at most 2048 characters (the kernel's command-line limit)")
  .regex(/^[^\x00-\x1f\x7f]*$/, "must not contain control characters or line breaks");

export const guestTypes = ["pv", "pvh"] as const;
export type GuestType = (typeof guestTypes)[number];

export const crashActions = ["destroy", "restart", "preserve", "rename-restart", "coredump-destroy", "coredump-restart"] as const;
export type CrashAction = (typeof crashActions)[number];

/** xl's bridge when a vif names none. */
export const DEFAULT_BRIDGE = "xenbr0";

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
export type XenHostInput = z.input<typeof xenHostSchema>;

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
    /** DRBD resource served by drbd-utils' `block-drbd` script (the seed's `drbd:test-disk`): a name DrbdResource accepts. */
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
export type DiskInput = z.input<typeof diskSchema>;

/**
 * Config keys this package writes itself, each with the input that sets it (the cmdline and
 * builder spellings included, which would override root/extra and type). `extraConfig` may not
 * set them: a second `memory = …` would silently win over the typed field.
 */
export const WRITTEN_CONFIG_KEYS: Readonly<Record<string, string>> = {
  name: "name",
  type: "type",
  builder: "type",
  bootloader: "bootloader",
  kernel: "kernel",
  ramdisk: "ramdisk",
  root: "root",
  extra: "extra",
  cmdline: "root and extra",
  memory: "memory",
  maxmem: "maxMemory",
  vcpus: "vcpus",
  maxvcpus: "maxVcpus",
  vif: "vifs",
  disk: "disks",
  on_poweroff: "onPoweroff",
  on_reboot: "onReboot",
  on_crash: "onCrash",
};

/** A key as xl.cfg spells its settings. */
export const XEN_CONFIG_KEY = /^[a-z_][a-z0-9_]*$/;

/** A string for the config file: quotes and backslashes are escaped when rendered; a line break could start another setting. */
const configText = z
  .string()
  .max(4096, "must be at most 4096 characters")
  .regex(/^[^\x00-\x1f\x7f]*$/, "must not contain line breaks or other control characters (they could end the setting and start another)");

/** One value of `extraConfig`: a string, a whole number, a boolean (written 1 or 0) or a list of strings. */
export const extraConfigValue = z.union([
  configText,
  // A refinement, not .int(): zod reports a fraction as a wrong type, which the union would hide.
  z.number().min(0, "must not be negative (write it as a string if the setting takes one)").refine(Number.isSafeInteger, "must be a whole number (write other numbers as a string)"),
  z.boolean(),
  z.array(configText),
]);
export type ExtraConfigValue = z.output<typeof extraConfigValue>;

/**
 * Settings added to the config as they are (`key = value`), for what the typed inputs do not
 * cover (`cpu_weight`, `vnc`, `bootloader_args`…). `fieldFor` names the typed input to use
 * instead of a key the package writes.
 */
export function extraConfigSchema(fieldFor: (key: string) => string | undefined = (key) => (Object.hasOwn(WRITTEN_CONFIG_KEYS, key) ? WRITTEN_CONFIG_KEYS[key] : undefined)) {
  return z.record(z.string(), extraConfigValue).superRefine((settings, ctx) => {
    for (const key of Object.keys(settings)) {
      if (!XEN_CONFIG_KEY.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: "is not a Xen config key: lower-case letters, digits and _, not starting with a digit" });
        continue;
      }
      const field = fieldFor(key);
      if (field !== undefined) ctx.addIssue({ code: "custom", path: [key], message: `is written by pulumi-xen-ha itself; set ${field} instead` });
    }
  });
}

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
    /** Kernel on the dom0 for direct boot (identical path on every host). */
    kernel: hostPath.optional(),
    /** Initial ramdisk on the dom0. */
    ramdisk: hostPath.optional(),
    /** Root device and options appended as `root=` (xen-tools writes "/dev/xvda2 ro"). */
    root: commandLineText.optional(),
    /** Kernel arguments appended to the boot's own. */
    extra: commandLineText.optional(),
    /** Boot through a bootloader inside the guest's disk instead of a dom0 kernel. */
    bootloader: z.literal("pygrub").optional(),
    /** Memory in MiB. Default 384. */
    memory: memoryMiB.default(384),
    /** Most memory in MiB the guest may balloon up to while running. Default: memory. */
    maxMemory: memoryMiB.optional(),
    /** Virtual CPUs. Default 1. */
    vcpus: z.number().int().min(1).max(512).default(1),
    /** Most vCPUs that can be brought online while running. Default: vcpus. */
    maxVcpus: z.number().int().min(1).max(512).optional(),
    /** Network interfaces. Default: none. */
    vifs: z.array(vifSchema).default([]),
    /** Disks. With `drbd`, every host must have the resource configured. */
    disks: z.array(diskSchema).min(1, "needs at least one disk"),
    /** What Xen does when the guest crashes. Default `preserve`: kept for diagnosis instead of a restart loop. */
    onCrash: z.enum(crashActions).default("preserve"),
    /** What Xen does when the guest powers off. Default `destroy`. */
    onPoweroff: z.enum(crashActions).default("destroy"),
    /** What Xen does when the guest reboots. Default `restart`. */
    onReboot: z.enum(crashActions).default("restart"),
    /** More settings for the config, `key = value` (see `extraConfigSchema`). Default none. */
    extraConfig: extraConfigSchema().optional(),
    /**
     * Allow a change of host to pause the guest (save, copy, restore: about a minute) when a live
     * migration is impossible (a PV guest on a hypervisor without shadow paging). Default false.
     */
    allowNonLiveMove: z.boolean().default(false),
    /** Seconds a graceful shutdown may take before the guest is destroyed. Default 120. */
    shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
    /** Seconds a migration (or a non-live move) may take. Default 900. */
    migrationTimeoutSeconds: z.number().int().min(30).max(86400).default(900),
    /**
     * Who else places the guest. `heartbeat`: the guest is in the Heartbeat resource group of its
     * `runOn`, so a guest away from home is brought back by handing that group back
     * (`hb_standby foreign` on the holder), never by migrating it behind Heartbeat's back.
     * `pacemaker`: it is a Pacemaker resource (PacemakerConfig), which starts, stops and moves it;
     * create starts it before Pacemaker knows it, and update only writes its config and applies
     * memory and vCPUs to it where it runs. Default `none`.
     */
    placedBy: z.enum(["none", "heartbeat", "pacemaker"]).default("none"),
    /** Take over an existing domain of this name instead of refusing to create it; recorded in the state as `adopted`. Default false. */
    adopt: z.boolean().default(false),
    /** Delete an adopted domain with the resource; by default an adopted domain is left on the host when the resource is deleted. Default false. */
    deleteAdopted: z.boolean().default(false),
  })
  .refine((d) => new Set(d.hosts.map((h) => h.name)).size === d.hosts.length, { message: "names a host twice", path: ["hosts"] })
  .refine((d) => new Set(d.hosts.map((h) => h.crossoverAddress)).size === d.hosts.length, { message: "gives two hosts the same crossoverAddress", path: ["hosts"] })
  .refine((d) => d.hosts.some((h) => h.name === d.runOn), { message: "must name one of hosts", path: ["runOn"] })
  .refine((d) => d.maxMemory === undefined || d.maxMemory >= d.memory, { message: "must be at least memory", path: ["maxMemory"] })
  .refine((d) => d.maxVcpus === undefined || d.maxVcpus >= d.vcpus, { message: "must be at least vcpus", path: ["maxVcpus"] })
  .refine((d) => d.toolstack === "xl" || d.type === "pv", { message: "pvh guests need the xl toolstack (xm knows only pv and hvm)", path: ["type"] })
  .refine((d) => (d.kernel === undefined) !== (d.bootloader === undefined), { message: "needs exactly one of kernel or bootloader", path: ["kernel"] })
  .refine((d) => d.ramdisk === undefined || d.kernel !== undefined, { message: "a ramdisk needs a kernel", path: ["ramdisk"] })
  .refine((d) => new Set(d.disks.map((x) => x.vdev)).size === d.disks.length, { message: "uses a vdev twice", path: ["disks"] });

export type XenDomUInputs = z.output<typeof xenDomUSchema>;
export type XenDomUArgsInput = z.input<typeof xenDomUSchema>;

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

/** The DRBD resources the guest's disks name, in order, each once. */
export function drbdResourcesOf(inputs: Pick<XenDomUInputs, "disks">): string[] {
  return [...new Set(inputs.disks.flatMap((d) => (d.drbd === undefined ? [] : [d.drbd])))];
}

/** The bridges the guest's interfaces plug into. */
export function bridgesOf(inputs: Pick<XenDomUInputs, "vifs">): string[] {
  return [...new Set(inputs.vifs.map((v) => v.bridge ?? DEFAULT_BRIDGE))];
}
