/** The status screen as text: plain ASCII, at most 100 columns, like `crm_mon`'s one screen. Pure. */
import { assess, type Assessment, type HeartbeatLine, type NodeLine, type VmLine } from "./assess";
import type { DrbdLine } from "./assess-drbd";
import type { StatusModel } from "./model";

export const SCREEN_WIDTH = 100;
const BAR_CELLS = 20;

export function renderStatus(model: StatusModel, now: Date): string {
  return renderAssessment(model.stack, assess(model), now);
}

export function renderAssessment(stack: string | undefined, a: Assessment, now: Date): string {
  const online = a.nodes.filter((n) => n.online).length;
  const lines = [
    `pulumi-xen-ha status   stack ${stack ?? "?"}   ${formatTime(now)}`,
    "",
    `Nodes: ${online} of ${a.nodes.length} online`,
    ...table(a.nodes.map(nodeRow)),
    "",
    ...section("Guests", a.vms.length === 0 ? undefined : table(a.vms.map(vmRow))),
    "",
    ...section("DRBD", a.drbd.length === 0 ? undefined : a.drbd.flatMap(drbdRows(a.drbd))),
    "",
    ...section("Heartbeat", a.heartbeat === undefined ? undefined : table(a.heartbeat.map(heartbeatRow))),
    "",
    ...(a.attention.length === 0 ? ["Needs a person: nothing"] : [`Needs a person (${a.attention.length})`, ...a.attention.flatMap((item) => wrap(item, "  * ", "    "))]),
  ];
  return `${lines.map(clip).join("\n")}\n`;
}

function section(title: string, body: string[] | undefined): string[] {
  return body === undefined ? [`${title}: none in the stack`] : [title, ...body];
}

function nodeRow(n: NodeLine): string[] {
  if (!n.online) return [n.name, n.refused ? "NOT ASKED" : "UNREACHABLE", n.detail];
  const links = n.links.map((l) => `${l.link} ${l.state === "up" ? "up" : l.state === "cut" ? "CUT" : "?"}`);
  return [n.name, "online", links.length === 0 ? "no peer address to ping" : `links to ${n.peer ?? "peer"}: ${links.join(", ")}`];
}

function whereText(vm: VmLine): string {
  const p = vm.placement;
  switch (p.kind) {
    case "one":
      return p.presence === "running" ? `running on ${p.node}` : p.presence === "crashed" ? `CRASHED on ${p.node}` : p.presence === "migrating" ? `arriving on ${p.node}` : `shutting down on ${p.node}`;
    case "migrating":
      return `migrating ${p.from} -> ${p.to}`;
    case "both":
      return `RUNNING ON BOTH ${p.nodes.join(" AND ")}`;
    case "nowhere":
      return vm.expected === "running" ? "NOT RUNNING" : "stopped";
    case "unknown":
      return `unknown (${p.unreadable.join(", ")} not readable)`;
  }
}

function vmRow(vm: VmLine): string[] {
  return [vm.name, whereText(vm), `home ${vm.home ?? "?"}`, vm.away ? "away from home" : ""];
}

function drbdRows(all: readonly DrbdLine[]): (r: DrbdLine) => string[] {
  const nameWidth = Math.max(...all.map((r) => r.name.length));
  const connWidth = Math.max(...all.map((r) => r.connection.length));
  const nodeWidth = Math.max(...all.flatMap((r) => r.nodes.map((n) => n.node.length + 1 + n.text.length)));
  return (r) => {
    const nodes = r.nodes.map((n) => `${n.node} ${n.text}`.padEnd(nodeWidth)).join("   ");
    const head = `  ${r.name.padEnd(nameWidth)}   ${r.connection.padEnd(connWidth)}   ${nodes}`.trimEnd();
    if (!r.sync) return [head];
    const left = r.sync.secondsLeft === undefined ? "" : `  about ${formatDuration(r.sync.secondsLeft)} left`;
    return [head, `  ${"".padEnd(nameWidth)}   ${progressBar(r.sync.percent)}${left}`];
  };
}

function heartbeatRow(h: HeartbeatLine): string[] {
  return [h.node, h.state, h.holds ? `holds ${h.holds}` : "", h.sees ? `sees ${h.sees}` : ""];
}

/** `[####................] 22.7%` */
export function progressBar(percent: number): string {
  const filled = Math.max(0, Math.min(BAR_CELLS, Math.floor((percent / 100) * BAR_CELLS)));
  return `[${"#".repeat(filled)}${".".repeat(BAR_CELLS - filled)}] ${percent.toFixed(1)}%`;
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

/** `2025-03-01 12:00:05 UTC`: the same on every screen, whatever the viewer's time zone. */
export function formatTime(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Rows as aligned columns, two spaces in, three between columns. */
function table(rows: readonly string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("   ")}`.trimEnd());
}

/** Words onto lines of at most SCREEN_WIDTH columns. */
function wrap(text: string, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/)) {
    const prefix = lines.length === 0 ? first : rest;
    if (line.length > prefix.length && line.length + 1 + word.length > SCREEN_WIDTH) {
      lines.push(line);
      line = rest + word;
    } else {
      line = line.length > prefix.length ? `${line} ${word}` : line + word;
    }
  }
  lines.push(line);
  return lines;
}

/** Keeps a line within the screen, and within ASCII (host output could hold anything). */
function clip(line: string): string {
  const ascii = line.replace(/[^\x20-\x7e]/g, "?");
  return ascii.length <= SCREEN_WIDTH ? ascii : `${ascii.slice(0, SCREEN_WIDTH - 3)}...`;
}
