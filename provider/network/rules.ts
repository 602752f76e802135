/**
 * NodeNetwork's decisions: how input changes are applied, which changes are refused because they
 * would cut the provider off, and which interfaces an apply has to bounce.
 */
import { nested, type DiffRules } from "../diff";
import type { InputFailure } from "../errors";
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
  stateDirectory,
  takeOverInterfaces,
  type InterfacesApplyPlan,
  type Stanza,
} from "./render";
import { ownNames, publicInterfaceOf, type NodeNetworkInputs } from "./schema";

/**
 * Every change is applied in place: the node stays the same machine. Even a new connection.host
 * is an update, because only the update sees the old address, through which the new settings are
 * applied before the provider reconnects at the new one.
 */
export const nodeNetworkRules: DiffRules = {
  connection: nested({
    host: "update",
    port: "update",
    user: "update",
    privateKey: "update",
    privateKeyPassword: "update",
    password: "update",
    hostKey: "update",
    sudo: "update",
    dialTimeoutSeconds: "update",
  }),
  hostname: "update",
  shortName: "update",
  public: "update",
  crossover: "update",
  peer: "update",
  extraHosts: "update",
  ntp: "update",
  loopMaxDevices: "update",
};

/** The node's addresses by input path, and the names that resolve to them through /etc/hosts. */
function addressesOf(n: NodeNetworkInputs): { property: string; address: string; names: string[] }[] {
  const names = ownNames(n);
  return [
    { property: "public.address", address: n.public.address, names: [names.fqdn, names.short] },
    { property: "crossover.address", address: n.crossover.address, names: [names.crossoverAlias] },
  ];
}

export interface ManagementAddressChange {
  /** The address or name the provider connects through now (the old connection.host). */
  connectionHost: string;
  before: NodeNetworkInputs;
  after: NodeNetworkInputs;
}

/**
 * Refuses a change that takes away the address the provider connects through, unless
 * `allowManagementAddressChange` is set. A host given by name counts as the address that name has
 * in the node's own /etc/hosts; any other name or address is not ours to judge.
 */
export function checkManagementAddressChange(change: ManagementAddressChange): InputFailure | undefined {
  const { connectionHost, before, after } = change;
  if (after.allowManagementAddressChange) return undefined;
  const used = addressesOf(before).find((a) => a.address === connectionHost || a.names.includes(connectionHost));
  if (!used) return undefined;
  if (addressesOf(after).some((a) => a.address === used.address)) return undefined;
  const next = addressesOf(after).find((a) => a.property === used.property)?.address ?? "?";
  return {
    property: used.property,
    reason:
      `the provider connects to this node through ${used.address} (connection.host ${connectionHost}), which this change removes; ` +
      `applying it would cut the SSH connection and can lock the provider out. Keep ${used.address}, or set ` +
      `allowManagementAddressChange: true and change connection.host to ${next} in the same update ` +
      `(the node restores its old settings if the provider cannot reach it at the new address within confirmTimeoutSeconds).`,
  };
}

/** For `check`: the change refusals that need the previous inputs. */
export function validateNodeNetworkChange(before: NodeNetworkInputs, after: NodeNetworkInputs): InputFailure[] {
  const failure = checkManagementAddressChange({ connectionHost: before.connection.host, before, after });
  return failure ? [failure] : [];
}

/** An address as `ip -j addr` reports it on one interface. */
export interface ObservedAddress {
  device: string;
  address: string;
}

/**
 * For `create`, where there are no previous inputs: refuses to reconfigure the interface that
 * carries the connection's address when the new settings do not keep that address.
 */
export function checkConnectionAddressKept(connectionHost: string, observed: readonly ObservedAddress[], after: NodeNetworkInputs): InputFailure | undefined {
  if (after.allowManagementAddressChange) return undefined;
  const seen = observed.find((o) => o.address === connectionHost);
  if (!seen) return undefined;
  const managed = [after.public.device, after.public.bridge, after.crossover.device].filter((d): d is string => !!d);
  if (!managed.includes(seen.device)) return undefined;
  if (addressesOf(after).some((a) => a.address === seen.address)) return undefined;
  const property = seen.device === after.crossover.device ? "crossover.address" : "public.address";
  return {
    property,
    reason:
      `the provider reaches this node at ${seen.address} on ${seen.device}, which these settings reconfigure without that address; ` +
      `the SSH connection would be cut. Set ${property} to ${seen.address}, connect through another interface, ` +
      `or set allowManagementAddressChange: true.`,
  };
}

/** Parses ifupdown stanzas in the form `interfaceStanzas` renders them, to compare a live file with the desired one. */
export function parseStanzas(text: string): Stanza[] {
  const stanzas: Stanza[] = [];
  const auto = new Set<string>();
  let current: { name: string; lines: string[] } | undefined;
  const close = () => {
    if (current) stanzas.push({ name: current.name, auto: false, text: current.lines.join("\n") });
    current = undefined;
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [keyword = "", ...words] = line.split(/\s+/);
    if (keyword === "iface") {
      close();
      current = { name: words[0] ?? "", lines: [[keyword, ...words].join(" ")] };
    } else if (keyword === "auto" || keyword.startsWith("allow-")) {
      close();
      words.forEach((w) => auto.add(w));
    } else if (["mapping", "source", "source-directory", "rename", "no-auto-down", "no-scripts"].includes(keyword)) {
      close();
    } else if (current) {
      current.lines.push(`\t${[keyword, ...words].join(" ")}`);
    }
  }
  close();
  return stanzas.map((s) => ({ ...s, auto: auto.has(s.name) }));
}

const bridgePortsOf = (s: Stanza): string[] => /\n\tbridge_ports ([^\n]+)/.exec(s.text)?.[1]?.split(" ") ?? [];

export interface InterfacesApplyInput {
  after: NodeNetworkInputs;
  /** The node's /etc/network/interfaces as read now. */
  liveMain: string;
  /** Our drop-in as read now; null when absent. */
  liveDropIn: string | null;
  jobId: string;
}

export interface InterfacesApply {
  plan: InterfacesApplyPlan;
  /** What to upload to each plan file's staged path before starting the job. */
  uploads: { staged: string; content: string }[];
}

/**
 * Decides what an apply must do, from what the node has now (so drift is corrected too): which
 * files change, which interfaces are taken down under their current settings and which come up
 * under the new ones. A bridge and its port always move together. Null when nothing changes.
 */
export function planInterfacesApply(input: InterfacesApplyInput): InterfacesApply | null {
  const { after, liveMain, liveDropIn } = input;
  const renderedDropIn = renderInterfacesDropIn(after);
  const desired = interfaceStanzas(after);
  const takeOver = takeOverInterfaces(liveMain, desired.map((s) => s.name));
  const live = parseStanzas(liveDropIn ?? "");
  const same = (a: Stanza, b: Stanza) => a.name === b.name && a.text === b.text && a.auto === b.auto;
  const bounce = new Set<string>([
    ...takeOver.takenOver,
    ...live.filter((s) => !desired.some((d) => same(d, s))).map((s) => s.name),
    ...desired.filter((d) => !live.some((s) => same(d, s))).map((d) => d.name),
  ]);
  for (const s of [...live, ...desired]) {
    const ports = bridgePortsOf(s);
    if (bounce.has(s.name)) ports.forEach((p) => bounce.add(p));
    if (ports.some((p) => bounce.has(p))) bounce.add(s.name);
  }
  const uploads: InterfacesApply["uploads"] = [];
  const files: InterfacesApplyPlan["files"] = [];
  const stage = (live: string, content: string) => {
    const staged = `${stateDirectory}/staged/${live.split("/").pop() ?? "file"}`;
    uploads.push({ staged, content });
    files.push({ live, staged });
  };
  if (takeOver.text !== liveMain) stage(paths.interfaces, takeOver.text);
  if (renderedDropIn !== liveDropIn) stage(paths.interfacesDropIn, renderedDropIn);
  if (bounce.size === 0 && files.length === 0) return null;
  const isBridge = (name: string) => [...live, ...desired].some((s) => s.name === name && bridgePortsOf(s).length > 0);
  const downNames = [...new Set([...live.map((s) => s.name), ...takeOver.takenOver])].filter((n) => bounce.has(n));
  return {
    uploads,
    plan: {
      jobId: input.jobId,
      files,
      takeDown: [...downNames.filter(isBridge), ...downNames.filter((n) => !isBridge(n))],
      flush: desired.flatMap(bridgePortsOf).filter((p) => bounce.has(p)),
      bringUp: desired.filter((d) => d.auto && bounce.has(d.name)).map((d) => d.name),
      confirmSeconds: after.confirmTimeoutSeconds,
    },
  };
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

export function parseNetworkProbe(output: string): NetworkProbe {
  const probe: NetworkProbe = { files: {}, hostname: "", fqdn: "", services: {}, links: [] };
  for (const line of output.split("\n")) {
    const [tag, ...fields] = line.split("\t");
    if (tag === "file") {
      const [path = "", state = "", data = ""] = fields;
      probe.files[path] = state === "present" ? Buffer.from(data, "base64").toString("utf8") : null;
    } else if (tag === "hostname") probe.hostname = fields[0] ?? "";
    else if (tag === "fqdn") probe.fqdn = fields[0] ?? "";
    else if (tag === "service") probe.services[fields[0] ?? ""] = { active: fields[1] ?? "", enabled: fields[2] ?? "" };
    else if (tag === "ip") probe.links = parseLinks(fields.join("\t"));
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
