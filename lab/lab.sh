#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The pulumi-xen-ha lab: two QEMU machines (ha1, ha2) running the Xen hypervisor
# with a Debian bookworm dom0. See lab/README.md.
set -euo pipefail

LAB_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$LAB_SRC/lib/common.sh"
source "$LAB_SRC/lib/prereqs.sh"
source "$LAB_SRC/lib/keys.sh"
source "$LAB_SRC/lib/image.sh"
source "$LAB_SRC/lib/node.sh"
source "$LAB_SRC/lib/connection.sh"
source "$LAB_SRC/lib/tarball.sh"
source "$LAB_SRC/lib/bare.sh"
source "$LAB_SRC/fence/fence.sh"
source "$LAB_SRC/arbiter/arbiter.sh"

usage() {
  cat <<'USAGE'
usage: lab.sh COMMAND [ARGS]
  up                      build the image if needed, boot both nodes, wait, write run/lab.json
  down                    power both nodes off (killed after a deadline)
  reset                   stop both nodes and delete their disks and the demo's state/
  status                  what runs, where, and the links' state
  ssh NODE [CMD...]       root shell or command on NODE's dom0 (pinned host key)
  kill NODE               hard kill (no clean shutdown)
  start NODE              boot NODE again on its existing disks and wait for it
  link LINK up|down       plug or cut the public or crossover cable
  path                    print the connection JSON's path
  test-prepare            reset and bring the lab up, then check-bare (LAB_KEEP=1: no reset)
  check-bare              record and check that both nodes are bare hosts (run/bare/NODE.txt)
  guest-tarball           build the rootfs tarball for xen-create-image --install-method=tar
  fence ACTION NODE       ask the lab's power switch: status, on, off, reset
  arbiter cut|restore NODE  cut NODE off the quorum arbiter, or let it through again
  arbiter status          the quorum arbiter and each node's way to it
  seed-by-hand            build the recipe's cluster by hand on the two bare nodes (lab/seed-by-hand/)
USAGE
}

# Everything a boot of NODES needs on this machine: host packages, keys, and the
# image when one of them has no disks yet (nodes with disks keep the image they
# were made from).
prepare() {
  mkdir -p "$LAB_DIR" "$LAB_RUN"
  phase_begin prereqs
  ensure_prereqs
  ensure_keys
  phase_end
  phase_begin image
  # shellcheck disable=SC2034 # read by lib/node.sh
  IMAGE_HASH=$(recipe_hash)
  local node need=0
  for node in "$@"; do
    [ -f "$(node_dir "$node")/root.qcow2" ] || need=1
  done
  if [ $need -eq 1 ]; then
    ensure_image
  else
    log "the nodes boot on their existing disks"
  fi
  phase_end
  write_known_hosts
}

cmd_up() {
  lab_lock
  local start=$SECONDS node switch arbiter
  prepare "${LAB_NODES[@]}"
  phase_begin boot
  fence_start &
  switch=$!
  arbiter_start &
  arbiter=$!
  for node in "${LAB_NODES[@]}"; do
    if node_running "$node"; then
      log "$node is already running (hypervisor: $(cut -d' ' -f1 "$LAB_RUN/$node.hypervisor" 2>/dev/null))"
    else
      echo "$LAB_HYPERVISOR" >"$LAB_RUN/hypervisor"
      node_prepare_disks "$node"
      node_boot "$node"
    fi
  done
  fence_started "$switch"
  arbiter_started "$arbiter"
  phase_end
  phase_begin wait
  wait_nodes "${LAB_NODES[@]}"
  phase_end
  write_connection
  log "lab up in $((SECONDS - start))s; connection: $LAB_JSON"
}

# The power switch and the quorum arbiter start while the nodes boot: QEMU spawns a node's guestfwd
# for each connection the node opens, so nothing needs them before the node first asks.
fence_started() {
  wait "$1" || die "the lab's power switch did not start (see above); the nodes that booted keep running: 'lab.sh down' stops them"
}
arbiter_started() {
  wait "$1" || die "the lab's quorum arbiter did not start (see above); the nodes that booted keep running: 'lab.sh down' stops them"
}

# node_ready NODE: waits for NODE, then installs the lab's equipment on it (fence_install).
node_ready() {
  node_wait "$1"
  fence_install "$1"
}

# Waits for several nodes at once; fails when any of them fails.
wait_nodes() {
  local node pids=() rc=0
  for node in "$@"; do
    node_ready "$node" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=1; done
  [ $rc -eq 0 ] || die "the lab did not come up"
}

cmd_down() {
  lab_lock
  local node pids=()
  for node in "${LAB_NODES[@]}"; do
    node_stop "$node" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  fence_stop
  arbiter_stop
  rm -f "$LAB_JSON"
  if pgrep -f "qemu-system-x86_64 -name ha[12]," >/dev/null 2>&1; then log "warning: a lab QEMU is still running"; fi
  log "lab is down"
}

cmd_reset() {
  lab_lock
  local node
  for node in "${LAB_NODES[@]}"; do node_kill "$node"; done
  fence_stop
  arbiter_stop
  rm -rf "$LAB_DIR/nodes" "$LAB_DIR/state"
  rm -rf "$LAB_RUN/bare"
  rm -f "$LAB_JSON" "$LAB_RUN"/link-* "$LAB_RUN"/*.hypervisor "$LAB_ARBITER_DIR"/cut-*
  log "lab reset: the next start boots bare hosts"
}

cmd_kill() {
  local node=${1:?usage: lab.sh kill NODE}
  node_index "$node" >/dev/null
  lab_lock
  if node_running "$node"; then
    node_kill "$node"
    log "$node killed"
  else
    log "$node was not running"
  fi
}

cmd_start() {
  local node=${1:?usage: lab.sh start NODE}
  node_index "$node" >/dev/null
  lab_lock
  # A node started alone boots the hypervisor the lab was brought up with.
  if [ -z "$LAB_HYPERVISOR_FROM_ENV" ] && [ -f "$LAB_RUN/hypervisor" ]; then
    LAB_HYPERVISOR=$(cat "$LAB_RUN/hypervisor")
  fi
  prepare "$node"
  local switch arbiter
  fence_start &
  switch=$!
  arbiter_start &
  arbiter=$!
  if node_running "$node"; then
    log "$node is already running"
  else
    phase_begin boot
    node_prepare_disks "$node"
    node_boot "$node"
    phase_end
  fi
  fence_started "$switch"
  arbiter_started "$arbiter"
  phase_begin wait
  node_ready "$node"
  phase_end
  if all_running; then write_connection; fi
}

all_running() {
  local node
  for node in "${LAB_NODES[@]}"; do node_running "$node" || return 1; done
}

cmd_ssh() {
  local node=${1:?usage: lab.sh ssh NODE [CMD...]}
  shift
  node_index "$node" >/dev/null
  [ -f "$LAB_KNOWN_HOSTS" ] || die "the lab has not been started; run 'lab.sh up'"
  if [ $# -eq 0 ]; then
    lab_ssh "$node" -t
  else
    lab_ssh "$node" -- "$@"
  fi
}

cmd_link() {
  local link=${1:?usage: lab.sh link public|crossover up|down} state=${2:?usage: lab.sh link LINK up|down}
  check_link "$link"
  local qstate
  case $state in up) qstate=on ;; down) qstate=off ;; *) die "link state must be up or down" ;; esac
  mkdir -p "$LAB_RUN"
  echo "$state" >"$LAB_RUN/link-$link"
  local node
  for node in "${LAB_NODES[@]}"; do
    if node_running "$node"; then
      monitor "$node" "set_link nic-$link $qstate" >/dev/null || die "cannot reach $node's QEMU monitor"
    fi
  done
  log "$link link $state"
}

cmd_status() {
  local node pid link
  echo "lab dir: $LAB_DIR"
  for node in "${LAB_NODES[@]}"; do
    if pid=$(node_pid "$node"); then
      local answer=no
      lab_ssh "$node" -o ConnectTimeout=3 true >/dev/null 2>&1 && answer=yes
      echo "$node: running (qemu pid $pid, ssh 127.0.0.1:$(node_ssh_port "$node"), answers: $answer, hypervisor: $(cat "$LAB_RUN/$node.hypervisor" 2>/dev/null))"
    elif [ -f "$(node_dir "$node")/root.qcow2" ]; then
      echo "$node: stopped (disks kept)"
    else
      echo "$node: no disks (bare on next start)"
    fi
  done
  for link in "${LAB_LINKS[@]}"; do
    echo "$link link: $(cat "$LAB_RUN/link-$link" 2>/dev/null || echo up)"
  done
  fence_status
  arbiter_status
  [ -f "$LAB_JSON" ] && echo "connection: $LAB_JSON" || echo "connection: none (lab not up)"
}

cmd_test_prepare() {
  if [ "${LAB_KEEP:-}" = 1 ]; then
    log "LAB_KEEP=1: keeping the lab as it is"
    cmd_up
    check_bare || log "LAB_KEEP=1: the nodes are not bare; tests that expect bare hosts will say so"
  else
    cmd_reset
    exec 9>&-
    cmd_up
    check_bare || die "the lab did not boot bare hosts"
  fi
}

cmd_fence() {
  local action=${1:-} node=${2:-}
  case $action in
    status | on | off | reset) ;;
    *) die "usage: lab.sh fence status|on|off|reset NODE" ;;
  esac
  [ $# -eq 2 ] || die "usage: lab.sh fence status|on|off|reset NODE"
  node_index "$node" >/dev/null
  fence_pid >/dev/null || die "the lab's power switch is not running; 'lab.sh up' starts it"
  fence_request "$action" "$node"
}

cmd_arbiter() {
  local usage="usage: lab.sh arbiter cut|restore NODE, or lab.sh arbiter status"
  case ${1:-} in
    cut | restore)
      [ $# -eq 2 ] || die "$usage"
      node_index "$2" >/dev/null
      "arbiter_$1" "$2"
      ;;
    status)
      [ $# -eq 1 ] || die "$usage"
      arbiter_status
      ;;
    *) die "$usage" ;;
  esac
}

main() {
  local cmd=${1:-help}
  shift || true
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    reset) cmd_reset ;;
    status) cmd_status ;;
    ssh) cmd_ssh "$@" ;;
    kill) cmd_kill "$@" ;;
    start) cmd_start "$@" ;;
    link) cmd_link "$@" ;;
    path) echo "$LAB_JSON" ;;
    test-prepare) cmd_test_prepare ;;
    check-bare) check_bare ;;
    guest-tarball) cmd_guest_tarball ;;
    fence) cmd_fence "$@" ;;
    arbiter) cmd_arbiter "$@" ;;
    seed-by-hand) exec bash "$LAB_SRC/seed-by-hand/build.sh" "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
