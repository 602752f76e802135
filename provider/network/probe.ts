/**
 * Reading a node's network in one round trip, and comparing it with the inputs: the files, the
 * running host names, the time service, every interface's addresses, and the address the
 * provider's own SSH session arrives at.
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import {
  ensureLoopModule,
  interfaceStanzas,
  ntpConfigPath,
  ntpServiceOf,
  paths,
  renderHostname,
  renderHosts,
  renderInterfacesDropIn,
  renderLoopOptions,
  renderNtpConfig,
  takeOverInterfaces,
} from "./render";
import { publicInterfaceOf, type NodeNetworkInputs } from "./schema";

/** An address as `ip -j addr` reports it on one interface. */
export interface ObservedAddress {
  device: string;
  address: string;
}

/** Files the probe reads, besides the time daemon's configuration. */
export const probedFiles = [paths.interfaces, paths.interfacesDropIn, paths.hosts, paths.hostname, paths.modules, paths.loopOptions, paths.chrony, paths.ntp];

/**
 * One round trip that reads everything `read` compares: the files (base64, so any content
 * survives), the running host names, the time services and every interface's addresses.
 */
export function buildNetworkProbeScript(): Shell {
  return joinLines([
    literal("set -u"),
    sh`for f in ${probedFiles}; do`,
    literal(`  if [ -r "$f" ]; then printf 'file\\t%s\\tpresent\\t' "$f"; base64 -w0 <"$f"; echo; else printf 'file\\t%s\\tabsent\\t\\n' "$f"; fi`),
    literal("done"),
    literal(`printf 'hostname\\t%s\\n' "$(hostname)"`),
    literal(`printf 'fqdn\\t%s\\n' "$(hostname -f 2>/dev/null || true)"`),
    literal("for s in chrony.service ntp.service; do"),
    literal(`  printf 'service\\t%s\\t%s\\t%s\\n' "$s" "$(systemctl is-active "$s" 2>/dev/null || true)" "$(systemctl is-enabled "$s" 2>/dev/null || true)"`),
    literal("done"),
    literal(`printf 'ip\\t%s\\n' "$(ip -j -d addr show)"`),
    literal(`printf 'route\\t%s\\n' "$(ip -j -4 route show default 2>/dev/null || echo '[]')"`),
    // sudo drops SSH_CONNECTION from the environment; the sshd session's processes above us keep it.
    literal('session=${SSH_CONNECTION:-}'),
    literal("pid=$$"),
    literal('while [ -z "$session" ] && [ "${pid:-1}" -gt 1 ]; do'),
    literal(`  session=$(tr '\\0' '\\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p')`),
    literal(`  pid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)`),
    literal("done"),
    literal(`printf 'session\\t%s\\n' "$session"`),
  ]);
}

export interface LinkState {
  name: string;
  up: boolean;
  /** `bridge` for a bridge; undefined for a plain NIC. */
  kind: string | undefined;
  /** The bridge this interface is a port of. */
  master: string | undefined;
  addresses: { family: "inet" | "inet6"; address: string; prefixLength: number }[];
}

export interface ServiceState {
  /** `active`, `inactive`, `failed`…; empty when systemd does not know the unit. */
  active: string;
  /** `enabled`, `disabled`, `masked`…; empty when systemd does not know the unit. */
  enabled: string;
}

export interface NetworkProbe {
  /** File contents by path; null when the file is absent. */
  files: Record<string, string | null>;
  hostname: string;
  /** What `hostname -f` answers; empty when it fails. */
  fqdn: string;
  services: Record<string, ServiceState>;
  links: LinkState[];
  /** The IPv4 default routes: gateway and device. */
  defaultRoutes: { gateway: string; device: string }[];
  /**
   * The node's own address that the provider's SSH session arrived at (from `SSH_CONNECTION`);
   * empty when the session did not say.
   */
  sessionAddress: string;
}

interface IpLink {
  ifname?: string;
  flags?: string[];
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

export function parseLinks(json: string): LinkState[] {
  const parsed = JSON.parse(json || "[]") as IpLink[];
  return parsed.map((l) => ({
    name: l.ifname ?? "",
    up: (l.flags ?? []).includes("UP"),
    kind: l.linkinfo?.info_kind,
    master: l.master,
    addresses: (l.addr_info ?? [])
      .filter((a) => a.family === "inet" || a.family === "inet6")
      .map((a) => ({ family: a.family as "inet" | "inet6", address: a.local ?? "", prefixLength: a.prefixlen ?? 0 })),
  }));
}

export function parseDefaultRoutes(json: string): NetworkProbe["defaultRoutes"] {
  const parsed = JSON.parse(json.trim() || "[]") as { gateway?: string; dev?: string }[];
  return parsed.filter((r) => r.gateway).map((r) => ({ gateway: r.gateway!, device: r.dev ?? "" }));
}

export function parseNetworkProbe(output: string): NetworkProbe {
  const probe: NetworkProbe = { files: {}, hostname: "", fqdn: "", services: {}, links: [], defaultRoutes: [], sessionAddress: "" };
  for (const line of output.split("\n")) {
    const [tag, ...fields] = line.split("\t");
    if (tag === "file") {
      const [path = "", state = "", data = ""] = fields;
      probe.files[path] = state === "present" ? Buffer.from(data, "base64").toString("utf8") : null;
    } else if (tag === "hostname") probe.hostname = fields[0] ?? "";
    else if (tag === "fqdn") probe.fqdn = fields[0] ?? "";
    else if (tag === "service") probe.services[fields[0] ?? ""] = { active: fields[1] ?? "", enabled: fields[2] ?? "" };
    else if (tag === "ip") probe.links = parseLinks(fields.join("\t"));
    else if (tag === "route") probe.defaultRoutes = parseDefaultRoutes(fields.join("\t"));
    else if (tag === "session") probe.sessionAddress = (fields[0] ?? "").trim().split(/\s+/)[2] ?? "";
  }
  return probe;
}

export function observedAddresses(links: readonly LinkState[]): ObservedAddress[] {
  return links.flatMap((l) => l.addresses.filter((a) => a.family === "inet").map((a) => ({ device: l.name, address: a.address })));
}

/** A file NodeNetwork writes directly (the interface files go through the apply job instead). */
export interface NodeFile {
  path: string;
  content: string;
  /** The input that decides it, for drift reports. */
  property: string;
}

/** The files to write, given what the node has now (/etc/modules is edited, not replaced). */
export function desiredFiles(n: NodeNetworkInputs, probe: Pick<NetworkProbe, "files">): NodeFile[] {
  const files: NodeFile[] = [
    { path: paths.hosts, content: renderHosts(n), property: "extraHosts" },
    { path: paths.hostname, content: renderHostname(n), property: "hostname" },
    { path: ntpConfigPath(n.ntp.daemon), content: renderNtpConfig(n), property: "ntp" },
  ];
  if (n.loopMaxDevices !== null) {
    files.push(
      { path: paths.modules, content: ensureLoopModule(probe.files[paths.modules] ?? ""), property: "loopMaxDevices" },
      { path: paths.loopOptions, content: renderLoopOptions(n.loopMaxDevices), property: "loopMaxDevices" },
    );
  }
  return files;
}

export interface Drift {
  /** The input whose desired state the node no longer matches. */
  property: string;
  /** What differs, for people. */
  detail: string;
}

/** Where the node differs from the inputs. Empty when it matches. */
export function networkDrift(n: NodeNetworkInputs, probe: NetworkProbe): Drift[] {
  const drift: Drift[] = [];
  for (const f of desiredFiles(n, probe)) {
    if (probe.files[f.path] !== f.content) drift.push({ property: f.property, detail: `${f.path} differs from the desired content` });
  }
  const main = probe.files[paths.interfaces] ?? "";
  if (takeOverInterfaces(main, interfaceStanzas(n).map((s) => s.name)).text !== main) {
    drift.push({ property: "public", detail: `${paths.interfaces} configures the cluster's interfaces itself or does not source ${paths.interfacesDropIn}` });
  }
  if (probe.files[paths.interfacesDropIn] !== renderInterfacesDropIn(n)) drift.push({ property: "public", detail: `${paths.interfacesDropIn} differs from the desired stanzas` });
  if (probe.hostname !== n.hostname) drift.push({ property: "hostname", detail: `the running host name is ${probe.hostname || "(empty)"}` });
  if (probe.fqdn !== n.hostname) drift.push({ property: "hostname", detail: `hostname -f answers ${probe.fqdn || "nothing"}` });
  const carries = (device: string, address: string) =>
    probe.links.some((l) => l.name === device && l.up && l.addresses.some((a) => a.family === "inet" && a.address === address));
  if (!carries(publicInterfaceOf(n), n.public.address)) drift.push({ property: "public", detail: `${publicInterfaceOf(n)} is not up with ${n.public.address}` });
  if (n.public.bridge && probe.links.find((l) => l.name === n.public.device)?.master !== n.public.bridge) {
    drift.push({ property: "public", detail: `${n.public.device} is not a port of ${n.public.bridge}` });
  }
  if (!carries(n.crossover.device, n.crossover.address)) drift.push({ property: "crossover", detail: `${n.crossover.device} is not up with ${n.crossover.address}` });
  const service = probe.services[ntpServiceOf(n.ntp.daemon).service];
  if (service?.active !== "active" || service.enabled !== "enabled") {
    drift.push({ property: "ntp", detail: `${ntpServiceOf(n.ntp.daemon).service} is ${service?.active || "unknown"} and ${service?.enabled || "not installed"}` });
  }
  return drift;
}
