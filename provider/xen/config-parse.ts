/**
 * Reading DomU config files back (the ones xen-create-image writes), and the seed's rewrite of
 * their disks onto DRBD.
 */
import { formatDiskSpec, str } from "./config";
import type { Vif } from "./schema";

/** The seed names each DRBD resource like the volume under it: /dev/vg/test-disk → test-disk. */
export function volumeResource(path: string): string | undefined {
  return /^\/dev\/[^/]+\/([^/]+)$/.exec(path)?.[1];
}

function drbdDiskFor(disk: ParsedDisk, resourceFor: (path: string) => string | undefined): ParsedDisk {
  const resource = disk.phy === undefined ? undefined : resourceFor(disk.phy);
  return resource === undefined ? disk : { vdev: disk.vdev, access: disk.access, drbd: resource };
}

// ---- Reading config files ----

export type ConfigValue = string | ConfigValue[];

export interface ConfigSetting {
  key: string;
  value: ConfigValue;
  /** Where each quoted string of the value sits in the text, for edits that keep the rest of the file. */
  strings: { value: string; start: number; end: number }[];
}

const TOKEN = /[ \t\r]*(?:(#[^\n]*)|(\n|;)|(\+=|=|\[|\]|,)|('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|([A-Za-z0-9_.-]+))/y;

type Token = { kind: "comment" | "sep" | "punct" | "string" | "word"; text: string; start: number; end: number };
const KINDS = ["comment", "sep", "punct", "string", "word"] as const;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  for (;;) {
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) {
      if (/^\s*$/.test(text.slice(at))) return tokens;
      throw new Error(`line ${lineOf(text, at)}: cannot read "${text.slice(at).trim().split("\n")[0]}" (not the xl/xm config syntax)`);
    }
    const group = m.slice(1).findIndex((g) => g !== undefined);
    const token = m[group + 1]!;
    at = TOKEN.lastIndex;
    if (group > 0) tokens.push({ kind: KINDS[group]!, text: token, start: at - token.length, end: at });
  }
}

/** Parses the common xl/xm syntax; anything else (python expressions, say) is reported with its line. */
export function parseConfigFile(text: string): ConfigSetting[] {
  const tokens = tokenize(text);
  const settings: ConfigSetting[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`line ${lineOf(text, tokens[i]?.start ?? text.length)}: ${why}`);
  };
  const skipNewlines = () => {
    while (tokens[i]?.text === "\n") i++;
  };
  const value = (strings: ConfigSetting["strings"]): ConfigValue => {
    const t = tokens[i++] ?? fail("a value is missing");
    if (t.kind === "string") {
      const v = unquote(t.text);
      strings.push({ value: v, start: t.start, end: t.end });
      return v;
    }
    if (t.kind === "word") return t.text;
    if (t.text !== "[") return fail(`unexpected "${t.text}"`);
    const items: ConfigValue[] = [];
    for (skipNewlines(); tokens[i]?.text !== "]"; skipNewlines()) {
      items.push(value(strings));
      skipNewlines();
      if (tokens[i]?.text === ",") i++;
      else if (tokens[i]?.text !== "]") fail('expected "," or "]"');
    }
    i++;
    return items;
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (t.kind === "sep") {
      i++;
      continue;
    }
    const op = tokens[i + 1]?.text;
    if (t.kind !== "word" || (op !== "=" && op !== "+=")) fail(`expected a setting such as name = 'test', found "${t.text}"`);
    i += 2;
    const strings: ConfigSetting["strings"] = [];
    const v = value(strings);
    const previous = settings.find((s) => s.key === t.text);
    if (op === "+=" && previous) {
      previous.value = Array.isArray(previous.value) && Array.isArray(v) ? [...previous.value, ...v] : `${String(previous.value)}${String(v)}`;
      previous.strings.push(...strings);
    } else if (previous) Object.assign(previous, { value: v, strings });
    else settings.push({ key: t.text, value: v, strings });
    if (i < tokens.length && tokens[i]!.kind !== "sep") fail(`unexpected "${tokens[i]!.text}" after ${t.text}`);
  }
  return settings;
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split("\n").length;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r" };
function unquote(token: string): string {
  return token.slice(1, -1).replace(/\\(.)/g, (_m, c: string) => ESCAPES[c] ?? c);
}

export interface ParsedDisk {
  drbd?: string;
  phy?: string;
  /** A disk of another kind (file image, iscsi…), kept as written. */
  other?: string;
  vdev: string;
  access: "w" | "r";
}

type TextKey = "name" | "type" | "kernel" | "ramdisk" | "root" | "extra" | "bootloader" | "onCrash";
type NumberKey = "memory" | "maxMemory" | "vcpus" | "maxVcpus";
const TEXT_KEYS: Record<TextKey, string> = { name: "name", type: "type", kernel: "kernel", ramdisk: "ramdisk", root: "root", extra: "extra", bootloader: "bootloader", onCrash: "on_crash" };
const NUMBER_KEYS: Record<NumberKey, string> = { memory: "memory", maxMemory: "maxmem", vcpus: "vcpus", maxVcpus: "maxvcpus" };

export type ParsedDomUConfig = Partial<Record<TextKey, string>> & Partial<Record<NumberKey, number>> & { vifs: Vif[]; disks: ParsedDisk[]; settings: ConfigSetting[] };

/** Reads a config such as the one xen-create-image writes (numbers may be quoted there: `memory = '384'`). */
export function readDomUConfig(text: string): ParsedDomUConfig {
  const settings = parseConfigFile(text);
  const get = (key: string) => settings.find((s) => s.key === key)?.value;
  const list = (key: string) => [get(key) ?? []].flat().filter((x): x is string => typeof x === "string");
  const parsed: ParsedDomUConfig = { vifs: list("vif").map(parseVifSpec), disks: list("disk").map(parseDiskSpec), settings };
  for (const [field, key] of Object.entries(TEXT_KEYS) as [TextKey, string][]) {
    const v = get(key);
    if (typeof v === "string") parsed[field] = v;
  }
  for (const [field, key] of Object.entries(NUMBER_KEYS) as [NumberKey, string][]) {
    const v = get(key);
    if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) parsed[field] = Number(v);
  }
  return parsed;
}

export function parseVifSpec(spec: string): Vif {
  const vif: Vif = {};
  for (const part of spec.split(",")) {
    const [key = "", ...rest] = part.trim().split("=");
    const value = rest.join("=").trim();
    if (key === "mac" || key === "bridge" || key === "ip") vif[key] = value;
  }
  return vif;
}

const DEPRECATED_PREFIXES = new Set(["tapdisk", "tap2", "tap", "aio", "ioemu", "file", "phy", "raw", "qcow", "qcow2", "vhd"]);
const SCRIPT_PREFIXES = new Set(["iscsi", "nbd", "enbd", "drbd"]);

/** Reads both the legacy `[prefix:]target,vdev,access` form and xl's `key=value` form. */
export function parseDiskSpec(spec: string): ParsedDisk {
  const targetAt = spec.search(/(^|,)\s*target=/);
  const head = targetAt < 0 ? spec : spec.slice(0, targetAt);
  const named: Record<string, string> = {};
  const positional: string[] = [];
  for (const part of head.split(",").map((p) => p.trim())) {
    const eq = part.indexOf("=");
    if (eq > 0) named[part.slice(0, eq)] = part.slice(eq + 1);
    else positional.push(part);
  }
  if (targetAt >= 0) positional.unshift(spec.slice(targetAt).replace(/^,?\s*target=/, ""));
  let target = named.target ?? positional[0] ?? "";
  let script = named.script?.replace(/^block-/, "");
  let legacy = false;
  for (let m = /^([a-z0-9]+):/.exec(target); m && (DEPRECATED_PREFIXES.has(m[1]!) || SCRIPT_PREFIXES.has(m[1]!)); m = /^([a-z0-9]+):/.exec(target)) {
    if (SCRIPT_PREFIXES.has(m[1]!)) script = m[1];
    target = target.slice(m[0].length);
    legacy = true;
  }
  const [vdevField = "", accessField = ""] = legacy ? [positional[1], positional[2]] : [positional[2], positional[3]];
  const vdev = (named.vdev ?? vdevField).split(":")[0] ?? "";
  const access = /^r(o)?$/.test(named.access ?? accessField) ? "r" : "w";
  if (script === "drbd") return { drbd: target, vdev, access };
  if (script === undefined && target.startsWith("/dev/")) return { phy: target, vdev, access };
  return { other: spec, vdev, access };
}

/**
 * The seed's edit of a xen-tools config: `phy:/dev/vg/test-disk,xvda2,w` becomes
 * `drbd:test-disk,xvda2,w`; the rest of the file is left as it was.
 */
export function rewriteDisksToDrbd(text: string, resourceFor: (path: string) => string | undefined = volumeResource): string {
  const disk = parseConfigFile(text).find((s) => s.key === "disk");
  let out = text;
  for (const s of [...(disk?.strings ?? [])].sort((a, b) => b.start - a.start)) {
    const parsed = parseDiskSpec(s.value);
    const rewritten = drbdDiskFor(parsed, resourceFor);
    if (rewritten.drbd === undefined || parsed.drbd !== undefined) continue;
    out = `${out.slice(0, s.start)}${str(formatDiskSpec({ drbd: rewritten.drbd, vdev: parsed.vdev, access: parsed.access }))}${out.slice(s.end)}`;
  }
  return out;
}
