/**
 * Setting up migration between the two dom0s, the pure parts. For xl: root SSH from one dom0 to
 * the other over the crossover link with a key of its own, pinned host keys, and a forced command
 * that lets through only xl's migration receiver and the copy of a saved guest. For xm: xend's
 * relocation server, listening on the crossover address and accepting the peer only.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { literal, script, sh, type Shell } from "../shell";
import { shellFile } from "../shell-file";
import { xenHostSchema } from "./schema";

export const MIGRATION_KEY_PATH = "/root/.ssh/xen-ha-migration";
export const MIGRATION_KNOWN_HOSTS_PATH = "/root/.ssh/xen-ha-known_hosts";
export const AUTHORIZED_KEYS_PATH = "/root/.ssh/authorized_keys";
export const MIGRATION_GATE_PATH = "/usr/local/sbin/xen-ha-migration-gate";
export const SAVE_DIR = "/var/lib/xen/save";
export const XEND_CONFIG_PATH = "/etc/xen/xend-config.sxp";
export const XEND_RELOCATION_PORT = 8002;

const KEY_COMMENT = "xen-ha-migration";
const MARKER = "--8<--";

export function saveImagePath(name: string): string {
  return `${SAVE_DIR}/${name}.save`;
}

/** The ssh that xl migrate and the image copy run: our key, our pinned known_hosts, never a prompt. */
export function migrationSshCommand(connectTimeoutSeconds = 15): Shell {
  return sh`ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o ${`UserKnownHostsFile=${MIGRATION_KNOWN_HOSTS_PATH}`} -o ${`ConnectTimeout=${connectTimeoutSeconds}`} -i ${MIGRATION_KEY_PATH}`;
}

/** Streams a saved guest to the peer; its gate writes it to the same path there. */
export function buildSendSaveImageCommand(name: string, peerAddress: string): Shell {
  return sh`${migrationSshCommand()} ${peerAddress} ${`receive-save ${name}`} < ${saveImagePath(name)}`;
}

/** Makes this dom0's migration key once, then prints its public half and the host's own key. */
export function buildMigrationKeysCommand(hostName: string): Shell {
  return script(
    literal("umask 077"),
    literal("mkdir -p /root/.ssh"),
    sh`test -f ${MIGRATION_KEY_PATH} || ssh-keygen -q -t ed25519 -N '' -C ${`${KEY_COMMENT}@${hostName}`} -f ${MIGRATION_KEY_PATH}`,
    sh`cat ${`${MIGRATION_KEY_PATH}.pub`}`,
    literal(`echo '${MARKER}'`),
    literal("cat /etc/ssh/ssh_host_ed25519_key.pub"),
  );
}

export interface MigrationKeys {
  /** Public key the dom0 migrates with, `ssh-ed25519 AAAA… comment`. */
  migrationKey: string;
  /** The dom0's own SSH host key, to pin on the peer. */
  hostKey: string;
}

export function parseMigrationKeys(text: string): MigrationKeys {
  const [migrationKey = "", hostKey = ""] = text.split(`\n${MARKER}\n`).map((s) => s.trim());
  for (const key of [migrationKey, hostKey]) {
    if (!PUBLIC_KEY.test(key)) throw new Error(`not an OpenSSH public key: ${JSON.stringify(key.slice(0, 80))}`);
  }
  return { migrationKey, hostKey };
}

const PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) ([A-Za-z0-9+/]+={0,2})( [^\n]*)?$/;

/** `SHA256:…` as ssh-keygen -l prints it, to hold a host key read over SSH to the pinned fingerprint. */
export function fingerprintOfPublicKey(line: string): string {
  const blob = PUBLIC_KEY.exec(line.trim())?.[3];
  if (!blob) throw new Error("not an OpenSSH public key");
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

/**
 * The peer's line in root's authorized_keys: only from its crossover address, no pty or forwarding,
 * and whatever it asks for goes through the gate.
 */
export function renderAuthorizedKeysLine(peerMigrationKey: string, peerCrossoverAddress: string): string {
  const m = PUBLIC_KEY.exec(peerMigrationKey.trim());
  if (!m) throw new Error("the peer's migration key is not an OpenSSH public key");
  return `from="${peerCrossoverAddress}",restrict,command="${MIGRATION_GATE_PATH}" ${m[1]} ${m[3]} ${KEY_COMMENT}`;
}

function isOurs(line: string): boolean {
  return line.includes(`command="${MIGRATION_GATE_PATH}"`);
}

/** authorized_keys with our line in place of any earlier one of ours; other keys are left alone. */
export function mergeAuthorizedKeys(existing: string, line: string): string {
  return `${[...withoutOurs(existing), line].join("\n")}\n`;
}

export function removeFromAuthorizedKeys(existing: string): string {
  const kept = withoutOurs(existing);
  return kept.length === 0 ? "" : `${kept.join("\n")}\n`;
}

function withoutOurs(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "" && !isOurs(l));
}

/** The whole of our known_hosts: the peer's host key under its crossover name and address. */
export function renderKnownHosts(peer: { crossoverAddress: string; crossoverName?: string | undefined; hostKey: string }): string {
  const m = PUBLIC_KEY.exec(peer.hostKey.trim());
  if (!m) throw new Error("the peer's host key is not an OpenSSH public key");
  const names = [peer.crossoverName, peer.crossoverAddress].filter((n): n is string => n !== undefined);
  return `${names.join(",")} ${m[1]} ${m[3]}\n`;
}

/**
 * The forced command. xl migrate runs `xl [-t] [-T] [-v…] migrate-receive [-e] [-d] [-p]` on the
 * receiver; a non-live move streams a saved guest as `receive-save NAME`. Heartbeat's resource
 * scripts ask the peer `xl list NAME` (or `xm list NAME`) and `drbdadm role RES` before they start
 * a guest. Nothing else passes, and names never start with - or . (no options, no paths). The
 * program is migration-gate.sh beside this module, installed as it is; it saves into `SAVE_DIR`.
 */
export function renderMigrationGate(): string {
  return shellFile(__dirname, "migration-gate.sh");
}

// ---- xl: the trust between the two dom0s, as a resource ----

export const xenMigrationTrustSchema = z.object({
  /** The two dom0s; each lets the other in over the crossover link. */
  hosts: z
    .array(xenHostSchema)
    .length(2, "needs exactly the two dom0s of the cluster")
    .refine((h) => h[0]?.name !== h[1]?.name, "names a host twice")
    .refine((h) => h[0]?.crossoverAddress !== h[1]?.crossoverAddress, "gives both hosts the same crossoverAddress"),
});
export type XenMigrationTrustInputs = z.output<typeof xenMigrationTrustSchema>;

/** Asks the peer, through its gate, for the dom0's line of `xl list`: proves key, known_hosts, from= and gate at once. */
export function buildTrustProbeCommand(peerAddress: string): Shell {
  return sh`${migrationSshCommand()} ${peerAddress} ${"xl list Domain-0"}`;
}

/** What one dom0 holds of the trust, in one round trip; `parseTrustSurvey` reads it. */
export function buildTrustSurveyCommand(): Shell {
  const marker = literal(`echo '${MARKER}'`);
  return script(
    sh`if [ -f ${`${MIGRATION_KEY_PATH}.pub`} ] && [ -f ${MIGRATION_KEY_PATH} ]; then cat ${`${MIGRATION_KEY_PATH}.pub`}; fi`,
    marker,
    sh`if [ -f ${AUTHORIZED_KEYS_PATH} ]; then grep -F ${`command="${MIGRATION_GATE_PATH}"`} ${AUTHORIZED_KEYS_PATH} || true; fi`,
    marker,
    sh`if [ -f ${MIGRATION_KNOWN_HOSTS_PATH} ]; then cat ${MIGRATION_KNOWN_HOSTS_PATH}; fi`,
    marker,
    sh`if [ -x ${MIGRATION_GATE_PATH} ]; then sha256sum ${MIGRATION_GATE_PATH} | cut -d' ' -f1; fi`,
  );
}

export interface TrustSurvey {
  migrationKey: string | undefined;
  authorizedLines: string[];
  knownHosts: string;
  gateSha256: string | undefined;
}

export function parseTrustSurvey(text: string): TrustSurvey {
  const [key = "", lines = "", known = "", gate = ""] = text.split(`\n${MARKER}\n`);
  return {
    migrationKey: key.trim() || undefined,
    authorizedLines: lines.split("\n").map((l) => l.trim()).filter(Boolean),
    knownHosts: known.trim() === "" ? "" : `${known.trim()}\n`,
    gateSha256: gate.trim() || undefined,
  };
}

export function gateSha256(): string {
  return createHash("sha256").update(renderMigrationGate()).digest("hex");
}

/** The files a dom0 must hold for its peer: what `survey` shows against what it should, per file. */
export function trustDrift(
  survey: TrustSurvey,
  expected: { authorizedLine: string; knownHosts: string },
): string[] {
  const drift: string[] = [];
  if (!survey.migrationKey) drift.push("migration key");
  if (survey.authorizedLines.length !== 1 || survey.authorizedLines[0] !== expected.authorizedLine) drift.push("authorized_keys");
  if (survey.knownHosts !== expected.knownHosts) drift.push("known_hosts");
  if (survey.gateSha256 !== gateSha256()) drift.push("gate");
  return drift;
}

/** Removes the key pair, the pinned known_hosts and the gate (authorized_keys is edited separately). */
export function buildRemoveTrustFilesCommand(): Shell {
  return sh`rm -f -- ${[MIGRATION_KEY_PATH, `${MIGRATION_KEY_PATH}.pub`, MIGRATION_KNOWN_HOSTS_PATH, MIGRATION_GATE_PATH]}`;
}

// ---- xm: xend's relocation server ----

const RELOCATION_KEYS = ["xend-relocation-server", "xend-relocation-port", "xend-relocation-address", "xend-relocation-hosts-allow"];
const RELOCATION_COMMENT = "# Relocation from the peer dom0 only, on the crossover link (pulumi-xen-ha).";

export interface RelocationSettings {
  /** This dom0's crossover address: the relocation server listens there only. */
  listenAddress: string;
  /** The peer's crossover address and name: the only hosts allowed in. */
  peerAddresses: string[];
  port?: number;
}

/** `^192\.168\.1\.2$` as xend-config.sxp spells it (backslashes doubled inside its strings). */
export function hostsAllowPattern(addresses: readonly string[]): string {
  return addresses.map((a) => `^${a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`.replace(/\\/g, "\\\\")).join(" ");
}

/**
 * xend-config.sxp with relocation enabled and limited to the peer. Active relocation lines are
 * replaced by one block at the end; comments and other settings stay as they were.
 */
export function applyRelocationSettings(sxp: string, settings: RelocationSettings): string {
  const kept = sxp.split("\n").filter((l) => l !== RELOCATION_COMMENT && !RELOCATION_KEYS.some((k) => new RegExp(`^\\s*\\(${k}\\s`).test(l)));
  while (kept.length > 0 && kept[kept.length - 1]!.trim() === "") kept.pop();
  const block = [
    RELOCATION_COMMENT,
    "(xend-relocation-server yes)",
    `(xend-relocation-port ${settings.port ?? XEND_RELOCATION_PORT})`,
    `(xend-relocation-address '${settings.listenAddress}')`,
    `(xend-relocation-hosts-allow '${hostsAllowPattern(settings.peerAddresses)}')`,
  ];
  return `${[...kept, "", ...block].join("\n")}\n`;
}

/** The relocation settings in effect (the last active line of each), to notice drift. */
export function readRelocationSettings(sxp: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const line of sxp.split("\n")) {
    const m = /^\s*\((xend-relocation-[a-z-]+)\s+(.*)\)\s*$/.exec(line);
    if (m) found[m[1]!] = m[2]!.replace(/^'(.*)'$/, "$1");
  }
  return found;
}

/** xend reads its config only when it starts; a restart keeps running guests. */
export function buildRestartXendCommand(): Shell {
  return literal("/etc/init.d/xend restart");
}
