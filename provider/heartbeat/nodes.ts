/**
 * HeartbeatCluster's steps on one node or on both: reading them, writing their files, starting
 * and stopping Heartbeat, and waiting until the two see each other.
 */
import { pollUntil } from "../poll";
import { hostOf, type Host } from "../ssh";
import { migrationSshCommand } from "../xen/migration";
import {
  autoLinks,
  buildAutoLinksScript,
  buildDisableStockXendomainsScript,
  buildInstallAndReloadScript,
  buildRemoveAutoLinksScript,
  buildEnableHeartbeatScript,
  buildStartHeartbeatScript,
  buildStopHeartbeatScript,
  heartbeatFiles,
  heartbeatPaths,
  type HeartbeatFile,
} from "./render";
import { buildRemoveBootGateScript, buildSystemdReloadScript } from "./boot-gate";
import { planNodeInstall, type NodeInstallPlan } from "./install-plan";
import { buildDopdPermissionsScript } from "./fencing";
import type { ResourceScriptOptions } from "./resource-script";
import { heartbeatDrift } from "./rules";
import type { HeartbeatClusterInputs, NodeIndex } from "./schema";
import {
  buildHeartbeatProbeScript,
  buildInstalledProbeScript,
  groupPlacement,
  managedPaths,
  parseHeartbeatProbe,
  withInstalled,
  type GroupPlacement,
  type HeartbeatNodeReport,
  type NodeDrift,
} from "./status";

export interface ClusterNode {
  index: NodeIndex;
  name: string;
  host: Host;
}

export type Reports = [HeartbeatNodeReport | undefined, HeartbeatNodeReport | undefined];

/** How the resource scripts reach the peer dom0: the migration SSH set up between the dom0s. */
export function scriptOptions(authKeyIndex: number, release = false): ResourceScriptOptions & { authKeyIndex: number } {
  return { sshCommand: (seconds) => migrationSshCommand(seconds).text, authKeyIndex, ...(release ? { release } : {}) };
}

/** One node, held to its pinned host key or the one recorded in state. */
export async function connectNode(c: HeartbeatClusterInputs, index: NodeIndex, recordedKey?: string): Promise<ClusterNode> {
  const host = await hostOf(c.nodes[index].connection, recordedKey ? { observedHostKey: recordedKey } : {});
  return { index, name: c.nodes[index].name, host };
}

/** Both nodes, each held to its pinned host key or the one recorded in state (`observedHostKeys`). */
export async function connectNodes(c: HeartbeatClusterInputs, recorded: readonly (string | undefined)[] = []): Promise<[ClusterNode, ClusterNode]> {
  return Promise.all([connectNode(c, 0, recorded[0]), connectNode(c, 1, recorded[1])]);
}

export async function probe(c: HeartbeatClusterInputs, node: ClusterNode): Promise<HeartbeatNodeReport> {
  return parseHeartbeatProbe(await node.host.output(buildHeartbeatProbeScript(c), { timeoutMs: 120_000 }));
}

export async function probeBoth(c: HeartbeatClusterInputs, nodes: readonly ClusterNode[]): Promise<[HeartbeatNodeReport, HeartbeatNodeReport]> {
  const [a, b] = await Promise.all(nodes.map((n) => probe(c, n)));
  return [a!, b!];
}

/**
 * Installs files Heartbeat reads at start (ha.cf, authkeys) beside the live ones, then moves them
 * in and has a running Heartbeat reread them. Contents travel over stdin: a secret never reaches
 * a command line, and an ha.cf holding STONITH passwords keeps Heartbeat's answer out of errors.
 */
export async function installAndReload(node: ClusterNode, files: readonly (Pick<HeartbeatFile, "path" | "content" | "mode"> & { secret?: boolean })[]): Promise<void> {
  if (files.length === 0) return;
  const staged = files.map((f) => ({ ...f, staged: f.path.replace(/\/([^/]+)$/, "/.$1.pulumi-new") }));
  for (const f of staged) await node.host.writeFile(f.staged, f.content, { mode: f.mode });
  const quiet = files.some((f) => f.path === heartbeatPaths.haCf && f.secret === true);
  await node.host.exec(buildInstallAndReloadScript(staged.map((f) => ({ staged: f.staged, live: f.path })), { quiet }), {
    hint: "heartbeat -r rereads ha.cf and authkeys; /var/log/ha-debug or the journal says why it refused them",
  });
}


/**
 * Brings one node's files, home links and the stock xendomains to the inputs, from what its last
 * report showed. Files Heartbeat only reads when it acts (haresources at start, the resource
 * scripts at each event) are written in place; ha.cf and authkeys are reloaded.
 */
export async function installNode(c: HeartbeatClusterInputs, node: ClusterNode, report: HeartbeatNodeReport | undefined, authKeyIndex: number): Promise<NodeInstallPlan> {
  const plan = planNodeInstall(c, heartbeatFiles(c, node.index, scriptOptions(authKeyIndex)), autoLinks(c), report);
  for (const f of plan.write) await node.host.writeFile(f.path, f.content, { mode: f.mode });
  await installAndReload(node, plan.reload);
  if (plan.autoLinks) await node.host.exec(buildAutoLinksScript(c));
  if (plan.disableStockXendomains) await node.host.exec(buildDisableStockXendomainsScript(c.toolstack));
  if (plan.dopdPermissions) await node.host.exec(buildDopdPermissionsScript());
  if (plan.bootGate === "remove") await node.host.exec(buildRemoveBootGateScript());
  if (plan.bootGate === "reloadSystemd") await node.host.exec(buildSystemdReloadScript());
  return plan;
}

/**
 * Why a node's Heartbeat must not start yet, or undefined when it may. Heartbeat 3 loses a node
 * that joins while its peer is still taking that node's group over ("T_STARTING received during
 * takeover"): the peer then holds its resources in transition for good and can never stop. So a
 * node whose peer runs Heartbeat starts only once the peer has declared it gone and settled.
 */
export function startBlockedBy(c: HeartbeatClusterInputs, node: NodeIndex, reports: Reports): string | undefined {
  const self = reports[node];
  const peer = reports[node === 0 ? 1 : 0];
  if (self?.heartbeatRunning || !peer?.heartbeatRunning) return undefined;
  const seen = peer.nodeStatus[c.nodes[node].name];
  if (seen === "active" || seen === "up") return `${peer.nodeName} still sees ${c.nodes[node].name} ${seen}`;
  if (peer.resources === "transition" || peer.resources === "unknown") return `${peer.nodeName} holds ${peer.resources}`;
  return undefined;
}

/**
 * Both nodes ran Heartbeat, started it at boot and saw each other before an install that had
 * Heartbeat reread nothing (ha.cf and authkeys unchanged): the membership is as it was read, and
 * only what the install wrote needs reading again.
 */
export function membershipUntouched(c: HeartbeatClusterInputs, before: Reports, plans: readonly NodeInstallPlan[]): boolean {
  const reports = before.filter((r): r is HeartbeatNodeReport => r !== undefined);
  return reports.length === 2 && reports.every(runsAndStartsAtBoot) && converged(c, reports) && plans.every((p) => p.reload.length === 0);
}

/** Reads again, on each node, what an install that left Heartbeat alone changed (`membershipUntouched`). */
export async function probeInstalled(c: HeartbeatClusterInputs, nodes: readonly ClusterNode[], before: Reports): Promise<[HeartbeatNodeReport, HeartbeatNodeReport]> {
  const [a, b] = await Promise.all(nodes.map(async (n) => withInstalled(before[n.index]!, parseHeartbeatProbe(await n.host.output(buildInstalledProbeScript(c), { timeoutMs: 120_000 })))));
  return [a!, b!];
}

/** Heartbeat runs on the node and starts at its next boot: there is nothing to start or enable. */
const runsAndStartsAtBoot = (r: HeartbeatNodeReport | undefined) => r?.heartbeatRunning === true && r.services.heartbeat.enabled === "enabled";

/**
 * Starts Heartbeat where it is not running, both at once where neither runs (each waits initdead
 * for the other), and waits until the two see each other. Enabling it at boot where it is not
 * goes on during that wait: under emulation enabling a SysV service takes seconds on each node.
 * `known`: the nodes as just read; when both run and start at boot, nothing is asked of them.
 */
export async function startAndJoin(c: HeartbeatClusterInputs, nodes: readonly ClusterNode[], known?: Reports): Promise<[HeartbeatNodeReport, HeartbeatNodeReport]> {
  if (known && nodes.every((n) => runsAndStartsAtBoot(known[n.index]))) return awaitMembership(c, nodes);
  const reports = await pollUntil(
    () => probeBoth(c, nodes),
    (reports) => nodes.every((n) => startBlockedBy(c, n.index, reports) === undefined),
    {
      timeoutMs: (c.deadtime + c.startTimeoutSeconds + 120) * 1000,
      intervalMs: 2000,
      what: "the running node to finish taking over the stopped node's group before that node's Heartbeat starts",
    },
    (reports) => nodes.map((n) => startBlockedBy(c, n.index, reports) ?? `${n.name} may start`).join("; "),
  );
  await Promise.all(nodes.filter((n) => !reports[n.index].heartbeatRunning).map((n) => n.host.exec(buildStartHeartbeatScript(), { timeoutMs: 5 * 60_000 })));
  // A node that would not start at boot is enabled, so that its next boot brings it back.
  const enabling = Promise.all(nodes.filter((n) => reports[n.index].services.heartbeat.enabled !== "enabled").map((n) => n.host.exec(buildEnableHeartbeatScript(), { timeoutMs: 5 * 60_000 })));
  const [joined] = await Promise.all([awaitMembership(c, nodes), enabling]);
  return joined;
}

/**
 * Takes Heartbeat off both nodes without moving a guest: the resource scripts are first replaced
 * by released ones (whose start and stop leave the DomUs where they are), so neither the stopping
 * node's stop nor the peer's takeover touches a guest. Then the files and home links go.
 */
export async function releaseAndRemove(c: HeartbeatClusterInputs, nodes: readonly ClusterNode[], authKeyIndex: number): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const scripts = heartbeatFiles(c, n.index, scriptOptions(authKeyIndex, true)).filter((f) => f.mode === "0755");
      for (const f of scripts) await n.host.writeFile(f.path, f.content, { mode: f.mode });
    }),
  );
  // One node at a time: stopping both at once can leave each waiting for a handover to or from
  // the other ("Shutdown delayed until current resource activity finishes") after the other has
  // gone. The one left takes the stopped node's group over (a no-op now) before it stops too.
  const [survivor, first] = [nodes[0]!, nodes[1]!];
  await stopHeartbeat(c, first);
  await pollUntil(
    () => probe(c, survivor),
    (r) => !r.heartbeatRunning || (r.resources !== "transition" && r.resources !== "unknown"),
    { timeoutMs: (c.startTimeoutSeconds + 60) * 1000, intervalMs: 2000, what: `Heartbeat on ${survivor.name} to finish taking over ${first.name}'s group` },
    (r) => `holds ${r.resources}`,
  );
  await stopHeartbeat(c, survivor);
  await Promise.all(
    nodes.map(async (n) => {
      // The drop-in goes with a daemon-reload first: systemd must not keep running a gate that is gone.
      await n.host.exec(buildRemoveBootGateScript());
      await n.host.removeFiles(managedPaths(c));
      await n.host.exec(buildRemoveAutoLinksScript(c));
    }),
  );
}

function stopHeartbeat(c: HeartbeatClusterInputs, node: ClusterNode): Promise<unknown> {
  const seconds = Math.max(c.startTimeoutSeconds, c.shutdownTimeoutSeconds) + 120;
  return node.host.exec(buildStopHeartbeatScript(seconds, c.debugFile), { timeoutMs: (seconds + 60) * 1000 });
}

/** Both nodes run Heartbeat, each sees the other active, and neither is handing a group over. */
export function converged(c: HeartbeatClusterInputs, reports: readonly HeartbeatNodeReport[]): boolean {
  return reports.every(
    (r) => r.heartbeatRunning && r.resources !== "transition" && r.resources !== "unknown" && c.nodes.every((n) => r.nodeStatus[n.name] === "active"),
  );
}

export function describeReports(reports: readonly HeartbeatNodeReport[]): string {
  return reports
    .map((r) => `${r.nodeName}: ${r.heartbeatRunning ? `running, holds ${r.resources}, sees ${Object.entries(r.nodeStatus).map(([n, s]) => `${n} ${s}`).join(", ")}` : "stopped"}`)
    .join("; ");
}

/** Waits until both nodes run Heartbeat and see each other (Heartbeat waits up to initdead for its peer). */
export function awaitMembership(c: HeartbeatClusterInputs, nodes: readonly ClusterNode[]): Promise<[HeartbeatNodeReport, HeartbeatNodeReport]> {
  return pollUntil(
    () => probeBoth(c, nodes),
    (reports) => converged(c, reports),
    { timeoutMs: (c.initdead + c.deadtime + 120) * 1000, intervalMs: 2000, what: "Heartbeat to run on both nodes with each seeing the other active" },
    describeReports,
  );
}

export interface ClusterView {
  groups: GroupPlacement[];
  drift: NodeDrift[];
}

/**
 * What read reports: the group holders, and where each node differs from the inputs. A node
 * without a report could not be read, for the reason given in `unreadable` when there is one.
 */
export function viewOf(c: HeartbeatClusterInputs, reports: Reports, authKeyIndex: number, unreadable: readonly (string | undefined)[] = []): ClusterView {
  const drift = ([0, 1] as const).flatMap((i): NodeDrift[] => {
    const report = reports[i];
    const why = unreadable[i];
    if (!report) return [{ node: c.nodes[i].name, property: "nodes", detail: why ? `could not be read: ${why}` : "could not be read" }];
    return heartbeatDrift(c, i, report, scriptOptions(authKeyIndex)).map((d) => ({ node: c.nodes[i].name, ...d }));
  });
  return { groups: groupPlacement(c, reports), drift };
}
