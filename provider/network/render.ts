/**
 * What NodeNetwork puts on a node: the contents of its files (pure text out) and the scripts that
 * apply them (`Shell` out). Nothing here runs anything.
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import { ownNames, peerNames, type NodeNetworkInputs } from "./schema";

const HEADER = "# Managed by pulumi-xen-ha (NodeNetwork): changes here are overwritten.";

export const paths = {
  interfaces: "/etc/network/interfaces",
  /** Our stanzas live in a drop-in so the management interface's own configuration stays untouched. */
  interfacesDropIn: "/etc/network/interfaces.d/pulumi-xen-ha",
  hosts: "/etc/hosts",
  hostname: "/etc/hostname",
  modules: "/etc/modules",
  loopOptions: "/etc/modprobe.d/pulumi-xen-ha-loop.conf",
  chrony: "/etc/chrony/chrony.conf",
  ntp: "/etc/ntp.conf",
} as const;

/** Where new files wait until the apply script installs them, and where it keeps the old ones until confirmed. */
export const stateDirectory = "/var/lib/pulumi-xen-ha/network";

/** One ifupdown stanza, kept separate so a plan can tell which interfaces changed. */
export interface Stanza {
  name: string;
  /** Brought up by `ifup -a` at boot (`auto NAME`); a bridge port is brought up by its bridge instead. */
  auto: boolean;
  text: string;
}

export function interfaceStanzas(n: NodeNetworkInputs): Stanza[] {
  const pub = n.public;
  const publicOptions = [`address ${pub.address}/${pub.prefixLength}`, ...(pub.gateway ? [`gateway ${pub.gateway}`] : [])];
  const stanzas: Stanza[] = [];
  if (pub.bridge) {
    stanzas.push({ name: pub.device, auto: false, text: `iface ${pub.device} inet manual` });
    // No STP and no forwarding delay: the bridge has one port, and a 30 s learning phase would
    // delay Heartbeat and the guests after every boot.
    stanzas.push({
      name: pub.bridge,
      auto: true,
      text: block(`iface ${pub.bridge} inet static`, [...publicOptions, `bridge_ports ${pub.device}`, "bridge_stp off", "bridge_fd 0", "bridge_maxwait 0"]),
    });
  } else {
    stanzas.push({ name: pub.device, auto: true, text: block(`iface ${pub.device} inet static`, publicOptions) });
  }
  stanzas.push({ name: n.crossover.device, auto: true, text: block(`iface ${n.crossover.device} inet static`, [`address ${n.crossover.address}/${n.crossover.prefixLength}`]) });
  return stanzas;
}

function block(head: string, options: readonly string[]): string {
  return [head, ...options.map((o) => `\t${o}`)].join("\n");
}

export function renderInterfacesDropIn(n: NodeNetworkInputs): string {
  const parts = interfaceStanzas(n).map((s) => (s.auto ? `auto ${s.name}\n${s.text}` : s.text));
  return `${HEADER}\n\n${parts.join("\n\n")}\n`;
}

const TAKEN_OVER = "#pulumi-xen-ha: ";
const STANZA_KEYWORD = /^\s*(iface|mapping|auto|allow-[A-Za-z0-9-]+|source|source-directory|rename|no-auto-down|no-scripts)(\s|$)/;
const NAME_LISTS = /^(auto|allow-[A-Za-z0-9-]+|no-auto-down|no-scripts)$/;
const SOURCES_DROP_INS = /^\s*(source\s+(\/etc\/network\/)?interfaces\.d\/\*|source-directory\s+(\/etc\/network\/)?interfaces\.d\/?)\s*$/;

export interface TakeOver {
  text: string;
  /** Interfaces the main file configured until now (their old settings must be taken down before ours go up). */
  takenOver: string[];
}

/**
 * Edits the main /etc/network/interfaces so our drop-in is the only place that configures our
 * interfaces: their stanzas are commented out (marked, so the edit is idempotent and reviewable),
 * they leave `auto`/`allow-*` lines, and the drop-in directory is sourced. Everything else, such
 * as the management interface, stays as it was.
 */
export function takeOverInterfaces(main: string, names: readonly string[]): TakeOver {
  const out: string[] = [];
  const takenOver = new Set<string>();
  let inTakenStanza = false;
  const lines = main.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      out.push(line);
      continue;
    }
    const keyword = STANZA_KEYWORD.exec(line)?.[1];
    if (!keyword) {
      out.push(inTakenStanza ? TAKEN_OVER + line : line);
      continue;
    }
    const words = trimmed.split(/\s+/).slice(1);
    inTakenStanza = false;
    if (keyword === "iface" || keyword === "mapping") {
      const targets = keyword === "iface" ? words.slice(0, 1) : words;
      const ours = targets.filter((w) => names.includes(w));
      ours.forEach((w) => takenOver.add(w));
      inTakenStanza = ours.length > 0;
      out.push(inTakenStanza ? TAKEN_OVER + line : line);
    } else if (NAME_LISTS.test(keyword) && words.some((w) => names.includes(w))) {
      const kept = words.filter((w) => !names.includes(w));
      out.push(TAKEN_OVER + line);
      if (kept.length > 0) out.push(`${keyword} ${kept.join(" ")}`);
    } else {
      out.push(line);
    }
  }
  if (!lines.some((l) => SOURCES_DROP_INS.test(l))) {
    out.push("", `${TAKEN_OVER}the cluster's interfaces are configured in ${paths.interfacesDropIn}`, "source /etc/network/interfaces.d/*");
  }
  return { text: `${out.join("\n")}\n`, takenOver: [...takenOver] };
}

export function renderHosts(n: NodeNetworkInputs, options: { loopbackHostnameLine?: boolean } = {}): string {
  const me = ownNames(n);
  const peer = peerNames(n.peer);
  const rows: [string, string][] = [["127.0.0.1", "localhost"]];
  // Debian's line for the host's own name; kept from the seed so `hostname -f` answers the FQDN
  // even before the public link is up.
  if (options.loopbackHostnameLine ?? true) rows.push(["127.0.1.1", `${me.fqdn} ${me.short}`]);
  rows.push(
    [n.public.address, `${me.fqdn} ${me.short}`],
    [n.peer.publicAddress, `${peer.fqdn} ${peer.short}`],
    [n.crossover.address, me.crossoverAlias],
    [n.peer.crossoverAddress, peer.crossoverAlias],
    ...n.extraHosts.map((e): [string, string] => [e.address, e.names.join(" ")]),
  );
  const ipv6 = ["::1\tlocalhost ip6-localhost ip6-loopback", "ff02::1\tip6-allnodes", "ff02::2\tip6-allrouters"];
  return `${HEADER}\n${rows.map(([a, names]) => `${a}\t${names}`).join("\n")}\n\n${ipv6.join("\n")}\n`;
}

export function renderHostname(n: Pick<NodeNetworkInputs, "hostname">): string {
  return `${n.hostname}\n`;
}

/**
 * Ensures /etc/modules lists the loop module, keeping every other line. Only the module name goes
 * there: systemd-modules-load reads each line as a module name, so the seed's `loop max_loop=64`
 * would be looked up as a module of that name; the option goes to modprobe.d instead.
 */
export function ensureLoopModule(modules: string): string {
  const lines = modules.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const out: string[] = [];
  let listed = false;
  const isLoop = (line: string) => /^\s*loop(\s|$)/.test(line);
  for (const line of lines) {
    if (!isLoop(line)) {
      out.push(line);
    } else if (!listed) {
      out.push("loop");
      listed = true;
    }
  }
  if (!listed) out.push("loop");
  return `${out.join("\n")}\n`;
}

export function renderLoopOptions(maxDevices: number): string {
  return `${HEADER}\noptions loop max_loop=${maxDevices}\n`;
}

export function ntpConfigPath(daemon: NodeNetworkInputs["ntp"]["daemon"]): string {
  return daemon === "chrony" ? paths.chrony : paths.ntp;
}

export function ntpServiceOf(daemon: NodeNetworkInputs["ntp"]["daemon"]): { packageName: string; service: string } {
  return daemon === "chrony" ? { packageName: "chrony", service: "chrony.service" } : { packageName: "ntp", service: "ntp.service" };
}

/**
 * With peering, each node serves time to the other and both run in orphan mode: with no upstream
 * server reachable they still agree with each other, which is what live migration needs.
 */
export function renderNtpConfig(n: Pick<NodeNetworkInputs, "ntp" | "peer">): string {
  const { daemon, servers, peerOverCrossover } = n.ntp;
  const peer = n.peer.crossoverAddress;
  if (daemon === "chrony") {
    const lines = [
      ...servers.map((s) => `server ${s} iburst`),
      ...(peerOverCrossover ? [`server ${peer} iburst`, `allow ${peer}`, "local stratum 10 orphan"] : []),
      "confdir /etc/chrony/conf.d",
      "sourcedir /etc/chrony/sources.d",
      "keyfile /etc/chrony/chrony.keys",
      "driftfile /var/lib/chrony/chrony.drift",
      "ntsdumpdir /var/lib/chrony",
      "logdir /var/log/chrony",
      "maxupdateskew 100.0",
      "rtcsync",
      "makestep 1 3",
      "leapsectz right/UTC",
    ];
    return `${HEADER}\n${lines.join("\n")}\n`;
  }
  const lines = [
    "driftfile /var/lib/ntp/ntp.drift",
    "restrict -4 default kod notrap nomodify nopeer noquery limited",
    "restrict -6 default kod notrap nomodify nopeer noquery limited",
    "restrict 127.0.0.1",
    "restrict ::1",
    ...servers.map((s) => `server ${s} iburst`),
    ...(peerOverCrossover ? [`restrict ${peer} kod notrap nomodify noquery`, `peer ${peer}`, "tos orphan 10"] : []),
  ];
  return `${HEADER}\n${lines.join("\n")}\n`;
}

/** Sets the running host name, so `hostname` and `hostname -f` answer the FQDN without a reboot. */
export function buildSetHostnameCommand(fqdn: string): Shell {
  return sh`hostname ${fqdn}`;
}

/**
 * Installs the time daemon when missing, then enables it and (re)starts it. Unmasking is part of
 * enabling: an image may mask the daemon until its configuration exists.
 */
export function buildNtpServiceScript(daemon: NodeNetworkInputs["ntp"]["daemon"], action: "start" | "restart"): Shell {
  const { packageName, service } = ntpServiceOf(daemon);
  return joinLines([
    literal("set -eu"),
    sh`if ! dpkg-query -W -f='\${Status}' ${packageName} 2>/dev/null | grep -q 'ok installed'; then`,
    sh`  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packageName}`,
    literal("fi"),
    sh`systemctl unmask ${service}`,
    sh`systemctl enable ${service}`,
    sh`systemctl ${action} ${service}`,
  ]);
}
