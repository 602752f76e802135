/**
 * `startAtBoot: "afterCleanStop"`: Heartbeat starts at boot only after a boot that stopped it
 * cleanly. A fenced node that came back at once would otherwise rejoin while its peer is still
 * taking its guests over (Heartbeat 3 then leaves both nodes claiming foreign resources), or, with
 * the links still cut, fence its peer in turn. The gate is a script of its own beside this module
 * (heartbeat-boot-gate.sh), run by a systemd drop-in for heartbeat.service.
 */
import path from "node:path";
import { joinLines, literal, sh, type Shell } from "../shell";
import { shellFile } from "../shell-file";

export const BOOT_GATE_PATH = "/usr/local/lib/pulumi-xen-ha/heartbeat-boot-gate";
export const BOOT_GATE_DROP_IN_PATH = "/etc/systemd/system/heartbeat.service.d/pulumi-xen-ha-boot-gate.conf";
/** Present while Heartbeat is stopped after a clean stop; the gate removes it at each start. */
export const BOOT_GATE_MARKER_PATH = "/var/lib/pulumi-xen-ha/heartbeat-stopped-cleanly";

/** The script's text (provider/heartbeat/heartbeat-boot-gate.sh). */
export function bootGateScript(): string {
  return shellFile(__dirname, "heartbeat-boot-gate.sh");
}

export function renderBootGateDropIn(): string {
  return [
    "# Written by pulumi-xen-ha (HeartbeatCluster startAtBoot afterCleanStop).",
    "[Service]",
    `ExecStartPre=${BOOT_GATE_PATH} start`,
    `ExecStopPost=${BOOT_GATE_PATH} stopped`,
    "",
  ].join("\n");
}

/** Has systemd read the drop-in as it now is (or read its removal). */
export function buildSystemdReloadScript(): Shell {
  return literal("systemctl daemon-reload");
}

/** Takes the gate off a node (startAtBoot back to always, or HeartbeatCluster deleted); a no-op when it is not there. */
export function buildRemoveBootGateScript(): Shell {
  return joinLines([
    literal("set -eu"),
    sh`if [ -e ${BOOT_GATE_DROP_IN_PATH} ] || [ -e ${BOOT_GATE_PATH} ] || [ -e ${BOOT_GATE_MARKER_PATH} ]; then`,
    sh`  rm -f ${BOOT_GATE_DROP_IN_PATH} ${BOOT_GATE_PATH} ${BOOT_GATE_MARKER_PATH}`,
    sh`  rmdir ${path.posix.dirname(BOOT_GATE_DROP_IN_PATH)} 2>/dev/null || true`,
    literal("  systemctl daemon-reload"),
    literal("fi"),
  ]);
}
