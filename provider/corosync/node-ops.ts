/**
 * CorosyncCluster's steps on its nodes: connecting, reading, writing the files, starting and
 * stopping the stack, and waiting for the membership the inputs describe.
 */
import { pollUntil } from "../poll";
import { namedHostsOf, type NamedHost } from "../ssh";
import { buildCorosyncProbeScript, buildInstallPackagesScript, buildMaintenanceScript, buildReloadScript, buildRemoveFilesScript, buildRestartQdeviceScript, buildStartStackScript, buildStopStackScript, corosyncPaths, renderCorosyncConf } from "./render";
import type { CorosyncClusterInputs } from "./schema";
import { corosyncDrift, membershipProblems, parseCorosyncProbe, sha256Of, type CorosyncNodeReport } from "./status";

export type StackNode = NamedHost;

export function connectNodes(c: CorosyncClusterInputs, recorded: readonly (string | undefined)[] = []): Promise<StackNode[]> {
  return namedHostsOf(c.nodes, recorded);
}

export async function probe(node: StackNode): Promise<CorosyncNodeReport> {
  return parseCorosyncProbe(await node.host.output(buildCorosyncProbeScript(), { timeoutMs: 60_000 }));
}

export const probeAll = (nodes: readonly StackNode[]) => Promise.all(nodes.map(probe));

/** Nodes whose name is not what `uname -n` says: Pacemaker would not know them by the name given. */
export function nameProblems(c: CorosyncClusterInputs, reports: readonly CorosyncNodeReport[]): string[] {
  return reports.flatMap((r, i) =>
    r.nodeName === c.nodes[i]!.name ? [] : [`nodes[${i}].name: ${c.nodes[i]!.name} is not this node's name (uname -n says ${r.nodeName}); Pacemaker knows a node by uname -n, so give that name or set the host name first (NodeNetwork)`],
  );
}

export interface WriteOutcome {
  confChanged: boolean;
}

/** Installs missing packages and writes what differs: the authkey (0400, over stdin) and corosync.conf. */
export async function installNode(c: CorosyncClusterInputs, node: StackNode, report: CorosyncNodeReport): Promise<WriteOutcome> {
  const missing = ["corosync", "pacemaker", "crmsh", ...(c.arbiter ? ["corosync-qdevice"] : [])].filter((p) => !report.packages[p]);
  if (missing.length > 0) await node.host.exec(buildInstallPackagesScript(c), { timeoutMs: 15 * 60_000, hint: "apt-get needs a package source that has Debian's corosync, pacemaker and crmsh" });
  const key = report.files[corosyncPaths.authkey];
  if (key?.sha256 !== sha256Of(c.authKey) || key.mode !== "0400") await node.host.writeFile(corosyncPaths.authkey, c.authKey, { mode: "0400" });
  const conf = renderCorosyncConf(c);
  const confChanged = report.files[corosyncPaths.conf]?.sha256 !== sha256Of(conf);
  if (confChanged) await node.host.writeFile(corosyncPaths.conf, conf, { mode: "0644" });
  return { confChanged };
}

/** Every node started (and enabled as asked); a running corosync rereads a changed config. */
export async function startAll(c: CorosyncClusterInputs, nodes: readonly StackNode[], reports: readonly CorosyncNodeReport[], changed: { conf: boolean; arbiter: boolean }): Promise<void> {
  const running = nodes.filter((n) => reports[n.index]?.services.corosync?.active === "active");
  if (changed.conf && running.length > 0) await running[0]!.host.exec(buildReloadScript(), { timeoutMs: 60_000, hint: "corosync-cfgtool -R: the journal of corosync says why it refused the new config" });
  if (changed.arbiter && c.arbiter) {
    await Promise.all(running.filter((n) => reports[n.index]?.services["corosync-qdevice"]?.active === "active").map((n) => n.host.exec(buildRestartQdeviceScript())));
  }
  await Promise.all(nodes.map((n) => n.host.exec(buildStartStackScript(c), { timeoutMs: 5 * 60_000 })));
}

/** Waits until every node runs the stack, sees every other one, and is quorate (with the arbiter's vote when there is one). */
export function awaitMembership(c: CorosyncClusterInputs, nodes: readonly StackNode[]): Promise<CorosyncNodeReport[]> {
  return pollUntil(
    () => probeAll(nodes),
    (reports) => membershipProblems(c, reports).length === 0,
    { timeoutMs: c.joinTimeoutSeconds * 1000, intervalMs: 3000, what: "every node to join the Corosync cluster with quorum" },
    (reports) => membershipProblems(c, reports).join("; "),
  );
}

/** Maintenance mode keeps Pacemaker from stopping or moving anything while the stack goes down. */
export async function stopAll(nodes: readonly StackNode[], maintenance: boolean): Promise<void> {
  if (maintenance && nodes.length > 0) {
    await nodes[0]!.host.exec(buildMaintenanceScript(), { timeoutMs: 120_000 });
  }
  await Promise.all(nodes.map((n) => n.host.exec(buildStopStackScript(), { timeoutMs: 10 * 60_000 })));
  await Promise.all(nodes.map((n) => n.host.exec(buildRemoveFilesScript())));
}

export function driftOf(c: CorosyncClusterInputs, reports: readonly (CorosyncNodeReport | undefined)[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  c.nodes.forEach((n, i) => {
    const r = reports[i];
    const d = r ? corosyncDrift(c, r) : ["could not be read"];
    if (d.length > 0) out[n.name] = d;
  });
  return out;
}
