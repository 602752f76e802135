/**
 * Parsing what DRBD 8.4 (kernel module) and drbd-utils 9 print: /proc/drbd, `drbdsetup status`,
 * `drbdadm role/cstate/dstate`, `drbdmeta get-gi`, the init script's status lines, and `drbdadm
 * dump`'s verdict on a candidate configuration.
 */
import { parseAdjustDryRun } from "./adjust-dry-run";
import { probeMarker, PROBE_SECTIONS, type ProbeSection } from "./commands";
import { parseRunningIdentity, type RunningIdentity } from "./running-identity";

export const ROLES = ["Primary", "Secondary", "Unknown"] as const;
export type Role = (typeof ROLES)[number];

export const DISK_STATES = ["Diskless", "Attaching", "Failed", "Negotiating", "Inconsistent", "Outdated", "DUnknown", "Consistent", "UpToDate"] as const;
export type DiskState = (typeof DISK_STATES)[number];

/** DRBD 8.4's connection states, plus `Unconfigured` for a minor that is not up. */
export const CONNECTION_STATES = [
  "Unconfigured", "StandAlone", "Disconnecting", "Unconnected", "Timeout", "BrokenPipe", "NetworkFailure", "ProtocolError",
  "TearDown", "WFConnection", "WFReportParams", "Connected", "StartingSyncS", "StartingSyncT", "WFBitMapS", "WFBitMapT",
  "WFSyncUUID", "SyncSource", "SyncTarget", "VerifyS", "VerifyT", "PausedSyncS", "PausedSyncT", "Ahead", "Behind",
] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

/** One node's view of the resource. */
export interface DrbdNodeStatus {
  connection: ConnectionState;
  role: Role;
  peerRole: Role;
  disk: DiskState;
  peerDisk: DiskState;
  /** Percent of the resync done, while one runs. */
  syncPercent?: number;
  /** StandAlone after the kernel logged an unresolved split brain for this device. */
  splitBrain?: boolean;
}

export class DrbdParseError extends Error {}

function oneOf<T extends string>(values: readonly T[], value: string | undefined, what: string): T {
  if (value !== undefined && (values as readonly string[]).includes(value)) return value as T;
  throw new DrbdParseError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
const role = (v: string | undefined) => oneOf(ROLES, v, "DRBD role");
const diskState = (v: string | undefined) => oneOf(DISK_STATES, v, "DRBD disk state");
const connectionState = (v: string | undefined) => oneOf(CONNECTION_STATES, v, "DRBD connection state");

const UNCONFIGURED: DrbdNodeStatus = { connection: "Unconfigured", role: "Secondary", peerRole: "Unknown", disk: "Diskless", peerDisk: "DUnknown" };

export interface ProcDrbdDevice extends DrbdNodeStatus {
  minor: number;
  /** Replication protocol letter; absent while there is no network configuration. */
  protocol?: string;
  /** KiB known to be out of sync. */
  outOfSyncKiB?: number;
}

export interface ProcDrbd {
  /** Kernel module version, such as 8.4.11. */
  version?: string;
  devices: Map<number, ProcDrbdDevice>;
}

const DEVICE_LINE = /^\s*(\d+): cs:(\S+)(?: ro:(\w+)\/(\w+) ds:(\w+)\/(\w+) ([A-C ]) )?/;

/** /proc/drbd of DRBD 8.3/8.4 (`1: cs:SyncSource ro:Primary/Secondary ds:UpToDate/Inconsistent C r-----`). */
export function parseProcDrbd(text: string): ProcDrbd {
  const devices = new Map<number, ProcDrbdDevice>();
  let version: string | undefined;
  let current: ProcDrbdDevice | undefined;
  for (const line of text.split("\n")) {
    const v = /^version: (\S+)/.exec(line);
    if (v) version = v[1];
    const d = DEVICE_LINE.exec(line);
    if (d) {
      const minor = Number(d[1]);
      current =
        d[2] === "Unconfigured"
          ? { ...UNCONFIGURED, minor }
          : {
              minor,
              connection: connectionState(d[2]),
              role: role(d[3]),
              peerRole: role(d[4]),
              disk: diskState(d[5]),
              peerDisk: diskState(d[6]),
              ...(d[7] && d[7] !== " " ? { protocol: d[7] } : {}),
            };
      devices.set(minor, current);
      continue;
    }
    if (!current) continue;
    const oos = /\boos:(\d+)/.exec(line);
    if (oos) current.outOfSyncKiB = Number(oos[1]);
    const progress = /(?:sync'ed|verified):\s*(\d+(?:\.\d+)?)%/.exec(line);
    if (progress && isSyncing(current.connection)) current.syncPercent = Number(progress[1]);
  }
  return { ...(version ? { version } : {}), devices };
}

/**
 * Whether the two nodes have finished their handshake: connected, or already in a resync, verify or
 * congestion state that follows it. Before that (WFReportParams, WFBitMap*, WFSyncUUID, StartingSync*)
 * the disk states are not yet the ones DRBD settles on.
 */
export function isEstablished(state: ConnectionState): boolean {
  return state === "Connected" || isSyncing(state) || state === "VerifyS" || state === "VerifyT" || state === "Ahead" || state === "Behind";
}

export function isSyncing(state: ConnectionState): boolean {
  return state === "SyncSource" || state === "SyncTarget" || state === "PausedSyncS" || state === "PausedSyncT";
}

/** `drbdsetup status RES` (which `drbdadm status RES` runs) as drbd-utils 9 prints it for an 8.4 module. */
export interface DrbdStatusReport {
  name: string;
  role: Role;
  disk: DiskState;
  suspended?: string;
  /** Connection to the peer, in 8.4 names. */
  connection: ConnectionState;
  peerRole: Role;
  peerDisk: DiskState;
  syncPercent?: number;
}

/**
 * drbd-utils 9 prints 8.4 state in DRBD 9 words: a connected peer is `replication:Established`, a
 * peer being waited for is `connection:Connecting`; map them back to 8.4's names.
 */
const NINE_TO_84: Record<string, ConnectionState> = { Established: "Connected", Connecting: "WFConnection", Off: "WFReportParams", Connected: "WFReportParams" };

/** The `key:value` words of one status line. */
function fieldsOf(line: string): Record<string, string> {
  return Object.fromEntries(line.trim().split(/\s+/).filter((w) => w.includes(":")).map((w) => [w.slice(0, w.indexOf(":")), w.slice(w.indexOf(":") + 1)]));
}

export function parseDrbdStatus(text: string): DrbdStatusReport | undefined {
  const lines = text.replace(/\x1b\[[0-9;]*m/g, "").split("\n").filter((l) => l.trim() !== "");
  const at = lines.findIndex((l) => /^\S+ role:/.test(l));
  if (at < 0) return undefined;
  const head = fieldsOf(lines[at]!);
  const rest = lines.slice(at + 1);
  const device = rest.map(fieldsOf).find((f) => "disk" in f) ?? {};
  const peerLine = rest.find((l) => /^\s+peer\b/.test(l));
  const peer = fieldsOf(peerLine ?? "");
  const peerDevice = rest.map(fieldsOf).find((f) => "replication" in f || "peer-disk" in f) ?? {};
  // An established link prints the peer's role and no connection word; its state is the replication's.
  const linkUp = peerLine !== undefined && peer.connection === undefined;
  const word = peerLine === undefined ? "StandAlone" : linkUp ? peerDevice.replication ?? "Off" : peer.connection!;
  return {
    name: lines[at]!.split(" ")[0]!,
    role: role(head.role),
    disk: diskState(device.disk),
    ...(head.suspended ? { suspended: head.suspended } : {}),
    connection: connectionState(NINE_TO_84[word] ?? word),
    peerRole: linkUp ? role(peer.role ?? "Unknown") : "Unknown",
    peerDisk: peerDevice["peer-disk"] ? diskState(peerDevice["peer-disk"]) : "DUnknown",
    ...(peerDevice.done !== undefined ? { syncPercent: Number(peerDevice.done) } : {}),
  };
}

/** `drbdadm role RES`: `Primary/Secondary`, or `Unconfigured`. */
export function parseRole(text: string): { role: Role; peerRole: Role } | "Unconfigured" {
  const t = text.trim();
  if (t === "Unconfigured") return t;
  const [local, peer] = t.split("/");
  return { role: role(local), peerRole: role(peer) };
}

/** `drbdadm cstate RES`: one 8.4 connection state. */
export function parseConnectionState(text: string): ConnectionState {
  return connectionState(text.trim());
}

/** `drbdadm dstate RES`: `UpToDate/Inconsistent` (from the kernel), or one word from the meta-data when down. */
export function parseDiskStates(text: string): { disk: DiskState; peerDisk?: DiskState } {
  const [local, peer] = text.trim().split("/");
  return { disk: diskState(local), ...(peer ? { peerDisk: diskState(peer) } : {}) };
}

/** The seed's `/etc/init.d/drbd status` lines: `1:test-disk Connected Primary/Secondary UpToDate/UpToDate C`. */
export function parseInitScriptStatus(text: string): Map<string, DrbdNodeStatus & { minor: number }> {
  const out = new Map<string, DrbdNodeStatus & { minor: number }>();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+):(\S+)\s+(\w+)(?:\s+(\w+)\/(\w+)\s+(\w+)\/(\w+))?/.exec(line);
    if (!m) continue;
    const base = m[3] === "Unconfigured" ? { ...UNCONFIGURED } : { connection: connectionState(m[3]), role: role(m[4]), peerRole: role(m[5]), disk: diskState(m[6]), peerDisk: diskState(m[7]) };
    const progress = /sync'ed:\s*(\d+(?:\.\d+)?)%/.exec(line);
    out.set(m[2]!, { minor: Number(m[1]), ...base, ...(progress ? { syncPercent: Number(progress[1]) } : {}) });
  }
  return out;
}

/** What the status probe found on one node. */
export interface NodeProbe {
  /** `uname -n`: must equal the node's `hostname` input. */
  nodename: string;
  /** Version of the DRBD kernel module, loaded or installed; empty when there is none. */
  moduleVersion: string;
  status: DrbdNodeStatus;
  /** The resource is up in the kernel under this name. */
  up: boolean;
  /** The minor is configured in the kernel, but not for this resource: another one holds it. */
  minorTaken: boolean;
  /** The installed /etc/drbd.d/NAME.res, when there is one. */
  installedConfig?: string;
  /** What the kernel runs the resource on (minor, disks, addresses), when it is up. */
  identity?: RunningIdentity;
  /** The option changes `drbdadm adjust` would make to the running resource (see `parseAdjustDryRun`), when there are any. */
  runtimeDrift?: string[];
}

/**
 * Splits the output of `buildStatusProbeScript` and reads the resource's state from it:
 * /proc/drbd's line for the minor when there is one (it has the sync progress), else
 * `drbdsetup status`.
 */
export function parseStatusProbe(output: string, resource: { name: string; minor: number }): NodeProbe {
  const sections = splitProbe(output);
  const head = tabFields(sections.head);
  const proc = parseProcDrbd(sections.proc).devices.get(resource.minor);
  const adm = parseDrbdStatus(sections.status.replace(/^exit\t\d+$/m, ""));
  const up = adm?.name === resource.name;
  let base: DrbdNodeStatus = { ...UNCONFIGURED };
  if (proc) {
    const { minor: _minor, protocol: _protocol, outOfSyncKiB: _oos, ...status } = proc;
    base = status;
  } else if (adm && up) {
    const { name: _name, suspended: _suspended, ...status } = adm;
    base = status;
  }
  const splitBrain = base.connection === "StandAlone" && sections.kernel.includes("Split-Brain detected but unresolved");
  const runtimeDrift = parseAdjustDryRun(sections.adjust);
  const identity = up ? parseRunningIdentity(sections.show) : undefined;
  return {
    nodename: head.nodename ?? "",
    moduleVersion: head.module ?? "",
    status: { ...base, splitBrain },
    up,
    minorTaken: proc !== undefined && proc.connection !== "Unconfigured" && !up,
    ...(sections.config !== "" ? { installedConfig: sections.config } : {}),
    ...(identity ? { identity } : {}),
    ...(runtimeDrift.length > 0 ? { runtimeDrift } : {}),
  };
}

function splitProbe(output: string): Record<"head" | ProbeSection, string> {
  const out: Record<"head" | ProbeSection, string> = { head: "", proc: "", status: "", show: "", kernel: "", adjust: "", config: "" };
  let current: "head" | ProbeSection = "head";
  for (const line of output.split(/(?<=\n)/)) {
    const section = PROBE_SECTIONS.find((s) => line === `${probeMarker(s)}\n`);
    if (section) current = section;
    else out[current] += line;
  }
  return out;
}

/** `key<TAB>value` lines. */
function tabFields(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").filter((l) => l.includes("\t")).map((l) => l.split("\t", 2) as [string, string]));
}

/** One line for logs: `SyncSource 42.1% Primary/Secondary UpToDate/Inconsistent`. */
export function describeStatus(s: DrbdNodeStatus): string {
  const progress = s.syncPercent !== undefined ? ` ${s.syncPercent}%` : "";
  const sb = s.splitBrain ? " (split brain)" : "";
  return `${s.connection}${progress} ${s.role}/${s.peerRole} ${s.disk}/${s.peerDisk}${sb}`;
}

/** Generation identifiers as `drbdmeta … get-gi` prints them: `CURRENT:BITMAP:HIST1:HIST2:1:1:0:0:0:0:0`. */
export interface GenerationIdentifiers {
  current: string;
  bitmap: string;
  history: [string, string];
  consistent: boolean;
  wasUpToDate: boolean;
  /** create-md sets the current UUID to 4 until the device first becomes UpToDate. */
  justCreated: boolean;
}

export function parseGenerationIdentifiers(text: string): GenerationIdentifiers {
  const line = text.split("\n").find((l) => /^[0-9A-F]{16}:/i.test(l.trim()));
  const parts = line?.trim().split(":") ?? [];
  if (parts.length < 11) throw new DrbdParseError(`unexpected generation identifiers: ${JSON.stringify(text.trim())}`);
  const [current, bitmap, h1, h2, consistent, wasUpToDate] = parts as [string, string, string, string, string, string];
  return { current, bitmap, history: [h1, h2], consistent: consistent === "1", wasUpToDate: wasUpToDate === "1", justCreated: /^0*4$/.test(current) };
}

export interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type MetadataProbe = { found: true; gi: GenerationIdentifiers } | { found: false };

/**
 * The answer of `buildMetadataProbeCommand`: valid meta-data (keep it), or none (create-md may run).
 * Anything else (too small, missing device) is an error carrying drbdmeta's own words.
 */
export function parseMetadataProbe(outcome: CommandOutcome): MetadataProbe {
  if (outcome.exitCode === 0) return { found: true, gi: parseGenerationIdentifiers(outcome.stdout) };
  if (outcome.exitCode === 1) return { found: false };
  throw new DrbdParseError(`drbdmeta could not read the meta-data area (exit code ${outcome.exitCode}): ${(outcome.stderr || outcome.stdout).trim()}`);
}

export type ConfigCheck = { ok: true } | { ok: false; errors: string[] };

/**
 * drbdadm's verdict on a candidate configuration (`buildCheckConfigScript`). Errors are drbdadm's
 * lines verbatim, with the candidate's temporary paths replaced by the paths it will have once
 * installed, so the messages point at the file users will look at. A dump can exit 0 yet complain
 * that the node's address is not on this host (`up` then fails) or show the resource ignored (no
 * `on` section for this `uname -n`): both count as errors.
 */
export function parseConfigCheck(outcome: CommandOutcome, name: string, rename: Readonly<Record<string, string>> = {}): ConfigCheck {
  const fix = (line: string) => Object.entries(rename).reduce((l, [from, to]) => l.split(from).join(to), line);
  const errors = outcome.stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "").map(fix);
  const ignored = new RegExp(`^# resource ${escapeRegExp(name)} on (\\S+): ignored`, "m").exec(outcome.stdout);
  if (ignored) errors.push(`resource ${name}: no "on ${ignored[1]}" section: a node's hostname must be its \`uname -n\``);
  const ipMissing = errors.some((l) => l.includes("not found on this host"));
  if (outcome.exitCode !== 0 || ignored || ipMissing) return { ok: false, errors: errors.length > 0 ? errors : [`drbdadm exited with code ${outcome.exitCode}`] };
  return { ok: true };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** `buildVolumeContentProbeScript`'s answer. */
export interface VolumeContent {
  /** blkid's type (ext3, swap, LVM2_member…); empty when it finds none. */
  signature: string;
  /** The first MiB is all zeros. */
  headIsZero: boolean;
  /** Something is on it: a signature or non-zero bytes at the start. */
  holdsData: boolean;
}

export function parseVolumeContent(text: string): VolumeContent {
  const fields = tabFields(text);
  const signature = (fields.signature ?? "").trim();
  const headIsZero = fields.head === "zero";
  return { signature, headIsZero, holdsData: signature !== "" || !headIsZero };
}

/** `buildDeviceSizesScript`'s answer: bytes per device, undefined for a device that does not exist. */
export function parseDeviceSizes(text: string): Map<string, number | undefined> {
  const sizes = new Map<string, number | undefined>();
  for (const line of text.split("\n")) {
    const [tag, device, bytes] = line.split("\t");
    if (tag === "size" && device) sizes.set(device, bytes === "-" || bytes === undefined ? undefined : Number(bytes));
  }
  return sizes;
}
