#!/bin/sh
# Keeps Heartbeat from starting at boot after a boot that did not stop it cleanly: a node fenced by
# its peer, reset by its watchdog or crashed stays out of the cluster until someone starts
# Heartbeat (pulumi up, or systemctl start heartbeat) once the peer has finished taking over.
# Installed by pulumi-xen-ha's HeartbeatCluster (startAtBoot "afterCleanStop"); heartbeat.service
# runs it before each start and after each stop.
#
#   heartbeat-boot-gate start     refuses a start at boot when no clean stop was recorded
#   heartbeat-boot-gate stopped   records a clean stop (systemd's SERVICE_RESULT=success)
set -u
marker=${BOOT_GATE_MARKER:-/var/lib/pulumi-xen-ha/heartbeat-stopped-cleanly}
systemctl=${BOOT_GATE_SYSTEMCTL:-systemctl}

case "${1:-}" in
  start)
    state=$("$systemctl" is-system-running 2>/dev/null || true)
    if { [ "$state" = starting ] || [ "$state" = initializing ]; } && [ ! -e "$marker" ]; then
      echo "heartbeat-boot-gate: Heartbeat is not started at boot: the last boot ended without stopping it (fenced, reset by the watchdog, or crashed)." >&2
      echo "heartbeat-boot-gate: check the peer runs every guest and the DRBD disks, then start it: pulumi up, or systemctl start heartbeat." >&2
      exit 1
    fi
    # Running from here on: a boot that ends without the stop below is an unclean one.
    rm -f "$marker"
    ;;
  stopped)
    if [ "${SERVICE_RESULT:-}" = success ]; then
      mkdir -p "$(dirname "$marker")"
      : >"$marker"
    fi
    ;;
  *)
    echo "usage: heartbeat-boot-gate start|stopped" >&2
    exit 2
    ;;
esac
