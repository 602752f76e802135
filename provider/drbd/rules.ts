/**
 * How changes to a DRBD resource are applied, which ones are refused, and the decisions a create
 * takes on the way (where meta-data is made, which node's data wins the first sync).
 */
import { changed, nested, type Classifier, type DiffRules } from "../diff";
import type { InputFailure } from "../errors";
import { isUnknown } from "../inputs";
import { connectionRule } from "../lifecycle";
import { holdsDrift } from "../refreshed-inputs";
import { formatBytes, parseSize } from "../lvm/size";
import { globalSettingsOf, renderGlobalCommon, renderResource } from "./render";
import { parseRateKiB, syncRoles, type DrbdResourceInputs } from "./schema";
import { type MetadataProbe } from "./metadata";
import { isEstablished, type DrbdNodeStatus } from "./status";
import { type VolumeContent } from "./volume-probe";

/**
 * Per node: another host, another `on` name, device, backing disk or meta-data place is another
 * resource. The crossover address and port are not: `drbdadm adjust` on each node drops the link
 * and reconnects on the new endpoint, data and meta-data untouched, and the bitmap covers what
 * was written while the two ends disagreed.
 */
export const nodeRule: Classifier = nested({
  connection: connectionRule,
  hostname: "replace",
  address: "update",
  port: "update",
  device: "replace",
  disk: "replace",
  metaDisk: "replace",
});

/**
 * Nodes are matched by hostname, so listing them in the other order only rewrites the file. A
 * hostname still unknown during preview is compared by position (and shows as a replace).
 */
export const nodesRule: Classifier = (before, after) => {
  if (!Array.isArray(before) || !Array.isArray(after)) return changed(before, after) ? "replace" : undefined;
  if (after.length !== before.length) return "replace";
  const host = (n: unknown) => (n as { hostname?: unknown } | undefined)?.hostname;
  const known = after.every((a) => typeof host(a) === "string" && !isUnknown(host(a)));
  const pairs = after.map((a, i) => [known ? before.find((b) => host(b) === host(a)) : before[i], a] as const);
  if (pairs.some(([b]) => b === undefined)) return "replace";
  const kinds = pairs.map(([b, a]) => nodeRule(b, a));
  if (kinds.includes("replace")) return "replace";
  if (kinds.includes("update")) return "update";
  return after.some((a, i) => host(a) !== host(before[i])) ? "update" : undefined;
};

/** "90M" and 92160 are the same rate. */
const rateRule: Classifier = (before, after) => {
  const a = parseRateKiB(before as string | number);
  const b = parseRateKiB(after as string | number);
  if (a === undefined || b === undefined) return changed(before, after) ? "update" : undefined;
  return a === b ? undefined : "update";
};

/** "5G" and 5368709120 are the same size; growing is an online resize (shrinking is refused in `validateDrbdChange`). */
const sizeRule: Classifier = (before, after) => {
  if (before === undefined && after === undefined) return undefined;
  const a = before === undefined ? undefined : parseSize(before as string | number);
  const b = after === undefined ? undefined : parseSize(after as string | number);
  if (a === undefined || b === undefined) return changed(before, after) ? "update" : undefined;
  return a === b ? undefined : "update";
};

/**
 * Everything else is an option `drbdadm adjust` applies online, or an input only create and
 * delete read (`initialSyncSource`, `skipInitialSync`, `waitForSync`, `wipeMetadataOnDelete`):
 * changing those later records the new value and touches nothing.
 */
export const drbdResourceRules: DiffRules = {
  name: "replace",
  nodes: nodesRule,
  drbdVersion: "update",
  protocol: "update",
  wfcTimeout: "update",
  degrWfcTimeout: "update",
  onIoError: "update",
  allowTwoPrimaries: "update",
  afterSb0pri: "update",
  afterSb1pri: "update",
  timeout: "update",
  connectInt: "update",
  pingInt: "update",
  pingTimeout: "update",
  maxBuffers: "update",
  maxEpochSize: "update",
  resyncRate: rateRule,
  fencing: "update",
  handlers: "update",
  usageCount: "update",
  size: sizeRule,
  initialSyncSource: "update",
  skipInitialSync: "update",
  waitForSync: "update",
  wipeMetadataOnDelete: "update",
  adopt: "update",
  deleteAdopted: "update",
  allowDestructiveReplace: "update",
};

/**
 * What a refresh found on the nodes that differs from the inputs, shown as properties so the
 * preview marks them, and put right by the next up: files edited by hand (`driftedNodes`, rewritten)
 * and options changed in the running kernel (`runtimeDrift`, set back with `drbdadm adjust`).
 */
export const observedDriftRules: DiffRules = {
  driftedNodes: (before) => (holdsDrift(before) ? "update" : undefined),
  runtimeDrift: (before) => (holdsDrift(before) ? "update" : undefined),
};

/** Per hostname, the option changes `drbdadm adjust` would make: only nodes that have any, undefined when none. */
export function runtimeDriftOf(changes: Readonly<Record<string, readonly string[] | undefined>>): Record<string, string[]> | undefined {
  const drifted = Object.entries(changes).filter(([, lines]) => lines !== undefined && lines.length > 0);
  return drifted.length === 0 ? undefined : Object.fromEntries(drifted.map(([h, lines]) => [h, [...lines!]]));
}

/**
 * What of the resource already exists on the nodes before this resource made anything: up in the
 * kernel, an installed file, or meta-data that has been in sync at least once (meta-data that
 * never was holds no data; a create cut short leaves such).
 */
export function existingParts(
  r: Pick<DrbdResourceInputs, "name">,
  probes: Readonly<Record<string, { up: boolean; installedConfig?: string }>>,
  metadata: Readonly<Record<string, MetadataProbe>>,
): string[] {
  const parts: string[] = [];
  for (const [hostname, probe] of Object.entries(probes)) {
    if (probe.up) parts.push(`${r.name} is up on ${hostname}`);
    else if (probe.installedConfig !== undefined) parts.push(`${hostname} has its configuration file`);
  }
  for (const [hostname, meta] of Object.entries(metadata)) {
    if (meta.found && !meta.gi.justCreated) parts.push(`${hostname} has its meta-data (current UUID ${meta.gi.current})`);
  }
  return parts;
}

/** A create over what exists is a take-over, which only `adopt` allows. */
export function adoptionRefusal(r: Pick<DrbdResourceInputs, "name" | "adopt">, parts: readonly string[]): string | undefined {
  if (parts.length === 0 || r.adopt) return undefined;
  return (
    `DRBD resource ${r.name} already exists and this stack did not create it: ${parts.join("; ")}. Nothing was changed. ` +
    `Set adopt: true to take it over keeping its meta-data and data (no create-md, no full sync; it is then left on the nodes when the resource is deleted, unless deleteAdopted: true), ` +
    `or choose another name.`
  );
}

/** Changes refused before preview ends. */
export function validateDrbdChange(olds: DrbdResourceInputs, news: DrbdResourceInputs): InputFailure[] {
  const before = olds.size === undefined ? undefined : parseSize(olds.size);
  const after = news.size === undefined ? undefined : parseSize(news.size);
  if (before !== undefined && after !== undefined && after < before) {
    return [
      {
        property: "size",
        reason: `shrinking ${formatBytes(before)} to ${formatBytes(after)} would cut off the end of the replicated data; DRBD devices only grow here`,
      },
    ];
  }
  return [];
}

/** What an update does on the nodes. */
export interface UpdatePlan {
  /** Write /etc/drbd.d/NAME.res on both nodes (then `adjust`). */
  rewriteResource: boolean;
  /** Write global_common.conf on both nodes (then `adjust`). */
  rewriteGlobal: boolean;
  /** `drbdadm adjust` on both nodes. */
  adjust: boolean;
  /** `drbdadm resize` on one node once both backing volumes have grown. */
  resize: boolean;
}

export function planUpdate(olds: DrbdResourceInputs, news: DrbdResourceInputs): UpdatePlan {
  const rewriteResource = renderResource(olds) !== renderResource(news);
  const rewriteGlobal = renderGlobalCommon(globalSettingsOf(olds)) !== renderGlobalCommon(globalSettingsOf(news));
  const before = olds.size === undefined ? undefined : parseSize(olds.size);
  const after = news.size === undefined ? undefined : parseSize(news.size);
  const resize = before !== undefined && after !== undefined && after > before;
  return { rewriteResource, rewriteGlobal, adjust: rewriteResource || rewriteGlobal, resize };
}

/** Drift a refresh recorded in the state (`driftedNodes`, `runtimeDrift`), as an update reads it from its old properties. */
export interface RecordedDrift {
  driftedNodes?: unknown;
  runtimeDrift?: unknown;
}

/** How an update brings the nodes back to the inputs. */
export interface RepairPlan {
  /** Check and install the files on both nodes. */
  installFiles: boolean;
  /** Hostnames to run `drbdadm adjust` on (where the resource is up). */
  adjustOn: string[];
}

/**
 * A changed or hand-edited file is installed and adjusted on both nodes; with the files as they
 * should be, only the nodes whose running options had left them are adjusted.
 */
export function planRepair(plan: UpdatePlan, hostnames: readonly string[], recorded: RecordedDrift): RepairPlan {
  if (plan.adjust || holdsDrift(recorded.driftedNodes)) return { installFiles: true, adjustOn: [...hostnames] };
  const runtime = recorded.runtimeDrift !== null && typeof recorded.runtimeDrift === "object" ? (recorded.runtimeDrift as Record<string, unknown>) : {};
  return { installFiles: false, adjustOn: hostnames.filter((h) => holdsDrift(runtime[h])) };
}

export type MetadataPlan = { createOn: string[] } | { refused: string };

/**
 * Where create-md runs, from the probe on each node (keyed by hostname). Existing meta-data is
 * always kept. New meta-data on the sync source beside existing meta-data on the peer is
 * refused: DRBD would take the peer's meta-data as the good copy and sync its data over the
 * source's.
 */
export function planMetadata(r: DrbdResourceInputs, probes: Readonly<Record<string, MetadataProbe>>): MetadataPlan {
  const { source, target } = syncRoles(r);
  const found = (hostname: string) => probes[hostname]?.found === true;
  if (!found(source.hostname) && found(target.hostname)) {
    return {
      refused:
        `${target.hostname} already has DRBD meta-data for ${r.name} but ${source.hostname}, the initial sync source, has none: ` +
        `bringing it up would sync ${target.hostname}'s data over ${source.hostname}'s. If ${target.hostname} holds the data, ` +
        `set initialSyncSource to ${target.hostname}; if its meta-data is stale, wipe it deliberately ` +
        `(drbdadm wipe-md ${r.name} on ${target.hostname}) and run again.`,
    };
  }
  return { createOn: r.nodes.filter((n) => !found(n.hostname)).map((n) => n.hostname) };
}

export type InitialSyncPlan =
  | { action: "none"; reason: string }
  | { action: "wait"; reason: string }
  | { action: "force-primary" | "skip-sync"; node: string }
  | { action: "refused"; reason: string };

/**
 * What the first sync needs once both nodes are up, from their status (keyed by hostname). Only a
 * pair that is Inconsistent on both sides needs a decision; anything else DRBD settles itself
 * (in sync already, or resyncing the side whose meta-data is new from the one with data).
 */
export function planInitialSync(
  r: DrbdResourceInputs,
  states: Readonly<Record<string, DrbdNodeStatus>>,
  context: { metadataCreatedOn: readonly string[]; sourceContent?: VolumeContent },
): InitialSyncPlan {
  const { source, target } = syncRoles(r);
  const s = states[source.hostname];
  const t = states[target.hostname];
  if (!s || !t) return { action: "wait", reason: "no status from both nodes yet" };
  if (!isEstablished(s.connection) || !isEstablished(t.connection)) return { action: "wait", reason: `waiting for the nodes to connect (${s.connection}/${t.connection})` };
  if (s.connection !== "Connected" || t.connection !== "Connected" || s.disk !== "Inconsistent" || t.disk !== "Inconsistent") {
    return { action: "none", reason: `DRBD settles it: ${s.connection}/${t.connection} ${s.disk}/${t.disk}` };
  }
  if (!r.skipInitialSync) return { action: "force-primary", node: source.hostname };
  const fresh = r.nodes.every((n) => context.metadataCreatedOn.includes(n.hostname));
  if (!fresh) return { action: "refused", reason: `skipInitialSync needs meta-data created by this run on both nodes; set skipInitialSync to false to sync from ${source.hostname}` };
  if (!context.sourceContent) return { action: "refused", reason: `skipInitialSync needs ${source.disk} on ${source.hostname} checked for data first` };
  if (context.sourceContent.holdsData) {
    const what = context.sourceContent.signature ? `data (blkid finds ${context.sourceContent.signature})` : "data (non-zero bytes in its first MiB)";
    return {
      action: "refused",
      reason: `skipInitialSync is only for new, empty volumes, but ${source.disk} on ${source.hostname} holds ${what}: its data must be synced in full; set skipInitialSync to false`,
    };
  }
  return { action: "skip-sync", node: source.hostname };
}

/** Why a delete must not run now, or undefined. Xen's block-drbd makes a node Primary while a DomU uses the device. */
export function deleteRefusal(r: Pick<DrbdResourceInputs, "name">, states: Readonly<Record<string, DrbdNodeStatus>>): string | undefined {
  const primaries = Object.entries(states).filter(([, s]) => s.role === "Primary").map(([host]) => host);
  if (primaries.length === 0) return undefined;
  return `${r.name} is Primary on ${primaries.join(" and ")}: a DomU or something else is using it. Stop the DomU (or run drbdadm secondary ${r.name}) first, then delete again.`;
}
