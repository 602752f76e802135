/**
 * NodeNetwork's decisions: how input changes are applied, which changes are refused because they
 * would cut the provider off, and which interfaces an apply has to bounce.
 */
import { nested, type DiffRules } from "../diff";
import { connectionFieldRules } from "../lifecycle";
import type { InputFailure } from "../errors";
import type { InterfacesApplyPlan } from "./apply";
import type { LinkState, NetworkProbe, ObservedAddress } from "./probe";
import { interfaceStanzas, paths, renderInterfacesDropIn, stateDirectory, takeOverInterfaces, type Stanza } from "./render";
import { ownNames, type NodeNetworkInputs } from "./schema";

/**
 * Every change is applied in place: the node stays the same machine. Even a new connection.host
 * is an update, because only the update sees the old address, through which the new settings are
 * applied before the provider reconnects at the new one.
 */
export const nodeNetworkRules: DiffRules = {
  connection: nested({ ...connectionFieldRules, host: "update" }),
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
  /** The interfaces as the kernel runs them now: one already running as desired is not bounced. */
  running?: Pick<NetworkProbe, "links" | "defaultRoutes">;
}

const hasAddress = (link: LinkState | undefined, address: string, prefixLength: number) =>
  !!link && link.addresses.some((a) => a.family === "inet" && a.address === address && a.prefixLength === prefixLength);

/**
 * The desired interfaces the kernel already runs exactly so: up, with the address (and default
 * route) the inputs give, a bridge with its port. Writing their files is enough; bouncing them
 * would cut DRBD, Heartbeat and the guests' bridge for nothing (a cluster built by hand whose
 * stanzas move into the package's file, say).
 */
export function realizedInterfaces(n: NodeNetworkInputs, running: Pick<NetworkProbe, "links" | "defaultRoutes">): Set<string> {
  const link = (name: string) => running.links.find((l) => l.name === name && l.up);
  const routed = (device: string) => !n.public.gateway || running.defaultRoutes.some((r) => r.gateway === n.public.gateway && r.device === device);
  const realized = new Set<string>();
  const pub = n.public;
  if (pub.bridge) {
    const bridge = link(pub.bridge);
    if (bridge?.kind === "bridge" && hasAddress(bridge, pub.address, pub.prefixLength) && routed(pub.bridge)) realized.add(pub.bridge);
    const port = link(pub.device);
    if (port?.master === pub.bridge && !port.addresses.some((a) => a.family === "inet")) realized.add(pub.device);
  } else {
    const nic = link(pub.device);
    if (nic && !nic.master && hasAddress(nic, pub.address, pub.prefixLength) && routed(pub.device)) realized.add(pub.device);
  }
  const cross = link(n.crossover.device);
  if (cross && !cross.master && hasAddress(cross, n.crossover.address, n.crossover.prefixLength)) realized.add(n.crossover.device);
  return realized;
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
  const realized = input.running ? realizedInterfaces(after, input.running) : new Set<string>();
  const wanted = new Set(desired.map((d) => d.name));
  const bounce = new Set<string>(
    [
      ...takeOver.takenOver,
      ...live.filter((s) => !desired.some((d) => same(d, s))).map((s) => s.name),
      ...desired.filter((d) => !live.some((s) => same(d, s))).map((d) => d.name),
    ].filter((name) => !(wanted.has(name) && realized.has(name))),
  );
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
