/** What the nodes' /proc/drbd say about each DRBD resource, and which of it needs a person. Pure. */
import { isEstablished, isSyncing, type ConnectionState, type ProcDrbdDevice } from "../../provider/drbd/status";
import { listing, Rank, surveyOf, type AttentionItem, type StatusModel } from "./model";
import type { ClusterDrbd } from "./state";

export interface DrbdLine {
  name: string;
  /** The connection states the nodes report, `/`-joined when they differ (`SyncSource/SyncTarget`). */
  connection: string;
  /** Per node: `Primary/UpToDate`, or why there is nothing to show (`down`, `not readable`). */
  nodes: { node: string; text: string }[];
  /** A resync under way: percent done and, when DRBD estimates it, seconds left. */
  sync: { percent: number; secondsLeft: number | undefined } | undefined;
}

type NodeDevice =
  | { node: string; kind: "device"; device: ProcDrbdDevice; secondsLeft: number | undefined }
  | { node: string; kind: "unreadable" | "no-module" | "down" | "error"; text: string };

/** States of the handshake that leads into a resync: the disk states are about to change. */
function resyncing(c: ConnectionState): boolean {
  return isSyncing(c) || c.startsWith("StartingSync") || c.startsWith("WFBitMap") || c === "WFSyncUUID";
}

function deviceOn(model: StatusModel, node: ClusterDrbd["nodes"][number]): NodeDevice {
  const survey = surveyOf(model, node.node);
  if (!survey) return { node: node.node, kind: "unreadable", text: "not readable" };
  if (!survey.drbd) return { node: node.node, kind: "no-module", text: "DRBD not loaded" };
  if (!survey.drbd.ok) return { node: node.node, kind: "error", text: survey.drbd.error };
  const device = node.minor === undefined ? undefined : survey.drbd.proc.devices.get(node.minor);
  if (!device || device.connection === "Unconfigured") return { node: node.node, kind: "down", text: `down (no /dev/drbd${node.minor ?? "?"})` };
  return { node: node.node, kind: "device", device, secondsLeft: survey.drbd.finishSeconds[device.minor] };
}

export function drbdLines(model: StatusModel): DrbdLine[] {
  return model.cluster.drbd.map((r) => {
    const views = r.nodes.map((n) => deviceOn(model, n));
    const devices = views.flatMap((v) => (v.kind === "device" ? [v] : []));
    const syncing = devices.find((v) => v.device.syncPercent !== undefined);
    return {
      name: r.name,
      connection: [...new Set(devices.map((v) => v.device.connection))].join("/") || "-",
      nodes: views.map((v) => ({ node: v.node, text: v.kind === "device" ? `${v.device.role}/${v.device.disk}` : v.text })),
      sync: syncing ? { percent: syncing.device.syncPercent!, secondsLeft: devices.map((d) => d.secondsLeft).find((s) => s !== undefined) } : undefined,
    };
  });
}

/** Split brain, a resource not replicating, disks that are not up to date and not catching up. */
export function drbdAttention(model: StatusModel): AttentionItem[] {
  const items: AttentionItem[] = [];
  for (const r of model.cluster.drbd) {
    const issues = new Map<string, string[]>();
    const add = (issue: string, node: string) => issues.set(issue, [...(issues.get(issue) ?? []), node]);
    for (const v of r.nodes.map((n) => deviceOn(model, n))) {
      if (v.kind === "no-module" || v.kind === "down") add("is not up on %s", v.node);
      else if (v.kind === "error") add(`cannot be read on %s: ${v.text}`, v.node);
      if (v.kind !== "device") continue;
      const { connection, disk } = v.device;
      if (connection === "StandAlone") add("is StandAlone on %s: it does not replicate, most likely after a split brain (see dmesg; resolve by hand)", v.node);
      else if (!isEstablished(connection) && !resyncing(connection)) add(`is not connected to its peer on %s (${connection})`, v.node);
      if ((disk === "Inconsistent" || disk === "Outdated") && !resyncing(connection)) add(`has an ${disk} disk on %s and no resync running`, v.node);
      if (disk === "Diskless" || disk === "Failed") add(`has lost its disk on %s (${disk}: detached after an I/O error?)`, v.node);
    }
    for (const [issue, nodes] of issues) items.push({ rank: issue.startsWith("is StandAlone") ? Rank.splitBrain : Rank.drbd, text: `DRBD ${r.name} ${issue.replace("%s", listing(nodes))}` });
  }
  return items;
}
