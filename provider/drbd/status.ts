/**
 * Parsing what DRBD 8.4 (kernel module) and drbd-utils 9 print: /proc/drbd, `drbdsetup status`,
 * `drbdadm role/cstate/dstate` and the init script's status lines.
 */

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

export const UNCONFIGURED: DrbdNodeStatus = { connection: "Unconfigured", role: "Secondary", peerRole: "Unknown", disk: "Diskless", peerDisk: "DUnknown" };

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
export function describeStatus(s: DrbdNodeStatus): string {
  const progress = s.syncPercent !== undefined ? ` ${s.syncPercent}%` : "";
  const sb = s.splitBrain ? " (split brain)" : "";
  return `${s.connection}${progress} ${s.role}/${s.peerRole} ${s.disk}/${s.peerDisk}${sb}`;
}

/** `key<TAB>value` lines. */
export function tabFields(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").filter((l) => l.includes("\t")).map((l) => l.split("\t", 2) as [string, string]));
}

/** One line for logs: `SyncSource 42.1% Primary/Secondary UpToDate/Inconsistent`. */
