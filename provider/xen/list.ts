/**
 * Where a guest runs: `xl list` / `xm list` tables, `xl list -l` JSON, and the view over both
 * hosts that refresh and every start rely on.
 */
import { parseXenInfo, type HostCapabilities } from "./capabilities";

export const SURVEY_MARKER = "--8<--";

export interface DomainState {
  running: boolean;
  blocked: boolean;
  paused: boolean;
  shutdown: boolean;
  crashed: boolean;
  dying: boolean;
}

export interface DomainEntry {
  name: string;
  /** Null for a domain xend knows but does not run (xm's inactive managed domains). */
  domid: number | null;
  /** MiB. */
  memoryMiB: number;
  vcpus: number;
  /** The six state letters as printed, such as "-b----"; empty when not running. */
  stateLetters: string;
  state: DomainState;
  /** CPU time; it restarts on the target of every migration, so it says nothing about uptime. */
  cpuSeconds: number;
}

const ROW = /^(.+?)\s+(?:(\d+)\s+)?(\d+)\s+(\d+)\s+(?:([-a-zA-Z]{6})\s+)?(\d+(?:\.\d+)?)\s*$/;

/**
 * Parses the table of `xl list` or `xm list`. xl prints the fifth state letter as the shutdown
 * reason (`c` for a crash); xm prints `c` there for a crashed domain too.
 */
export function parseDomainList(text: string): DomainEntry[] {
  const entries: DomainEntry[] = [];
  for (const line of text.split("\n")) {
    if (/^Name\s+ID\s+Mem/.test(line) || line.trim() === "") continue;
    const m = ROW.exec(line.replace(/\t/g, " "));
    if (!m) throw new Error(`cannot read this line of the domain list: ${JSON.stringify(line)}`);
    const letters = m[5] ?? "";
    entries.push({
      name: m[1]!.trim(),
      domid: m[2] === undefined ? null : Number(m[2]),
      memoryMiB: Number(m[3]),
      vcpus: Number(m[4]),
      stateLetters: letters,
      state: {
        running: letters[0] === "r",
        blocked: letters[1] === "b",
        paused: letters[2] === "p",
        shutdown: letters[3] === "s",
        crashed: letters[4] === "c",
        dying: letters[5] === "d",
      },
      cpuSeconds: Number(m[6]),
    });
  }
  return entries;
}

/** Names a guest carries while it migrates: xl's on both sides, xm's on the source. */
export function migrationNames(name: string): string[] {
  return [`${name}--incoming`, `${name}--migratedaway`, `migrating-${name}`];
}

export type Presence = "running" | "crashed" | "shutting-down" | "migrating" | "absent";

/** What one host's list says about the guest. A crashed domain kept by on_crash=preserve still holds its disks. */
export function presenceIn(list: readonly DomainEntry[], name: string): { presence: Presence; entry?: DomainEntry } {
  const entry = list.find((e) => e.name === name && e.domid !== null);
  if (entry) {
    if (entry.state.crashed) return { presence: "crashed", entry };
    if (entry.state.dying || entry.state.shutdown) return { presence: "shutting-down", entry };
    return { presence: "running", entry };
  }
  const moving = list.find((e) => migrationNames(name).includes(e.name) && e.domid !== null);
  return moving ? { presence: "migrating", entry: moving } : { presence: "absent" };
}

export type Whereabouts =
  | { where: "nowhere" }
  | { where: "one"; host: string; presence: Exclude<Presence, "absent">; entry: DomainEntry }
  | { where: "several"; hosts: string[] }
  | { where: "unknown"; unreachable: string[] };

/**
 * Where the guest is, given each host's list (undefined for a host that could not be asked).
 * Present on two hosts is reported as it is, never smoothed over: outside a migration it means one
 * disk written by two guests.
 */
export function locateGuest(name: string, lists: Readonly<Record<string, readonly DomainEntry[] | undefined>>): Whereabouts {
  const unreachable = Object.keys(lists).filter((h) => lists[h] === undefined);
  const found = Object.entries(lists).flatMap(([host, list]) => {
    if (!list) return [];
    const p = presenceIn(list, name);
    return p.presence === "absent" || !p.entry ? [] : [{ host, presence: p.presence, entry: p.entry }];
  });
  if (found.length > 1) return { where: "several", hosts: found.map((f) => f.host) };
  if (found.length === 1) return { where: "one", ...found[0]! };
  return unreachable.length > 0 ? { where: "unknown", unreachable } : { where: "nowhere" };
}

/** The limits a running guest was started with, which bound what mem-set and vcpu-set can reach. */
export interface RunningLimits {
  domid: number;
  maxMemoryMiB: number;
  maxVcpus: number;
  type?: string;
}

/** Parses `xl list -l NAME` (a JSON array of `{ domid, config }`); undefined when the name is not in it. */
export function parseLongList(json: string, name: string): RunningLimits | undefined {
  const parsed = JSON.parse(json) as unknown;
  if (!Array.isArray(parsed)) throw new Error("xl list -l printed something other than a JSON array");
  for (const item of parsed as { domid?: number; config?: { c_info?: { name?: string; type?: string }; b_info?: { max_memkb?: number; max_vcpus?: number } } }[]) {
    if (item.config?.c_info?.name !== name || typeof item.domid !== "number") continue;
    const b = item.config.b_info ?? {};
    return {
      domid: item.domid,
      maxMemoryMiB: Math.floor((b.max_memkb ?? 0) / 1024),
      maxVcpus: b.max_vcpus ?? 0,
      type: item.config.c_info.type,
    };
  }
  return undefined;
}

/**
 * Why the guest must not be started on `host`, or undefined. A guest listed anywhere else (or on a
 * host that could not be asked) is never started: one guest on both hosts writes its DRBD disk from
 * two sides, which allow-two-primaries lets through.
 */
export function startBlocker(name: string, host: string, where: Whereabouts): string | undefined {
  switch (where.where) {
    case "nowhere":
      return undefined;
    case "one":
      if (where.host === host) return undefined;
      return `${name} is ${where.presence} on ${where.host} (domid ${where.entry.domid ?? "?"}); starting it on ${host} too would write its disks from two guests at once. Stop it there first, or set runOn to ${where.host}.`;
    case "several":
      return `${name} is listed on ${where.hosts.join(" and ")}: one guest on two hosts writes its disks from both sides. Stop all but one by hand (xl destroy on the host that should not run it), check the disk, then run pulumi refresh.`;
    case "unknown":
      return `cannot tell whether ${name} runs on ${where.unreachable.join(", ")}, which did not answer; it is not started while it might run there.`;
  }
}

export interface GuestSurvey {
  domains: DomainEntry[];
  capabilities: HostCapabilities;
  /** The config file as it is on the host, or undefined when there is none. */
  configText: string | undefined;
  /** Limits of the running guest (xl only). */
  running: RunningLimits | undefined;
}

/** Reads what `buildGuestSurveyScript` printed. */
export function parseGuestSurvey(text: string, name: string): GuestSurvey {
  const [list = "", info = "", config = "", long = "[]"] = text.split(`\n${SURVEY_MARKER}\n`);
  const present = config.startsWith("present\n");
  return {
    domains: parseDomainList(list),
    capabilities: parseXenInfo(info),
    configText: present ? config.slice("present\n".length) : undefined,
    running: parseLongList(long, name),
  };
}
