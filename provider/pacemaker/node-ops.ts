/**
 * PacemakerConfig's steps on the nodes: reading the CIB and crm_mon, loading the owned
 * configuration in one commit, taking removed guests out without stopping them, moving a guest
 * whose home changed, and waiting until every guest runs where the configuration puts it.
 */
import { HostCommandError, HostStateError, isHostCommandError } from "../errors";
import { pollUntil } from "../poll";
import { redact } from "../shell";
import { namedHostsOf, type NamedHost } from "../ssh";
import { parseXml } from "../xml";
import { desiredCib, ownedCib, renderCrm, type CibModel } from "./cib";
import { buildClearMoveScript, buildForgetResourcesScript, buildLoadScript, buildMoveScript, buildNodeAttributesScript, buildPacemakerProbeScript, MIGRATION_SSH_CONFIG_PATH, renderMigrationSshConfig, splitProbe } from "./render";
import type { PacemakerConfigInputs } from "./schema";
import { parseCrmMon, settleProblems, type PacemakerStatus } from "./status";

export type PacemakerNode = NamedHost;

export interface ClusterRead {
  node: PacemakerNode;
  found: CibModel;
  status: PacemakerStatus;
}

export function connectNodes(c: PacemakerConfigInputs, recorded: readonly (string | undefined)[] = []): Promise<PacemakerNode[]> {
  return namedHostsOf(c.nodes, recorded);
}

/** Reads the CIB and crm_mon on the first node whose Pacemaker runs in the partition with quorum (else the first that runs). */
export async function readCluster(c: PacemakerConfigInputs, nodes: readonly PacemakerNode[]): Promise<ClusterRead | undefined> {
  let fallback: ClusterRead | undefined;
  for (const node of nodes) {
    const sections = splitProbe(await node.host.output(buildPacemakerProbeScript(), { timeoutMs: 120_000 }));
    if (!sections.running) continue;
    const read = { node, found: ownedCib(parseXml(sections.cib), desiredCib(c)), status: parseCrmMon(sections.status) };
    if (read.status.quorate) return read;
    fallback ??= read;
  }
  return fallback;
}

/**
 * Waits until Pacemaker runs with an elected DC in a partition with quorum: right after the stack
 * starts it has neither, and the CIB takes no configuration from a partition without quorum's say.
 */
export async function awaitQuorateCluster(c: PacemakerConfigInputs, nodes: readonly PacemakerNode[], timeoutMs = 300_000): Promise<ClusterRead> {
  const read = await pollUntil(
    () => readCluster(c, nodes),
    (r) => r !== undefined && r.status.dc !== undefined && r.status.quorate,
    { timeoutMs, intervalMs: 3000, what: "Pacemaker to elect a DC in a partition with quorum" },
    (r) => (r ? `DC ${r.status.dc ?? "none"}, ${r.status.quorate ? "quorate" : "no quorum"} (read on ${r.node.name})` : "Pacemaker does not run on any node"),
  );
  return read!;
}

/** The fence devices' parameter values, kept out of anything the package prints. */
export function secretsOf(c: PacemakerConfigInputs): string[] {
  return (c.fencing ?? []).flatMap((d) => Object.values(d.parameters)).filter((v) => v.length >= 4);
}

/** Writes the migration ssh config on every node where it differs. */
export async function installMigrationSshConfig(c: PacemakerConfigInputs, nodes: readonly PacemakerNode[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.host.writeFile(MIGRATION_SSH_CONFIG_PATH, renderMigrationSshConfig(c, n.name), { mode: "0644" })));
}

/** Loads the owned configuration in one commit; crm's complaints come back with the fence passwords masked. */
export async function loadConfiguration(c: PacemakerConfigInputs, node: PacemakerNode): Promise<void> {
  const staged = `/run/pulumi-xen-ha-crm-${process.pid}-${Date.now()}.txt`;
  await node.host.writeFile(staged, renderCrm(desiredCib(c)), { mode: "0600" });
  try {
    await node.host.exec(buildLoadScript(staged), { timeoutMs: 5 * 60_000, hint: "crm configure load update refused the configuration: crm configure verify says why" });
  } catch (err) {
    if (!isHostCommandError(err)) throw err;
    const secrets = secretsOf(c);
    throw new HostCommandError({ host: err.host, command: err.command, exitCode: err.exitCode, signal: err.signal, stdout: redact(err.stdout, secrets), stderr: redact(err.stderr, secrets), hint: err.hint });
  }
  await node.host.exec(buildNodeAttributesScript(c), { timeoutMs: 120_000 });
}

export async function forgetResources(node: PacemakerNode, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await node.host.exec(buildForgetResourcesScript(ids), { timeoutMs: 5 * 60_000 });
}

/** Waits until the cluster runs as the inputs say (`settleProblems`); `moved` guests must reach their home. */
export async function awaitSettled(c: PacemakerConfigInputs, nodes: readonly PacemakerNode[], moved: ReadonlySet<string> = new Set()): Promise<ClusterRead> {
  const problems = (r: ClusterRead | undefined) => (r ? settleProblems(c, r.status, moved) : ["Pacemaker does not run on any node"]);
  const read = await pollUntil(
    () => readCluster(c, nodes),
    (r) => problems(r).length === 0,
    { timeoutMs: c.settleTimeoutSeconds * 1000, intervalMs: 3000, what: "Pacemaker to run every guest where the configuration puts it" },
    (r) => problems(r).join("; "),
  );
  return read!;
}

/**
 * Moves each guest whose home changed and that runs elsewhere: `crm resource move`, wait until it
 * runs at its new home, then `crm resource clear`, so the move leaves no constraint behind.
 */
export async function moveGuests(c: PacemakerConfigInputs, nodes: readonly PacemakerNode[], node: PacemakerNode, moved: readonly string[]): Promise<void> {
  for (const name of moved) {
    const guest = c.guests.find((g) => g.name === name)!;
    try {
      await node.host.exec(buildMoveScript(name, guest.home), { timeoutMs: 120_000 });
      await awaitSettled({ ...c, guests: [guest] }, nodes, new Set([name]));
    } finally {
      await node.host.exec(buildClearMoveScript(name), { timeoutMs: 120_000 });
    }
  }
}

export function notRunningError(c: PacemakerConfigInputs): HostStateError {
  return new HostStateError(
    `Pacemaker does not run on any of ${c.nodes.map((n) => n.name).join(", ")}: nothing was changed. Start the cluster stack first (CorosyncCluster, or systemctl start corosync pacemaker on every node).`,
  );
}
