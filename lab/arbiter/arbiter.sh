# shellcheck shell=bash
# The lab's quorum arbiter (lab/README.md): corosync-qnetd on this machine, the third vote of a
# two-node Corosync cluster through corosync-qdevice's `net` model. The nodes reach it through their
# management link's guestfwd, each through the gate (lab/arbiter/gate) that `lab.sh arbiter cut`
# closes. Sourced by lab.sh after lib/common.sh, lib/node.sh and fence/fence.sh (it uses LAB_DIR,
# LAB_SRC, LAB_NODES, log, die, node_pid, close_inherited_fds, fence_source_address).

LAB_QNETD_PORT="${LAB_QNETD_PORT:-47121}"   # corosync-qnetd on this machine: 127.0.0.1 only
LAB_ARBITER_DIR="$LAB_DIR/arbiter"          # its lock file, socket and log; the gate, cut flags
# Where a node reaches the arbiter (qdevice's `net { host port }`).
LAB_ARBITER_GUEST_ADDRESS=10.0.2.101
LAB_ARBITER_GUEST_PORT=5403

# corosync-qnetd's own files, moved from /run/corosync-qnetd (which only its packaged service
# creates, for the user coroqnetd) into the lab dir, so that it runs as whoever runs the lab.
arbiter_lockfile() { echo "$LAB_ARBITER_DIR/corosync-qnetd.pid"; }
arbiter_socket() { echo "$LAB_ARBITER_DIR/corosync-qnetd.sock"; }

# arbiter_pid: corosync-qnetd's pid when the lab's runs (it writes its pid to its lock file).
arbiter_pid() {
  local pid
  pid=$(cat "$(arbiter_lockfile)" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "corosync-qnetd -f" || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "lock_file=$(arbiter_lockfile)," || return 1
  echo "$pid"
}

# arbiter_start: starts corosync-qnetd unless it runs, in the foreground of its own session (no
# init system here), TLS off (the nodes' qdevice says `tls: off`), on 127.0.0.1 only; and puts the
# gate in place. Returns once its control socket answers.
arbiter_start() {
  mkdir -p "$LAB_ARBITER_DIR/connections"
  chmod 0700 "$LAB_ARBITER_DIR"
  cp "$LAB_SRC/arbiter/gate" "$LAB_ARBITER_DIR/.gate.new"
  mv "$LAB_ARBITER_DIR/.gate.new" "$LAB_ARBITER_DIR/gate"
  arbiter_pid >/dev/null && return 0
  command -v corosync-qnetd >/dev/null 2>&1 ||
    die "the lab's quorum arbiter needs corosync-qnetd on this machine: apt-get install corosync-qnetd ('lab.sh up' as root installs it)"
  case $LAB_ARBITER_DIR in *,*) die "XEN_HA_LAB_DIR must not contain a comma (corosync-qnetd's -S list)" ;; esac
  local out="$LAB_ARBITER_DIR/corosync-qnetd.log"
  rm -f "$(arbiter_lockfile)" "$(arbiter_socket)"
  (
    close_inherited_fds
    exec setsid corosync-qnetd -f -d -4 -s off -l 127.0.0.1 -p "$LAB_QNETD_PORT" \
      -S "lock_file=$(arbiter_lockfile),local_socket_file=$(arbiter_socket)" \
      </dev/null >>"$out" 2>&1
  ) &
  local server=$! deadline=$((SECONDS + 15))
  until arbiter_pid >/dev/null && corosync-qnetd-tool -s -p "$(arbiter_socket)" >/dev/null 2>&1; do
    kill -0 "$server" 2>/dev/null ||
      die "the quorum arbiter (corosync-qnetd) exited at start: $(tail -n 1 "$out") (see $out; LAB_QNETD_PORT sets the port)"
    [ $SECONDS -lt $deadline ] || die "the quorum arbiter (corosync-qnetd) did not start; see $out"
    sleep 0.2
  done
  log "quorum arbiter (corosync-qnetd) on 127.0.0.1:$LAB_QNETD_PORT, for the nodes $LAB_ARBITER_GUEST_ADDRESS:$LAB_ARBITER_GUEST_PORT (log $out)"
}

# arbiter_stop: stops corosync-qnetd; an arbiter that is not running is stopped: this never fails.
# The nodes' connections end with it. Cut flags stay.
arbiter_stop() {
  local pid deadline
  pid=$(arbiter_pid) || return 0
  kill "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 5))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  log "quorum arbiter stopped"
}

# arbiter_guestfwd NODE: the suffix of NODE's management -netdev that lets it reach the arbiter:
# QEMU runs the gate for each connection (the `cmd:` form; QEMU splits it like a shell, so the
# path is quoted, and doubles commas). The source address is the power switch's for NODE.
arbiter_guestfwd() {
  local gate="$LAB_ARBITER_DIR/gate"
  printf ',guestfwd=tcp:%s:%s-cmd:bash %s %s %s %s' "$LAB_ARBITER_GUEST_ADDRESS" "$LAB_ARBITER_GUEST_PORT" \
    "'${gate//\'/\'\\\'\'}'" "$1" "$LAB_QNETD_PORT" "$(fence_source_address "$1")"
}

# arbiter_connections NODE: the pids of NODE's gates and the socats they became, forgetting the
# records of those that ended.
arbiter_connections() {
  local record pid cmdline
  for record in "$LAB_ARBITER_DIR/connections/$1".*; do
    [ -e "$record" ] || continue
    pid=${record##*.}
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || cmdline=""
    case $cmdline in
      *"gate $1 "* | "socat - TCP:127.0.0.1:$LAB_QNETD_PORT,bind=$(fence_source_address "$1") ") echo "$pid" ;;
      *) rm -f "$record" ;;
    esac
  done
}

# arbiter_cut NODE: from now on the gate refuses NODE's connections (it closes them at once), and
# the ones it carries end now. Stays until arbiter_restore, across restarts of nodes and arbiter.
arbiter_cut() {
  local node=$1 pid dropped=0
  mkdir -p "$LAB_ARBITER_DIR/connections"
  : >"$LAB_ARBITER_DIR/cut-$node"
  for pid in $(arbiter_connections "$node"); do
    kill "$pid" 2>/dev/null && dropped=$((dropped + 1))
  done
  log "$node cut off the quorum arbiter ($dropped connection(s) dropped)"
}

arbiter_restore() {
  rm -f "$LAB_ARBITER_DIR/cut-$1"
  log "$1 reaches the quorum arbiter again"
}

# arbiter_node_state NODE: "cut" or "open", how many connections the gate carries, and whether
# NODE's QEMU has the arbiter's guestfwd at all (a node booted by an older lab.sh has not).
arbiter_node_state() {
  local node=$1 state=open pid n
  if [ -e "$LAB_ARBITER_DIR/cut-$node" ]; then state="cut"; fi
  n=$(arbiter_connections "$node" | wc -l)
  printf '%s: %s, %s connection(s)' "$node" "$state" "$n"
  if pid=$(node_pid "$node") &&
    ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "guestfwd=tcp:$LAB_ARBITER_GUEST_ADDRESS:$LAB_ARBITER_GUEST_PORT-"; then
    printf ' (booted without the arbiter'"'"'s guestfwd: restart it)'
  fi
  printf '\n'
}

arbiter_status() {
  local node
  if arbiter_pid >/dev/null; then
    echo "quorum arbiter: running on 127.0.0.1:$LAB_QNETD_PORT, nodes reach it at $LAB_ARBITER_GUEST_ADDRESS:$LAB_ARBITER_GUEST_PORT (log $LAB_ARBITER_DIR/corosync-qnetd.log)"
  else
    echo "quorum arbiter: not running"
  fi
  for node in "${LAB_NODES[@]}"; do echo "  $(arbiter_node_state "$node")"; done
}
