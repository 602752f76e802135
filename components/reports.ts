/** The component's typed outputs, built from its children's. */
import * as pulumi from "@pulumi/pulumi";
import type { DrbdNodeStatus } from "../provider/drbd/status";
import { parseDrbdRole } from "../provider/xen/list";
import type { VmReport, VmResources } from "./types";

type DrbdReport = VmReport["drbd"];

/**
 * A VM's DRBD state per resource, per node name: connection and disk states from each
 * DrbdResource's `status` (as that resource last read them), roles from the XenDomU's `drbdRoles`,
 * read when the guest was last started, moved or refreshed; a DrbdResource made before its guest
 * started would still say Secondary where block-drbd has since promoted it.
 */
export function vmDrbdReport(resources: VmResources, nodeNames: Readonly<Record<string, string>>): pulumi.Output<DrbdReport> {
  const byNode = (status: Record<string, DrbdNodeStatus> | undefined) =>
    Object.fromEntries(Object.entries(status ?? {}).map(([hostname, s]) => [nodeNames[hostname] ?? hostname, s]));
  const statuses = pulumi.output(Object.fromEntries(Object.entries(resources.drbd).map(([name, r]) => [name, r.status.apply(byNode)])));
  return pulumi.all([statuses, resources.domain.drbdRoles]).apply(([report, roles]) => withRoles(report as DrbdReport, roles ?? {}));
}

/** Roles as `drbdadm role` printed them (`Primary/Secondary`, local/peer), laid over the recorded status. */
export function withRoles(report: DrbdReport, roles: Readonly<Record<string, Readonly<Record<string, string>>>>): DrbdReport {
  const out: DrbdReport = {};
  for (const [resource, nodes] of Object.entries(report)) {
    out[resource] = Object.fromEntries(
      Object.entries(nodes).map(([node, status]) => {
        const read = parseDrbdRole(resource, true, roles[resource]?.[node] ?? "");
        return [node, read.error === undefined ? { ...status, role: read.local as DrbdNodeStatus["role"], peerRole: read.peer as DrbdNodeStatus["role"] } : status];
      }),
    );
  }
  return out;
}

/** What the component reports about one VM: its home, where and how it runs, and its DRBD state. */
export function vmReport(home: string, resources: VmResources, nodeNames: Readonly<Record<string, string>>): pulumi.Output<VmReport> {
  return pulumi.output({ home, runsOn: resources.domain.runOn, state: resources.domain.state, drbd: vmDrbdReport(resources, nodeNames) }) as pulumi.Output<VmReport>;
}
