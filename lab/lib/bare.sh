# shellcheck shell=bash
# check-bare: what "bare host" means for the lab, read from the nodes right after
# test-prepare booted them, before any test touches them. Each node's report is
# kept in $LAB_RUN/bare/NODE.txt (key=value lines) for the lab tests to assert on.

# Runs on a node; DISK is the data disk.
# shellcheck disable=SC2016 # expanded on the node
BARE_PROBE='set -u
disk=$(readlink -f /dev/disk/by-id/virtio-lab-data)
echo "boot=$(cat /proc/sys/kernel/random/boot_id)"
echo "disk=$disk"
echo "diskSignatures=$(wipefs --no-act --noheadings "$disk" | wc -l)"
blkid -p "$disk" >/dev/null 2>&1; echo "diskBlkidExit=$?"
echo "diskChildren=$(($(lsblk -n -o NAME "$disk" | wc -l) - 1))"
echo "volumeGroups=$(vgs --noheadings 2>/dev/null | wc -l)"
for nic in eth0 eth1; do
  echo "${nic}Up=$(ip -o link show dev $nic | grep -c "[<,]UP[,>]")"
  echo "${nic}Addresses=$(ip -o addr show dev $nic scope global | wc -l)"
done
echo "drbdResources=$(drbdsetup status 2>/dev/null | grep -c "role:")"
for unit in heartbeat corosync corosync-qdevice pacemaker; do
  echo "$unit=$(systemctl is-active "$unit" 2>/dev/null)"
done
echo "guests=$(xl list | tail -n +3 | wc -l)"'

# check_bare: 0 when both nodes are bare; prints what is not.
check_bare() {
  local node report bad=0
  mkdir -p "$LAB_RUN/bare"
  for node in "${LAB_NODES[@]}"; do
    report=$(lab_ssh "$node" "$BARE_PROBE") || die "cannot probe $node"
    printf '%s\n' "$report" >"$LAB_RUN/bare/$node.txt"
    local want
    for want in diskSignatures=0 diskBlkidExit=2 diskChildren=0 volumeGroups=0 eth0Up=1 eth1Up=1 \
      eth0Addresses=0 eth1Addresses=0 drbdResources=0 heartbeat=inactive corosync=inactive \
      corosync-qdevice=inactive pacemaker=inactive guests=0; do
      if ! grep -qx "$want" <<<"$report"; then
        log "$node is not bare: expected $want, found $(grep "^${want%%=*}=" <<<"$report")"
        bad=1
      fi
    done
  done
  [ $bad -eq 0 ] && log "both nodes are bare (reports in $LAB_RUN/bare/)"
  return $bad
}
