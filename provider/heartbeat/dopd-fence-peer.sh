#!/bin/sh
# DRBD's fence-peer handler through Heartbeat's dopd, installed by HeartbeatCluster with dopd.
#   dopd-fence-peer MINOR WAIT_SECONDS
# DRBD passes the resource and its peer in the environment (DRBD_RESOURCE, DRBD_PEER or
# DRBD_PEERS), which drbd-peer-outdater reads too. The exit code is drbd-peer-outdater's:
# 3 peer inconsistent, 4 peer outdated, 5 peer unreachable (taken as dead), 6 peer primary.
set -u
minor=$1
wait_seconds=$2
outdater=${DOPD_OUTDATER:-/usr/libexec/heartbeat/drbd-peer-outdater}
proc_drbd=${DOPD_PROC_DRBD:-/proc/drbd}
lock=${DOPD_LOCK:-/run/pulumi-xen-ha-dopd-fence-peer.lock}
peer=${DRBD_PEER:-${DRBD_PEERS:-}}
peer=${peer%% *}

# A Primary that lost the link waits until the peer's DRBD must have noticed the loss too: an
# outdate that reaches a peer still counting itself Connected is answered as done and changes
# nothing. A Secondary being promoted (its peer declared dead) asks at once. The role comes from
# /proc/drbd: drbdadm would wait on the very state change that runs this handler.
if ! grep -q "^ *$minor: .* ro:Secondary/" "$proc_drbd"; then
  sleep "$wait_seconds"
fi

# Heartbeat 3.0.6's dopd dies after each request it served and is respawned a second later; a
# request that reaches it then is lost. So one request at a time per node, and a request left
# unanswered is asked again while Heartbeat still sees the peer alive.
exec 9>"$lock"
flock -w 120 9 || true
attempt=1
while :; do
  "$outdater" -t 5
  rc=$?
  [ "$rc" -eq 5 ] || exit "$rc"
  [ "$attempt" -lt 5 ] || exit 5
  [ -n "$peer" ] && [ "$(cl_status nodestatus "$peer" 2>/dev/null)" = active ] || exit 5
  attempt=$((attempt + 1))
  sleep 2
done
