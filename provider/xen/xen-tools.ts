/**
 * Installing a guest with xen-tools, as the seed does: a per-guest xen-tools.conf holding the
 * seed's settings, the `xen-create-image --hostname --ip` that reads it, and reading back what it
 * made. The config it generates is kept apart from `/etc/xen/NAME.cfg`, which belongs to the DomU.
 */
import { z } from "zod";
import { lvmName } from "../lvm/schema";
import { literal, script, sh, type Shell } from "../shell";
import { connectionSchema } from "../ssh/connection";
import { memoryMiB, parseSize as sizeBytes } from "../values";
import { defaultMac } from "./config";
import { readDomUConfig, volumeResource, type ParsedDomUConfig } from "./config-parse";
import { hostPath, ipv4, type Disk } from "./schema";

export const DISTRIBUTIONS_CONF_PATH = "/etc/xen-tools/distributions.conf";
/** Where xen-create-image writes the guest's config; the DomU renders its own from what is read here. */
export const GENERATED_CONFIG_DIR = "/var/lib/xen-ha/xen-tools";

/** A name xen-create-image takes as `--hostname` and uses in volume names. */
export const xenToolsGuestName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "must be a valid host name for xen-create-image (letters, digits, - and .)");

/** Sizes as xen-tools takes them: a number with G or M, optionally followed by b ("5Gb", "384Mb"); at most 1 PiB. */
export const xenToolsSize = z
  .string()
  .regex(/^\d+(\.\d+)?[GM][Bb]?$/i, 'must be a size such as "5Gb" or "384Mb" (xen-tools takes only G and M)')
  .refine((s) => !/^\d+(\.\d+)?[GM][Bb]?$/i.test(s) || sizeBytes(s) !== undefined, "must be at most 1 PiB (1048576G)")
  .refine((s) => (sizeBytes(s) ?? 1) > 0, "must be more than zero");

/** A guest installed by `xen-create-image` on one dom0, with the seed's xen-tools.conf settings as defaults. */
export const xenToolsImageSchema = z
  .object({
    /** How to reach the dom0 that runs xen-create-image (the seed's ha1). */
    connection: connectionSchema,
    /** The guest's host name (`--hostname`, the seed's `test`); volumes are `NAME-disk` and `NAME-swap`. */
    name: xenToolsGuestName,
    /** The guest's address (`--ip`, the seed's 10.1.1.50). */
    ip: ipv4,
    /** Volume group for `NAME-disk` and `NAME-swap` (the seed's `lvm = vg`). */
    volumeGroup: lvmName.default("vg"),
    /** Root disk size. Default "5Gb". */
    size: xenToolsSize.default("5Gb"),
    /** Swap size, or false for no swap volume. Default "384Mb". */
    swap: z.union([xenToolsSize, z.literal(false)]).default("384Mb"),
    /** Memory written into the generated config, in MiB. Default 384 (the DomU sets its own). */
    memory: memoryMiB.default(384),
    /** Root filesystem. Default ext3. */
    fs: z.enum(["ext2", "ext3", "ext4", "xfs", "reiserfs", "btrfs"]).default("ext3"),
    /** Distribution to install. Default bookworm (the seed's hardy is long gone from every mirror). */
    dist: z.string().regex(/^[a-z][a-z0-9.-]{0,63}$/, "must be a distribution name such as bookworm (at most 64 characters)").default("bookworm"),
    /** Sparse or fully allocated images (only for file images). Default sparse. */
    image: z.enum(["sparse", "full"]).default("sparse"),
    /** Guest's default gateway. Default 10.1.1.1. */
    gateway: ipv4.default("10.1.1.1"),
    /** Guest's netmask. Default 255.255.255.0. */
    netmask: ipv4.default("255.255.255.0"),
    /** Guest's broadcast address. Default 10.1.1.255. */
    broadcast: ipv4.default("10.1.1.255"),
    /** Architecture to install. Default amd64. */
    arch: z.string().regex(/^[a-z0-9_]{1,32}$/, "must be an architecture such as amd64").default("amd64"),
    /** How to install: debootstrap (default), tar or copy (offline, from installSource), rinse, rpmstrap. */
    installMethod: z.enum(["debootstrap", "tar", "copy", "rinse", "rpmstrap"]).default("debootstrap"),
    /** Tarball (tar) or directory (copy) on the dom0. */
    installSource: hostPath.optional(),
    /** Package mirror for debootstrap. Default: xen-tools' own choice. */
    mirror: z.string().max(2048).regex(/^(https?|file):\/\/[A-Za-z0-9._~:/%+-]+$/, "must be an http(s) or file URL").optional(),
    /** Root password (a secret). Used once, at installation; later changes are ignored. Default: none set. */
    password: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^\x00-\x1f\x7f]*$/, "must be one line without control characters (it is read as one line when it is set)")
      .optional(),
    /** Kernel for the guest. Default: xen-tools' (the dom0's running kernel). */
    kernel: hostPath.optional(),
    /** Initrd for the guest. Default: xen-tools' (the dom0's). */
    initrd: hostPath.optional(),
    /** Boot with pygrub and a kernel inside the guest instead of a dom0 kernel. Default false. */
    pygrub: z.boolean().default(false),
    /** Seconds xen-create-image may take. Default 3600. */
    timeoutSeconds: z.number().int().min(60).max(86400).default(3600),
    /** Allow a change that replaces this resource, deleting the old guest's volumes with their data; without it such a change is refused in preview. Default false. */
    allowDestructiveReplace: z.boolean().default(false),
    /** Take over a finished installation of this name (its volumes and generated config) instead of refusing to create it. Default false. */
    adopt: z.boolean().default(false),
    /** Remove an adopted guest's volumes when the resource is deleted. Default false: they are left on the host. */
    deleteAdopted: z.boolean().default(false),
  })
  .refine((d) => (d.installMethod === "tar" || d.installMethod === "copy") === (d.installSource !== undefined), {
    message: "installSource is needed by the tar and copy install methods, and only by them",
    path: ["installSource"],
  });

export type XenToolsImageInputs = z.output<typeof xenToolsImageSchema>;
export type XenToolsImageArgsInput = z.input<typeof xenToolsImageSchema>;

/** Settings that only matter while xen-create-image installs: a change means a reinstall over the disks. */
export const INSTALL_TIME_SETTINGS = [
  "ip", "volumeGroup", "size", "swap", "memory", "fs", "dist", "image", "gateway", "netmask", "broadcast",
  "arch", "installMethod", "installSource", "mirror", "kernel", "initrd", "pygrub",
] as const;

/**
 * One file per guest beside the package's xen-tools.conf, which stays untouched. xen-create-image
 * reads it after the global file and after its command line, so what it says wins.
 */
export function xenToolsConfigPath(name: string): string {
  return `/etc/xen-tools/xen-ha-${name}.conf`;
}

export function xenToolsLogPath(name: string): string {
  return `/var/log/xen-tools/${name}.log`;
}

export function generatedConfigPath(name: string): string {
  return `${GENERATED_CONFIG_DIR}/${name}.cfg`;
}

type XenToolsGuest = Omit<XenToolsImageInputs, "connection">;

/** The per-guest xen-tools.conf. Every value was validated to a form its reader takes literally (no #, no backquote). */
export function renderXenToolsConfig(guest: XenToolsGuest): string {
  const setting = (key: string, value: string | number | undefined) => (value === undefined ? [] : [`${key} = ${value}`]);
  const lines = [
    `# xen-tools settings for ${guest.name}, written by pulumi-xen-ha.`,
    ...setting("install-method", guest.installMethod),
    ...setting("install-source", guest.installSource),
    ...setting("size", guest.size),
    ...setting("memory", `${guest.memory}M`),
    ...(guest.swap === false ? ["noswap = 1"] : [`swap = ${guest.swap}`]),
    ...setting("fs", guest.fs),
    ...setting("dist", guest.dist),
    ...setting("image", guest.image),
    ...setting("gateway", guest.gateway),
    ...setting("netmask", guest.netmask),
    ...setting("broadcast", guest.broadcast),
    ...setting("mac", defaultMac(guest.name)),
    ...setting("arch", guest.arch),
    ...setting("mirror", guest.mirror),
    ...setting("kernel", guest.kernel),
    ...setting("initrd", guest.initrd),
    // Only ever "pygrub = 1": xen-tools' template tests defined($pygrub), so "pygrub = 0" would
    // drop the kernel from the generated config and leave a stray "0" line in it.
    ...(guest.pygrub ? ["pygrub = 1"] : []),
    // Starting the guest is the DomU's to do, after checking the peer; so is the dom0's /etc/hosts.
    "boot = 0",
    "nohosts = 1",
    `output = ${GENERATED_CONFIG_DIR}`,
    "extension = .cfg",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Runs xen-create-image, with no root password: a password on its command line would be readable
 * by every local user in /proc while it runs, and it prints it into its log. The password is set
 * afterwards by `buildSetRootPasswordScript`, from standard input. The log's tail is shown on failure.
 */
export function buildXenCreateImageScript(guest: XenToolsGuest): Shell {
  const log = xenToolsLogPath(guest.name);
  return script(
    literal("status=0"),
    sh`mkdir -p ${GENERATED_CONFIG_DIR}`,
    sh`xen-create-image --hostname=${guest.name} --ip=${guest.ip} --lvm=${guest.volumeGroup} --config=${xenToolsConfigPath(guest.name)} --nopasswd --genpass=0 >/dev/null || status=$?`,
    sh`if [ "$status" -ne 0 ]; then tail -n 40 ${log} >&2 || true; exit "$status"; fi`,
  );
}

/**
 * Sets the guest's root password in its /etc/shadow (SHA-512 crypt by the dom0's perl, which
 * Debian always has). The password comes on standard input, so it is never in a command line.
 */
export function buildSetRootPasswordScript(guest: Pick<XenToolsGuest, "name" | "volumeGroup">): Shell {
  return script(
    literal("mnt=$(mktemp -d)"),
    literal(`trap 'umount "$mnt" 2>/dev/null || true; rmdir "$mnt"' EXIT`),
    sh`mount -- ${`/dev/${guest.volumeGroup}/${guest.name}-disk`} "$mnt"`,
    sh`perl -e ${SET_ROOT_HASH_PERL} "$mnt/etc/shadow"`,
    literal('umount "$mnt"'),
  );
}

const SET_ROOT_HASH_PERL = String.raw`my $pw = <STDIN>; defined $pw or die "no password on stdin\n"; chomp $pw;
my @c = ("a".."z", "A".."Z", 0..9, ".", "/"); my $salt = join "", map { $c[int rand @c] } 1..16;
my $hash = crypt($pw, "\$6\$$salt\$"); defined $hash && $hash =~ /^\$6\$/ or die "crypt has no SHA-512\n";
my $f = $ARGV[0]; open my $in, "<", $f or die "$f: $!\n"; my @l = <$in>; close $in; my $n = 0;
for (@l) { my @x = split /:/, $_, -1; if ($x[0] eq "root") { $x[1] = $hash; $_ = join ":", @x; $n++ } }
$n or die "no root entry in $f\n"; open my $out, ">", $f or die "$f: $!\n"; print $out @l; close $out or die "$f: $!\n";`;

export interface XenToolsVolume {
  /** Volume name, `NAME-disk` or `NAME-swap`. */
  name: string;
  /** Size as `lvcreate -L` takes it ("5120M", "384M"), for the peer's matching volume. */
  size: string;
  /** The guest's device for it: xen-tools puts swap first (xvda1) and the root after it. */
  vdev: string;
}

/** The volumes xen-create-image makes, so the peer can be given the same (the seed's lvcreate on ha2). */
export function xenToolsVolumes(guest: Pick<XenToolsGuest, "name" | "size" | "swap">): XenToolsVolume[] {
  const lvmSize = (s: string) => `${Math.ceil((sizeBytes(s) ?? 0) / 1024 ** 2)}M`;
  if (guest.swap === false) return [{ name: `${guest.name}-disk`, size: lvmSize(guest.size), vdev: "xvda1" }];
  return [
    { name: `${guest.name}-disk`, size: lvmSize(guest.size), vdev: "xvda2" },
    { name: `${guest.name}-swap`, size: lvmSize(guest.swap), vdev: "xvda1" },
  ];
}

/** What the DomU needs from a generated config: its boot settings and disks, phy: and on DRBD. */
export interface GeneratedGuest {
  kernel?: string;
  ramdisk?: string;
  root?: string;
  /** The generated kernel arguments plus `net.ifnames=0` (the generated network config says eth0). */
  extra: string;
  /** The volumes as xen-create-image wrote them (`phy:/dev/vg/test-disk`). */
  disks: Disk[];
  /** The same disks on DRBD resources named like their volumes, as the seed does (`drbd:test-disk`). */
  drbdDisks: Disk[];
}

/** Reads the boot settings and disks out of the config xen-create-image wrote. */
export function generatedGuestOf(config: ParsedDomUConfig): GeneratedGuest {
  const disks: Disk[] = config.disks.map((d) => {
    if (d.phy === undefined) throw new Error(`xen-create-image wrote a disk this package does not manage: ${d.other ?? d.drbd ?? "?"}`);
    return { phy: d.phy, vdev: d.vdev, access: d.access };
  });
  const drbdDisks = disks.map((d) => {
    const resource = volumeResource(d.phy ?? "");
    if (resource === undefined) throw new Error(`cannot name a DRBD resource after ${d.phy ?? "?"}: not a /dev/VG/NAME volume`);
    return { drbd: resource, vdev: d.vdev, access: d.access };
  });
  const { kernel, ramdisk, root } = config;
  return { kernel, ramdisk, root, extra: joinWords([config.extra, "net.ifnames=0"]), disks, drbdDisks };
}

export function readGeneratedGuest(text: string): GeneratedGuest {
  return generatedGuestOf(readDomUConfig(text));
}

function joinWords(parts: (string | undefined)[]): string {
  const words: string[] = [];
  for (const w of parts.flatMap((p) => (p ?? "").split(/\s+/))) if (w && !words.includes(w)) words.push(w);
  return words.join(" ");
}

/**
 * distributions.conf with pygrub no longer forced for `dist`. xen-tools 4.9.2 marks bookworm
 * `pygrub` and turns it on after reading the command line, so a guest booted with the dom0's kernel
 * needs this; with no mirror its kernel hook would fail and delete the new volumes.
 */
export function disablePygrubFor(distributionsConf: string, dist: string): string {
  return distributionsConf
    .split("\n")
    .map((line) => {
      const m = /^(\s*)([a-z0-9.-]+)(\s*=\s*)(.*)$/.exec(line);
      if (!m || m[2] !== dist) return line;
      const words = m[4]!.split(/\s+/).filter((w) => w !== "pygrub");
      return `${m[1]}${m[2]}${m[3]}${words.join(" ")}`;
    })
    .join("\n");
}

/** Whether distributions.conf turns pygrub on for `dist` (then disablePygrubFor is needed for a kernel boot). */
export function forcesPygrub(distributionsConf: string, dist: string): boolean {
  return distributionsConf.split("\n").some((line) => {
    const m = /^\s*([a-z0-9.-]+)\s*=\s*(.*)$/.exec(line);
    return m?.[1] === dist && m[2]!.split(/\s+/).includes("pygrub");
  });
}

/** Refusals of install-time changes, with what to do instead. */
export function validateImageChange(olds: XenToolsImageInputs, news: XenToolsImageInputs): { property: string; reason: string }[] {
  if (olds.name !== news.name) return [];
  return INSTALL_TIME_SETTINGS.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k])).map((k) => ({
    property: k,
    reason:
      `is used only when xen-create-image installs the guest; changing it would reinstall over ${news.name}'s disks. ` +
      `Set it back to ${JSON.stringify(olds[k])}, or to reinstall deliberately run pulumi up --replace on this resource (its volumes are deleted first).`,
  }));
}
