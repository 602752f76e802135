/**
 * DomU config files (`/etc/xen/NAME.cfg`), rendered from inputs. Rendered files keep to the syntax
 * xl and xm (python) both read: `key = 'string'`, numbers, lists of strings. Reading configs back
 * (the ones xen-create-image writes) is config-parse.ts.
 */
import { createHash } from "node:crypto";
import { WRITTEN_CONFIG_KEYS, XEN_CONFIG_KEY, type CrashAction, type Disk, type ExtraConfigValue, type GuestType, type Vif, type XenDomUInputs } from "./schema";

export interface DomUConfig {
  name: string;
  type: GuestType;
  kernel?: string;
  ramdisk?: string;
  root?: string;
  extra?: string;
  bootloader?: string;
  /** MiB. */
  memory: number;
  maxMemory?: number;
  vcpus: number;
  maxVcpus?: number;
  vifs: Vif[];
  disks: Disk[];
  onPoweroff: CrashAction;
  onReboot: CrashAction;
  onCrash: CrashAction;
  /** Further settings, written after the typed ones in key order. */
  extraConfig?: Record<string, ExtraConfigValue>;
}

export function configPath(name: string): string {
  return `/etc/xen/${name}.cfg`;
}

/** Xen's own MAC range (00:16:3e, top bit of the fourth byte clear), fixed per guest name. */
export function defaultMac(name: string): string {
  const [a = 0, b = 0, c = 0] = createHash("sha256").update(name).digest();
  return ["00", "16", "3e", a & 0x7f, b, c].map((x) => (typeof x === "string" ? x : x.toString(16).padStart(2, "0"))).join(":");
}

export function str(value: string): string {
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

export function formatVifSpec(vif: Vif): string {
  const parts: string[] = [];
  if (vif.mac) parts.push(`mac=${vif.mac.toLowerCase()}`);
  if (vif.bridge) parts.push(`bridge=${vif.bridge}`);
  if (vif.ip) parts.push(`ip=${vif.ip}`);
  return parts.join(",");
}

/** The legacy positional form, the one xm and xl both read (xl's block-drbd included). */
export function formatDiskSpec(disk: Disk): string {
  const target = disk.drbd !== undefined ? `drbd:${disk.drbd}` : `phy:${disk.phy ?? ""}`;
  return `${target},${disk.vdev},${disk.access}`;
}

/** The config file, byte for byte the same for the same inputs. `type` is omitted for xm, which does not know it. */
export function renderDomUConfig(config: DomUConfig, toolstack: "xl" | "xm"): string {
  const lines = ["# Managed by pulumi-xen-ha and written identically to every host of this guest; edits are overwritten.", `name = ${str(config.name)}`];
  if (toolstack === "xl") lines.push(`type = ${str(config.type)}`);
  if (config.bootloader) lines.push(`bootloader = ${str(config.bootloader)}`);
  if (config.kernel) lines.push(`kernel = ${str(config.kernel)}`);
  if (config.ramdisk) lines.push(`ramdisk = ${str(config.ramdisk)}`);
  if (config.root) lines.push(`root = ${str(config.root)}`);
  if (config.extra) lines.push(`extra = ${str(config.extra)}`);
  lines.push(`memory = ${config.memory}`);
  if (config.maxMemory !== undefined && config.maxMemory !== config.memory) lines.push(`maxmem = ${config.maxMemory}`);
  lines.push(`vcpus = ${config.vcpus}`);
  if (config.maxVcpus !== undefined && config.maxVcpus !== config.vcpus) lines.push(`maxvcpus = ${config.maxVcpus}`);
  lines.push(list("vif", config.vifs.map(formatVifSpec)), list("disk", config.disks.map(formatDiskSpec)));
  lines.push(`on_poweroff = ${str(config.onPoweroff)}`, `on_reboot = ${str(config.onReboot)}`, `on_crash = ${str(config.onCrash)}`);
  for (const key of Object.keys(config.extraConfig ?? {}).sort()) lines.push(extraSetting(key, config.extraConfig![key]!));
  return `${lines.join("\n")}\n`;
}

/**
 * One `extraConfig` setting. The schema refuses what could end the line; this check stands behind
 * it, because a line break in a value would start a setting of its own.
 */
function extraSetting(key: string, value: ExtraConfigValue): string {
  const texts = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  if (!XEN_CONFIG_KEY.test(key) || Object.hasOwn(WRITTEN_CONFIG_KEYS, key) || texts.some((t) => /[\x00-\x1f\x7f]/.test(t))) {
    throw new Error(`extraConfig.${key}: refused (not a free Xen config key, or a value with a control character)`);
  }
  if (Array.isArray(value)) return list(key, value);
  if (typeof value === "boolean") return `${key} = ${value ? 1 : 0}`;
  return `${key} = ${typeof value === "number" ? String(value) : str(value)}`;
}

function list(key: string, items: string[]): string {
  return items.length === 0 ? `${key} = []` : `${key} = [\n${items.map((i) => `    ${str(i)},\n`).join("")}]`;
}

/** The config of a guest, from its inputs. */
export function domUConfigOf(inputs: XenDomUInputs): DomUConfig {
  const { name, type, kernel, ramdisk, root, extra, bootloader, memory, maxMemory, vcpus, maxVcpus, onPoweroff, onReboot, onCrash, extraConfig } = inputs;
  return {
    name,
    type,
    kernel,
    ramdisk,
    root,
    extra,
    bootloader,
    memory,
    maxMemory,
    vcpus,
    maxVcpus,
    vifs: inputs.vifs.map((v, i) => ({ ...v, mac: v.mac ?? defaultMac(i === 0 ? name : `${name}#${i}`) })),
    disks: inputs.disks.map((d) => ({ drbd: d.drbd, phy: d.phy, vdev: d.vdev, access: d.access })),
    onPoweroff,
    onReboot,
    onCrash,
    ...(extraConfig && Object.keys(extraConfig).length > 0 ? { extraConfig } : {}),
  };
}
