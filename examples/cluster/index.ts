/**
 * The seed's cluster as a Pulumi program: two Xen hosts, LVM, DRBD under every VM disk, live
 * migration and Heartbeat (or, with `xen-ha:clusterManager: pacemaker`, Corosync and Pacemaker). Everything comes from stack config (`Pulumi.<stack>.yaml`); with
 * `xen-ha:lab: true` the nodes' connections come from the QEMU lab instead.
 */
import * as pulumi from "@pulumi/pulumi";
import { TwoNodeXenHa, checkConnectionSettings, type ClusterNodeArgs, type ClusterVmArgs } from "pulumi-xen-ha";
import { labHeartbeatKey, labNodes, labPacemaker, labStonith } from "./lab";

const config = new pulumi.Config("xen-ha");
const lab = config.getBoolean("lab") ?? false;

/** Production nodes: everything but the private key in plain config; the key is a secret. */
function configuredNodes(): [ClusterNodeArgs, ClusterNodeArgs] {
  const privateKey = config.requireSecret("sshPrivateKey");
  const nodes = config.requireObject<Omit<ClusterNodeArgs, "connection">[]>("nodes");
  const hosts = config.requireObject<unknown[]>("connections");
  if (!Array.isArray(nodes) || !Array.isArray(hosts) || nodes.length !== 2 || hosts.length !== 2) {
    throw new Error("xen-ha:nodes and xen-ha:connections must each list the two nodes");
  }
  // Checked here, where the config path is known: a YAML typo such as `hostkey:` would otherwise
  // reach the resources inside an Output and leave the host key unpinned.
  const connections = hosts.map((h, i) => checkConnectionSettings(h, `xen-ha:connections[${i}]`));
  const node = (i: number): ClusterNodeArgs => ({ ...nodes[i]!, connection: { ...connections[i]!, privateKey } });
  return [node(0), node(1)];
}

/**
 * Production fencing: each node's BMC through cluster-glue's external/ipmi, the passwords a
 * secret list in node order. Without `xen-ha:ipmi` the cluster runs unfenced, and preview says
 * what that risks.
 */
function configuredStonith(nodes: [ClusterNodeArgs, ClusterNodeArgs]) {
  const bmcs = config.getObject<{ ipaddr: string; userid: string; interface?: string }[]>("ipmi");
  if (bmcs === undefined) return undefined;
  if (!Array.isArray(bmcs) || bmcs.length !== 2) throw new Error("xen-ha:ipmi must list the two nodes' BMCs, in the order of xen-ha:nodes");
  const passwords = config.requireSecretObject<string[]>("ipmiPasswords");
  const device = (i: number) => ({
    hostname: nodes[i]!.hostname as string,
    ipaddr: bmcs[i]!.ipaddr,
    userid: bmcs[i]!.userid,
    passwd: passwords.apply((p) => p[i] ?? ""),
    interface: bmcs[i]!.interface ?? "lanplus",
  });
  const devices: [ReturnType<typeof device>, ReturnType<typeof device>] = [device(0), device(1)];
  return { type: "external/ipmi", devices, fenceDelaySeconds: config.getNumber("fenceDelaySeconds") ?? 15 };
}

/**
 * Production Pacemaker: Corosync's key a secret, the arbiter from config, each node's BMC through
 * fence_ipmilan (the same xen-ha:ipmi and xen-ha:ipmiPasswords as Heartbeat's STONITH).
 */
function configuredPacemaker() {
  const bmcs = config.requireObject<{ ipaddr: string; userid: string }[]>("ipmi");
  const passwords = config.requireSecretObject<string[]>("ipmiPasswords");
  const device = (i: number) => ({
    agent: "fence_ipmilan",
    parameters: pulumi.all([passwords]).apply(([p]) => ({ ip: bmcs[i]!.ipaddr, username: bmcs[i]!.userid, password: p[i] ?? "", lanplus: "1" })),
    ...(i === 0 ? { delaySeconds: config.getNumber("fenceDelaySeconds") ?? 15 } : {}),
  });
  const arbiter = config.get("arbiter");
  return {
    authKey: config.requireSecret("corosyncAuthKey"),
    ...(arbiter ? { arbiter: { host: arbiter } } : {}),
    fencing: [device(0), device(1)] as [ReturnType<typeof device>, ReturnType<typeof device>],
  };
}

const nodes = lab ? labNodes() : configuredNodes();
const clusterManager = config.get("clusterManager") === "pacemaker" ? "pacemaker" : "heartbeat";
const cluster = new TwoNodeXenHa("cluster", {
  nodes,
  volumeGroupName: config.get("volumeGroup") ?? "vg",
  metaVolumeSize: config.get("metaVolumeSize") ?? "1G",
  ntpServers: config.getObject<string[]>("ntpServers") ?? [],
  drbd: { usageCount: "no", resyncRate: config.get("resyncRate") ?? "90M" },
  clusterManager,
  ...(clusterManager === "pacemaker" ? { pacemaker: lab ? labPacemaker() : configuredPacemaker() } : {}),
  heartbeat: clusterManager === "pacemaker" ? undefined : {
    authKey: lab ? labHeartbeatKey() : config.requireSecret("heartbeatAuthKey"),
    deadtime: config.getNumber("deadtime") ?? 10,
    // The lab's nodes have an emulated i6300esb, which resets the node when Heartbeat hangs.
    watchdog: config.get("watchdog") ?? "/dev/watchdog",
    stonith: lab ? labStonith() : configuredStonith(nodes),
    // A node that was fenced, reset or crashed stays out of the cluster until the next `pulumi up`
    // starts its Heartbeat: it never rejoins mid-takeover, nor fences its peer back over cut links.
    startAtBoot: config.get("heartbeatStartAtBoot") === "always" ? "always" : "afterCleanStop",
  },
  vms: config.requireObject<ClusterVmArgs[]>("vms"),
  // Production volumes are protected: `pulumi destroy` refuses until protection is lifted on purpose.
  protectData: config.getBoolean("protectData") ?? !lab,
});

/** Per VM: the node it runs on, its state and its DRBD resources' state. */
export const vms = cluster.vms;
/** Which node holds which Heartbeat group (empty under Pacemaker). */
export const heartbeatGroups = cluster.heartbeatGroups;
/** Where Pacemaker runs each guest (empty under Heartbeat). */
export const pacemakerPlacement = cluster.pacemakerPlacement;
/** Each node's DRBD meta-data volume, for scripts that back it up. */
export const metaVolumes = Object.fromEntries(Object.entries(cluster.nodeResources).map(([node, r]) => [node, r.metaVolume.path]));
