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

/**
 * The guest's domain as a host lists it while it goes away: by name, or by its old domid once Xen
 * has dropped the name (a dying domain shows as "(null)" while dom0 still holds its pages).
 */
export function departingDomain(list: readonly DomainEntry[], name: string, domid: number | null): DomainEntry | undefined {
  return list.find((e) => e.domid !== null && (e.name === name || (domid !== null && e.domid === domid)));
}

export type Whereabouts =
  | { where: "nowhere" }
  | { where: "one"; host: string; presence: Exclude<Presence, "absent">; entry: DomainEntry }
  | { where: "several"; hosts: string[] }
  | { where: "unknown"; unreachable: string[] };

/** The host the guest runs on (or is migrating to or from there), or undefined when it runs nowhere. */
export function runningHost(where: Whereabouts): string | undefined {
  return where.where === "one" && (where.presence === "running" || where.presence === "migrating") ? where.host : undefined;
}

/**
 * Where the guest is, given each host's list (undefined for a host that could not be asked).
 * Present on two hosts is reported as it is, never smoothed over: outside a migration it means one
 * disk written by two guests. A migration in flight (its temporary name on one side) is one guest.
 */
export function locateGuest(name: string, lists: Readonly<Record<string, readonly DomainEntry[] | undefined>>): Whereabouts {
  const unreachable = Object.keys(lists).filter((h) => lists[h] === undefined);
  const found = Object.entries(lists).flatMap(([host, list]) => {
    if (!list) return [];
    const p = presenceIn(list, name);
    return p.presence === "absent" || !p.entry ? [] : [{ host, presence: p.presence, entry: p.entry }];
  });
  if (found.length > 1) {
    // A live migration lists the guest on both sides for a moment: its own name (or xl's
    // `--migratedaway`) on the source, `--incoming` on the destination. It counts as one guest,
    // migrating, on the side that still runs it.
    const migration = found.length === 2 && found.some((f) => f.presence === "migrating") && found.every((f) => f.presence === "migrating" || f.presence === "running");
    if (!migration) return { where: "several", hosts: found.map((f) => f.host) };
    const source = found.find((f) => f.presence === "running") ?? found.find((f) => f.entry.name !== `${name}--incoming`) ?? found[0]!;
    return { where: "one", host: source.host, presence: "migrating", entry: source.entry };
  }
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

/** One DRBD resource as `drbdadm role` reports it on a host. */
export interface DrbdRoleReport {
  resource: string;
  /** `Primary`, `Secondary` or `Unknown` (peer only: not connected); undefined when drbdadm gave no role. */
  local?: string;
  peer?: string;
  /** What drbdadm said instead of a role (the resource is not defined, or not up). */
  error?: string;
}

export interface GuestSurvey {
  domains: DomainEntry[];
  capabilities: HostCapabilities;
  /** The config file as it is on the host, or undefined when there is none. */
  configText: string | undefined;
  /** Limits of the running guest (xl only). */
  running: RunningLimits | undefined;
  /** `drbdadm role` of each DRBD resource the guest's disks name. */
  drbd: DrbdRoleReport[];
  /** Bridges the guest's interfaces need, and whether each exists. */
  bridges: Record<string, boolean>;
  /** Whether this dom0 holds the key it migrates guests with (XenMigrationTrust). */
  migrationKey: boolean;
}

/** Reads what `buildGuestSurveyScript` printed. */
export function parseGuestSurvey(text: string, name: string): GuestSurvey {
  const [list = "", info = "", config = "", long = "[]", facts = ""] = text.split(`\n${SURVEY_MARKER}\n`);
  const present = config.startsWith("present\n");
  const drbd: DrbdRoleReport[] = [];
  const bridges: Record<string, boolean> = {};
  let migrationKey = false;
  for (const line of facts.split("\n")) {
    const [kind, subject = "", status = "", ...rest] = line.trim().split(/\s+/);
    if (kind === "drbd") drbd.push(parseDrbdRole(subject, status === "ok", rest.join(" ")));
    else if (kind === "bridge") bridges[subject] = status === "yes";
    else if (kind === "migration-key") migrationKey = subject === "yes";
  }
  return {
    domains: parseDomainList(list),
    capabilities: parseXenInfo(info),
    configText: present ? config.slice("present\n".length) : undefined,
    running: parseLongList(long.trim() || "[]", name),
    drbd,
    bridges,
    migrationKey,
  };
}

/**
 * `Primary/Secondary` (DRBD 8.4: local/peer), the last thing drbdadm prints; anything else is what
 * drbdadm said instead. Its warnings come first on the same output (the survey merges stderr), for
 * example about dopd's permissions while a fence-peer handler is set before Heartbeat has set them.
 */
export function parseDrbdRole(resource: string, ok: boolean, text: string): DrbdRoleReport {
  const m = /(?:^|\s)(Primary|Secondary|Unknown)\/(Primary|Secondary|Unknown)$/.exec(text.trim());
  if (ok && m) return { resource, local: m[1], peer: m[2] };
  return { resource, error: text.trim() || "drbdadm role printed nothing" };
}

/**
 * Why the guest's DRBD disks forbid starting it on this host, or undefined. A peer holding a disk
 * Primary may be running the guest (or something else) on it; a resource that is not up here
 * cannot be promoted by block-drbd.
 */
export function drbdStartBlocker(name: string, host: string, roles: readonly DrbdRoleReport[]): string | undefined {
  const problems: string[] = [];
  for (const r of roles) {
    if (r.error !== undefined) problems.push(`DRBD resource ${r.resource} is not up on ${host} (drbdadm role: ${r.error}); bring it up first`);
    else if (r.peer === "Primary") {
      problems.push(`the peer of ${host} holds DRBD resource ${r.resource} Primary, so ${name} (or something else) may be using it there; stop that first (drbdadm role ${r.resource} on ${host} shows ${r.local}/${r.peer})`);
    }
  }
  return problems.length === 0 ? undefined : problems.join("; ");
}
