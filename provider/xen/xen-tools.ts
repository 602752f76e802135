/**
 * Installing a guest with xen-tools, as the seed does: a per-guest xen-tools.conf holding the
 * seed's settings, and the `xen-create-image --hostname --ip` that reads it.
 */
import { literal, script, secretWord, sh, type Shell } from "../shell";
import { parseSize } from "../lvm/size";
import { defaultMac } from "./config";
import type { XenDomUInputs, XenToolsDefinition } from "./schema";

export const DISTRIBUTIONS_CONF_PATH = "/etc/xen-tools/distributions.conf";

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

type XenToolsGuest = Pick<XenDomUInputs, "name" | "memory"> & { definition: XenToolsDefinition };

export function isXenToolsGuest(inputs: XenDomUInputs): inputs is XenDomUInputs & { definition: XenToolsDefinition } {
  return inputs.definition.mode === "xen-tools";
}

/** The per-guest xen-tools.conf. Every value was validated to a form its reader takes literally (no #, no backquote). */
export function renderXenToolsConfig(guest: XenToolsGuest): string {
  const d = guest.definition;
  const setting = (key: string, value: string | number | undefined) => (value === undefined ? [] : [`${key} = ${value}`]);
  const lines = [
    `# xen-tools settings for ${guest.name}, written by pulumi-xen-ha.`,
    ...setting("install-method", d.installMethod),
    ...setting("install-source", d.installSource),
    ...setting("size", d.size),
    ...setting("memory", `${guest.memory}M`),
    ...(d.swap === false ? ["noswap = 1"] : [`swap = ${d.swap}`]),
    ...setting("fs", d.fs),
    ...setting("dist", d.dist),
    ...setting("image", d.image),
    ...setting("gateway", d.gateway),
    ...setting("netmask", d.netmask),
    ...setting("broadcast", d.broadcast),
    ...setting("bridge", d.bridge),
    ...setting("mac", (d.mac ?? defaultMac(guest.name)).toLowerCase()),
    ...setting("arch", d.arch),
    ...setting("mirror", d.mirror),
    ...setting("kernel", d.kernel),
    ...setting("initrd", d.initrd),
    `pygrub = ${d.pygrub ? 1 : 0}`,
    // Starting the guest is ours to do, after checking the peer; so is the dom0's /etc/hosts.
    "boot = 0",
    "nohosts = 1",
    "output = /etc/xen",
    "extension = .cfg",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Runs xen-create-image. The volume group goes on the command line, where it overrides a `dir` in
 * the global file. xen-create-image prints the root password on its summary and into its log, so
 * its output is dropped, the log's password line blanked, and the log's tail shown on failure.
 */
export function buildXenCreateImageScript(guest: XenToolsGuest): Shell {
  const d = guest.definition;
  const log = xenToolsLogPath(guest.name);
  const password = d.password === undefined ? literal("--genpass=0") : sh`--password=${secretWord(d.password)}`;
  return script(
    literal("status=0"),
    sh`xen-create-image --hostname=${guest.name} --ip=${d.ip} --lvm=${d.volumeGroup} --config=${xenToolsConfigPath(guest.name)} --nopasswd ${password} >/dev/null || status=$?`,
    sh`if [ -f ${log} ]; then sed -i 's/^Root Password *:.*/Root Password   :  (removed)/' ${log}; fi`,
    sh`if [ "$status" -ne 0 ]; then tail -n 40 ${log} >&2 || true; exit "$status"; fi`,
  );
}

export interface XenToolsVolume {
  /** Volume name, `NAME-disk` or `NAME-swap`. */
  name: string;
  /** Size as `lvcreate -L` takes it ("5G", "384M"), for the peer's matching volume. */
  size: string;
  /** The guest's device for it: xen-tools puts swap first (xvda1) and the root after it. */
  vdev: string;
}

/** The volumes xen-create-image makes, so the peer can be given the same (the seed's lvcreate on ha2). */
export function xenToolsVolumes(guest: XenToolsGuest): XenToolsVolume[] {
  const d = guest.definition;
  const lvmSize = (s: string) => `${Math.ceil((parseSize(s) ?? 0) / 1024 ** 2)}M`;
  if (d.swap === false) return [{ name: `${guest.name}-disk`, size: lvmSize(d.size), vdev: "xvda1" }];
  return [
    { name: `${guest.name}-disk`, size: lvmSize(d.size), vdev: "xvda2" },
    { name: `${guest.name}-swap`, size: lvmSize(d.swap), vdev: "xvda1" },
  ];
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
