/** Connections to the QEMU lab's nodes, from the connection file `npm run lab:up` writes. */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNodeArgs } from "pulumi-xen-ha";

const labDir = process.env.XEN_HA_LAB_DIR ?? path.join(homedir(), ".cache", "pulumi-xen-ha", "lab");

interface LabFile {
  privateKeyPath: string;
  nodes: Record<"ha1" | "ha2", { host: string; port: number; user: string; hostKey: string; dataDisk: string; publicAddress: string; crossoverAddress: string }>;
}

function labFile(): LabFile {
  const file = path.join(labDir, "run", "lab.json");
  if (!existsSync(file)) throw new Error(`xen-ha:lab is true but ${file} does not exist: run \`npm run lab:up\` first`);
  return JSON.parse(readFileSync(file, "utf8")) as LabFile;
}

export function labNodes(): [ClusterNodeArgs, ClusterNodeArgs] {
  const lab = labFile();
  const privateKey = pulumi.secret(readFileSync(lab.privateKeyPath, "utf8"));
  const node = (name: "ha1" | "ha2"): ClusterNodeArgs => {
    const n = lab.nodes[name];
    return {
      name,
      hostname: `${name}.domain.local`,
      connection: { host: n.host, port: n.port, user: n.user, hostKey: n.hostKey, privateKey },
      publicAddress: n.publicAddress,
      crossoverAddress: n.crossoverAddress,
      volumeGroupDevices: [n.dataDisk],
    };
  };
  return [node("ha1"), node("ha2")];
}

/** The lab's Heartbeat key: made once per lab by the demo (mode 0600), never in the repository. */
export function labHeartbeatKey(): pulumi.Output<string> {
  const file = path.join(labDir, "heartbeat-authkey");
  if (!existsSync(file)) throw new Error(`${file} does not exist: \`npm run demo\` creates it`);
  return pulumi.secret(readFileSync(file, "utf8").trim());
}

/**
 * The lab's fencing: each node's power outlet on the lab's power switch (reached from the nodes
 * only), through the STONITH plugin the lab installs; ha2 waits before it resets ha1, so ha1
 * survives when both links fail.
 */
export function labStonith() {
  const outlet = (name: "ha1" | "ha2") => ({
    hostlist: `${name}.domain.local:${name}`,
    switch_address: "10.0.2.100",
    switch_port: "7999",
    secret_file: "/etc/xen-ha-lab/switch.secret",
  });
  return { type: "external/xen-ha-lab-switch", devices: [outlet("ha1"), outlet("ha2")] as [Record<string, string>, Record<string, string>], fenceDelaySeconds: 15 };
}

/** The lab's Corosync authkey: made once per lab by the demo (mode 0600), never in the repository. */
export function labCorosyncKey(): pulumi.Output<string> {
  const file = path.join(labDir, "corosync-authkey");
  if (!existsSync(file)) throw new Error(`${file} does not exist: \`npm run demo -- pacemaker\` creates it`);
  return pulumi.secret(readFileSync(file, "utf8").trim());
}

/**
 * Pacemaker in the lab: the lab's corosync-qnetd as quorum arbiter (reached from the nodes only)
 * and each node fenced through the lab's power switch by the fence agent the lab installs; ha1's
 * device waits, so ha1 survives when both links fail.
 */
export function labPacemaker() {
  return {
    authKey: labCorosyncKey(),
    arbiter: { host: "10.0.2.101", port: 5403 },
    fencing: [{ agent: "fence_xen_ha_lab", delaySeconds: 15 }, { agent: "fence_xen_ha_lab" }] as [{ agent: string; delaySeconds?: number }, { agent: string }],
    // The emulated nodes answer slowly: a short token would lose members under load.
    tokenMs: 10_000,
  };
}
