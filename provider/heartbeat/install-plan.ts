/**
 * What bringing one node's Heartbeat files to the inputs takes, decided from the files as they
 * should be and the node's last report. Pure: `installNode` (nodes.ts) runs it.
 */
import { BOOT_GATE_DROP_IN_PATH } from "./boot-gate";
import { heartbeatPaths, type HeartbeatFile, type HomeLink } from "./render";
import { sha256Of } from "./rules";
import type { HeartbeatClusterInputs } from "./schema";
import type { HeartbeatNodeReport } from "./status";

/** Files Heartbeat reads at start; a running Heartbeat rereads them on `heartbeat -r`. */
const RELOADED: readonly string[] = [heartbeatPaths.haCf, heartbeatPaths.authkeys];

export interface NodeInstallPlan {
  /** Files Heartbeat reads only when it acts (haresources at start, the resource scripts at each event): written in place. */
  write: HeartbeatFile[];
  /** ha.cf and authkeys that changed: staged beside the live ones, moved in, then reread by a running Heartbeat. */
  reload: HeartbeatFile[];
  /** The boot gate's systemd drop-in: removed when not wanted, systemd told when it changed, else left alone. */
  bootGate: "remove" | "reloadSystemd" | "keep";
  /** dopd's access to drbdsetup and drbdmeta. */
  dopdPermissions: boolean;
  /** The home links differ from the DomUs' homes (or the node was not read): rewrite them. */
  autoLinks: boolean;
  /**
   * The stock xendomains may still start guests at boot, or was left running with no guest to
   * stop: disable it (and stop it when no guest runs). Skipped when there is nothing left to do:
   * under emulation a `systemctl disable` of a SysV service takes seconds.
   */
  disableStockXendomains: boolean;
}

const linkKey = (l: HomeLink) => `${l.directory}\0${l.name}\0${l.target}`;

function sameLinks(wanted: readonly HomeLink[], found: readonly HomeLink[]): boolean {
  const a = wanted.map(linkKey).sort();
  const b = found.map(linkKey).sort();
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

/** What `systemctl is-enabled` prints for a service that will not start at boot (nothing: there is no such service). */
const NOT_AT_BOOT: readonly string[] = ["disabled", "masked", ""];

/** The disable script would change nothing: disabled, and stopped unless guests run (it never stops those). */
function stockXendomainsSettled(report: HeartbeatNodeReport): boolean {
  const x = report.services.xendomains;
  const running = x.active === "active" || x.active === "activating";
  return NOT_AT_BOOT.includes(x.enabled) && (!running || report.running.length > 0);
}

function unchanged(file: HeartbeatFile, report: HeartbeatNodeReport | undefined): boolean {
  const seen = report?.files[file.path];
  return !!seen && seen.sha256 === sha256Of(file.content) && seen.mode === file.mode;
}

export function planNodeInstall(
  c: Pick<HeartbeatClusterInputs, "dopd" | "startAtBoot">,
  files: readonly HeartbeatFile[],
  links: readonly HomeLink[],
  report: HeartbeatNodeReport | undefined,
): NodeInstallPlan {
  const changed = files.filter((f) => !unchanged(f, report));
  const gateChanged = changed.some((f) => f.path === BOOT_GATE_DROP_IN_PATH);
  return {
    write: changed.filter((f) => !RELOADED.includes(f.path)),
    reload: changed.filter((f) => RELOADED.includes(f.path)),
    bootGate: c.startAtBoot !== "afterCleanStop" ? "remove" : gateChanged ? "reloadSystemd" : "keep",
    dopdPermissions: c.dopd === true,
    autoLinks: !report || !sameLinks(links, report.links),
    disableStockXendomains: !report || !stockXendomainsSettled(report),
  };
}
