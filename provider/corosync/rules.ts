/** How CorosyncCluster's inputs change: what a reload applies, and what no running cluster may change. Pure. */
import type { DiffRules } from "../diff";
import type { InputFailure } from "../errors";
import type { CorosyncClusterInputs } from "./schema";

export const corosyncClusterRules: DiffRules = {
  clusterName: "update",
  // Addresses and nodes are reloaded; a new connection to the same node is bookkeeping.
  nodes: "update",
  authKey: "update",
  arbiter: "update",
  tokenMs: "update",
  startAtBoot: "update",
  joinTimeoutSeconds: "update",
};

/**
 * Changes a reload cannot apply: corosync reads the cluster name, the key and its links only when
 * it starts, and a restart takes Pacemaker (and every guest it runs) down with it. Refused in
 * preview, with the way to do it by hand.
 */
export function restartOnlyChanges(before: CorosyncClusterInputs, after: CorosyncClusterInputs): InputFailure[] {
  const failures: InputFailure[] = [];
  const how =
    "corosync reads it only when it starts, and restarting corosync stops Pacemaker and every guest it runs. Nothing was changed. " +
    "To change it: crm configure property maintenance-mode=true, then on every node systemctl stop pacemaker corosync, change it here and run up, " +
    "then crm configure property maintenance-mode=false; or keep the old value.";
  if (before.clusterName !== after.clusterName) failures.push({ property: "clusterName", reason: `changing the cluster name: ${how}` });
  if (before.authKey !== after.authKey) failures.push({ property: "authKey", reason: `changing the authkey: ${how}` });
  if (before.nodes[0]!.addresses.length !== after.nodes[0]!.addresses.length) failures.push({ property: "nodes", reason: `changing the number of knet links: ${how}` });
  return failures;
}
