/**
 * corosync.conf as CorosyncCluster writes it, and the commands that install, start, reload and
 * stop the cluster stack on a node. Pure: the lifecycle runs them (corosync-cluster.ts).
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import { nodeIdOf, quorumModeOf, type CorosyncClusterInputs } from "./schema";

export const corosyncPaths = {
  conf: "/etc/corosync/corosync.conf",
  authkey: "/etc/corosync/authkey",
} as const;

/** Debian bookworm's packages of the stack; the qdevice only when an arbiter is given. */
export function stackPackages(c: Pick<CorosyncClusterInputs, "arbiter">): string[] {
  return ["corosync", "pacemaker", "crmsh", "resource-agents", ...(c.arbiter ? ["corosync-qdevice"] : [])];
}

/** The services, in start order. */
export function stackServices(c: Pick<CorosyncClusterInputs, "arbiter">): string[] {
  return ["corosync", ...(c.arbiter ? ["corosync-qdevice"] : []), "pacemaker"];
}

export function renderCorosyncConf(c: CorosyncClusterInputs): string {
  const links = c.nodes[0]!.addresses.length;
  const lines = [
    "# Written by pulumi-xen-ha (CorosyncCluster); changes made here are put back by the next up.",
    "totem {",
    "    version: 2",
    `    cluster_name: ${c.clusterName}`,
    "    transport: knet",
    "    crypto_cipher: aes256",
    "    crypto_hash: sha256",
    `    token: ${c.tokenMs}`,
    ...Array.from({ length: links }, (_, l) => [`    interface {`, `        linknumber: ${l}`, `    }`]).flat(),
    "}",
    "",
    "nodelist {",
    ...c.nodes.flatMap((n, i) => [
      "    node {",
      ...n.addresses.map((a, l) => `        ring${l}_addr: ${a}`),
      `        name: ${n.name}`,
      `        nodeid: ${nodeIdOf(c, i)}`,
      "    }",
    ]),
    "}",
    "",
    "quorum {",
    "    provider: corosync_votequorum",
    ...quorumLines(c),
    "}",
    "",
    "logging {",
    "    to_logfile: yes",
    "    logfile: /var/log/corosync/corosync.log",
    "    to_syslog: yes",
    "    timestamp: on",
    "}",
    "",
  ];
  return lines.join("\n");
}

function quorumLines(c: CorosyncClusterInputs): string[] {
  switch (quorumModeOf(c)) {
    case "twoNode":
      // two_node implies wait_for_all: a node that boots alone waits for its peer before it has quorum.
      return ["    two_node: 1"];
    case "majority":
      return [];
    case "arbiter": {
      const a = c.arbiter!;
      return [
        "    device {",
        "        model: net",
        "        votes: 1",
        "        net {",
        `            host: ${a.host}`,
        `            port: ${a.port}`,
        `            algorithm: ${a.algorithm}`,
        `            tls: ${a.tls}`,
        "        }",
        "    }",
      ];
    }
  }
}

/** Installs the stack's packages that are missing (Debian), without starting what they ship. */
export function buildInstallPackagesScript(c: Pick<CorosyncClusterInputs, "arbiter">): Shell {
  return joinLines([
    literal("set -eu"),
    literal("missing="),
    sh`for p in ${stackPackages(c)}; do`,
    literal(`  dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"`),
    literal("done"),
    literal(`if [ -n "$missing" ]; then`),
    // policy-rc.d keeps the packages' own services from starting with Debian's default configs.
    literal(`  printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d`),
    literal(`  trap 'rm -f /usr/sbin/policy-rc.d' EXIT`),
    literal(`  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing`),
    literal("fi"),
  ]);
}

/** Starts what is not running, and enables (or disables) the stack at boot. */
export function buildStartStackScript(c: Pick<CorosyncClusterInputs, "arbiter" | "startAtBoot">): Shell {
  const services = stackServices(c);
  return joinLines([
    literal("set -eu"),
    sh`systemctl ${c.startAtBoot ? "enable" : "disable"} --quiet ${services.map((s) => `${s}.service`)}`,
    sh`for s in ${services}; do`,
    literal(`  systemctl is-active --quiet "$s.service" || systemctl start "$s.service"`),
    literal("done"),
    ...(c.arbiter ? [] : [literal("if systemctl is-active --quiet corosync-qdevice.service; then systemctl stop corosync-qdevice.service; systemctl disable --quiet corosync-qdevice.service; fi")]),
  ]);
}

/** Every node rereads corosync.conf (run on one node, once all have the new file). */
export function buildReloadScript(): Shell {
  return literal("corosync-cfgtool -R");
}

/** The qdevice reads its part of corosync.conf only when it starts. */
export function buildRestartQdeviceScript(): Shell {
  return literal("systemctl restart corosync-qdevice.service");
}

/**
 * Stops the stack on this node. Pacemaker first: stopping it migrates or stops the resources it
 * runs here, so the caller puts the cluster in maintenance mode first when guests must stay.
 */
export function buildStopStackScript(): Shell {
  return joinLines([
    literal("set -u"),
    literal("for s in pacemaker corosync-qdevice corosync; do"),
    literal(`  if systemctl list-unit-files --no-legend "$s.service" 2>/dev/null | grep -q .; then systemctl disable --quiet "$s.service" || true; systemctl stop "$s.service"; fi`),
    literal("done"),
  ]);
}

/** Pacemaker leaves every resource as it is (running or not) until maintenance mode ends. */
export function buildMaintenanceScript(): Shell {
  return literal("if systemctl is-active --quiet pacemaker.service; then crm_attribute --type crm_config --name maintenance-mode --update true; fi");
}

export function buildRemoveFilesScript(): Shell {
  return sh`rm -f -- ${[corosyncPaths.conf, corosyncPaths.authkey]}`;
}

/**
 * The probe, in one round trip: the files' digests (the authkey is never read back), the
 * services, and votequorum's view while corosync runs.
 */
export function buildCorosyncProbeScript(): Shell {
  return joinLines([
    literal("set -u"),
    literal(`printf 'uname\\t%s\\n' "$(uname -n)"`),
    sh`for f in ${[corosyncPaths.conf, corosyncPaths.authkey]}; do`,
    literal(`  if [ -f "$f" ]; then printf 'file\\t%s\\t%s\\t%s\\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %a "$f")"; else printf 'file\\t%s\\t\\t\\n' "$f"; fi`),
    literal("done"),
    literal("for s in corosync corosync-qdevice pacemaker; do"),
    literal(`  printf 'service\\t%s\\t%s\\t%s\\n' "$s" "$(systemctl is-active "$s.service" 2>/dev/null || true)" "$(systemctl is-enabled "$s.service" 2>/dev/null || true)"`),
    literal("done"),
    literal(`for p in corosync pacemaker crmsh corosync-qdevice; do printf 'package\\t%s\\t%s\\n' "$p" "$(dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -c 'ok installed' || true)"; done`),
    literal(`printf 'boot\\t%s\\n' "$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)"`),
    literal("if systemctl is-active --quiet corosync.service; then"),
    literal("  corosync-quorumtool -s 2>/dev/null | sed 's/^/quorum\\t/'"),
    literal("fi"),
  ]);
}
