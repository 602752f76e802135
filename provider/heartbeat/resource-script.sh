#!/bin/sh
# shellcheck disable=SC2086 # $SSH and $CHECK_SSH are commands with their options: split on purpose
# The body of the Heartbeat resource scripts (see resource-script.ts). Each installed script is its
# header, its settings as quoted assignments (GROUP, AUTO_DIR, TOOLSTACK, ON_STOP, MIGRATION_TARGET,
# PEER_ADDRESSES, SSH, CHECK_SSH, CHECK_TIMEOUT, MIGRATION_TIMEOUT, SHUTDOWN_TIMEOUT, START_TIMEOUT,
# DRBD_SETTLE) and then every line below the marker, unchanged.
set -u
# --- body ---
# Heartbeat's environment may lack the sbin directories where xl and drbdadm live.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin"

log() {
  logger -t "$GROUP" -p daemon.notice -- "$*" 2>/dev/null || true
  echo "$GROUP: $*" >&2
}

# Calls "$1 NAME CONFIG" for each DomU of the group. Names reach ssh's remote shell, so only
# name characters pass.
for_each_domain() {
  for link in "$AUTO_DIR"/*; do
    [ -L "$link" ] || [ -f "$link" ] || continue
    domain=$(basename "$link")
    case "$domain" in
      '' | .* | *[!A-Za-z0-9_.-]*) log "ignoring $link: not a domain name"; continue ;;
    esac
    "$1" "$domain" "$(readlink -f "$link")"
  done
}

runs_here() { "$TOOLSTACK" list "$1" >/dev/null 2>&1; }

# Addresses of the peer that gave no answer during this run: a dead peer costs one timeout per
# address, not one per DomU.
SILENT=""

# Whether the peer dom0 runs a DomU, asked over SSH at every address of the peer at once, so a
# dead peer costs one connect timeout, not one per address. peer_ask starts the questions;
# peer_read sets where to running, absent or unknown from the answers in, crossover link first,
# the first that says running or absent deciding, and fails while an address that could still
# decide has not answered; peer_answer waits for them. Not run in subshells, so SILENT is kept.
peer_ask() {
  where=unknown
  pending=""
  answers=$(mktemp -d) || return 0
  for address in $PEER_ADDRESSES; do
    case " $SILENT " in *" $address "*) continue ;; esac
    (
      timeout "$CHECK_TIMEOUT" $CHECK_SSH "$address" "$TOOLSTACK" list "$1" >"$answers/$address.out" 2>&1 &
      echo "$!" >"$answers/$address.pid"
      wait "$!"
      echo "$?" >"$answers/$address.new" && mv "$answers/$address.new" "$answers/$address.rc"
    ) 2>/dev/null &
    pending="$pending $address=$!"
  done
}

peer_read() {
  while [ -n "$pending" ]; do
    set -- $pending
    address=${1%=*}
    [ -e "$answers/$address.rc" ] || return 1
    shift
    pending="$*"
    rc=$(cat "$answers/$address.rc")
    if [ "$rc" -eq 0 ]; then where=running; peer_done; return 0; fi
    # 255 is ssh's own failure (unreachable, refused), 124 timeout's: no answer came back.
    if [ "$rc" -eq 255 ] || [ "$rc" -eq 124 ]; then
      SILENT="$SILENT $address"
      continue
    fi
    answer=$(cat "$answers/$address.out")
    case "$answer" in
      *"invalid domain identifier"* | *"does not exist"*) where=absent; peer_done; return 0 ;;
    esac
    log "the peer at $address could not say whether $DOMAIN runs there: $answer"
  done
  peer_done
  return 0
}

peer_answer() {
  for job in $pending; do
    wait "${job##*=}"
    peer_read && return 0
  done
  peer_read
  return 0
}

# The questions no longer needed are withdrawn (timeout passes the signal on to ssh).
peer_done() {
  for job in $pending; do
    kill "${job##*=}" 2>/dev/null
    [ -f "$answers/${job%=*}.pid" ] && kill "$(cat "$answers/${job%=*}.pid")" 2>/dev/null
  done
  pending=""
  rm -rf "$answers"
}

# The DRBD resources of a config's drbd: disks (block-drbd's 'drbd:RES,xvda,w').
drbd_resources() { sed 's/#.*//' "$1" 2>/dev/null | grep -o 'drbd:[A-Za-z0-9_.+-]*' | sed 's/^drbd://' | sort -u; }

# drbdadm role prints local/peer per volume (8.4: Primary/Secondary, Secondary/Unknown).
drbd_roles() { drbdadm role "$1" 2>/dev/null | grep '/' || echo Unknown/Unknown; }
drbd_peer_primary() { drbd_roles "$1" | grep -q '/Primary$'; }
drbd_local_primary() { drbd_roles "$1" | grep -q '^Primary/'; }
drbd_connected() {
  case "$(drbdadm cstate "$1" 2>/dev/null | head -n 1)" in
    Connected | StartingSync* | WFBitMap* | WFSyncUUID | SyncSource | SyncTarget | PausedSync* | Verify* | Ahead | Behind) return 0 ;;
    *) return 1 ;;
  esac
}

# Succeeds when starting the DomU here cannot leave it running on both nodes.
#
# The peer's own answer over SSH decides when it gives one. When it gives none (unreachable, or
# its SSH refuses the question) DRBD decides, since every disk the guest writes is replicated over
# the crossover link: a peer that holds a disk Primary may be running the guest, so we wait up to
# DRBD_SETTLE seconds for it to demote or for DRBD to notice it is gone (after a hard kill DRBD
# still reports it Connected and Primary until its ping or ack timeout fires) and refuse if it
# still holds the disk. A peer connected as Secondary cannot be running the guest. A peer that
# neither SSH nor DRBD reaches (cstate WFConnection, StandAlone…) is presumed dead, as Heartbeat
# declared it: with Heartbeat on both links that takes both links failing. If both fail while the
# peer lives, nothing here can tell, and only fencing could: that risk remains.
may_start() {
  DOMAIN=$1
  peer_ask "$1"
  resources=$(drbd_resources "$2")
  waited=0
  while :; do
    peer_read
    if [ "$where" = running ]; then
      log "not starting $1: it runs on the peer"
      return 1
    fi
    held=""
    connected=""
    for res in $resources; do
      drbd_peer_primary "$res" && held="$held $res"
      drbd_connected "$res" && connected="$connected $res"
    done
    [ -z "$held" ] && break
    if [ "$waited" -ge "$DRBD_SETTLE" ]; then
      peer_answer
      if [ "$where" = running ]; then
        log "not starting $1: it runs on the peer"
      else
        log "not starting $1: the peer still holds its DRBD disk(s)$held as Primary after $DRBD_SETTLE s"
      fi
      return 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  peer_answer
  if [ "$where" = running ]; then
    log "not starting $1: it runs on the peer"
    return 1
  fi
  if [ "$where" = unknown ]; then
    if [ -n "$connected" ]; then
      log "starting $1: the peer does not answer over SSH, but DRBD is connected to it as Secondary for$connected"
    else
      log "starting $1: the peer answers neither over SSH nor over DRBD; it is presumed dead"
    fi
  fi
  return 0
}

start_one() {
  total=$((total + 1))
  if runs_here "$1"; then
    here=$((here + 1))
    return
  fi
  if [ ! -f "$2" ]; then
    log "not starting $1: its config $2 is missing"
    return
  fi
  may_start "$1" "$2" || return
  log "starting $1 from $2"
  if timeout "$START_TIMEOUT" "$TOOLSTACK" create "$2"; then
    here=$((here + 1))
  else
    log "starting $1 failed"
  fi
}

# Fails only when no DomU of the group runs here at the end: Heartbeat then gives the group up,
# and one guest that cannot start does not take its group's other guests down with it. A released
# group starts nothing: Heartbeat is being stopped on both nodes and must not move guests.
start() {
  if [ "$ON_STOP" = leave ]; then
    log "not starting the group's DomUs: the group is released from Heartbeat"
    return 0
  fi
  total=0
  here=0
  for_each_domain start_one
  [ "$total" -eq 0 ] || [ "$here" -gt 0 ]
}

migrate() {
  case "$TOOLSTACK" in
    xl) timeout "$MIGRATION_TIMEOUT" xl migrate -s "$SSH" "$1" "$MIGRATION_TARGET" ;;
    xm) timeout "$MIGRATION_TIMEOUT" xm migrate "$1" "$MIGRATION_TARGET" --live ;;
  esac
}

# block-drbd demotes a guest's disks once it has left; waiting for that lets the peer take over
# without finding the disks still Primary here.
settle_local() {
  for res in $(drbd_resources "$2"); do
    waited=0
    while drbd_local_primary "$res" && [ "$waited" -lt "$DRBD_SETTLE" ]; do
      sleep 1
      waited=$((waited + 1))
    done
    drbd_local_primary "$res" && log "$res is still Primary here after $1 left"
  done
  return 0
}

stop_one() {
  runs_here "$1" || return 0
  if [ "$ON_STOP" = leave ]; then
    log "leaving $1 running: the group is released from Heartbeat"
    return 0
  fi
  if [ "$ON_STOP" = migrate ]; then
    log "migrating $1 to $MIGRATION_TARGET"
    if migrate "$1" && ! runs_here "$1"; then
      "$TOOLSTACK" list "$1--migratedaway" >/dev/null 2>&1 && "$TOOLSTACK" destroy "$1--migratedaway"
      settle_local "$1" "$2"
      return 0
    fi
    log "migrating $1 to $MIGRATION_TARGET failed; shutting it down instead"
  fi
  log "shutting down $1"
  timeout "$SHUTDOWN_TIMEOUT" "$TOOLSTACK" shutdown -w "$1" || true
  if runs_here "$1"; then
    log "$1 did not shut down within $SHUTDOWN_TIMEOUT s; destroying it"
    "$TOOLSTACK" destroy "$1" || true
  fi
  if runs_here "$1"; then
    log "$1 still runs here"
    stop_failed=yes
    return 0
  fi
  settle_local "$1" "$2"
}

# Succeeds once no DomU of the group runs here. A failure makes Heartbeat retry, then reboot the
# node if status still says running.
stop() {
  stop_failed=no
  for_each_domain stop_one
  [ "$stop_failed" = no ]
}

count_here() {
  total=$((total + 1))
  runs_here "$1" && here=$((here + 1))
  return 0
}

# Heartbeat reads the words: any "running" counts as held, so the other answer never contains it.
# "running" needs every DomU of the group here, so a takeover still starts the ones that are not.
status() {
  total=0
  here=0
  for_each_domain count_here
  if [ "$total" -gt 0 ] && [ "$here" -eq "$total" ]; then
    echo running
    return 0
  fi
  echo stopped
  return 3
}

list_one() {
  if runs_here "$1"; then where=here; else where=elsewhere; fi
  printf '%s\t%s\t%s\n' "$1" "$where" "$2"
}

case "$*" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  list) for_each_domain list_one ;;
  *)
    echo "usage: $0 {start|stop|status|list}" >&2
    exit 2
    ;;
esac
