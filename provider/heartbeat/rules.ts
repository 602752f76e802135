/**
 * HeartbeatCluster's decisions: how input changes are applied, how the shared key is changed
 * without the nodes ever disagreeing, what the nodes must satisfy, and where they drift.
 */
import { createHash } from "node:crypto";
import { changed, type Classifier, type DiffRules } from "../diff";
import type { InputFailure } from "../errors";
import { DOPD_PATH, parameterOrderOf } from "./fencing";
import { heartbeatFiles, autoLinks, renderAuthkeys, type AuthKey, type AuthMethod } from "./render";
import type { ResourceScriptOptions } from "./resource-script";
import type { HeartbeatClusterInputs, NodeIndex } from "./schema";
import type { HeartbeatNodeReport } from "./status";

/**
 * A node renamed is another cluster member, so a replace; a node reached at another address is
 * the same member, so an update.
 */
const nodesRule: Classifier = (before, after) => {
  if (!changed(before, after)) return undefined;
  const olds = Array.isArray(before) ? (before as Record<string, unknown>[]) : [];
  const news = Array.isArray(after) ? (after as Record<string, unknown>[]) : [];
  return olds.length !== news.length || news.some((n, i) => changed(olds[i]?.name, n?.name)) ? "replace" : "update";
};

/**
 * Everything is rewritten in place and reread by `heartbeat -r` (which restarts the daemon in
 * place for ha.cf, keeping its resources, and so also brings STONITH devices and dopd's respawn
 * in or out) except what identifies the cluster's members and groups: renaming a node or a group
 * means stopping Heartbeat under the old names.
 */
export const heartbeatClusterRules: DiffRules = {
  nodes: nodesRule,
  authKey: "update",
  authMethod: "update",
  links: "update",
  publicInterface: "update",
  crossoverInterface: "update",
  logFacility: "update",
  udpPort: "update",
  keepalive: "update",
  deadtime: "update",
  warntime: "update",
  initdead: "update",
  autoFailback: "update",
  watchdog: "update",
  debugFile: "update",
  resourceGroups: "replace",
  domains: "update",
  toolstack: "update",
  migrateOnStop: "update",
  migrationTimeoutSeconds: "update",
  shutdownTimeoutSeconds: "update",
  startTimeoutSeconds: "update",
  peerSshTimeoutSeconds: "update",
  drbdSettleSeconds: "update",
  stonith: "update",
  dopd: "update",
  startAtBoot: "update",
};

/**
 * The authkeys contents to install, in order, to move from the current key to a new one. Each
 * step goes onto both nodes, and both reread it, before the next: first both accept the new key
 * while still signing with the old, then both sign with the new, then the old is dropped. At no
 * point does one node sign with a key the other rejects, which would look like a dead peer after
 * deadtime and start every guest twice.
 */
export function planAuthKeyRotation(current: AuthKey, next: { method: AuthMethod; secret: string }): { steps: string[]; index: number } {
  if (current.method === next.method && current.secret === next.secret) return { steps: [], index: current.index };
  const index = current.index === 1 ? 2 : 1;
  const incoming: AuthKey = { index, ...next };
  return {
    index,
    steps: [renderAuthkeys(current.index, [current, incoming]), renderAuthkeys(index, [current, incoming]), renderAuthkeys(index, [incoming])],
  };
}

export function sha256Of(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Refusals that need the nodes' reports: Heartbeat must recognise each node by its name. */
export function checkNodes(c: HeartbeatClusterInputs, reports: readonly [HeartbeatNodeReport, HeartbeatNodeReport]): InputFailure[] {
  const failures: InputFailure[] = [];
  ([0, 1] as const).forEach((i) => {
    const report = reports[i];
    const node = c.nodes[i];
    if (report.nodeName !== node.name) {
      failures.push({
        property: `nodes[${i}].name`,
        reason:
          `${node.connection.host} answers \`uname -n\` with "${report.nodeName}", not "${node.name}": Heartbeat would not find itself in ha.cf. ` +
          `Set the node's host name (NodeNetwork's hostname) to ${node.name}, or set nodes[${i}].name to ${report.nodeName}.`,
      });
    }
    if (c.watchdog && report.watchdogPresent === false) {
      failures.push({
        property: "watchdog",
        reason: `${node.name} has no ${c.watchdog}: load a watchdog driver there (modprobe softdog, and list it in /etc/modules), or set watchdog to null to run without one.`,
      });
    }
    failures.push(...fencingFailures(c, node.name, report));
    if (report.services.xendomains.active === "active") {
      failures.push({
        property: "domains",
        reason:
          `xendomains.service is active on ${node.name} while DomUs run there; at shutdown it would save or stop them behind Heartbeat's back. ` +
          `Stop it once its DomUs can be stopped or moved (systemctl stop xendomains), then run up again.`,
      });
    }
  });
  return failures;
}

/**
 * What ha.cf's fencing lines need on a node. Heartbeat checks them only when it reads ha.cf: a
 * `heartbeat -r` refused leaves the daemon on the old file while the new one is in place, and the
 * next start fails. So they are checked here, before anything is written.
 */
function fencingFailures(c: HeartbeatClusterInputs, nodeName: string, report: HeartbeatNodeReport): InputFailure[] {
  const failures: InputFailure[] = [];
  const found = report.stonithParameters;
  if (c.stonith && found !== undefined) {
    const type = c.stonith.type;
    const wanted = parameterOrderOf(c.stonith) ?? [];
    if (found.length === 0) {
      failures.push({
        property: "stonith.type",
        reason:
          `${nodeName} has no STONITH plugin ${type} (\`stonith -t ${type} -n\` names no parameters), so Heartbeat would reject ha.cf. ` +
          "Install it there (cluster-glue ships external/ipmi; the lab installs external/xen-ha-lab-switch), or correct stonith.type.",
      });
    } else if (found.join(" ") !== wanted.join(" ")) {
      failures.push({
        property: "stonith.parameterOrder",
        reason:
          `${type} on ${nodeName} takes ${found.join(" ")}, in that order (\`stonith -t ${type} -n\`), but ha.cf would list ${wanted.join(" ")}. ` +
          "Set stonith.parameterOrder to the plugin's order and give each device those parameters.",
      });
    }
  }
  if (c.dopd && report.dopdPresent === false) {
    failures.push({
      property: "dopd",
      reason: `${nodeName} has no ${DOPD_PATH}, so Heartbeat would reject ha.cf's respawn line. Install Debian bookworm's heartbeat package there (it ships dopd at that path), or set dopd to false.`,
    });
  }
  return failures;
}

export interface Drift {
  /** The input whose desired state the node no longer matches. */
  property: string;
  detail: string;
}

/** Where node `node` differs from the inputs. Empty when it matches. */
export function heartbeatDrift(
  c: HeartbeatClusterInputs,
  node: NodeIndex,
  report: HeartbeatNodeReport,
  options: ResourceScriptOptions & { authKeyIndex?: number } = {},
): Drift[] {
  const drift: Drift[] = [];
  for (const f of heartbeatFiles(c, node, options)) {
    const seen = report.files[f.path];
    const property = f.property;
    if (!seen) drift.push({ property, detail: `${f.path} is missing` });
    else if (seen.sha256 !== sha256Of(f.content)) drift.push({ property, detail: `${f.path} differs from the desired content` });
    else if (seen.mode !== f.mode) drift.push({ property, detail: `${f.path} has mode ${seen.mode}, not ${f.mode}` });
  }
  const wanted = autoLinks(c).map((l) => `${l.directory}/${l.name} -> ${l.target}`).sort();
  const found = report.links.map((l) => `${l.directory}/${l.name} -> ${l.target}`).sort();
  if (wanted.join("\n") !== found.join("\n")) drift.push({ property: "domains", detail: `the home links are ${found.join(", ") || "none"}` });
  const hb = report.services.heartbeat;
  if (hb.active !== "active" || hb.enabled !== "enabled") {
    const heldBack = c.startAtBoot === "afterCleanStop" && hb.active !== "active" && hb.enabled === "enabled";
    const why = heldBack ? " (startAtBoot afterCleanStop holds it back after a boot that ended uncleanly: fenced, reset or crashed; up starts it)" : "";
    drift.push({ property: "nodes", detail: `heartbeat.service is ${hb.active || "unknown"} and ${hb.enabled || "not installed"}${why}` });
  }
  if (report.services.xendomains.enabled === "enabled") drift.push({ property: "domains", detail: "xendomains.service is enabled at boot" });
  return drift;
}
