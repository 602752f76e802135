/**
 * Command builders for DRBD. Pure: they return shell text, they run nothing. Commands that write
 * meta-data name the format (v08) themselves, so a DRBD 9 default can never creep in.
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import { CONFIG_DIR, resourceConfigPath } from "./render";
import { minorOf, type DrbdNodeInputs, type DrbdResourceInputs } from "./schema";

/** Marker lines between the sections of the status probe's output. */
export const PROBE_SECTIONS = ["proc", "status", "show", "kernel", "adjust", "config"] as const;
export type ProbeSection = (typeof PROBE_SECTIONS)[number];
export const probeMarker = (section: ProbeSection): string => `--8<-- ${section}`;
const marker = (section: ProbeSection): Shell => sh`echo ${probeMarker(section)}`;

/** The loaded module's version from /proc/drbd, else the installed module's (drbd-utils asks the same way). */
const MODULE_VERSION = literal(
  `module_version=$(sed -n 's/^version: \\([0-9.]*\\).*/\\1/p' /proc/drbd 2>/dev/null || true)\n` +
    `[ -n "$module_version" ] || module_version=$(modinfo -F version drbd 2>/dev/null || true)`,
);

/**
 * The kernel module must speak the dialect we configure: drbd-utils picks its 8.4 or 9 tools by
 * the module's version, and 9's meta-data would be unreadable to an 8.4 kernel. Stop before
 * touching anything otherwise.
 */
function requireModule(drbdVersion: DrbdResourceInputs["drbdVersion"]): Shell {
  const dialect = drbdVersion === "8.3" ? "8.3" : "8.4";
  return joinLines([
    MODULE_VERSION,
    literal(
      `case "$module_version" in ${dialect}.*) ;; *) echo "the DRBD kernel module is version \${module_version:-unknown}, ` +
        `not ${dialect}: refusing to go on" >&2; exit 3 ;; esac`,
    ),
  ]);
}

/**
 * Where the lifecycle writes candidate files for the parser check: outside /etc/drbd.d, so no
 * drbdadm run reads them by accident, and per resource, so two checks never share one.
 */
export function candidatePaths(name: string): { resource: string; globalCommon: string } {
  return { resource: `/run/xen-ha/drbd/${name}.res`, globalCommon: `/run/xen-ha/drbd/${name}.global_common.conf` };
}

/**
 * Runs drbdadm's own parser over the candidate files before they are installed: a throw-away main
 * config includes the candidate global file, every installed resource file but this one (so
 * clashes of minors, disks, meta-data indexes and ports with other resources show), and the
 * candidate resource file. Prints `drbdadm dump` on success; drbdadm's exit code and stderr
 * otherwise (see `parseConfigCheck`). The candidates are removed either way.
 */
export function buildCheckConfigScript(name: string, candidates = candidatePaths(name)): Shell {
  const cleanup = sh`rm -rf "$dir" ${candidates.resource} ${candidates.globalCommon}`;
  return joinLines([
    literal("set -eu"),
    literal("dir=$(mktemp -d)"),
    sh`trap ${cleanup.text} EXIT`,
    literal("{"),
    sh`printf 'include "%s";\\n' ${candidates.globalCommon}`,
    sh`for f in ${literal(`${CONFIG_DIR}/*.res`)}; do`,
    sh`  if [ -e "$f" ] && [ "$f" != ${resourceConfigPath(name)} ]; then printf 'include "%s";\\n' "$f"; fi`,
    literal("done"),
    sh`printf 'include "%s";\\n' ${candidates.resource}`,
    literal('} > "$dir/drbd.conf"'),
    sh`drbdadm -c "$dir/drbd.conf" dump ${name}`,
  ]);
}

/** drbdmeta's description of where a node's meta-data lives: `MINOR v08 DEVICE INDEX`, as drbdadm passes it. */
function metaLocation(node: DrbdNodeInputs): (string | number)[] {
  const minor = minorOf(node.device);
  return node.metaDisk === "internal" ? [minor, "v08", node.disk, "internal"] : [minor, "v08", node.metaDisk.device, node.metaDisk.index];
}

/**
 * Reads the generation identifiers from the node's meta-data area. Exit 0: valid meta-data (the
 * output is its UUIDs and flags); exit 1: no valid meta-data there; 10 or 20: the area cannot be
 * read (too small, missing device). Works with the resource up or down. Expect exit code 1.
 */
export function buildMetadataProbeCommand(node: DrbdNodeInputs): Shell {
  return sh`drbdmeta ${metaLocation(node)} get-gi </dev/null`;
}

/**
 * Creates meta-data. Call it only where the probe found none. With internal meta-data, drbdmeta
 * asks before writing over data at the end of the backing volume; with no terminal it answers
 * "no" and exits 1, so existing data is never overwritten. An external meta-data index is an area
 * of a volume set aside for DRBD that the probe found without valid meta-data, but a volume made
 * on reused extents holds stale bytes there that drbdmeta also asks about: only then is the
 * question answered with `--force`.
 */
export function buildCreateMetadataScript(r: Pick<DrbdResourceInputs, "name" | "drbdVersion">, node?: Pick<DrbdNodeInputs, "metaDisk">): Shell {
  const external = node !== undefined && node.metaDisk !== "internal";
  const create = external ? sh`drbdadm create-md --force ${r.name} </dev/null` : sh`drbdadm create-md ${r.name} </dev/null`;
  return joinLines([literal("set -eu"), requireModule(r.drbdVersion), create]);
}

/** Destroys the node's meta-data (opt-in on delete). drbdmeta refuses while the device is attached. */
export function buildWipeMetadataCommand(node: DrbdNodeInputs): Shell {
  return sh`drbdmeta --force ${metaLocation(node)} wipe-md </dev/null`;
}

/** Attaches the disk and starts connecting to the peer. */
export function buildUpScript(r: Pick<DrbdResourceInputs, "name" | "drbdVersion">): Shell {
  return joinLines([literal("set -eu"), requireModule(r.drbdVersion), literal("modprobe drbd"), sh`drbdadm up ${r.name}`]);
}

export const DRBD_MODULE_OPTIONS_FILE = "/etc/modprobe.d/pulumi-xen-ha-drbd.conf";
const DRBD_SETTINGS_LOCK = "/var/lock/pulumi-xen-ha-drbd-settings.lock";

/**
 * What every DRBD node of a Xen cluster needs beside the resource files:
 * - every configured resource up at boot, before Heartbeat (the seed's `/etc/init.d/drbd start`):
 *   Xen's block-drbd can only promote a resource that is up, and Debian ships the unit disabled;
 * - DRBD's `disable_sendpage` module option, now and at every load. Without it DRBD hands the
 *   guest's own pages (mapped from the DomU by blkback) to TCP, and a connection whose peer died
 *   can keep them referenced in the kernel long after: blkback then waits forever to unmap them,
 *   the destroyed DomU stays a dying `(null)` domain and holds its DRBD device open.
 */
export function buildNodeSettingsScript(): Shell {
  return joinLines([
    literal("set -eu"),
    // One resource at a time, and the unit enabled only when it is not: every DrbdResource of a
    // node runs this, often at once, and each `systemctl enable` reloads systemd (seconds under emulation).
    sh`exec 9>${DRBD_SETTINGS_LOCK}`,
    literal("flock 9"),
    sh`printf '%s\n' ${"# Written by pulumi-xen-ha: DRBD copies writes instead of lending the guest's pages to TCP."} ${"options drbd disable_sendpage=1"} >${DRBD_MODULE_OPTIONS_FILE}`,
    literal("if [ -w /sys/module/drbd/parameters/disable_sendpage ]; then echo Y >/sys/module/drbd/parameters/disable_sendpage; fi"),
    literal("if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then"),
    literal("  systemctl is-enabled --quiet drbd.service 2>/dev/null || systemctl enable --quiet drbd.service"),
    literal("else"),
    literal("  update-rc.d drbd defaults >/dev/null"),
    literal("fi"),
  ]);
}

/** Makes this node's data the good copy and starts the full sync to the peer (the seed's `drbdsetup … primary -o`). */
export function buildForcePrimaryCommand(r: Pick<DrbdResourceInputs, "name" | "drbdVersion">): Shell {
  return r.drbdVersion === "8.3" ? sh`drbdadm -- --overwrite-data-of-peer primary ${r.name}` : sh`drbdadm primary --force ${r.name}`;
}

/**
 * Declares both sides in sync without copying (DRBD's documented way for new, empty volumes). Only
 * on freshly created meta-data, connected, Inconsistent/Inconsistent, on one node.
 */
export function buildSkipInitialSyncCommand(name: string): Shell {
  return sh`drbdadm -- --clear-bitmap new-current-uuid ${name}`;
}

/**
 * Demotes resources a guest has left on this host. Xen's block-drbd demotes them when the domain's
 * disks are torn down, but fails when the device is still held open for a moment (udev, blkback);
 * this retries for up to `seconds` and fails naming the resources still Primary.
 */
export function buildReleaseScript(names: readonly string[], seconds: number): Shell {
  return joinLines([
    literal("set -u"),
    sh`limit=${seconds}`,
    sh`for res in ${names}; do`,
    literal(`  n=0
  while drbdadm role "$res" 2>/dev/null | grep -q '^Primary/'; do
    if [ "$n" -ge "$limit" ]; then echo "$res is still Primary here after $limit s: something holds it open" >&2; exit 1; fi
    udevadm settle --timeout=5 >/dev/null 2>&1 || true
    drbdadm secondary "$res" >/dev/null 2>&1 || sleep 1
    n=$((n + 1))
  done
done`),
  ]);
}

export function buildPrimaryCommand(name: string): Shell {
  return sh`drbdadm primary ${name}`;
}

export function buildSecondaryCommand(name: string): Shell {
  return sh`drbdadm secondary ${name}`;
}

/** Applies the installed file to the running resource: option and address changes online. */
export function buildAdjustCommand(name: string): Shell {
  return sh`drbdadm adjust ${name}`;
}

/** Grows the device into grown backing volumes; run on one node with both connected. */
export function buildResizeCommand(name: string): Shell {
  return sh`drbdadm resize ${name}`;
}

export function buildDownCommand(name: string): Shell {
  return sh`drbdadm down ${name}`;
}

/**
 * One round trip with everything `read` needs on a node: its name (must match the `on` section),
 * the DRBD module version, /proc/drbd, `drbdsetup status` (the kernel's view, whatever the
 * installed files say) with its exit code, what the kernel runs it on (`drbdsetup show`: minor,
 * disks, addresses), the last kernel line
 * saying whether the resource's last handshake ended in an unresolved split brain, what `drbdadm
 * adjust` would change (its dry run, only where the resource file is installed), and the
 * installed resource file. Sections start with `probeMarker(...)` lines; see `parseStatusProbe`.
 */
export function buildStatusProbeScript(name: string, device: string): Shell {
  const minor = minorOf(device);
  return joinLines([
    literal("set -eu"),
    literal(`printf 'nodename\\t%s\\n' "$(uname -n)"`),
    MODULE_VERSION,
    literal(`printf 'module\\t%s\\n' "$module_version"`),
    marker("proc"),
    literal("cat /proc/drbd 2>/dev/null || true"),
    marker("status"),
    literal("rc=0"),
    sh`drbdsetup status ${name} 2>&1 || rc=$?`,
    literal(`printf 'exit\\t%s\\n' "$rc"`),
    marker("show"),
    sh`drbdsetup show ${name} 2>/dev/null || true`,
    marker("kernel"),
    sh`dmesg 2>/dev/null | grep -F -e ${`block drbd${minor}: Split-Brain`} -e ${`drbd ${name}: Handshake successful`} | tail -n 1 || true`,
    marker("adjust"),
    // The dry run's commands come on stdout; drbdadm's warnings (dopd's permission check, other resources' files) on stderr.
    sh`if [ -e ${resourceConfigPath(name)} ]; then drbdadm -d adjust ${name} 2>/dev/null || true; fi`,
    marker("config"),
    sh`cat ${resourceConfigPath(name)} 2>/dev/null || true`,
  ]);
}

/**
 * Whether a backing volume already holds data: its signature (filesystem, swap, LVM…) and whether
 * its first MiB is all zeros. Guards the skip-sync opt-in; see `parseVolumeContent`.
 */
export function buildVolumeContentProbeScript(disk: string): Shell {
  return joinLines([
    literal("set -eu"),
    sh`printf 'signature\\t%s\\n' "$(blkid -p -o value -s TYPE ${disk} 2>/dev/null || true)"`,
    sh`if cmp -s -n 1048576 ${disk} /dev/zero; then printf 'head\\tzero\\n'; else printf 'head\\tdata\\n'; fi`,
  ]);
}

/**
 * Sizes in bytes of block devices (the meta volumes, checked against their indexes before anything
 * runs; the backing volumes before a resize), `-` for one that does not exist. See `parseDeviceSizes`.
 */
export function buildDeviceSizesScript(devices: readonly string[]): Shell {
  return joinLines([
    literal("set -eu"),
    ...devices.map((d) => sh`if [ -b ${d} ]; then printf 'size\\t%s\\t%s\\n' ${d} "$(blockdev --getsize64 ${d})"; else printf 'size\\t%s\\t-\\n' ${d}; fi`),
  ]);
}

/** Moves a staged file into place only where none exists (rename without replace), else drops it. */
export function buildPlaceUnlessPresentCommand(staged: string, target: string): Shell {
  return sh`mv -n ${staged} ${target}; rm -f ${staged}`;
}

/** Keeps a copy of a file as it is, once: an earlier copy is never overwritten. */
export function buildKeepCopyCommand(path: string, copy: string): Shell {
  return sh`[ -e ${copy} ] || cp -p ${path} ${copy}`;
}
