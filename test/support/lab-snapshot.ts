import type { LabNodeName } from "./lab";

/** Files NodeNetwork rewrites that the lab image ships: a lab test keeps them aside to put them back. */
export const NETWORK_FILES = ["etc/hosts", "etc/hostname", "etc/chrony/chrony.conf", "etc/modules", "etc/network/interfaces"];

/** Keeps the image's network files in the tar at `snapshot`. */
export function saveNetworkFilesScript(snapshot: string): string {
  return `tar -C / -cpf ${snapshot} ${NETWORK_FILES.join(" ")}`;
}

/**
 * Back to the lab's bare network (no bridge, eth0/eth1 up without addresses, the image's files from
 * `snapshot` when it is there, chrony masked): lines for a script that has set `set -u`.
 */
export function restoreBareNetworkLines(node: LabNodeName, snapshot: string): string {
  return `for i in xenbr0 eth1 eth0; do ifdown --force "$i" >/dev/null 2>&1 || true; done
if ip link show xenbr0 >/dev/null 2>&1; then ip link set xenbr0 down; ip link del xenbr0; fi
rm -f /etc/network/interfaces.d/pulumi-xen-ha /etc/modprobe.d/pulumi-xen-ha-loop.conf
rm -rf /var/lib/pulumi-xen-ha/network
if [ -f ${snapshot} ]; then tar -C / -xpf ${snapshot} && rm -f ${snapshot}; fi
hostname ${node}
systemctl stop chrony.service >/dev/null 2>&1 || true
systemctl disable --quiet chrony.service >/dev/null 2>&1 || true
systemctl mask --quiet chrony.service
for i in eth0 eth1; do ip -4 addr flush dev "$i"; ip link set "$i" up; done`;
}
