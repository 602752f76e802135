# shellcheck shell=bash
# shellcheck disable=SC2034 # the settings are read by lab.sh and the other files it sources
# Shared settings and helpers of the lab. Sourced by lab.sh; every setting can be
# overridden from the environment (see lab/README.md).

LAB_DIR="${XEN_HA_LAB_DIR:-$HOME/.cache/pulumi-xen-ha/lab}"
LAB_NODES=(ha1 ha2)
LAB_LINKS=(public crossover)
LAB_NODE_MEM="${LAB_NODE_MEM:-2560}"           # MiB per node (Xen + dom0 + guests)
LAB_DOM0_MEM="${LAB_DOM0_MEM:-768}"            # MiB for dom0
LAB_HYPERVISOR_FROM_ENV="${LAB_HYPERVISOR:-}"
LAB_HYPERVISOR="${LAB_HYPERVISOR:-default}"    # default | 4.17.5 | an exact package version
LAB_SSH_PORT_BASE="${LAB_SSH_PORT_BASE:-2220}" # ha1 listens on base+1, ha2 on base+2
LAB_LINK_PORT_BASE="${LAB_LINK_PORT_BASE:-47100}"
LAB_DATA_DISK_SIZE="${LAB_DATA_DISK_SIZE:-4G}"
LAB_BOOT_TIMEOUT="${LAB_BOOT_TIMEOUT:-900}"    # seconds until SSH and `xl info` answer
LAB_DOWN_TIMEOUT="${LAB_DOWN_TIMEOUT:-120}"    # seconds for a clean poweroff before the kill
LAB_ACCEL="${LAB_ACCEL:-tcg}"
LAB_CPU="${LAB_CPU:-qemu64,+svm,+npt}"

# The seed's addresses; the lab only records them, NodeNetwork assigns them.
declare -A LAB_PUBLIC_ADDRESS=([ha1]=10.1.1.100 [ha2]=10.1.1.101)
declare -A LAB_CROSSOVER_ADDRESS=([ha1]=192.168.1.100 [ha2]=192.168.1.101)
LAB_PUBLIC_NIC=eth0
LAB_CROSSOVER_NIC=eth1
LAB_MGMT_NIC=eth2

LAB_SSH_DIR="$LAB_DIR/ssh"
LAB_KEY="$LAB_SSH_DIR/id_ed25519"
LAB_RUN="$LAB_DIR/run"
LAB_JSON="$LAB_RUN/lab.json"
LAB_KNOWN_HOSTS="$LAB_RUN/known_hosts"

log() { printf '[lab %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[lab] error: %s\n' "$*" >&2; exit 1; }

# Phase timing: `phase_begin NAME` ... `phase_end`; printed as "phase NAME: Ns".
_phase_name="" _phase_start=0
phase_begin() { _phase_name=$1; _phase_start=$SECONDS; log "phase $1 ..."; }
phase_end() { log "phase $_phase_name: $((SECONDS - _phase_start))s"; }

node_index() {
  case $1 in
    ha1) echo 1 ;;
    ha2) echo 2 ;;
    *) die "unknown node '$1' (expected one of: ${LAB_NODES[*]})" ;;
  esac
}
node_peer() { [ "$1" = ha1 ] && echo ha2 || echo ha1; }
node_ssh_port() { echo $((LAB_SSH_PORT_BASE + $(node_index "$1"))); }
check_link() {
  case $1 in public | crossover) ;; *) die "unknown link '$1' (expected public or crossover)" ;; esac
}

# Holds the lab lock for the rest of the process, so two commands never change the lab at once.
lab_lock() {
  mkdir -p "$LAB_DIR"
  exec 9>"$LAB_DIR/lab.lock"
  if ! flock -n 9; then
    log "waiting for another lab command to finish"
    flock -w "${LAB_LOCK_TIMEOUT:-1800}" 9 || die "another lab command holds $LAB_DIR/lab.lock"
  fi
}

ssh_opts() {
  local node=$1
  printf '%s\n' -F /dev/null -i "$LAB_KEY" -p "$(node_ssh_port "$node")" \
    -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=yes \
    -o UserKnownHostsFile="$LAB_KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
    -o ConnectTimeout=10 -o ServerAliveInterval=10 -o ServerAliveCountMax=3 -o LogLevel=ERROR
}

# lab_ssh NODE [ssh args...]: ssh to a node's dom0 as root with the pinned host key.
lab_ssh() {
  local node=$1
  shift
  local -a opts
  mapfile -t opts < <(ssh_opts "$node")
  # shellcheck disable=SC2029 # the command is meant to run on the node as given
  ssh "${opts[@]}" root@127.0.0.1 "$@"
}
