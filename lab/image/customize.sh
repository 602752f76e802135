#!/usr/bin/env bash
# mmdebstrap customize hook, run on the build host with the image root as $1:
# bakes in the lab's keys, masks or disables what the package configures later,
# and builds the test guest. LAB_DIR, LAB_SRC and LAB_NODES come from lab.sh.
set -euo pipefail
root=$1

install -d -m 700 "$root/root/.ssh"
install -m 600 "$LAB_DIR/ssh/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
rm -f "$root"/etc/ssh/ssh_host_*
for node in $LAB_NODES; do
  install -d -m 700 "$root/etc/xen-ha-lab/hostkeys/$node"
  install -m 600 "$LAB_DIR/ssh/hostkeys/$node/ssh_host_ed25519_key" "$root/etc/xen-ha-lab/hostkeys/$node/"
  install -m 644 "$LAB_DIR/ssh/hostkeys/$node/ssh_host_ed25519_key.pub" "$root/etc/xen-ha-lab/hostkeys/$node/"
done

# No package mirror is reachable from the lab: leave no apt sources behind.
rm -f "$root/etc/apt/sources.list" "$root"/etc/apt/sources.list.d/*
echo localhost >"$root/etc/hostname"
: >"$root/etc/resolv.conf"
printf '/dev/vda\t/\text4\terrors=remount-ro\t0\t1\n' >"$root/etc/fstab"
printf 'source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n' >"$root/etc/network/interfaces"

unit_exists() { [ -n "$(chroot "$root" systemctl list-unit-files --no-legend "$1" 2>/dev/null)" ]; }
chroot "$root" systemctl enable xen-ha-lab-node.service xen-ha-lab-nic-watchdog.service
# Would reach out or wait for a network that is not there; NTP is configured later by the package.
for u in chrony.service systemd-networkd-wait-online.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
  chroot "$root" systemctl mask "$u"
done
# Configuring these is the package's job: installed, not started.
for u in heartbeat drbd xendomains corosync corosync-qdevice pacemaker; do
  if unit_exists "$u.service" || [ -e "$root/etc/init.d/$u" ]; then chroot "$root" systemctl disable "$u"; fi
done

chroot "$root" /usr/local/lib/xen-ha-lab/build-guest
