/**
 * Pacemaker's view of the cluster from `crm_mon --output-as=xml`: quorum, the nodes, where each
 * resource runs, and the fencing history; and whether the guests run where the inputs put them.
 * Pure.
 */
import { child, findAll, parseXml } from "../xml";
import { fenceId } from "./cib";
import type { PacemakerConfigInputs } from "./schema";

export interface ClusterNodeState {
  name: string;
  online: boolean;
  unclean: boolean;
  standby: boolean;
}

export interface ResourceState {
  id: string;
  agent: string;
  role: string;
  failed: boolean;
  managed: boolean;
  /** Node names it is active on: two means it runs twice. */
  runningOn: string[];
}

export interface FenceEvent {
  target: string;
  action: string;
  status: string;
  origin: string;
  completed: string;
}

export interface PacemakerStatus {
  quorate: boolean;
  dc: string | undefined;
  nodes: ClusterNodeState[];
  resources: ResourceState[];
  fenceHistory: FenceEvent[];
}

const yes = (v: string | undefined) => v === "true";

export function parseCrmMon(xml: string): PacemakerStatus {
  const doc = parseXml(xml);
  const summary = child(doc, "summary");
  const dc = summary && child(summary, "current_dc");
  const nodes = (child(doc, "nodes")?.children ?? [])
    .filter((n) => n.name === "node")
    .map((n) => ({ name: n.attributes.name ?? "", online: yes(n.attributes.online), unclean: yes(n.attributes.unclean), standby: yes(n.attributes.standby) }));
  const resources = findAll(child(doc, "resources") ?? doc, "resource").map((r) => ({
    id: r.attributes.id ?? "",
    agent: r.attributes.resource_agent ?? "",
    role: r.attributes.role ?? "",
    failed: yes(r.attributes.failed),
    managed: r.attributes.managed !== "false",
    runningOn: r.children.filter((c) => c.name === "node").map((c) => c.attributes.name ?? ""),
  }));
  const fenceHistory = findAll(child(doc, "fence_history") ?? { name: "", attributes: {}, children: [] }, "fence_event").map((e) => ({
    target: e.attributes.target ?? "",
    action: e.attributes.action ?? "",
    status: e.attributes.status ?? "",
    origin: e.attributes.delegate ?? e.attributes.origin ?? "",
    completed: e.attributes.completed ?? "",
  }));
  return { quorate: yes(dc?.attributes.with_quorum), dc: dc?.attributes.name, nodes, resources, fenceHistory };
}

/** Where each guest runs, by name (undefined: nowhere). */
export function placementOf(status: PacemakerStatus, guests: readonly string[]): Record<string, string[]> {
  return Object.fromEntries(guests.map((g) => [g, status.resources.find((r) => r.id === g)?.runningOn ?? []]));
}

/**
 * Why the cluster does not yet run as the inputs say; empty once it does: quorate, every node
 * online, the fence devices started, each running guest on its home (or, with its home offline,
 * on one node) and each stopped guest nowhere. With `autoFailback` off a guest may stay where it
 * runs, except the `moved` ones (their home changed in this up).
 */
export function settleProblems(c: PacemakerConfigInputs, s: PacemakerStatus, moved: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  if (!s.quorate) problems.push("the cluster has no quorum");
  const online = new Set(s.nodes.filter((n) => n.online && !n.unclean).map((n) => n.name));
  for (const n of c.nodes) if (!online.has(n.name)) problems.push(`${n.name} is not online`);
  for (const d of c.fencing ?? []) {
    const r = s.resources.find((x) => x.id === fenceId(d.node));
    if (!r || r.runningOn.length === 0) problems.push(`fence device ${fenceId(d.node)} is not started`);
    else if (r.failed) problems.push(`fence device ${fenceId(d.node)} failed (crm_mon shows why)`);
  }
  for (const g of c.guests) {
    const r = s.resources.find((x) => x.id === g.name);
    const on = r?.runningOn ?? [];
    if (on.length > 1) problems.push(`${g.name} is active on ${on.join(" and ")}`);
    if (r?.failed) problems.push(`${g.name} failed (crm_mon shows why; crm resource cleanup ${g.name} once fixed)`);
    if (g.state === "stopped") {
      if (on.length > 0) problems.push(`${g.name} still runs on ${on.join(", ")}`);
      continue;
    }
    const homeOnline = online.has(g.home);
    if (on.length === 0) problems.push(`${g.name} is not running`);
    else if (homeOnline && on[0] !== g.home && (c.autoFailback || moved.has(g.name))) problems.push(`${g.name} runs on ${on[0]}, not on its home ${g.home}`);
  }
  return problems;
}

/**
 * A resource Pacemaker shows started on more than one node: the one thing that must never happen.
 * A live migration lists both nodes too, while the resource is on its way (`Stopping` on the
 * source once `migrate_to` is done): that is not counted.
 */
export function runningTwice(s: PacemakerStatus): string[] {
  return s.resources.filter((r) => r.runningOn.length > 1 && r.role === "Started").map((r) => `${r.id} on ${r.runningOn.join(" and ")}`);
}

/** Summary per guest for the outputs. */
export function guestPlacement(c: PacemakerConfigInputs, s: PacemakerStatus): { name: string; home: string; runningOn: string[] }[] {
  return c.guests.map((g) => ({ name: g.name, home: g.home, runningOn: s.resources.find((r) => r.id === g.name)?.runningOn ?? [] }));
}
