/**
 * Bringing a DRBD resource up on both nodes, for a create or for an update that finishes one cut
 * short: checks that refuse before any write, the files, meta-data where none exists, `up`, then
 * the initial sync as planInitialSync decides it (rules.ts).
 */
import { RefusedError, type InputFailure } from "../errors";
import { pollUntil } from "../poll";
import { progress } from "../progress";
import { adoptionFailures } from "./adoption";
import { buildCreateMetadataScript, buildForcePrimaryCommand, buildNodeSettingsScript, buildSecondaryCommand, buildSkipInitialSyncCommand, buildUpScript } from "./commands";
import { checkPreconditions, installConfig, probeMetadata, probeNode, probeVolumeContent, validateConfig, type DrbdNode } from "./node-ops";
import { adoptionRefusal, existingParts, planInitialSync, planMetadata } from "./rules";
import type { DrbdResourceInputs } from "./schema";
import { describeStatus, type DrbdNodeStatus } from "./status";
import type { NodeProbe } from "./status-probe";

const SYNC_TIMEOUT_MS = 60 * 60_000;
const CONNECT_TIMEOUT_MS = 3 * 60_000;

export async function statuses(r: DrbdResourceInputs, nodes: DrbdNode[]): Promise<Record<string, NodeProbe>> {
  const probes = await Promise.all(nodes.map((n) => probeNode(r, n)));
  return Object.fromEntries(nodes.map((n, i) => [n.spec.hostname, probes[i]!]));
}

export function nodeNamed(nodes: DrbdNode[], hostname: string): DrbdNode {
  const node = nodes.find((n) => n.spec.hostname === hostname);
  if (!node) throw new Error(`no node ${hostname}`);
  return node;
}

/** What taking over the running resource would change that touches data (see adoption.ts). */
export function adoptionProblems(r: DrbdResourceInputs, probes: Record<string, NodeProbe>): InputFailure[] {
  return adoptionFailures(r.name, r.nodes, r.nodes.map((n) => probes[n.hostname]!));
}

/** `created` is set by a create (not by an update that finishes one): what exists then is a take-over. */
export async function bringUp(r: DrbdResourceInputs, nodes: DrbdNode[], done = { touchedHosts: false, created: false, adopted: false }): Promise<void> {
  const probes = await statuses(r, nodes);
  // Sizes and names first: a meta index past the volume's end cannot even be probed for meta-data.
  await Promise.all(nodes.map((n) => checkPreconditions(n, probes[n.spec.hostname]!)));
  const metadata = Object.fromEntries(await Promise.all(nodes.map(async (n) => [n.spec.hostname, await probeMetadata(n)] as const)));
  if (done.created) {
    const parts = existingParts(r, probes, metadata);
    const refusal = adoptionRefusal(r, parts);
    if (refusal) throw new RefusedError(refusal);
    const problems = r.adopt ? adoptionProblems(r, probes) : [];
    if (problems.length > 0) throw new RefusedError(`${r.name} cannot be taken over as it is:\n${problems.map((f) => `  ${f.property}: ${f.reason}`).join("\n")}`);
    done.adopted = parts.length > 0;
  }
  await Promise.all(nodes.map((n) => validateConfig(r, n)));
  const plan = planMetadata(r, metadata);
  if ("refused" in plan) throw new RefusedError(plan.refused);
  // Meta-data that has never been UpToDate is as fresh as meta-data made now (a create cut short).
  const fresh = [...plan.createOn, ...Object.entries(metadata).filter(([, m]) => m.found && m.gi.justCreated).map(([h]) => h)];
  // Skipping the first sync is a decision for a new pair only: meta-data kept anywhere (a take-over) settles the sync itself.
  const newPair = nodes.every((n) => fresh.includes(n.spec.hostname));
  const sourceContent = r.skipInitialSync && newPair ? await probeVolumeContent(nodeNamed(nodes, r.initialSyncSource)) : undefined;
  if (sourceContent) {
    // Ask now what the first sync of a new pair would decide, so a refusal comes before any write.
    const unsynced: DrbdNodeStatus = { connection: "Connected", role: "Secondary", peerRole: "Secondary", disk: "Inconsistent", peerDisk: "Inconsistent" };
    const hostnames = nodes.map((n) => n.spec.hostname);
    const decision = planInitialSync(r, Object.fromEntries(hostnames.map((h) => [h, unsynced])), { metadataCreatedOn: hostnames, sourceContent });
    if (decision.action === "refused") throw new RefusedError(decision.reason);
  }
  done.touchedHosts = true;
  // Each step on both nodes at once; the next step once both are done.
  await Promise.all(nodes.map((n) => installConfig(r, n)));
  await Promise.all(nodes.map((n) => n.host.exec(buildNodeSettingsScript())));
  await Promise.all(nodes.filter((n) => plan.createOn.includes(n.spec.hostname)).map((n) => n.host.exec(buildCreateMetadataScript(r, n.spec))));
  await Promise.all(nodes.filter((n) => !probes[n.spec.hostname]!.up).map((n) => n.host.exec(buildUpScript(r))));

  const context = { metadataCreatedOn: fresh, ...(sourceContent ? { sourceContent } : {}) };
  const decide = (p: Record<string, NodeProbe>) => planInitialSync(r, Object.fromEntries(Object.entries(p).map(([h, s]) => [h, s.status])), context);
  // Poll on the decision itself: disk states seen mid-handshake would decide wrongly.
  const connected = await pollUntil(
    () => statuses(r, nodes),
    (p) => decide(p).action !== "wait",
    { timeoutMs: CONNECT_TIMEOUT_MS, what: `${r.name} to connect over the crossover link` },
    (p) => Object.entries(p).map(([h, s]) => `${h}: ${describeStatus(s.status)}`).join("; "),
  );
  const sync = decide(connected);
  if (sync.action === "refused") throw new RefusedError(sync.reason);
  if (sync.action === "force-primary") {
    const source = nodeNamed(nodes, sync.node);
    progress(`${r.name}: ${sync.node} forced primary; full sync to its peer starts`);
    await source.host.exec(buildForcePrimaryCommand(r));
    // The sync goes on whatever the roles; Xen's block-drbd promotes whichever node starts the DomU.
    await source.host.exec(buildSecondaryCommand(r.name));
  } else if (sync.action === "skip-sync") {
    await nodeNamed(nodes, sync.node).host.exec(buildSkipInitialSyncCommand(r.name));
  }
  if (r.waitForSync) await waitForSync(r, nodes);
}

async function waitForSync(r: DrbdResourceInputs, nodes: DrbdNode[]): Promise<void> {
  let lastLogged = 0;
  await pollUntil(
    () => statuses(r, nodes),
    (p) => {
      if (Date.now() - lastLogged > 15_000) {
        lastLogged = Date.now();
        progress(`${r.name}: ${Object.entries(p).map(([h, s]) => `${h} ${describeStatus(s.status)}`).join("; ")}`);
      }
      return Object.values(p).every((s) => s.status.connection === "Connected" && s.status.disk === "UpToDate" && s.status.peerDisk === "UpToDate");
    },
    { timeoutMs: SYNC_TIMEOUT_MS, intervalMs: 3000, what: `${r.name} to be UpToDate on both nodes` },
    (p) => Object.entries(p).map(([h, s]) => `${h}: ${describeStatus(s.status)}`).join("; "),
  );
}
