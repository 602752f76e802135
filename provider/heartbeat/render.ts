/**
 * HeartbeatCluster's files (text out) and the commands that put them in force (`Shell` out).
 * Everything but the resource scripts is identical on both nodes.
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import { BOOT_GATE_DROP_IN_PATH, BOOT_GATE_PATH, bootGateScript, renderBootGateDropIn } from "./boot-gate";
import { DOPD_FENCE_PEER_PATH, dopdFencePeerScript } from "./dopd-fence-peer";
import { DOPD_LINES, renderStonithHostLines } from "./fencing";
import { renderResourceScript, resourceScriptPath, type ResourceScriptOptions } from "./resource-script";
import { domainConfigOf, groupIndexOf, type HeartbeatClusterInputs, type NodeIndex } from "./schema";

const HEADER = "# Managed by pulumi-xen-ha (HeartbeatCluster): identical on both nodes; changes here are overwritten.";

export const heartbeatPaths = {
  haCf: "/etc/ha.d/ha.cf",
  authkeys: "/etc/ha.d/authkeys",
  haresources: "/etc/ha.d/haresources",
} as const;

export type AuthMethod = HeartbeatClusterInputs["authMethod"];

export interface AuthKey {
  /** authkeys' key number, 1 to 15. */
  index: number;
  method: AuthMethod;
  secret: string;
}

/**
 * authkeys: `auth N` selects the key this node signs with; every key listed is accepted from the
 * peer, which is what lets a new key be introduced without the nodes ever disagreeing.
 */
export function renderAuthkeys(active: number, keys: readonly AuthKey[]): string {
  if (!keys.some((k) => k.index === active)) throw new Error(`authkeys: the active key ${active} is not listed`);
  return `auth ${active}\n${keys.map((k) => `${k.index} ${k.method} ${k.secret}`).join("\n")}\n`;
}

/** The steady-state authkeys: the cluster's one key, under `index` (1 until a rotation moves it). */
export function renderClusterAuthkeys(c: Pick<HeartbeatClusterInputs, "authKey" | "authMethod">, index = 1): string {
  return renderAuthkeys(index, [{ index, method: c.authMethod, secret: c.authKey }]);
}

/** Heartbeat's time syntax: whole seconds as they are, fractions in milliseconds. */
export function heartbeatTime(seconds: number): string {
  return Number.isInteger(seconds) ? String(seconds) : `${Math.round(seconds * 1000)}ms`;
}

/**
 * ha.cf with every directive the seed sets, and the fencing ones when configured. `udpport` comes
 * before the media lines, which read it when they are parsed. Each node ignores its own ucast
 * lines and the stonith_host line meant for its peer, so the file is the same on both. ucast names
 * the interface that holds the address: the bridge, not its enslaved NIC.
 */
export function renderHaCf(c: HeartbeatClusterInputs): string {
  const ucast = c.links.flatMap((link) =>
    c.nodes.map((n) => (link === "public" ? `ucast ${c.publicInterface} ${n.publicAddress}` : `ucast ${c.crossoverInterface} ${n.crossoverAddress}`)),
  );
  const lines = [
    `logfacility ${c.logFacility}`,
    `udpport ${c.udpPort}`,
    `keepalive ${heartbeatTime(c.keepalive)}`,
    `deadtime ${heartbeatTime(c.deadtime)}`,
    `warntime ${heartbeatTime(c.warntime)}`,
    `initdead ${heartbeatTime(c.initdead)}`,
    ...ucast,
    `auto_failback ${c.autoFailback}`,
    ...(c.watchdog ? [`watchdog ${c.watchdog}`] : []),
    ...(c.debugFile ? [`debugfile ${c.debugFile}`] : []),
    ...c.nodes.map((n) => `node ${n.name}`),
    ...(c.stonith ? renderStonithHostLines(c.stonith, [c.nodes[0].name, c.nodes[1].name]) : []),
    ...(c.dopd ? DOPD_LINES : []),
    // v1 mode: haresources and resource scripts, no Pacemaker.
    "crm no",
  ];
  return `${HEADER}\n${lines.join("\n")}\n`;
}

/** Each node owns the group of DomUs whose home it is. */
export function renderHaresources(c: HeartbeatClusterInputs): string {
  return `${HEADER}\n${c.nodes.map((n, i) => `${n.name} ${c.resourceGroups[i as NodeIndex].name}`).join("\n")}\n`;
}

export interface HeartbeatFile {
  path: string;
  content: string;
  /** Octal mode; authkeys must be 0600 or Heartbeat refuses to start. */
  mode: string;
  /** Holds a secret (the shared key, STONITH passwords): write it over stdin/SFTP only, and never show its content. */
  secret: boolean;
  /** An input it follows (one whose change is an in-place update), for drift reports. */
  property: string;
}

/** Every file HeartbeatCluster writes on node `node`, with its mode. */
export function heartbeatFiles(c: HeartbeatClusterInputs, node: NodeIndex, options: ResourceScriptOptions & { authKeyIndex?: number } = {}): HeartbeatFile[] {
  // With STONITH, ha.cf is the parameter file: release 1's stonith_host carries a device's
  // parameters, passwords among them, on its own line, and ha.cf has no include. So ha.cf is then
  // written 0600 and only ever hashed, like authkeys.
  const fenced = c.stonith !== undefined;
  return [
    { path: heartbeatPaths.authkeys, content: renderClusterAuthkeys(c, options.authKeyIndex), mode: "0600", secret: true, property: "authKey" },
    { path: heartbeatPaths.haCf, content: renderHaCf(c), mode: fenced ? "0600" : "0644", secret: fenced, property: "deadtime" },
    { path: heartbeatPaths.haresources, content: renderHaresources(c), mode: "0644", secret: false, property: "domains" },
    ...([0, 1] as const).map((g) => ({ path: resourceScriptPath(c, g), content: renderResourceScript(c, node, g, options), mode: "0755", secret: false, property: "toolstack" })),
    ...(c.dopd ? [{ path: DOPD_FENCE_PEER_PATH, content: dopdFencePeerScript(), mode: "0755", secret: false, property: "dopd" }] : []),
    ...(c.startAtBoot === "afterCleanStop"
      ? [
          { path: BOOT_GATE_PATH, content: bootGateScript(), mode: "0755", secret: false, property: "startAtBoot" },
          { path: BOOT_GATE_DROP_IN_PATH, content: renderBootGateDropIn(), mode: "0644", secret: false, property: "startAtBoot" },
        ]
      : []),
  ];
}

/** A DomU's home link: `directory/name` pointing at its config `target`. */
export interface HomeLink {
  directory: string;
  name: string;
  target: string;
}

/** The links that decide each DomU's home: `/etc/xen/auto/HAn/NAME` → its config. */
export function autoLinks(c: HeartbeatClusterInputs): HomeLink[] {
  return c.domains.map((d) => ({ directory: c.resourceGroups[groupIndexOf(c, d)].autoDirectory, name: d.name, target: domainConfigOf(d) }));
}

/**
 * Makes both groups' directories hold exactly their DomUs' links. Only symlinks are removed: a file
 * someone put there by hand stays.
 */
export function buildAutoLinksScript(c: HeartbeatClusterInputs): Shell {
  const links = autoLinks(c);
  const steps = c.resourceGroups.flatMap((g) => {
    const mine = links.filter((l) => l.directory === g.autoDirectory);
    return [
      sh`mkdir -p ${g.autoDirectory}`,
      sh`for link in ${g.autoDirectory}/*; do`,
      literal('  [ -L "$link" ] || continue'),
      literal("  keep=no"),
      sh`  for name in ${mine.map((l) => l.name)}; do [ "$(basename "$link")" = "$name" ] && keep=yes; done`,
      literal('  [ "$keep" = yes ] || rm -f "$link"'),
      literal("done"),
      ...mine.map((l) => sh`ln -sfn ${l.target} ${`${l.directory}/${l.name}`}`),
    ];
  });
  return joinLines([literal("set -eu"), ...steps]);
}

/**
 * Removes the home links of every DomU (symlinks only, as above) and then the groups' directories
 * when nothing else is left in them.
 */
export function buildRemoveAutoLinksScript(c: HeartbeatClusterInputs): Shell {
  return joinLines([
    buildAutoLinksScript({ ...c, domains: [] }),
    ...c.resourceGroups.map((g) => sh`rmdir --ignore-fail-on-non-empty ${g.autoDirectory}`),
  ]);
}

/**
 * Takes the stock xendomains out of boot and shutdown: Heartbeat starts and moves the guests now.
 * Stopping it runs its stop action on every DomU, so an active one is stopped only while no DomU
 * runs; otherwise it stays active and the probe reports it.
 */
export function buildDisableStockXendomainsScript(toolstack: HeartbeatClusterInputs["toolstack"]): Shell {
  return joinLines([
    literal("set -eu"),
    literal("if systemctl cat xendomains.service >/dev/null 2>&1; then"),
    literal("  systemctl disable --quiet xendomains.service"),
    literal("  if systemctl is-active --quiet xendomains.service; then"),
    sh`    if [ "$(${toolstack} list | awk 'NR > 1 && $1 != "Domain-0"' | wc -l)" -eq 0 ]; then systemctl stop xendomains.service; fi`,
    literal("  fi"),
    literal("elif [ -e /etc/init.d/xendomains ]; then"),
    literal("  update-rc.d -f xendomains remove"),
    literal("fi"),
  ]);
}

/** Starts Heartbeat (a no-op when it runs). Start both nodes within initdead of each other. */
export function buildStartHeartbeatScript(): Shell {
  return literal("systemctl start heartbeat.service");
}

/** Has Heartbeat start at boot (a no-op when it does). */
export function buildEnableHeartbeatScript(): Shell {
  return literal("systemctl is-enabled --quiet heartbeat.service 2>/dev/null || systemctl enable --quiet heartbeat.service");
}

/**
 * Stops Heartbeat for good on one node. Its unit waits 30 minutes for a stop and never kills (a
 * killed Heartbeat with a watchdog reboots the host), so the wait is bounded here and a stop that
 * does not finish fails with Heartbeat's last log lines instead.
 */
export function buildStopHeartbeatScript(timeoutSeconds: number, debugFile: string | null): Shell {
  return joinLines([
    literal("set -eu"),
    literal("systemctl disable --quiet heartbeat.service"),
    sh`if ! timeout ${String(timeoutSeconds)} systemctl stop heartbeat.service; then`,
    sh`  echo ${`Heartbeat did not stop within ${timeoutSeconds} s; its last log lines:`} >&2`,
    debugFile === null ? literal("  journalctl -u heartbeat.service -n 30 --no-pager >&2 || true") : sh`  tail -n 30 ${debugFile} >&2 || true`,
    literal("  exit 1"),
    literal("fi"),
  ]);
}

/**
 * Installs staged files and has a running Heartbeat reread them (`heartbeat -r`: a changed ha.cf
 * makes it restart in place, keeping its resources; a changed authkeys is reread). Heartbeat
 * notices a change by the file's mtime in whole seconds, so each file gets an mtime later than the
 * one it replaces. The daemon is called directly: its systemd unit has no reload. `quiet` keeps
 * `heartbeat -r`'s output out of errors: refusing an ha.cf, it prints the stonith_host parameters
 * it could not use, passwords among them (its own log on the node has them anyway).
 */
export function buildInstallAndReloadScript(files: readonly { staged: string; live: string }[], options: { quiet?: boolean } = {}): Shell {
  return joinLines([
    literal("set -eu"),
    ...files.flatMap((f) => [
      sh`old=$(stat -c %Y ${f.live} 2>/dev/null || echo 0)`,
      literal('while [ "$(date +%s)" -le "$old" ]; do sleep 1; done'),
      sh`mv -f ${f.staged} ${f.live}`,
      sh`touch ${f.live}`,
    ]),
    literal("if cl_status hbstatus >/dev/null 2>&1; then"),
    literal("  for hb in /usr/lib/heartbeat/heartbeat /usr/libexec/heartbeat/heartbeat; do"),
    literal(options.quiet ? '    if [ -x "$hb" ]; then exec "$hb" -r >/dev/null 2>&1; fi' : '    if [ -x "$hb" ]; then exec "$hb" -r; fi'),
    literal("  done"),
    literal('  echo "the heartbeat daemon is not in /usr/lib/heartbeat or /usr/libexec/heartbeat" >&2'),
    literal("  exit 1"),
    literal("fi"),
  ]);
}
