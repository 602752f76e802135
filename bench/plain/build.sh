#!/usr/bin/env bash
# The benchmark's plain-script baseline: the recipe's steps, typed as a shell script, to the end
# state the benchmark's Pulumi program reaches on the lab's bare nodes: networks, the volume group,
# one DRBD disk per guest (the package's numbering), the guests' configs, root SSH between the
# dom0s for migration, the recipe's Heartbeat with its xendomains copies, Heartbeat running. It
# ends once Heartbeat runs on both nodes; the benchmark then waits for the guests to answer ping,
# as it does after the package's `pulumi up`.
#
#   build.sh --sync skip|full [--meta-size SIZE] [--disk-size SIZE] [--memory MIB] NAME:SLOT:HOME:IP...
#
# --sync skip zeroes each guest's volume on both nodes and skips DRBD's initial sync
# (new-current-uuid --clear-bitmap), as the package does for its empty volumes; --sync full lets
# DRBD copy the volume from the guest's home (primary --force). Every command reaches a node over
# one SSH connection per node (an OpenSSH control master), and work that is per node runs on both
# nodes at once.
#
# It reuses seed-by-hand's helpers and templates (lab/seed-by-hand/lib.sh, heartbeat.sh, files/),
# with these differences from seed-by-hand, to match the program: no gateway, the guests of the
# benchmark (the lab's test guest, one DRBD disk each, no swap), DRBD resources in /etc/drbd.d
# with the package's numbering (minor 2*slot+1, port 7789+2*slot, meta-data index 2*slot),
# usage-count no, and ha.cf without a watchdog (the program sets none either).
# Remote scripts are single-quoted on purpose: values reach them through their environment.
# shellcheck disable=SC2016 source-path=SCRIPTDIR
set -euo pipefail

PLAIN_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_SRC="$(cd "$PLAIN_SRC/../../lab" && pwd)"
SEED_SRC="$LAB_SRC/seed-by-hand"
# shellcheck source=../../lab/lib/common.sh
source "$LAB_SRC/lib/common.sh"
# shellcheck source=../../lab/seed-by-hand/lib.sh
source "$SEED_SRC/lib.sh"
# shellcheck source=../../lab/seed-by-hand/heartbeat.sh
source "$SEED_SRC/heartbeat.sh"

DOMAIN=domain.local
PUBLIC_BRIDGE=xenbr0
GUEST_DIR=/var/lib/xen-ha-lab/guest
SYNC=""
META_SIZE=128M
DISK_SIZE=64M
MEMORY=128
HEARTBEAT_KEY=${PLAIN_HEARTBEAT_KEY:-bench-heartbeat-key-0123}
VMS=()

step() { printf '[plain %s] %s\n' "$(date +%H:%M:%S)" "$1" >&2; SEED_STEP=$1; }
note() { printf '[plain] %s\n' "$*" >&2; }
fail() {
  printf '[plain] step %s failed: %s\n' "$SEED_STEP" "$*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --sync) SYNC=${2:?}; shift 2 ;;
    --meta-size) META_SIZE=${2:?}; shift 2 ;;
    --disk-size) DISK_SIZE=${2:?}; shift 2 ;;
    --memory) MEMORY=${2:?}; shift 2 ;;
    -*) fail "unknown option $1" ;;
    *) VMS+=("$1"); shift ;;
  esac
done
case $SYNC in skip | full) ;; *) fail "--sync must be skip or full" ;; esac
[ ${#VMS[@]} -gt 0 ] || fail "no guests given (NAME:SLOT:HOME:IP)"
for vm in "${VMS[@]}"; do
  [[ $vm =~ ^[a-z][a-z0-9-]*:[0-9]+:ha[12]:[0-9.]+$ ]] || fail "not NAME:SLOT:HOME:IP: $vm"
done

# ---- one SSH connection per node: a control master each, every command a session on it ----

MUX_DIR=$(mktemp -d)
lab_ssh() {
  local node=$1
  shift
  local -a opts
  mapfile -t opts < <(ssh_opts "$node")
  ssh -o ControlMaster=no -o ControlPath="$MUX_DIR/$node" "${opts[@]}" root@127.0.0.1 "$@"
}
open_masters() {
  local node
  local -a opts
  for node in "${LAB_NODES[@]}"; do
    mapfile -t opts < <(ssh_opts "$node")
    # The master outlives this call: it must not hold the lab's lock (fd 9) open.
    ssh -o ControlMaster=yes -o ControlPath="$MUX_DIR/$node" -o ControlPersist=yes -f -N "${opts[@]}" root@127.0.0.1 9>&-
  done
}
close_masters() {
  local node
  for node in "${LAB_NODES[@]}"; do
    ssh -o ControlPath="$MUX_DIR/$node" -O exit root@127.0.0.1 2>/dev/null || true
  done
  rm -rf "$MUX_DIR"
}
trap close_masters EXIT

# both FUNCTION ARGS...: FUNCTION NODE ARGS... on ha1 and ha2 at once; fails when either fails.
both() {
  local fn=$1 p1 p2 rc=0
  shift
  "$fn" ha1 "$@" &
  p1=$!
  "$fn" ha2 "$@" &
  p2=$!
  wait "$p1" || rc=1
  wait "$p2" || rc=1
  [ "$rc" -eq 0 ] || fail "on at least one node (see above)"
}

fqdn() { echo "$1.$DOMAIN"; }
net24() { echo "${1%.*}.$2"; }
vm_field() { cut -d: -f"$2" <<<"$1"; }

CLUSTER_VALUES=(
  "HA1_FQDN=$(fqdn ha1)" "HA2_FQDN=$(fqdn ha2)"
  "HA1_PUBLIC=${LAB_PUBLIC_ADDRESS[ha1]}" "HA2_PUBLIC=${LAB_PUBLIC_ADDRESS[ha2]}"
  "HA1_CROSSOVER=${LAB_CROSSOVER_ADDRESS[ha1]}" "HA2_CROSSOVER=${LAB_CROSSOVER_ADDRESS[ha2]}"
  "PUBLIC_BRIDGE=$PUBLIC_BRIDGE" "PUBLIC_NIC=$LAB_PUBLIC_NIC" "CROSSOVER_NIC=$LAB_CROSSOVER_NIC"
  "GATEWAY=none"
)
node_values() {
  local node=$1 pub=${LAB_PUBLIC_ADDRESS[$1]} cross=${LAB_CROSSOVER_ADDRESS[$1]}
  printf '%s\n' "FQDN=$(fqdn "$node")" "SHORT_NAME=$node" \
    "PUBLIC_ADDRESS=$pub" "PUBLIC_NETWORK=$(net24 "$pub" 0)" "PUBLIC_BROADCAST=$(net24 "$pub" 255)" \
    "CROSSOVER_ADDRESS=$cross" "CROSSOVER_NETWORK=$(net24 "$cross" 0)" "CROSSOVER_BROADCAST=$(net24 "$cross" 255)"
}
template() {
  local node=$1 name=$2
  local -a values
  mapfile -t values < <(node_values "$node")
  render "$name" "${CLUSTER_VALUES[@]}" "${values[@]}"
}

# ---- the recipe's steps ----

node_network() {
  local node=$1
  template "$node" interfaces | grep -v '^gateway ' | put "$node" /etc/network/interfaces 0644
  template "$node" hosts | put "$node" /etc/hosts 0644
  fqdn "$node" | put "$node" /etc/hostname 0644
  echo "options loop max_loop=64" | put "$node" /etc/modprobe.d/loop.conf 0644
  on "$node" '
run hostname "$FQDN"
run ifup "$CROSSOVER_NIC"
run ifup "$PUBLIC_BRIDGE"
grep -qx loop /etc/modules || echo loop >>/etc/modules
run systemctl unmask chrony.service
run systemctl enable --now chrony.service' \
    FQDN="$(fqdn "$node")" CROSSOVER_NIC="$LAB_CROSSOVER_NIC" PUBLIC_BRIDGE="$PUBLIC_BRIDGE"
}

node_reaches_peer() {
  local node=$1 peer
  peer=$(node_peer "$node")
  wait_for "$node to reach $peer and ${peer}X" 60 2 ask "$node" 'ping -c 1 -W 2 -q "$P" >/dev/null && ping -c 1 -W 2 -q "${P}X" >/dev/null' P="$peer" ||
    fail "$node cannot ping $peer and ${peer}X"
}

node_storage() {
  local node=$1 vm names=()
  for vm in "${VMS[@]}"; do names+=("$(vm_field "$vm" 1)-disk"); done
  on "$node" '
disk=$(readlink -f /dev/disk/by-id/virtio-lab-data)
run pvcreate "$disk"
run vgcreate vg "$disk"
run lvcreate -L "$META_SIZE" -n meta vg
for lv in $NAMES; do
  run lvcreate -L "$DISK_SIZE" -n "$lv" vg
  if [ "$SYNC" = skip ]; then run blkdiscard --zeroout "/dev/vg/$lv"; fi
done' META_SIZE="$META_SIZE" DISK_SIZE="$DISK_SIZE" SYNC="$SYNC" NAMES="${names[*]}"
}

drbd_res() {
  local name=$1 slot=$2 minor=$((2 * $2 + 1))
  cat <<EOF
resource $name-disk {
  protocol C;
  startup { wfc-timeout 120; degr-wfc-timeout 120; }
  disk { on-io-error detach; resync-rate 90M; }
  net {
    allow-two-primaries;
    after-sb-0pri discard-zero-changes;
    after-sb-1pri discard-secondary;
    timeout 60; connect-int 10; ping-int 10;
    max-buffers 2048; max-epoch-size 2048;
  }
  on $(fqdn ha1) {
    address ${LAB_CROSSOVER_ADDRESS[ha1]}:$((7788 + minor));
    device /dev/drbd$minor;
    disk /dev/vg/$name-disk;
    meta-disk /dev/vg/meta[$((2 * slot))];
  }
  on $(fqdn ha2) {
    address ${LAB_CROSSOVER_ADDRESS[ha2]}:$((7788 + minor));
    device /dev/drbd$minor;
    disk /dev/vg/$name-disk;
    meta-disk /dev/vg/meta[$((2 * slot))];
  }
}
EOF
}

node_drbd() {
  local node=$1 vm names=()
  printf 'include "drbd.d/global_common.conf";\ninclude "drbd.d/*.res";\n' | put "$node" /etc/drbd.conf 0644
  printf 'global { usage-count no; }\ncommon { }\n' | put "$node" /etc/drbd.d/global_common.conf 0644
  for vm in "${VMS[@]}"; do
    drbd_res "$(vm_field "$vm" 1)" "$(vm_field "$vm" 2)" | put "$node" "/etc/drbd.d/$(vm_field "$vm" 1)-disk.res" 0644
    names+=("$(vm_field "$vm" 1)-disk")
  done
  on "$node" '
run modprobe drbd
for res in $NAMES; do run drbdadm create-md --force "$res" </dev/null; done
for res in $NAMES; do run drbdadm up "$res"; done
run systemctl enable drbd.service' NAMES="${names[*]}"
}

drbd_sync() {
  local vm names=() home res
  for vm in "${VMS[@]}"; do names+=("$(vm_field "$vm" 1)-disk"); done
  wait_for "the DRBD resources to connect" 120 1 ask ha1 'for r in $NAMES; do [ "$(drbdadm cstate "$r")" = Connected ] || exit 1; done' NAMES="${names[*]}" ||
    fail "the DRBD resources did not connect: $(ask ha1 'cat /proc/drbd')"
  for vm in "${VMS[@]}"; do
    home=$(vm_field "$vm" 3) res="$(vm_field "$vm" 1)-disk"
    if [ "$SYNC" = full ]; then
      on "$home" 'run drbdadm primary --force "$RES"' RES="$res"
    else
      on "$home" 'run drbdadm -- --clear-bitmap new-current-uuid "$RES"' RES="$res"
    fi
  done
  wait_for "UpToDate/UpToDate on every resource" 1800 2 ask ha1 'for r in $NAMES; do [ "$(drbdadm dstate "$r")" = UpToDate/UpToDate ] || exit 1; done' NAMES="${names[*]}" ||
    fail "the DRBD resources did not reach UpToDate: $(ask ha1 'cat /proc/drbd')"
  if [ "$SYNC" = full ]; then
    for vm in "${VMS[@]}"; do on "$(vm_field "$vm" 3)" 'run drbdadm secondary "$RES"' RES="$(vm_field "$vm" 1)-disk"; done
  fi
}

guest_cfg() {
  local name=$1 ip=$2
  cat <<EOF
name        = '$name'
type        = 'pvh'
kernel      = '$GUEST_DIR/vmlinuz'
ramdisk     = '$GUEST_DIR/initrd.img'
extra       = 'console=hvc0 ip=$ip/24 name=$name'
vcpus       = 1
memory      = $MEMORY
disk        = [ 'drbd:$name-disk,xvda,w' ]
vif         = [ 'ip=$ip,bridge=$PUBLIC_BRIDGE' ]
on_poweroff = 'destroy'
on_reboot   = 'restart'
on_crash    = 'restart'
EOF
}

node_guests() {
  local node=$1 vm name group links=""
  for vm in "${VMS[@]}"; do
    name=$(vm_field "$vm" 1)
    guest_cfg "$name" "$(vm_field "$vm" 4)" | put "$node" "/etc/xen/$name.cfg" 0644
    group=$(vm_field "$vm" 3 | tr '[:lower:]' '[:upper:]')
    links+="$group/$name "
  done
  on "$node" '
run mkdir -p /etc/xen/auto/HA1 /etc/xen/auto/HA2
for link in $LINKS; do run ln -sfn "/etc/xen/${link#*/}.cfg" "/etc/xen/auto/$link"; done
run update-rc.d -f xendomains remove' LINKS="$links"
}

node_heartbeat() {
  local node=$1 group
  render authkeys "HEARTBEAT_KEY=$HEARTBEAT_KEY" | put "$node" /etc/ha.d/authkeys 0600
  template "$node" ha.cf | grep -v '^watchdog ' | put "$node" /etc/ha.d/ha.cf 0644
  template "$node" haresources | put "$node" /etc/ha.d/haresources 0644
  for group in HA1 HA2; do on "$node" "$(<"$SEED_FILES/xendomains-ha.sh")" GROUP="$group"; done
  on "$node" "$XENDOMAINS_DEFAULTS" MIGRATE_TO="$(node_peer "$node")X"
}

node_heartbeat_start() {
  on "$1" 'run systemctl enable heartbeat.service; run systemctl start heartbeat.service'
}

main() {
  local start=$SECONDS
  lab_lock
  open_masters
  step network
  both node_network
  both node_reaches_peer
  step storage
  both node_storage
  step drbd
  both node_drbd
  drbd_sync
  step guests
  both node_guests
  step migration
  exchange_root_keys
  step heartbeat
  both node_heartbeat
  both node_heartbeat_start
  note "built in $((SECONDS - start)) s (sync: $SYNC, guests: ${#VMS[@]})"
}

main
