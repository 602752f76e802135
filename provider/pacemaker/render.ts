/**
 * The commands PacemakerConfig runs, and the ssh client config the Xen resource agent's live
 * migrations need. Pure.
 */
import { MIGRATION_KEY_PATH, MIGRATION_KNOWN_HOSTS_PATH } from "../xen/migration";
import { joinLines, literal, sh, type Shell } from "../shell";
import { MIGRATION_ADDRESS_ATTRIBUTE } from "./cib";
import type { PacemakerConfigInputs } from "./schema";

/** Debian's ssh_config includes this directory: the Xen agent's `xl migrate` reads it. */
export const MIGRATION_SSH_CONFIG_PATH = "/etc/ssh/ssh_config.d/xen-ha-migration.conf";

/**
 * The resource agent runs plain `xl migrate NAME ADDRESS`, whose ssh then uses this: the package's
 * migration key and pinned known_hosts (XenMigrationTrust), for the peers' migration addresses only.
 */
export function renderMigrationSshConfig(c: PacemakerConfigInputs, self: string): string {
  const peers = c.nodes.filter((n) => n.name !== self);
  const lines = ["# Written by pulumi-xen-ha (PacemakerConfig): live migrations started by Pacemaker's Xen agent."];
  for (const p of peers) {
    lines.push(
      `Host ${p.migrationAddress}`,
      "    User root",
      `    IdentityFile ${MIGRATION_KEY_PATH}`,
      "    IdentitiesOnly yes",
      `    UserKnownHostsFile ${MIGRATION_KNOWN_HOSTS_PATH}`,
      "    StrictHostKeyChecking yes",
      "    BatchMode yes",
      "    ConnectTimeout 15",
    );
  }
  return `${lines.join("\n")}\n`;
}

export const CIB_MARK = "--- cib ---";
export const STATUS_MARK = "--- crm_mon ---";

/** One round trip: the configuration section of the CIB and crm_mon's status with the fencing history. */
export function buildPacemakerProbeScript(): Shell {
  return joinLines([
    literal("set -u"),
    literal(`if ! systemctl is-active --quiet pacemaker.service; then echo 'pacemaker stopped'; exit 0; fi`),
    sh`printf '%s\\n' ${CIB_MARK}`,
    literal("cibadmin --query --scope configuration"),
    sh`printf '%s\\n' ${STATUS_MARK}`,
    literal("crm_mon --one-shot --inactive --fence-history=3 --output-as=xml"),
  ]);
}

export interface ProbeSections {
  running: boolean;
  cib: string;
  status: string;
}

export function splitProbe(output: string): ProbeSections {
  const c = output.indexOf(CIB_MARK);
  const s = output.indexOf(STATUS_MARK);
  if (c < 0 || s < 0) return { running: false, cib: "", status: "" };
  return { running: true, cib: output.slice(c + CIB_MARK.length, s), status: output.slice(s + STATUS_MARK.length) };
}

/** Loads a staged crm shell file in one CIB commit, then removes it (it may hold fence passwords). */
export function buildLoadScript(staged: string): Shell {
  return joinLines([literal("set -eu"), sh`trap 'rm -f -- '${staged} EXIT`, sh`crm configure load update ${staged}`]);
}

/** Each node's address for live migrations to it, as a permanent node attribute the agent reads. */
export function buildNodeAttributesScript(c: PacemakerConfigInputs): Shell {
  return joinLines([
    literal("set -eu"),
    ...c.nodes.map((n) => sh`crm_attribute --type nodes --node ${n.name} --name ${MIGRATION_ADDRESS_ATTRIBUTE} --update ${n.migrationAddress}`),
  ]);
}

/**
 * Takes resources out of the CIB without stopping them: in maintenance mode Pacemaker neither
 * stops nor moves anything, and the history it keeps of each removed one is cleared before
 * maintenance ends, so it does not stop the guest as an orphan.
 */
export function buildForgetResourcesScript(ids: readonly string[]): Shell {
  return joinLines([
    literal("set -eu"),
    literal("crm_attribute --type crm_config --name maintenance-mode --update true"),
    literal(`trap 'crm_attribute --type crm_config --name maintenance-mode --update false' EXIT`),
    sh`for r in ${ids}; do`,
    literal(`  crm --force configure delete "$r"`),
    literal(`  crm_resource --cleanup --resource "$r" >/dev/null 2>&1 || true`),
    literal("done"),
  ]);
}

/** `crm resource move`: a constraint that puts the guest on `node` now, cleared by buildClearMoveScript once it runs there. */
export function buildMoveScript(guest: string, node: string): Shell {
  return sh`crm resource move ${guest} ${node}`;
}

export function buildClearMoveScript(guest: string): Shell {
  return sh`crm resource clear ${guest}`;
}
