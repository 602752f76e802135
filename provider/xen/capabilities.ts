/**
 * What a hypervisor can do, from `xl info` / `xm info`, and what that means for moving a guest
 * between two hosts. Everything here works from values recorded in state, so preview can tell a
 * live migration from a refused one without asking the hosts.
 */
import type { GuestType } from "./schema";

/** The facts about one host's hypervisor that decide how a guest can move. Plain JSON, kept in state. */
export interface HostCapabilities {
  /** "4.17.7", or "3.2.1" from xen_major/minor/extra on old toolstacks. */
  xenVersion: string;
  /** The virt_caps words as printed ("pv hvm hap shadow gnttab-v1 …"); empty when the line is absent. */
  virtCaps: string[];
  /** PV guests can run. Null when the toolstack does not report it (before Xen 4.14 it always could). */
  pv: boolean | null;
  /** HVM and PVH guests can run. */
  hvm: boolean;
  /** Hardware-assisted paging. Null when not reported. */
  hap: boolean | null;
  /** Shadow paging: log-dirty for PV guests, which live migration needs. Null when not reported. */
  shadow: boolean | null;
  /** MiB. */
  totalMemoryMiB: number;
  /** MiB not given to any domain. */
  freeMemoryMiB: number;
  /**
   * dom0's memory is fixed on Xen's command line (`dom0_mem=`), so xl does not balloon dom0 down
   * to make room (its `autoballoon="auto"`): free memory is then all a new guest can have.
   */
  dom0MemoryFixed: boolean;
}

/** Parses `xl info` or `xm info` ("key : value" lines). */
export function parseXenInfo(text: string): HostCapabilities {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\s*:\s?(.*)$/.exec(line.trimEnd());
    if (m) fields.set(m[1]!, m[2]!.trim());
  }
  const version = fields.get("xen_version") ?? `${fields.get("xen_major") ?? "?"}.${fields.get("xen_minor") ?? "?"}${fields.get("xen_extra") ?? ""}`;
  const virtCaps = (fields.get("virt_caps") ?? "").split(/\s+/).filter(Boolean);
  // Xen 4.14 began listing pv, hap and shadow; an older list ("hvm hvm_directio") says nothing about them.
  const reportsPaging = virtCaps.some((c) => c === "pv" || c === "hap" || c === "shadow");
  const hvm = fields.has("virt_caps") ? virtCaps.includes("hvm") : /\bhvm-/.test(fields.get("xen_caps") ?? "");
  return {
    xenVersion: version,
    virtCaps,
    pv: reportsPaging ? virtCaps.includes("pv") : null,
    hvm,
    hap: reportsPaging ? virtCaps.includes("hap") : null,
    shadow: reportsPaging ? virtCaps.includes("shadow") : null,
    totalMemoryMiB: Number(fields.get("total_memory") ?? 0),
    freeMemoryMiB: Number(fields.get("free_memory") ?? 0),
    dom0MemoryFixed: /(^|\s)dom0_mem=/.test(fields.get("xen_commandline") ?? ""),
  };
}

export type MoveKind = "live" | "non-live-needed" | "impossible";

export interface MoveDecision {
  kind: MoveKind;
  /** Why, naming the host and the missing capability; empty for a plain live migration. */
  reason: string;
}

export interface NamedCapabilities {
  host: string;
  capabilities: HostCapabilities;
}

/**
 * How a guest of this type can move between the two hosts. Both directions are judged together, so
 * a guest is never moved where it could not come back from the same way.
 */
export function decideMove(type: GuestType, from: NamedCapabilities, to: NamedCapabilities): MoveDecision {
  const hosts = [from, to];
  if (type === "pvh") {
    const noHvm = hosts.find((h) => !h.capabilities.hvm);
    if (noHvm) {
      return { kind: "impossible", reason: `${noHvm.host} cannot run PVH guests: its hypervisor lists no hvm in virt_caps (the CPU lacks VT-x/AMD-V, or it is switched off)` };
    }
    const noPaging = hosts.find((h) => h.capabilities.hap === false && h.capabilities.shadow === false);
    if (noPaging) return { kind: "non-live-needed", reason: `${noPaging.host} has neither hap nor shadow paging, so it cannot track dirty pages of a PVH guest` };
    return { kind: "live", reason: "" };
  }
  const noPv = hosts.find((h) => h.capabilities.pv === false);
  if (noPv) return { kind: "impossible", reason: `${noPv.host} cannot run PV guests: its hypervisor is built without PV support (virt_caps lists no pv)` };
  const noShadow = hosts.find((h) => h.capabilities.shadow === false);
  if (noShadow) {
    return {
      kind: "non-live-needed",
      reason:
        `${noShadow.host} runs Xen ${noShadow.capabilities.xenVersion} built without shadow paging (virt_caps: ${noShadow.capabilities.virtCaps.join(" ") || "none"}), ` +
        `and PV guests need it for the log-dirty tracking of a live migration: xl migrate would fail with "Failed to enable logdirty". ` +
        `Debian bookworm's security build of Xen 4.17 is such a build. Use a PVH guest, a hypervisor built with shadow paging, or allowNonLiveMove.`,
    };
  }
  return { kind: "live", reason: "" };
}

export type MovePlan = { kind: "live" } | { kind: "non-live"; reason: string } | { kind: "refused"; reason: string };

/** The decision, with the guest's opt-in to a pause applied. */
export function planMove(decision: MoveDecision, allowNonLiveMove: boolean): MovePlan {
  switch (decision.kind) {
    case "live":
      return { kind: "live" };
    case "non-live-needed":
      return allowNonLiveMove
        ? { kind: "non-live", reason: `${decision.reason} Moving by save, copy and restore instead: the guest pauses for about a minute.` }
        : { kind: "refused", reason: `a live migration is impossible: ${decision.reason}` };
    case "impossible":
      return { kind: "refused", reason: decision.reason };
  }
}

/**
 * Refusal to start or move a guest on a host without room for it, or undefined when it fits or
 * when xl may balloon dom0 down to make room (dom0's memory not fixed on Xen's command line).
 */
export function checkTargetMemory(target: NamedCapabilities, guestMemoryMiB: number): string | undefined {
  const free = target.capabilities.freeMemoryMiB;
  return free >= guestMemoryMiB || target.capabilities.dom0MemoryFixed === false ? undefined : `${target.host} has ${free} MiB free for guests, the guest needs ${guestMemoryMiB} MiB: stop another guest there or lower memory`;
}

/** What usually caused a failed `xl migrate`, to add to the error as its hint. */
export function migrationFailureHint(stderr: string): string | undefined {
  if (/Failed to enable logdirty/i.test(stderr)) {
    return "the source hypervisor cannot track dirty pages of this guest (a PV guest on a Xen built without shadow paging); the guest still runs on the source";
  }
  if (/Host key verification failed|Permission denied \(publickey/.test(stderr)) {
    return "root SSH between the dom0s over the crossover link is not set up or its keys changed; apply the migration setup again";
  }
  if (/Connection refused|No route to host|Connection timed out/.test(stderr)) return "the peer is not reachable on the crossover link";
  return undefined;
}
