/** Inputs of this package's resources that point at the lab's nodes. */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNodeArgs, ClusterVmArgs } from "../../components/types";
import { labNodes } from "../../examples/cluster/lab";
import type { ConnectionInput } from "../../provider/ssh/connection";
import { labConnection, LAB_NODES, type LabNodeName } from "./lab";

/**
 * The connection to a lab node as a user would write it: the private key as a secret (or, with
 * `plainKey`, as the plain string a careless program passes), the host key pinned (`pin`) or left
 * to trust on first use, and the node reached at `host` instead of the lab's address.
 */
export function labConnectionInput(
  node: LabNodeName,
  { pin, plainKey = false, host }: { pin: boolean; plainKey?: boolean; host?: string },
): pulumi.Input<ConnectionInput> {
  const lab = labConnection();
  const n = lab.nodes[node];
  const key = readFileSync(lab.privateKeyPath, "utf8");
  return pulumi.output({
    host: host ?? n.host,
    port: n.port,
    user: n.user,
    privateKey: plainKey ? key : pulumi.secret(key),
    ...(pin ? { hostKey: n.hostKey } : {}),
  });
}

/** A lab node as TwoNodeXenHa takes it, as the example program builds it: its FQDN `NAME.domain.local`, the pinned connection, its addresses and data disk. */
export function labClusterNode(name: LabNodeName): ClusterNodeArgs {
  return labNodes()[LAB_NODES.indexOf(name)]!;
}

const GUEST = "/var/lib/xen-ha-lab/guest";

/** A small PVH guest of the lab's own kernel and initrd, with a 64M disk and no swap. */
export function labGuestVm(name: string, slot: number, home: string, ip: string): ClusterVmArgs {
  return {
    name,
    slot,
    home,
    type: "pvh",
    memory: 128,
    ip,
    diskSize: "64M",
    swapSize: null,
    install: { method: "kernel", kernel: `${GUEST}/vmlinuz`, ramdisk: `${GUEST}/initrd.img`, extra: `console=hvc0 ip=${ip}/24 name=${name}` },
  };
}

/** Prints a figure a test measured, so it shows in CI's log. */
export function report(line: string): void {
  process.stdout.write(`[measured] ${line}\n`);
}
