#!/usr/bin/env bash
# lab.sh seed-by-hand: builds the recipe's cluster (network, LVM, DRBD, the DomU `test`, live
# migration, Heartbeat) on the lab's two bare nodes, step by step, as the recipe's reader does it
# by hand, so that tests can adopt it with the package. See README.md beside this file.
#   build.sh                    build it: refused unless both nodes are bare, or both carry an
#                               unfinished build of this script (which it then continues)
#   build.sh --render-only DIR  write the files it installs, per node, under DIR/NODE/, and stop
# Remote scripts are single-quoted on purpose: values reach them through their environment.
# shellcheck disable=SC2016 source-path=SCRIPTDIR
set -euo pipefail

SEED_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_SRC="$(cd "$SEED_SRC/.." && pwd)"
# shellcheck source=../lib/common.sh
source "$LAB_SRC/lib/common.sh"
# shellcheck source=../lib/bare.sh
source "$LAB_SRC/lib/bare.sh"
# shellcheck source=./lib.sh
source "$SEED_SRC/lib.sh"

# The recipe's names and values; addresses and NICs are the lab's (lib/common.sh), which are the
# recipe's own addresses.
DOMAIN=domain.local
PUBLIC_BRIDGE=xenbr0 # the guests' bridge of the lab's tests (test/support/lab.ts, guestBridgeScript)
GATEWAY=10.1.1.1
GUEST_ADDRESS=10.1.1.50
GUEST_DIR=/var/lib/xen-ha-lab/guest
HEARTBEAT_KEY=${SEED_HEARTBEAT_KEY:-'SecretKey123!!!'}
LAB_TEST_DISK_SIZE=${SEED_TEST_DISK_SIZE:-1G} # when the recipe's 5G does not fit the data disk
SYNC_TIMEOUT=${SEED_SYNC_TIMEOUT:-1800}
GUEST_TIMEOUT=${SEED_GUEST_TIMEOUT:-600}
# A deviating cluster, for the test that adoption refuses it: ha2's two meta-data indexes swapped.
if [ "${SEED_SWAP_META_ON_HA2:-0}" = 1 ]; then HA2_META=(1 0); else HA2_META=(0 1); fi

fqdn() { echo "$1.$DOMAIN"; }
net24() { echo "${1%.*}.$2"; }

CLUSTER_VALUES=(
  "HA1_FQDN=$(fqdn ha1)" "HA2_FQDN=$(fqdn ha2)"
  "HA1_PUBLIC=${LAB_PUBLIC_ADDRESS[ha1]}" "HA2_PUBLIC=${LAB_PUBLIC_ADDRESS[ha2]}"
  "HA1_CROSSOVER=${LAB_CROSSOVER_ADDRESS[ha1]}" "HA2_CROSSOVER=${LAB_CROSSOVER_ADDRESS[ha2]}"
  "PUBLIC_BRIDGE=$PUBLIC_BRIDGE" "PUBLIC_NIC=$LAB_PUBLIC_NIC" "CROSSOVER_NIC=$LAB_CROSSOVER_NIC"
  "GATEWAY=$GATEWAY" "GUEST_ADDRESS=$GUEST_ADDRESS" "GUEST_DIR=$GUEST_DIR"
  "HA2_DISK_META=${HA2_META[0]}" "HA2_SWAP_META=${HA2_META[1]}"
)

node_values() {
  local node=$1 pub=${LAB_PUBLIC_ADDRESS[$1]} cross=${LAB_CROSSOVER_ADDRESS[$1]}
  printf '%s\n' "FQDN=$(fqdn "$node")" "SHORT_NAME=$node" \
    "PUBLIC_ADDRESS=$pub" "PUBLIC_NETWORK=$(net24 "$pub" 0)" "PUBLIC_BROADCAST=$(net24 "$pub" 255)" \
    "CROSSOVER_ADDRESS=$cross" "CROSSOVER_NETWORK=$(net24 "$cross" 0)" "CROSSOVER_BROADCAST=$(net24 "$cross" 255)"
}

# content NODE PATH: the content seed-by-hand installs at PATH on NODE.
content() {
  local -a values
  mapfile -t values < <(node_values "$1")
  case $2 in
    /etc/network/interfaces) render interfaces "${CLUSTER_VALUES[@]}" "${values[@]}" ;;
    /etc/hosts) render hosts "${CLUSTER_VALUES[@]}" "${values[@]}" ;;
    /etc/hostname) fqdn "$1" ;;
    /etc/modprobe.d/loop.conf) echo "options loop max_loop=64" ;;
    /etc/drbd.conf) render drbd.conf "${CLUSTER_VALUES[@]}" ;;
    /etc/xen/test.cfg) render test.cfg "${CLUSTER_VALUES[@]}" ;;
    /etc/ha.d/authkeys) render authkeys "HEARTBEAT_KEY=$HEARTBEAT_KEY" ;;
    /etc/ha.d/ha.cf) render ha.cf "${CLUSTER_VALUES[@]}" ;;
    /etc/ha.d/haresources) render haresources "${CLUSTER_VALUES[@]}" ;;
    *) fail "no content for $2" ;;
  esac
}
# install_file NODE PATH MODE: writes content NODE PATH there; rendered first, so that a template
# that cannot be filled writes nothing.
install_file() {
  local text
  text=$(content "$1" "$2")
  printf '%s\n' "$text" | put "$1" "$2" "$3"
}

RENDERED=(/etc/network/interfaces /etc/hosts /etc/hostname /etc/modprobe.d/loop.conf /etc/drbd.conf
  /etc/xen/test.cfg /etc/ha.d/authkeys /etc/ha.d/ha.cf /etc/ha.d/haresources)

render_only() {
  local dir=$1 node path
  for node in "${LAB_NODES[@]}"; do
    for path in "${RENDERED[@]}"; do
      mkdir -p "$dir/$node${path%/*}"
      content "$node" "$path" >"$dir/$node$path"
    done
  done
  note "wrote the files of both nodes under $dir"
}

# ---- the gate: bare nodes, or an unfinished build of this script ----

# Written on both nodes right after the bare check: a later run continues a build it finds there.
SEED_MARKER=/var/lib/xen-ha-lab/seed-by-hand/started

gate() {
  step gate "both nodes bare (lab.sh check-bare), or both carrying an earlier seed-by-hand build"
  [ -f "$LAB_KNOWN_HOSTS" ] || fail "the lab has not been started; run 'npm run lab:up'"
  local node
  if bare_hosts; then
    for node in "${LAB_NODES[@]}"; do
      on "$node" 'mkdir -p "${MARKER%/*}"; date -u +%FT%TZ >"$MARKER"' MARKER="$SEED_MARKER"
    done
    return
  fi
  note "the nodes are not bare; looking for $SEED_MARKER on both"
  for node in "${LAB_NODES[@]}"; do
    if [ "$(ask "$node" 'if test -f "$M"; then echo yes; fi' M="$SEED_MARKER")" != yes ]; then
      fail "refusing: $node is neither bare nor built by seed-by-hand; 'npm run lab:reset && npm run lab:up' gives bare nodes"
    fi
  done
  note "continuing the build found on both nodes: finished steps are skipped"
}

# ---- the recipe, in its order ----

network() {
  step network "/etc/network/interfaces, /etc/hosts and /etc/hostname (FQDN); eth1 and the public bridge brought up with ifup, eth2 untouched"
  local node path
  for node in "${LAB_NODES[@]}"; do
    for path in /etc/network/interfaces /etc/hosts /etc/hostname; do install_file "$node" "$path" 0644; done
    # The recipe reboots here; ifup of the two interfaces applies the same without touching eth2.
    on "$node" '
run hostname "$FQDN"
run ifup "$CROSSOVER_NIC"
run ifup "$PUBLIC_BRIDGE"
[[ $(ip -o -4 addr show dev "$PUBLIC_BRIDGE") == *" $PUBLIC_ADDRESS/24 "* ]] || { echo "no $PUBLIC_ADDRESS on $PUBLIC_BRIDGE" >&2; exit 1; }
[[ $(ip -o -4 addr show dev "$CROSSOVER_NIC") == *" $CROSSOVER_ADDRESS/24 "* ]] || { echo "no $CROSSOVER_ADDRESS on $CROSSOVER_NIC" >&2; exit 1; }
echo "hostname: $(hostname), hostname -f: $(hostname -f)"' \
      FQDN="$(fqdn "$node")" PUBLIC_BRIDGE="$PUBLIC_BRIDGE" CROSSOVER_NIC="$LAB_CROSSOVER_NIC" \
      PUBLIC_ADDRESS="${LAB_PUBLIC_ADDRESS[$node]}" CROSSOVER_ADDRESS="${LAB_CROSSOVER_ADDRESS[$node]}"
  done
  for node in "${LAB_NODES[@]}"; do
    local peer
    peer=$(node_peer "$node")
    wait_for "$node to reach $peer and ${peer}X" 60 5 ask "$node" 'ping -c 1 -W 2 -q "$P" >/dev/null && ping -c 1 -W 2 -q "${P}X" >/dev/null' P="$peer" ||
      fail "$node cannot ping $peer (public link) and ${peer}X (crossover link)"
  done
  note "both nodes reach each other over both links"
}

ntp() {
  step ntp "the recipe installs ntp; the lab has no mirror and carries chrony, masked: unmask and start it"
  on_both 'run systemctl unmask chrony.service; run systemctl enable --now chrony.service'
}

loop_devices() {
  step loop "the recipe's 'loop max_loop=64' (/etc/modules takes module names only: the option goes to modprobe.d)"
  local node
  for node in "${LAB_NODES[@]}"; do
    on "$node" 'grep -qx loop /etc/modules || { printf "# echo loop >> /etc/modules\n" >&2; echo loop >>/etc/modules; }'
    install_file "$node" /etc/modprobe.d/loop.conf 0644
  done
}

lvm() {
  local need=$(((5120 + 384 + 1024 + 8) * 1024 * 1024)) smallest=0 node bytes size=5G
  for node in "${LAB_NODES[@]}"; do
    bytes=$(ask "$node" 'blockdev --getsize64 "$(readlink -f /dev/disk/by-id/virtio-lab-data)"')
    if [ "$smallest" -eq 0 ] || [ "$bytes" -lt "$smallest" ]; then smallest=$bytes; fi
  done
  [ "$smallest" -ge "$need" ] || size=$LAB_TEST_DISK_SIZE
  step lvm "pvcreate and vgcreate vg on the data disk ($((smallest >> 20)) MiB); test-disk $size (the recipe's 5G$([ "$size" = 5G ] && echo ", kept" || echo " does not fit")), test-swap 384M"
  for node in "${LAB_NODES[@]}"; do
    # On ha1 the recipe's xen-create-image made test-disk and test-swap; here lvcreate does, as on ha2.
    on "$node" '
disk=$(readlink -f /dev/disk/by-id/virtio-lab-data)
if ! vgs vg >/dev/null 2>&1; then
  run pvcreate "$disk"
  run vgcreate vg "$disk"
fi
lvs vg/test-disk >/dev/null 2>&1 || run lvcreate -L "$SIZE" -n test-disk vg
lvs vg/test-swap >/dev/null 2>&1 || run lvcreate -L 384M -n test-swap vg
vgs vg; lvs vg' SIZE="$size"
  done
}

DRBD_NODE_SETUP='
run modprobe drbd
version=$(head -n 1 /proc/drbd)
[[ $version == "version: 8.4."* ]] || { echo "expected the DRBD 8.4 module, found: $version" >&2; exit 1; }
drbdadm dump all >/dev/null
lvs vg/meta >/dev/null 2>&1 || run lvcreate -L 1G -n meta vg
for res in test-disk test-swap; do
  minor=$(drbdadm sh-minor "$res")
  if grep -q "^ *$minor: cs:" /proc/drbd; then echo "$res is up: its meta-data exists"; continue; fi
  if drbdadm dump-md "$res" >/dev/null 2>&1; then echo "$res has meta-data already"; continue; fi
  run drbdadm create-md --force "$res" </dev/null
done'

drbd() {
  step drbd-config "/etc/drbd.conf as the recipe writes it, meta volume (1G), create-md on ha1, then the same on ha2"
  install_file ha1 /etc/drbd.conf 0644
  on ha1 "$DRBD_NODE_SETUP"
  copy_file ha1 ha2 /etc/drbd.conf 0644
  on ha2 "$DRBD_NODE_SETUP"

  step drbd-start "/etc/init.d/drbd start on both nodes at once (it waits for the peer), enabled at boot"
  on_both 'run /etc/init.d/drbd start; run systemctl enable drbd.service; cat /proc/drbd'
  wait_for "both resources to connect" 120 5 ask ha1 'states=$(drbdadm cstate test-disk test-swap) && [ -n "$states" ] &&
    ! grep -qvxE "Connected|SyncSource|SyncTarget" <<<"$states"' ||
    fail "the DRBD resources did not connect: $(ask ha1 'cat /proc/drbd')"

  step drbd-sync "initial sync from ha1: drbdadm primary --force (8.4 for 'drbdsetup /dev/drbdN primary -o'), up to ${SYNC_TIMEOUT}s"
  on ha1 '
for res in test-disk test-swap; do
  if [ "$(drbdadm dstate "$res")" = Inconsistent/Inconsistent ]; then
    run drbdadm primary --force "$res"
  else
    echo "$res: $(drbdadm dstate "$res"), no forced primary needed"
  fi
done'
  local deadline=$((SECONDS + SYNC_TIMEOUT))
  until [ "$(ask ha1 'drbdadm dstate test-disk test-swap | sort -u')" = UpToDate/UpToDate ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the initial sync did not finish within ${SYNC_TIMEOUT}s (SEED_SYNC_TIMEOUT)"
    ask ha1 "sed -n '/^ *[12]: cs:/p; /sync.ed:/p; /finish:/p' /proc/drbd" | sed 's/^/  ha1| /' >&2
    sleep 15
  done
  # The recipe ends its DRBD checks at Secondary/Secondary (after starting and shutting down the
  # guest once): block-drbd promotes the disks when the guest starts.
  on ha1 '
if xl list test >/dev/null 2>&1; then echo "test runs here: its disks stay Primary"; exit 0; fi
for res in test-disk test-swap; do
  case $(drbdadm role "$res") in Primary/*) run drbdadm secondary "$res" ;; esac
done
cat /proc/drbd'
}

domu() {
  step domu "/etc/xen/test.cfg with drbd: disks on ha1 (the lab's test guest for xen-tools' install), copied to ha2"
  install_file ha1 /etc/xen/test.cfg 0644
  copy_file ha1 ha2 /etc/xen/test.cfg 0644
  on_both 'xl create -q -n /etc/xen/test.cfg >/dev/null && echo "xl reads /etc/xen/test.cfg"'
}

live_migration() {
  step migration "xl migrates over SSH (xend's relocation server is gone): root keys between the dom0s, peers known as ha1X/ha2X"
  exchange_root_keys
  for node in "${LAB_NODES[@]}"; do
    on "$node" 'run ssh -o BatchMode=yes -o ConnectTimeout=10 "${PEER}X" true' PEER="$(node_peer "$node")"
  done
}

# shellcheck source=./heartbeat.sh
source "$SEED_SRC/heartbeat.sh"

main() {
  if [ "${1:-}" = --render-only ]; then
    render_only "${2:?usage: build.sh --render-only DIR}"
    return
  fi
  [ $# -eq 0 ] || fail "usage: lab.sh seed-by-hand [--render-only DIR]"
  trap seed_on_exit EXIT
  local start=$SECONDS
  lab_lock
  gate
  network
  ntp
  loop_devices
  lvm
  drbd
  domu
  live_migration
  heartbeat_setup
  heartbeat_start
  summary
  note "the recipe's cluster is built in $((SECONDS - start)) s: test runs on ha1 through Heartbeat"
}

main "$@"
