import { z } from "zod";
import { connectionSchema } from "../ssh/connection";
import { hostLabel, hostName, hostOrIPv4Address, interfaceName, ipAddress, ipv4Address } from "../values";

export { hostLabel, hostName, interfaceName, ipAddress, ipv4Address };

export const prefixLength = z.number().int().min(8).max(31);

export const publicLinkSchema = z.object({
  /** The NIC on the public network. Default `eth0`. */
  device: interfaceName.default("eth0"),
  /** This node's public address (the seed's 10.1.1.100 on ha1, 10.1.1.101 on ha2). */
  address: ipv4Address,
  /** Prefix length of the public network. Default 24 (the seed's netmask 255.255.255.0). */
  prefixLength: prefixLength.default(24),
  /** Default gateway (the seed's 10.1.1.1). Default none: the lab's public link has no gateway. */
  gateway: ipv4Address.optional(),
  /**
   * The bridge the guests attach to, which carries the public address with `device` enslaved.
   * The seed's xend made it implicitly; `xl` needs it configured. Default `xenbr0`; null for no
   * bridge (the public address then sits on `device`).
   */
  bridge: interfaceName.nullable().default("xenbr0"),
});

export const crossoverLinkSchema = z.object({
  /** The NIC of the direct cable between the nodes. Default `eth1`. */
  device: interfaceName.default("eth1"),
  /** This node's crossover address (the seed's 192.168.1.100 on ha1, 192.168.1.101 on ha2). */
  address: ipv4Address,
  /** Prefix length of the crossover network. Default 24. */
  prefixLength: prefixLength.default(24),
  /** Name of this node on the crossover link in /etc/hosts. Default: the short name followed by `X` (the seed's `ha1X`). */
  alias: hostLabel.optional(),
});

export const peerSchema = z.object({
  /** The other node's FQDN (the seed's `ha2.domain.local`). */
  hostname: hostName,
  /** The other node's short name. Default: the FQDN's first label. */
  shortName: hostLabel.optional(),
  /** The other node's public address. */
  publicAddress: ipv4Address,
  /** The other node's crossover address. */
  crossoverAddress: ipv4Address,
  /** The other node's name on the crossover link. Default: its short name followed by `X` (the seed's `ha2X`). */
  crossoverAlias: hostLabel.optional(),
});

export const hostsEntrySchema = z.object({
  /** Address of the entry. */
  address: ipAddress,
  /** Names for it, canonical name first. */
  names: z.array(hostName).min(1, "needs at least one name"),
});

export const ntpSchema = z.object({
  /** The time daemon: `chrony` (Debian's default today) or `ntp` (the seed's ntpd). Default `chrony`. */
  daemon: z.enum(["chrony", "ntp"]).default("chrony"),
  /** Upstream time servers. Default none (the lab reaches no server). */
  servers: z.array(hostOrIPv4Address).default([]),
  /**
   * Keep the two nodes' clocks together over the crossover link, in orphan mode so they agree
   * even with no upstream server (live migration needs the clocks close). Default true.
   */
  peerOverCrossover: z.boolean().default(true),
});

export const nodeNetworkSchema = z
  .object({
    /** How to reach the node over SSH. */
    connection: connectionSchema,
    /**
     * This node's FQDN, written to /etc/hostname and set as the running host name (the seed's
     * `ha1.domain.local`). Heartbeat and DRBD match their node names against it.
     */
    hostname: hostName,
    /** The short name. Default: the FQDN's first label (`ha1`). */
    shortName: hostLabel.optional(),
    /** The public link: address, gateway and the guests' bridge. */
    public: publicLinkSchema,
    /** The crossover link to the peer (DRBD replication, migration, a Heartbeat path). */
    crossover: crossoverLinkSchema,
    /** The other node, for /etc/hosts and time peering. */
    peer: peerSchema,
    /** More /etc/hosts entries, written after the cluster's own. Default none. */
    extraHosts: z.array(hostsEntrySchema).default([]),
    /** Time synchronisation. */
    ntp: ntpSchema.default({ daemon: "chrony", servers: [], peerOverCrossover: true }),
    /**
     * Loop devices the loop module provides (the seed's `loop max_loop=64`). Default 64; null
     * leaves the loop module's configuration alone. Takes effect when the module is next loaded.
     */
    loopMaxDevices: z.number().int().min(1).max(1024).nullable().default(64),
    /**
     * Allow a change that removes the address the provider connects through (connection.host).
     * Default false: such a change is refused, since it can lock the provider out.
     */
    allowManagementAddressChange: z.boolean().default(false),
    /**
     * Seconds the host waits, after applying new interface settings, for the provider to confirm
     * it can still reach it; without confirmation the previous settings are restored. 0 applies
     * without waiting. Default 120.
     */
    confirmTimeoutSeconds: z.number().int().min(0).max(3600).default(120),
  })
  .superRefine((n, ctx) => {
    const devices = [n.public.device, n.crossover.device, ...(n.public.bridge ? [n.public.bridge] : [])];
    if (new Set(devices).size !== devices.length) {
      ctx.addIssue({ code: "custom", path: ["public", "bridge"], message: "the public device, its bridge and the crossover device must be three different interfaces" });
    }
    const ours = [n.public.address, n.crossover.address];
    const peers = [n.peer.publicAddress, n.peer.crossoverAddress];
    if (ours.some((a) => peers.includes(a)) || ours[0] === ours[1]) {
      ctx.addIssue({ code: "custom", path: ["crossover", "address"], message: "this node's public and crossover addresses and the peer's must all differ" });
    }
    if (n.public.gateway && !sameSubnet(n.public.gateway, n.public.address, n.public.prefixLength)) {
      ctx.addIssue({ code: "custom", path: ["public", "gateway"], message: `must lie in the public network ${n.public.address}/${n.public.prefixLength}` });
    }
    if (!sameSubnet(n.peer.crossoverAddress, n.crossover.address, n.crossover.prefixLength)) {
      ctx.addIssue({ code: "custom", path: ["peer", "crossoverAddress"], message: `must lie in the crossover network ${n.crossover.address}/${n.crossover.prefixLength}` });
    }
    if (sameSubnet(n.public.address, n.crossover.address, Math.min(n.public.prefixLength, n.crossover.prefixLength))) {
      ctx.addIssue({ code: "custom", path: ["crossover", "address"], message: "the crossover network must not overlap the public network" });
    }
    if (n.hostname === n.peer.hostname) {
      ctx.addIssue({ code: "custom", path: ["peer", "hostname"], message: "must differ from this node's hostname" });
    }
  });

export type NodeNetworkInputs = z.output<typeof nodeNetworkSchema>;
export type NodeNetworkInputArgs = z.input<typeof nodeNetworkSchema>;

/** The names a node is known by in /etc/hosts, with the defaults filled in. */
export interface NodeNames {
  fqdn: string;
  short: string;
  crossoverAlias: string;
}

export function shortNameOf(fqdn: string): string {
  return fqdn.split(".")[0] ?? fqdn;
}

export function ownNames(n: Pick<NodeNetworkInputs, "hostname" | "shortName" | "crossover">): NodeNames {
  const short = n.shortName ?? shortNameOf(n.hostname);
  return { fqdn: n.hostname, short, crossoverAlias: n.crossover.alias ?? `${short}X` };
}

export function peerNames(peer: NodeNetworkInputs["peer"]): NodeNames {
  const short = peer.shortName ?? shortNameOf(peer.hostname);
  return { fqdn: peer.hostname, short, crossoverAlias: peer.crossoverAlias ?? `${short}X` };
}

/** The interface that carries the public address: the bridge when there is one. */
export function publicInterfaceOf(n: Pick<NodeNetworkInputs, "public">): string {
  return n.public.bridge ?? n.public.device;
}

export function ipv4ToNumber(address: string): number {
  return address.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

export function sameSubnet(a: string, b: string, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4ToNumber(a) / size) === Math.floor(ipv4ToNumber(b) / size);
}
