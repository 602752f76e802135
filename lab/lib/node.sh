# shellcheck shell=bash
# One node: its disks, its QEMU process, and waiting for it.
#
# PCI layout inside a node (the order fixes the device names in dom0):
#   04 root disk  -> /dev/vda  (qcow2 overlay of the base image)
#   05 data disk  -> /dev/vdb  (empty, sparse; becomes the LVM volume group)
#   06 public NIC -> eth0      (dgram link to the peer)
#   07 crossover  -> eth1      (dgram link to the peer)
#   08 management -> eth2      (user networking, restrict=on, SSH forwarded, the guestfwds of the
#                               power switch and the quorum arbiter)
#   09 watchdog   -> /dev/watchdog (i6300esb; when it fires, QEMU resets the node)

node_dir() { echo "$LAB_DIR/nodes/$1"; }
node_pidfile() { echo "$LAB_RUN/$1.pid"; }

# node_pid NODE: prints the QEMU pid when the node runs.
node_pid() {
  local pidfile pid
  pidfile=$(node_pidfile "$1")
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-name $1," || return 1
  echo "$pid"
}
node_running() { node_pid "$1" >/dev/null; }

node_mac() { printf '52:54:00:a0:%02x:%02x' "$(node_index "$1")" "$2"; }

# link_ports LINK NODE: "local remote" UDP ports of NODE's end of LINK.
link_ports() {
  local base=$LAB_LINK_PORT_BASE i
  [ "$1" = crossover ] && base=$((base + 10))
  i=$(node_index "$2")
  echo "$((base + i)) $((base + 3 - i))"
}

# Creates the node's disks on first use: an overlay of the current image and an
# empty data disk. Existing disks are kept (they are the node's state).
node_prepare_disks() {
  local node=$1 dir
  dir=$(node_dir "$node")
  mkdir -p "$dir"
  if [ ! -f "$dir/root.qcow2" ]; then
    qemu-img create -q -f qcow2 -F raw -b "$(image_dir "$IMAGE_HASH")/base.img" "$dir/root.qcow2"
    echo "$IMAGE_HASH" >"$dir/image"
    rm -f "$dir/data.img"
  fi
  if [ ! -f "$dir/data.img" ]; then
    truncate -s "$LAB_DATA_DISK_SIZE" "$dir/data.img"
  fi
  local used
  used=$(cat "$dir/image")
  [ -f "$(image_dir "$used")/complete" ] ||
    die "$node's disk was made from image $used, which is gone; run 'lab.sh reset'"
  [ "$used" = "$IMAGE_HASH" ] ||
    log "note: $node runs image $used, older than the current recipe $IMAGE_HASH; 'lab.sh reset' to move to it"
}

# Runs a daemon with no file descriptor but stdin/stdout/stderr: QEMU outlives the command that
# started it, and an inherited descriptor (a caller's `flock` on the lab, say) would stay held.
without_inherited_fds() {
  (
    close_inherited_fds
    exec "$@"
  )
}

# Closes every descriptor above 2 of the current (sub)shell.
close_inherited_fds() {
  local fd
  for fd in "/proc/$BASHPID/fd/"*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}

node_boot() {
  local node=$1 dir img xen idx port
  dir=$(node_dir "$node")
  img=$(image_dir "$(cat "$dir/image")")
  xen=$(hypervisor_binary "$(cat "$dir/image")") || exit 1
  idx=$(node_index "$node")
  port=$(node_ssh_port "$node")
  mkdir -p "$LAB_RUN"
  case "$LAB_DIR" in *,*) die "XEN_HA_LAB_DIR must not contain a comma (QEMU's multiboot module list)" ;; esac
  local -a pub cross
  read -r -a pub <<<"$(link_ports public "$node")"
  read -r -a cross <<<"$(link_ports crossover "$node")"
  local dom0_cmdline="root=/dev/vda rw console=hvc0 net.ifnames=0 fsck.mode=skip xenhalab.node=$node xenhalab.index=$idx"
  local console="$LAB_RUN/$node.console.log"
  [ -f "$console" ] && mv "$console" "$console.old"
  rm -f "$LAB_RUN/$node.monitor"
  without_inherited_fds qemu-system-x86_64 \
    -name "$node,process=lab-$node" \
    -machine pc -accel "$LAB_ACCEL" -cpu "$LAB_CPU" -smp 1 -m "$LAB_NODE_MEM" \
    -nodefaults -no-user-config -display none \
    -kernel "$xen" \
    -append "console=com1 dom0_mem=${LAB_DOM0_MEM}M,max:${LAB_DOM0_MEM}M dom0_max_vcpus=1 bootscrub=0" \
    -initrd "$img/vmlinuz $dom0_cmdline,$img/initrd.img" \
    -drive "file=$dir/root.qcow2,format=qcow2,if=none,id=root,cache=writeback,discard=unmap" \
    -device virtio-blk-pci,drive=root,addr=0x4,serial=lab-root \
    -drive "file=$dir/data.img,format=raw,if=none,id=data,cache=writeback" \
    -device virtio-blk-pci,drive=data,addr=0x5,serial=lab-data \
    -netdev "dgram,id=public,local.type=inet,local.host=127.0.0.1,local.port=${pub[0]},remote.type=inet,remote.host=127.0.0.1,remote.port=${pub[1]}" \
    -device "virtio-net-pci,netdev=public,id=nic-public,mac=$(node_mac "$node" 1),addr=0x6" \
    -netdev "dgram,id=crossover,local.type=inet,local.host=127.0.0.1,local.port=${cross[0]},remote.type=inet,remote.host=127.0.0.1,remote.port=${cross[1]}" \
    -device "virtio-net-pci,netdev=crossover,id=nic-crossover,mac=$(node_mac "$node" 2),addr=0x7" \
    -netdev "user,id=mgmt,restrict=on,ipv6=off,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:$port-:22$(fence_guestfwd "$node")$(arbiter_guestfwd "$node")" \
    -device "virtio-net-pci,netdev=mgmt,id=nic-mgmt,mac=$(node_mac "$node" 3),addr=0x8" \
    -device i6300esb,id=watchdog,addr=0x9 -watchdog-action reset \
    -serial "file:$console" \
    -monitor "unix:$LAB_RUN/$node.monitor,server=on,wait=off" \
    -pidfile "$(node_pidfile "$node")" -daemonize ||
    die "qemu failed to start $node"
  printf '%s %s\n' "$LAB_HYPERVISOR" "$(hypervisor_package_version "$(cat "$dir/image")")" >"$LAB_RUN/$node.hypervisor"
  # A cable cut before this boot stays cut.
  local link
  for link in "${LAB_LINKS[@]}"; do
    [ "$(cat "$LAB_RUN/link-$link" 2>/dev/null)" = down ] && monitor "$node" "set_link nic-$link off" >/dev/null
  done
  log "$node booting (qemu pid $(node_pid "$node"), ssh port $port, console $console)"
}

monitor() {
  local node=$1 cmd=$2
  printf '%s\n' "$cmd" | socat -t 2 - "UNIX-CONNECT:$LAB_RUN/$node.monitor"
}

# node_wait NODE: until SSH answers and the Xen toolstack works, or the deadline.
node_wait() {
  local node=$1 deadline=$((SECONDS + LAB_BOOT_TIMEOUT))
  while :; do
    node_running "$node" || die "$node's QEMU exited; see $LAB_RUN/$node.console.log"
    if lab_ssh "$node" -o ConnectTimeout=5 'xl info >/dev/null' >/dev/null 2>&1; then
      log "$node is up"
      return 0
    fi
    [ $SECONDS -lt $deadline ] || die "$node did not answer within ${LAB_BOOT_TIMEOUT}s; see $LAB_RUN/$node.console.log"
    sleep 3
  done
}

# node_stop NODE: clean poweroff with a deadline, then the kill.
node_stop() {
  local node=$1 pid deadline
  pid=$(node_pid "$node") || { rm -f "$(node_pidfile "$node")"; return 0; }
  log "$node: powering off"
  lab_ssh "$node" -o ConnectTimeout=5 'systemctl poweroff --no-block' >/dev/null 2>&1 ||
    monitor "$node" system_powerdown >/dev/null 2>&1 || true
  deadline=$((SECONDS + LAB_DOWN_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$node: no clean poweroff within ${LAB_DOWN_TIMEOUT}s, killing it"
    node_kill "$node"
  fi
  rm -f "$(node_pidfile "$node")"
  log "$node stopped"
}

node_kill() {
  local node=$1 pid
  pid=$(node_pid "$node") || { rm -f "$(node_pidfile "$node")"; return 0; }
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  rm -f "$(node_pidfile "$node")"
}
