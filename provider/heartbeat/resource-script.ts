/**
 * The per-node Heartbeat v1 resource scripts (the seed's xendomainsHA1 and xendomainsHA2): what the
 * seed's copies of xendomains intended, on the installed toolstack, and safer. Rendered from typed
 * inputs; every value enters the script through `quote`.
 */
import { quote } from "../shell";
import { shellFileBody } from "../shell-file";
import { crossoverNameOf, peerOf, type HeartbeatClusterInputs, type NodeIndex } from "./schema";

export const resourceDirectory = "/etc/ha.d/resource.d";

export function resourceScriptPath(c: HeartbeatClusterInputs, group: NodeIndex): string {
  return `${resourceDirectory}/${c.resourceGroups[group].name}`;
}

/** A live peer accepts at once; a migration is worth waiting longer for than a check. */
const MIGRATION_CONNECT_TIMEOUT_SECONDS = 15;

export interface ResourceScriptOptions {
  /**
   * The ssh command the script reaches the peer dom0 with, given the seconds it may wait to
   * connect: with the peer SSH timeout for its checks, with 15 s for `xl migrate -s`.
   * Default: plain ssh, no prompts.
   */
  sshCommand?: (connectTimeoutSeconds: number) => string;
  /**
   * Write the script that releases the guests from Heartbeat: its stop leaves them running where
   * they are, so Heartbeat can be stopped (to remove or rebuild the cluster) without moving them.
   */
  release?: boolean;
}

/**
 * The resource script of group `group` as installed on node `node` (the peer is the other node).
 * The same group's script differs between the nodes only in who the peer is.
 */
export function renderResourceScript(c: HeartbeatClusterInputs, node: NodeIndex, group: NodeIndex, options: ResourceScriptOptions = {}): string {
  const peer = c.nodes[peerOf(node)];
  const g = c.resourceGroups[group];
  const ssh = options.sshCommand ?? ((seconds: number) => `ssh -o BatchMode=yes -o ConnectTimeout=${seconds}`);
  const settings: [string, string | number][] = [
    ["GROUP", g.name],
    ["AUTO_DIR", g.autoDirectory],
    ["TOOLSTACK", c.toolstack],
    ["ON_STOP", options.release ? "leave" : c.migrateOnStop ? "migrate" : "shutdown"],
    ["MIGRATION_TARGET", crossoverNameOf(peer)],
    ["PEER_ADDRESSES", `${peer.crossoverAddress} ${peer.publicAddress}`],
    ["SSH", ssh(MIGRATION_CONNECT_TIMEOUT_SECONDS)],
    ["CHECK_SSH", ssh(c.peerSshTimeoutSeconds)],
    ["CHECK_TIMEOUT", c.peerSshTimeoutSeconds + 10],
    ["MIGRATION_TIMEOUT", c.migrationTimeoutSeconds],
    ["SHUTDOWN_TIMEOUT", c.shutdownTimeoutSeconds],
    ["START_TIMEOUT", c.startTimeoutSeconds],
    ["DRBD_SETTLE", c.drbdSettleSeconds],
  ];
  return [
    "#!/bin/sh",
    `# ${g.name}: Heartbeat v1 resource script for the DomUs whose home is ${c.nodes[group].name},`,
    `# one link per DomU in ${g.autoDirectory}. Written by pulumi-xen-ha; changes here are overwritten.`,
    "#   start   start each DomU of the group that does not run here, unless that could run it twice",
    "#   stop    live-migrate each DomU of the group that runs here to the peer, else shut it down",
    "#   status  running when every DomU of the group runs here, else stopped",
    "#   list    one line per DomU of the group: name, here|elsewhere, config",
    "set -u",
    ...settings.map(([k, v]) => `${k}=${quote(v)}`),
    "\n" + shellFileBody(__dirname, "resource-script.sh"),
  ].join("\n");
}
