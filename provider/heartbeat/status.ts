/**
 * Reading a Heartbeat node in one round trip (the files' digests, the home links, the services,
 * `cl_status`, and each group's DomUs as its resource script sees them), and deciding from both
 * nodes' reports which node holds which group.
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import { BOOT_GATE_DROP_IN_PATH, BOOT_GATE_PATH } from "./boot-gate";
import { DOPD_FENCE_PEER_PATH } from "./dopd-fence-peer";
import { DOPD_PATH } from "./fencing";
import { buildHoldingProbe, parseResourceHolding, type ResourceHolding } from "./holding";
import { heartbeatPaths, type HomeLink } from "./render";
import { resourceScriptPath } from "./resource-script";
import type { HeartbeatClusterInputs, NodeIndex } from "./schema";

/** Every file HeartbeatCluster manages on a node, in a fixed order. */
export function managedPaths(c: HeartbeatClusterInputs): string[] {
  return [
    heartbeatPaths.authkeys,
    heartbeatPaths.haCf,
    heartbeatPaths.haresources,
    resourceScriptPath(c, 0),
    resourceScriptPath(c, 1),
    ...(c.dopd ? [DOPD_FENCE_PEER_PATH] : []),
    ...(c.startAtBoot === "afterCleanStop" ? [BOOT_GATE_PATH, BOOT_GATE_DROP_IN_PATH] : []),
  ];
}

/** The managed files' digests and modes, and the home links. */
function filesAndLinks(c: HeartbeatClusterInputs): Shell[] {
  return [
    // Two processes for all the files, not three per file: under emulation each costs a tenth of a second.
    sh`printf 'managed\\t%s\\n' ${managedPaths(c)}`,
    sh`sha256sum -- ${managedPaths(c)} 2>/dev/null | sed 's/^\\([0-9a-f]*\\)  /sum\\t\\1\\t/'`,
    sh`stat --printf 'mode\\t%a\\t%n\\n' -- ${managedPaths(c)} 2>/dev/null`,
    sh`for d in ${c.resourceGroups.map((g) => g.autoDirectory)}; do`,
    literal(`  for l in "$d"/*; do if [ -L "$l" ]; then printf 'link\\t%s\\t%s\\t%s\\n' "$d" "\${l##*/}" "$(readlink "$l")"; fi; done`),
    literal("done"),
  ];
}

/** The DomUs running on the node, and each group's DomUs as its resource script lists them. */
function guests(c: HeartbeatClusterInputs): Shell[] {
  const scripts = [resourceScriptPath(c, 0), resourceScriptPath(c, 1)];
  return [
    sh`${c.toolstack} list 2>/dev/null | awk 'NR > 1 && $1 != "Domain-0" { print "running\\t" $1 }'`,
    sh`for s in ${scripts}; do`,
    literal(`  if [ -x "$s" ]; then "$s" list 2>/dev/null | awk -v g="\${s##*/}" '{ print "domain\\t" g "\\t" $0 }'; fi`),
    literal("done"),
  ];
}

/**
 * The probe. authkeys and ha.cf (which holds the STONITH passwords when fencing is configured) are
 * only hashed, never read back: the secrets stay on the node. `cl_status` answers only while
 * Heartbeat runs. What ha.cf is to name (the STONITH plugin's parameters, dopd) is looked up
 * beforehand: Heartbeat refuses an ha.cf that names what is not there.
 */
export function buildHeartbeatProbeScript(c: HeartbeatClusterInputs): Shell {
  return joinLines([
    literal("set -u"),
    literal(`printf 'uname\\t%s\\n' "$(uname -n)"`),
    ...filesAndLinks(c),
    // is-active answers one line per unit, known or not; is-enabled says nothing for an unknown unit, so it asks one at a time.
    literal("set -- $(systemctl is-active heartbeat.service xendomains.service 2>/dev/null || true)"),
    literal(`printf 'service\\theartbeat\\t%s\\t%s\\n' "\${1:-}" "$(systemctl is-enabled heartbeat.service 2>/dev/null || true)"`),
    literal(`printf 'service\\txendomains\\t%s\\t%s\\n' "\${2:-}" "$(systemctl is-enabled xendomains.service 2>/dev/null || true)"`),
    ...(c.watchdog ? [sh`if [ -c ${c.watchdog} ]; then printf 'watchdog\\tpresent\\n'; else printf 'watchdog\\tabsent\\n'; fi`] : []),
    // Heartbeat's master process keeps the watchdog open while it runs; a node whose Heartbeat hangs is then reset.
    ...(c.watchdog
      ? [
          sh`held=no; fds=""; for p in $(pidof heartbeat); do fds="$fds /proc/$p/fd"; done`,
          sh`if [ -n "$fds" ] && [ -n "$(find $fds -maxdepth 1 -lname ${c.watchdog} -print -quit 2>/dev/null)" ]; then held=yes; fi; printf 'watchdogheld\\t%s\\n' "$held"`,
        ]
      : []),
    literal(`boot=""; read -r boot </proc/sys/kernel/random/boot_id 2>/dev/null; printf 'boot\\t%s\\n' "$boot"`),
    ...(c.stonith ? [sh`printf 'stonith\\t%s\\n' "$(stonith -t ${c.stonith.type} -n 2>/dev/null | tr -s ' \\t\\n' ' ')"`] : []),
    ...(c.dopd ? [sh`if [ -x ${DOPD_PATH} ]; then printf 'dopd\\tpresent\\n'; else printf 'dopd\\tabsent\\n'; fi`] : []),
    buildHoldingProbe([
      sh`  for n in ${c.nodes.map((n) => n.name)}; do`,
      literal(`    printf 'node\\t%s\\t%s\\n' "$n" "$(cl_status nodestatus "$n" 2>/dev/null || true)"`),
      literal(`    for i in $(cl_status listhblinks "$n" 2>/dev/null); do printf 'hblink\\t%s\\t%s\\t%s\\n' "$n" "$i" "$(cl_status hblinkstatus "$n" "$i" 2>/dev/null || true)"; done`),
      literal("  done"),
    ]),
    ...guests(c),
  ]);
}

/**
 * What an install that left Heartbeat alone can have changed: the files, the home links and so
 * each group's DomUs. Read after such an install instead of the whole probe.
 */
export function buildInstalledProbeScript(c: HeartbeatClusterInputs): Shell {
  return joinLines([literal("set -u"), ...filesAndLinks(c), ...guests(c)]);
}

/** A node's report from before an install, with what `buildInstalledProbeScript` read after it. */
export function withInstalled(before: HeartbeatNodeReport, after: HeartbeatNodeReport): HeartbeatNodeReport {
  return { ...before, files: after.files, links: after.links, running: after.running, domains: after.domains };
}

export interface HeartbeatNodeReport {
  /** What `uname -n` answers: Heartbeat knows the node by it. */
  nodeName: string;
  /** Managed files by path: sha256 and octal mode, or null when absent. */
  files: Record<string, { sha256: string; mode: string } | null>;
  /** The home links found, as directory, link name and target. */
  links: HomeLink[];
  services: Record<"heartbeat" | "xendomains", { active: string; enabled: string }>;
  /** Whether the watchdog device exists; undefined when no watchdog is configured. */
  watchdogPresent: boolean | undefined;
  /** Whether a Heartbeat process holds the watchdog open; undefined when no watchdog is configured. */
  watchdogHeld: boolean | undefined;
  /** The kernel's boot id: another one means the node restarted (fenced, crashed or rebooted). */
  bootId: string;
  /** The STONITH plugin's parameters as `stonith -t TYPE -n` lists them (none: no such plugin); undefined when no STONITH is configured. */
  stonithParameters: string[] | undefined;
  /** Whether dopd is installed; undefined when dopd is not configured. */
  dopdPresent: boolean | undefined;
  heartbeatRunning: boolean;
  resources: ResourceHolding;
  /** `cl_status nodestatus`: active, up, dead… by node name. */
  nodeStatus: Record<string, string>;
  heartbeatLinks: { node: string; link: string; status: string }[];
  /** Each group's DomUs as the resource script on this node lists them. */
  domains: { group: string; name: string; here: boolean; config: string }[];
  /** Every DomU running on the node, linked or not. */
  running: string[];
}

export function parseHeartbeatProbe(output: string): HeartbeatNodeReport {
  const r: HeartbeatNodeReport = {
    nodeName: "",
    files: {},
    links: [],
    services: { heartbeat: { active: "", enabled: "" }, xendomains: { active: "", enabled: "" } },
    watchdogPresent: undefined,
    watchdogHeld: undefined,
    bootId: "",
    stonithParameters: undefined,
    dopdPresent: undefined,
    heartbeatRunning: false,
    resources: "unknown",
    nodeStatus: {},
    heartbeatLinks: [],
    domains: [],
    running: [],
  };
  const sums = new Map<string, string>();
  const modes = new Map<string, string>();
  for (const line of output.split("\n")) {
    const [tag, a = "", b = "", c = "", d = ""] = line.split("\t");
    switch (tag) {
      case "uname":
        r.nodeName = a;
        break;
      case "file":
        r.files[a] = b ? { sha256: b, mode: c.padStart(4, "0") } : null;
        break;
      case "managed":
        r.files[a] = null;
        break;
      case "sum":
        sums.set(b, a);
        break;
      case "mode":
        modes.set(b, a);
        break;
      case "link":
        r.links.push({ directory: a, name: b, target: c });
        break;
      case "service":
        if (a === "heartbeat" || a === "xendomains") r.services[a] = { active: b, enabled: c };
        break;
      case "watchdog":
        r.watchdogPresent = a === "present";
        break;
      case "watchdogheld":
        r.watchdogHeld = a === "yes";
        break;
      case "boot":
        r.bootId = a.trim();
        break;
      case "stonith":
        r.stonithParameters = a.split(" ").filter((name) => name !== "");
        break;
      case "dopd":
        r.dopdPresent = a === "present";
        break;
      case "heartbeat":
        r.heartbeatRunning = a === "running";
        break;
      case "resources":
        r.resources = parseResourceHolding(a);
        break;
      case "node":
        r.nodeStatus[a] = b.trim();
        break;
      case "hblink":
        r.heartbeatLinks.push({ node: a, link: b, status: c.trim() });
        break;
      case "domain":
        r.domains.push({ group: a, name: b, here: c === "here", config: d });
        break;
      case "running":
        r.running.push(a);
        break;
    }
  }
  for (const [path, sha256] of sums) {
    const mode = modes.get(path);
    if (mode) r.files[path] = { sha256, mode: mode.padStart(4, "0") };
  }
  return r;
}

export interface GroupPlacement {
  group: string;
  homeNode: string;
  /** The nodes whose Heartbeat says they hold the group: none, one, or (split brain) both. */
  heldBy: string[];
  /** Where each of the group's DomUs runs: none, one, or (the case this package exists to prevent) both. */
  domains: { name: string; runsOn: string[] }[];
}

function holds(report: HeartbeatNodeReport | undefined, node: NodeIndex, group: NodeIndex): boolean {
  if (!report?.heartbeatRunning) return false;
  const own = group === node;
  return report.resources === "all" || (own ? report.resources === "local" : report.resources === "foreign");
}

/**
 * Which node holds which group, from both nodes' reports (a node that could not be read is
 * undefined). Heartbeat's view and the DomUs' real places are given side by side.
 */
export function groupPlacement(c: HeartbeatClusterInputs, reports: readonly [HeartbeatNodeReport | undefined, HeartbeatNodeReport | undefined]): GroupPlacement[] {
  return ([0, 1] as const).map((g) => {
    const group = c.resourceGroups[g].name;
    const names = new Set<string>();
    reports.forEach((r) => r?.domains.filter((d) => d.group === group).forEach((d) => names.add(d.name)));
    c.domains.filter((d) => d.home === c.nodes[g].name).forEach((d) => names.add(d.name));
    return {
      group,
      homeNode: c.nodes[g].name,
      heldBy: ([0, 1] as const).filter((n) => holds(reports[n], n, g)).map((n) => c.nodes[n].name),
      domains: [...names].sort().map((name) => ({
        name,
        runsOn: ([0, 1] as const).filter((n) => reports[n]?.running.includes(name)).map((n) => c.nodes[n].name),
      })),
    };
  });
}

/** Something on one node that is not as the package wrote it. */
export interface NodeDrift {
  node: string;
  property: string;
  detail: string;
}
