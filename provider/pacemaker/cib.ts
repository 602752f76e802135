/**
 * The part of the CIB the package owns, as one model: built from the inputs (`desiredCib`), read
 * from `cibadmin --query` (`ownedCib`), and rendered as crm shell text for `crm configure load
 * update`, which applies it in one CIB commit. Both sides go through the same model, so drift is a
 * plain comparison. Pure.
 *
 * Why the recipe's `drbd:` disks and not `ocf:linbit:drbd` clones: the guest's config, its DRBD
 * resources and their roles stay exactly as they are under Heartbeat, so a running cluster changes
 * manager without restarting a guest, and block-drbd promotes the disk where the guest starts or
 * is migrated to, as it does today. A guest is one primitive, which Pacemaker runs on at most one
 * node; it fences a node it lost before it recovers that node's guests elsewhere
 * (`stonith-enabled=true`, required), a partition without quorum stops its guests
 * (`no-quorum-policy=stop`), and it probes every node for a running guest before it starts one.
 */
import { child, findAll, type XmlElement } from "../xml";
import { guestConfigOf, type FenceDevice, type Guest, type PacemakerConfigInputs } from "./schema";

/** Marks what the package made, so a read tells it from what the user added by hand. */
export const OWNER_DESCRIPTION = "managed by pulumi-xen-ha";
/** The node attribute the Xen agent reads the migration target's address from. */
export const MIGRATION_ADDRESS_ATTRIBUTE = "xen-ha-migration-address";
/** The home preference's score; stickiness above it keeps a guest where it runs (`autoFailback: false`). */
export const HOME_SCORE = 100;

export interface CibOp {
  name: string;
  interval: string;
  timeout: string;
}

export interface CibPrimitive {
  id: string;
  /** `ocf:heartbeat:Xen`, `stonith:fence_ipmilan`. */
  agent: string;
  params: Record<string, string>;
  meta: Record<string, string>;
  ops: CibOp[];
}

export interface CibLocation {
  id: string;
  rsc: string;
  node: string;
  /** A number, or `-INFINITY`. */
  score: string;
}

export interface CibModel {
  properties: Record<string, string>;
  rscDefaults: Record<string, string>;
  primitives: CibPrimitive[];
  locations: CibLocation[];
}

export const fenceId = (node: string) => `fence-${node.split(".")[0]}`;
export const homeLocationId = (guest: string) => `${guest}-home`;
export const fenceLocationId = (node: string) => `${fenceId(node)}-not-on-self`;

/** The cluster properties the package sets; others stay the user's. */
export function propertiesOf(c: PacemakerConfigInputs): Record<string, string> {
  return {
    "stonith-enabled": c.fencing ? "true" : "false",
    "stonith-timeout": `${c.fenceTimeoutSeconds}s`,
    "no-quorum-policy": c.noQuorumPolicy,
    // Left on by a stack taken down with the guests kept running (CorosyncCluster's delete).
    "maintenance-mode": "false",
  };
}

function fencePrimitive(d: FenceDevice): CibPrimitive {
  const params: Record<string, string> = { ...d.parameters, pcmk_host_list: d.node };
  if (d.agent === "fence_xen_ha_lab" && params.plug === undefined) params.plug = d.node.split(".")[0]!;
  if (d.delaySeconds > 0) params.pcmk_delay_base = `${d.delaySeconds}s`;
  return { id: fenceId(d.node), agent: `stonith:${d.agent}`, params, meta: {}, ops: [{ name: "monitor", interval: "60s", timeout: "60s" }] };
}

function guestPrimitive(g: Guest): CibPrimitive {
  return {
    id: g.name,
    agent: "ocf:heartbeat:Xen",
    params: { xmfile: guestConfigOf(g), name: g.name, shutdown_timeout: String(g.shutdownTimeoutSeconds), node_ip_attribute: MIGRATION_ADDRESS_ATTRIBUTE },
    meta: { "allow-migrate": String(g.allowMigrate), "target-role": g.state === "running" ? "Started" : "Stopped" },
    ops: [
      { name: "monitor", interval: "10s", timeout: "60s" },
      { name: "start", interval: "0s", timeout: `${g.startTimeoutSeconds}s` },
      { name: "stop", interval: "0s", timeout: `${g.shutdownTimeoutSeconds + 60}s` },
      { name: "migrate_to", interval: "0s", timeout: `${g.migrationTimeoutSeconds}s` },
      { name: "migrate_from", interval: "0s", timeout: "120s" },
    ],
  };
}

export function desiredCib(c: PacemakerConfigInputs): CibModel {
  const fencing = c.fencing ?? [];
  return {
    properties: propertiesOf(c),
    rscDefaults: { "resource-stickiness": c.autoFailback ? "0" : String(HOME_SCORE * 2) },
    primitives: [...fencing.map(fencePrimitive), ...c.guests.map(guestPrimitive)],
    locations: [
      // A node never runs the device that fences it: it could not fence itself when it is the one lost.
      ...fencing.map((d) => ({ id: fenceLocationId(d.node), rsc: fenceId(d.node), node: d.node, score: "-INFINITY" })),
      ...c.guests.map((g) => ({ id: homeLocationId(g.name), rsc: g.name, node: g.home, score: String(HOME_SCORE) })),
    ],
  };
}

/** crm shell's quoting for a parameter value (the schema keeps `"` and `\` out). */
const crmValue = (v: string) => (/^[A-Za-z0-9_.:/@+-]+$/.test(v) ? v : `"${v}"`);
const pairs = (r: Record<string, string>) =>
  Object.keys(r)
    .sort()
    .map((k) => `${k}=${crmValue(r[k]!)}`)
    .join(" ");

/** The model as crm shell text, for `crm configure load update FILE`. */
export function renderCrm(m: CibModel): string {
  const lines = [`property cib-bootstrap-options: ${pairs(m.properties)}`, `rsc_defaults rsc-options: ${pairs(m.rscDefaults)}`];
  for (const p of m.primitives) {
    const parts = [`primitive ${p.id} ${p.agent}`, `description="${OWNER_DESCRIPTION}"`];
    if (Object.keys(p.params).length > 0) parts.push(`params ${pairs(p.params)}`);
    if (Object.keys(p.meta).length > 0) parts.push(`meta ${pairs(p.meta)}`);
    for (const op of p.ops) parts.push(`op ${op.name} interval=${op.interval} timeout=${op.timeout}`);
    lines.push(parts.join(" \\\n    "));
  }
  for (const l of m.locations) lines.push(`location ${l.id} ${l.rsc} ${l.score === "-INFINITY" ? "-inf" : l.score}: ${l.node}`);
  return `${lines.join("\n")}\n`;
}

const nvpairs = (set: XmlElement | undefined): Record<string, string> =>
  Object.fromEntries((set?.children ?? []).filter((e) => e.name === "nvpair").map((e) => [e.attributes.name ?? "", e.attributes.value ?? ""]));

function agentOf(e: XmlElement): string {
  const a = e.attributes;
  return a.provider ? `${a.class}:${a.provider}:${a.type}` : `${a.class}:${a.type}`;
}

/** Pacemaker writes `INFINITY`/`-INFINITY` for the crm shell's `inf`/`-inf`. */
const normalScore = (s: string | undefined) => (s === undefined ? "" : s.replace(/^-inf(inity)?$/i, "-INFINITY").replace(/^\+?inf(inity)?$/i, "INFINITY"));

/**
 * The owned part of a `cibadmin --query` document, restricted to what the desired model names
 * (properties and defaults by name), so settings the user added are not drift.
 */
export function ownedCib(cib: XmlElement, desired: CibModel): CibModel {
  const configuration = findAll(cib, "configuration")[0];
  if (!configuration) throw new Error("the CIB has no configuration section");
  const pick = (all: Record<string, string>, wanted: Record<string, string>) => Object.fromEntries(Object.keys(wanted).filter((k) => k in all).map((k) => [k, all[k]!]));
  const properties = Object.assign({}, ...findAll(configuration, "cluster_property_set").map((s) => nvpairs(s))) as Record<string, string>;
  const defaults = Object.assign({}, ...findAll(child(configuration, "rsc_defaults") ?? { name: "", attributes: {}, children: [] }, "meta_attributes").map((s) => nvpairs(s))) as Record<string, string>;
  const primitives = findAll(configuration, "primitive")
    .filter((p) => p.attributes.description === OWNER_DESCRIPTION)
    .map((p) => ({
      id: p.attributes.id ?? "",
      agent: agentOf(p),
      params: nvpairs(child(p, "instance_attributes")),
      meta: nvpairs(child(p, "meta_attributes")),
      ops: (child(p, "operations")?.children ?? []).map((o) => ({ name: o.attributes.name ?? "", interval: o.attributes.interval ?? "", timeout: o.attributes.timeout ?? "" })),
    }));
  const ids = new Set(primitives.map((p) => p.id));
  const wantedLocations = new Set(desired.locations.map((l) => l.id));
  const locations = findAll(configuration, "rsc_location")
    .filter((l) => ids.has(l.attributes.rsc ?? "") && (wantedLocations.has(l.attributes.id ?? "") || /-(home|not-on-self)$/.test(l.attributes.id ?? "")))
    .map((l) => ({ id: l.attributes.id ?? "", rsc: l.attributes.rsc ?? "", node: l.attributes.node ?? "", score: normalScore(l.attributes.score) }));
  return { properties: pick(properties, desired.properties), rscDefaults: pick(defaults, desired.rscDefaults), primitives, locations };
}

/** Compares in a stable order, so the CIB's own order of elements and attributes is not drift. */
function canonical(m: CibModel): string {
  const sortKeys = (r: Record<string, string>) => Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]]));
  return JSON.stringify({
    properties: sortKeys(m.properties),
    rscDefaults: sortKeys(m.rscDefaults),
    primitives: [...m.primitives]
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((p) => ({ ...p, params: sortKeys(p.params), meta: sortKeys(p.meta), ops: [...p.ops].sort((a, b) => `${a.name}${a.interval}`.localeCompare(`${b.name}${b.interval}`)) })),
    locations: [...m.locations].sort((a, b) => a.id.localeCompare(b.id)).map((l) => ({ ...l, score: normalScore(l.score) })),
  });
}

/**
 * What differs between the CIB and the inputs, as phrases that never hold a parameter's value
 * (fence parameters hold passwords).
 */
export function cibDrift(desired: CibModel, found: CibModel): string[] {
  if (canonical(desired) === canonical(found)) return [];
  const drift: string[] = [];
  for (const [k, v] of Object.entries(desired.properties)) if (found.properties[k] !== v) drift.push(`property ${k}`);
  for (const [k, v] of Object.entries(desired.rscDefaults)) if (found.rscDefaults[k] !== v) drift.push(`resource default ${k}`);
  const byId = new Map(found.primitives.map((p) => [p.id, p]));
  for (const p of desired.primitives) {
    const f = byId.get(p.id);
    if (!f) drift.push(`resource ${p.id} missing`);
    else if (canonical({ properties: {}, rscDefaults: {}, primitives: [p], locations: [] }) !== canonical({ properties: {}, rscDefaults: {}, primitives: [f], locations: [] })) drift.push(`resource ${p.id} differs`);
  }
  for (const f of found.primitives) if (!desired.primitives.some((p) => p.id === f.id)) drift.push(`resource ${f.id} not in the inputs`);
  const locations = new Map(found.locations.map((l) => [l.id, l]));
  for (const l of desired.locations) {
    const f = locations.get(l.id);
    if (!f || f.rsc !== l.rsc || f.node !== l.node || normalScore(f.score) !== normalScore(l.score)) drift.push(`constraint ${l.id}`);
  }
  for (const f of found.locations) if (!desired.locations.some((l) => l.id === f.id)) drift.push(`constraint ${f.id} not in the inputs`);
  return drift;
}

/** Owned resources the inputs no longer name: taken out of the CIB without stopping them. */
export function removedResources(desired: CibModel, found: CibModel): string[] {
  return found.primitives.map((p) => p.id).filter((id) => !desired.primitives.some((p) => p.id === id));
}
