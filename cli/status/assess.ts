/**
 * From the stack's view and the nodes' answers to what a status screen shows: each node online or
 * not with its links, where each guest runs, Heartbeat's holdings, and the list of what needs a
 * person. Pure.
 */
import { presenceIn, type Presence } from "../../provider/xen/list";
import { drbdAttention, drbdLines, type DrbdLine } from "./assess-drbd";
import { listing, Rank, surveyOf, type AttentionItem, type StatusModel } from "./model";
import type { ClusterVm } from "./state";
import type { LinkName, LinkState } from "./survey";

export interface NodeLine {
  name: string;
  online: boolean;
  /** Not asked at all: the stack gives no way to verify it (no host key, two keys, no connection). */
  refused: boolean;
  /** `online`, or why not: the error's first line, or why the node was not asked. */
  detail: string;
  peer: string | undefined;
  links: { link: LinkName; address: string; state: LinkState }[];
}

export type Placement =
  | { kind: "one"; node: string; presence: Exclude<Presence, "absent"> }
  | { kind: "migrating"; from: string; to: string }
  | { kind: "both"; nodes: string[] }
  | { kind: "nowhere" }
  | { kind: "unknown"; unreadable: string[] };

export interface VmLine {
  name: string;
  placement: Placement;
  home: string | undefined;
  /** The state the stack expects (`running` or `stopped`). */
  expected: string;
  away: boolean;
}

export interface HeartbeatLine {
  node: string;
  /** `running`, `stopped`, `not installed`, `not readable`. */
  state: string;
  /** The groups it holds (`xendomainsHA1`), `nothing`, or `in transition`; empty when not running. */
  holds: string;
  /** How it sees the other node: `ha2 active`. */
  sees: string;
}

export interface Assessment {
  nodes: NodeLine[];
  vms: VmLine[];
  drbd: DrbdLine[];
  heartbeat: HeartbeatLine[] | undefined;
  /** What needs a person, most urgent first; empty when all is well. */
  attention: string[];
}

export function assess(model: StatusModel): Assessment {
  const nodes = nodeLines(model);
  const vms = model.cluster.vms.map((vm) => vmLine(model, vm));
  const heartbeat = heartbeatLines(model);
  const items = [...nodeAttention(model, nodes), ...vmAttention(vms), ...drbdAttention(model), ...heartbeatAttention(model, heartbeat ?? [])];
  // Array.prototype.sort is stable: items of one rank keep the order they were found in.
  const attention = items.sort((a, b) => a.rank - b.rank).map((i) => i.text);
  return { nodes, vms, drbd: drbdLines(model), heartbeat, attention };
}

function nodeLines(model: StatusModel): NodeLine[] {
  return model.cluster.nodes.map((n) => {
    const reading = model.readings[n.name];
    const online = reading?.ok === true;
    const detail = reading === undefined ? "not asked" : reading.ok ? "online" : reading.error.split("\n")[0]!;
    const refused = reading === undefined || (!reading.ok && reading.refused === true);
    return { name: n.name, online, refused, detail, peer: n.peer.name, links: reading?.ok ? reading.survey.links : [] };
  });
}

function nodeAttention(model: StatusModel, lines: readonly NodeLine[]): AttentionItem[] {
  const items: AttentionItem[] = [];
  const add = (rank: number, text: string) => items.push({ rank, text });
  for (const line of lines) {
    if (!line.online) add(Rank.node, line.refused ? `${line.name} was not asked: ${line.detail}` : `${line.name} cannot be reached: ${line.detail}`);
  }
  for (const line of lines) {
    const cut = line.links.filter((l) => l.state === "cut");
    const peerDown = line.peer !== undefined && lines.find((l) => l.name === line.peer)?.online === false;
    if (cut.length > 0 && peerDown && cut.length === line.links.length) {
      add(Rank.link, `${line.name} gets no answer from ${line.peer} on any link: ${line.peer} is down, or its links are cut`);
    } else {
      for (const l of cut) add(Rank.link, `the ${l.link} link is cut: ${line.name} gets no answer from ${line.peer ?? "its peer"} at ${l.address}`);
    }
  }
  for (const n of model.cluster.nodes) {
    const survey = surveyOf(model, n.name);
    if (!survey) continue;
    if (n.hostname !== undefined && survey.nodename !== n.hostname) add(Rank.other, `${n.name} calls itself ${survey.nodename || "nothing"}, but the stack knows it as ${n.hostname}`);
    if (!survey.domains.ok) add(Rank.other, `cannot list the domains on ${n.name}: ${survey.domains.error}`);
  }
  return items;
}

export function placementOf(model: StatusModel, vm: Pick<ClusterVm, "name">): Placement {
  const found: { node: string; presence: Exclude<Presence, "absent">; entryName: string }[] = [];
  const unreadable: string[] = [];
  for (const n of model.cluster.nodes) {
    const domains = surveyOf(model, n.name)?.domains;
    if (!domains?.ok) {
      unreadable.push(n.name);
      continue;
    }
    const p = presenceIn(domains.list, vm.name);
    if (p.presence !== "absent" && p.entry) found.push({ node: n.name, presence: p.presence, entryName: p.entry.name });
  }
  if (found.length === 2 && found.some((f) => f.presence === "migrating")) {
    const to = found.find((f) => f.entryName === `${vm.name}--incoming`) ?? found.find((f) => f.presence === "migrating")!;
    return { kind: "migrating", from: found.find((f) => f !== to)!.node, to: to.node };
  }
  if (found.length > 1) return { kind: "both", nodes: found.map((f) => f.node) };
  if (found.length === 1) return { kind: "one", node: found[0]!.node, presence: found[0]!.presence };
  return unreadable.length > 0 ? { kind: "unknown", unreadable } : { kind: "nowhere" };
}

function vmLine(model: StatusModel, vm: ClusterVm): VmLine {
  const placement = placementOf(model, vm);
  const away = placement.kind === "one" && vm.home !== undefined && placement.node !== vm.home && placement.presence !== "shutting-down";
  return { name: vm.name, placement, home: vm.home, expected: vm.state, away };
}

function vmAttention(vms: readonly VmLine[]): AttentionItem[] {
  const items: AttentionItem[] = [];
  const add = (rank: number, text: string) => items.push({ rank, text });
  for (const vm of vms) {
    const p = vm.placement;
    if (p.kind === "both") add(Rank.twoGuests, `${vm.name} runs on ${listing(p.nodes)} at once: its disks are written from two guests; stop all but one by hand (xl destroy)`);
  }
  for (const vm of vms) {
    const p = vm.placement;
    if (p.kind === "one" && p.presence === "crashed") add(Rank.guest, `${vm.name} has crashed on ${p.node} (kept for diagnosis: xl destroy it to start it again)`);
    if (p.kind === "nowhere" && vm.expected === "running") add(Rank.guest, `${vm.name} runs nowhere, but should run${vm.home ? ` (home ${vm.home})` : ""}`);
    if (vm.away && p.kind === "one") add(Rank.away, `${vm.name} runs on ${p.node}, away from its home ${vm.home}`);
  }
  return items;
}

/** v1 `cl_status rscstatus`: `local` is the node's own group, `foreign` the other node's. */
function heldGroups(resources: string, own: string, other: string | undefined): string[] | undefined {
  switch (resources) {
    case "local":
      return [own];
    case "foreign":
      return other === undefined ? [] : [other];
    case "all":
      return other === undefined ? [own] : [own, other];
    case "none":
      return [];
    default:
      return undefined;
  }
}

function heartbeatLines(model: StatusModel): HeartbeatLine[] | undefined {
  const hb = model.cluster.heartbeat;
  if (!hb) return undefined;
  return hb.nodes.map((n) => {
    const other = hb.nodes.find((o) => o !== n);
    const survey = surveyOf(model, n.node);
    if (!survey) return { node: n.node, state: "not readable", holds: "", sees: "" };
    const view = survey.heartbeat;
    if (view.state !== "running") return { node: n.node, state: view.state === "absent" ? "not installed" : "stopped", holds: "", sees: "" };
    const held = heldGroups(view.resources, n.group, other?.group);
    const groups = held && hb.nodes.map((x) => x.group).filter((g) => held.includes(g));
    const holds = groups === undefined ? (view.resources === "transition" ? "in transition" : "unknown") : groups.length === 0 ? "nothing" : groups.join(" + ");
    const seen = other?.hostname !== undefined ? view.nodeStatus[other.hostname] : undefined;
    return { node: n.node, state: "running", holds, sees: other ? `${other.node} ${seen || "unknown"}` : "" };
  });
}

function heartbeatAttention(model: StatusModel, lines: readonly HeartbeatLine[]): AttentionItem[] {
  const items: AttentionItem[] = [];
  for (const l of lines) if (l.state === "stopped" || l.state === "not installed") items.push({ rank: Rank.heartbeat, text: `Heartbeat is ${l.state === "stopped" ? "not running" : "not installed"} on ${l.node}` });
  for (const n of model.cluster.heartbeat?.nodes ?? []) {
    const bootId = surveyOf(model, n.node)?.bootId;
    if (n.upBootId && bootId && bootId !== n.upBootId) {
      items.push({ rank: Rank.node, text: `${n.node} has restarted since the last up (fenced, reset by its watchdog, crashed or rebooted); find out why before the next up` });
    }
    const holders = lines.filter((l) => l.holds.split(" + ").includes(n.group)).map((l) => l.node);
    if (holders.length > 1) items.push({ rank: Rank.splitBrain, text: `Heartbeat group ${n.group} is held by ${listing(holders)} at once (Heartbeat split brain)` });
  }
  return items;
}
