/**
 * The seed's cluster as a Pulumi program: two Xen hosts, LVM, DRBD under every VM disk, live
 * migration and Heartbeat. Everything comes from stack config (`Pulumi.<stack>.yaml`); with
 * `xen-ha:lab: true` the nodes' connections come from the QEMU lab instead.
 */
import * as pulumi from "@pulumi/pulumi";
import { TwoNodeXenHa, checkConnectionSettings, type ClusterNodeArgs, type ClusterVmArgs } from "pulumi-xen-ha";
import { labHeartbeatKey, labNodes } from "./lab";

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

const cluster = new TwoNodeXenHa("cluster", {
  nodes: lab ? labNodes() : configuredNodes(),
  volumeGroupName: config.get("volumeGroup") ?? "vg",
  metaVolumeSize: config.get("metaVolumeSize") ?? "1G",
  ntpServers: config.getObject<string[]>("ntpServers") ?? [],
  drbd: { usageCount: "no", resyncRate: config.get("resyncRate") ?? "90M" },
  heartbeat: {
    authKey: lab ? labHeartbeatKey() : config.requireSecret("heartbeatAuthKey"),
    deadtime: config.getNumber("deadtime") ?? 10,
    // The lab's emulated hosts have no watchdog device.
    watchdog: lab ? null : (config.get("watchdog") ?? "/dev/watchdog"),
  },
  vms: config.requireObject<ClusterVmArgs[]>("vms"),
  // Production volumes are protected: `pulumi destroy` refuses until protection is lifted on purpose.
  protectData: config.getBoolean("protectData") ?? !lab,
});

/** Per VM: the node it runs on, its state and its DRBD resources' state. */
export const vms = cluster.vms;
/** Which node holds which Heartbeat group. */
export const heartbeatGroups = cluster.heartbeatGroups;
/** Each node's DRBD meta-data volume, for scripts that back it up. */
export const metaVolumes = Object.fromEntries(Object.entries(cluster.nodeResources).map(([node, r]) => [node, r.metaVolume.path]));
