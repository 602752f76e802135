/** The component's checks of its cluster manager: the chosen one's settings, and Heartbeat's STONITH devices by host name. */
import type { InputFailure } from "../provider/errors";
import { stonithNodeProblems } from "../provider/heartbeat/fencing";
import { stonithSchema } from "../provider/heartbeat/schema";
import { formatPath } from "../provider/inputs";
import { isKnown, knownParts } from "./known-parts";
import type { TwoNodeXenHaArgs } from "./types";

/** The manager chosen needs its settings, and Pacemaker needs fencing unless the program opts out. */
export function managerFailures(args: TwoNodeXenHaArgs): InputFailure[] {
  if (args.clusterManager === "pacemaker") {
    if (!args.pacemaker) return [{ property: "pacemaker", reason: 'is required with clusterManager: "pacemaker": at least pacemaker.authKey (Corosync\'s key) and pacemaker.fencing' }];
    if (!args.pacemaker.fencing && args.pacemaker.allowNoFencing !== true) {
      return [{
        property: "pacemaker.fencing",
        reason: "is required: without fencing a node that loses sight of its peer may start guests the peer still runs, on the same DRBD disks. " +
          "Give one device per node (fence_ipmilan for a BMC, fence_xen_ha_lab in the lab), or set pacemaker.allowNoFencing: true to run with stonith-enabled=false knowingly",
      }];
    }
    return [];
  }
  return args.heartbeat ? [] : [{ property: "heartbeat", reason: 'is required with the default clusterManager ("heartbeat"): at least heartbeat.authKey' }];
}

/** HeartbeatCluster's check that each STONITH device names the node it powers, by the component's host names. */
export function stonithFailures(args: TwoNodeXenHaArgs): InputFailure[] {
  const hostnames = (Array.isArray(args.nodes) ? args.nodes : []).map((n) => n?.hostname);
  const stonith = stonithSchema.safeParse(knownParts(args.heartbeat?.stonith));
  const [a, b] = hostnames;
  if (!stonith.success || !isKnown(a) || !isKnown(b)) return [];
  return stonithNodeProblems(stonith.data, [String(a), String(b)]).map((p) => ({ property: formatPath(["heartbeat", "stonith", ...p.path]), reason: p.message }));
}
