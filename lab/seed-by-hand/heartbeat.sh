# The recipe's Heartbeat part and the final checks (sourced by build.sh).
# shellcheck shell=bash disable=SC2016

# Sets NAME=VALUE in a /etc/default/xendomains* file: the line replaced, or added when the file
# has none (bookworm's file lacks XENDOMAINS_SHUTDOWN_ALL and XENDOMAINS_AUTO_ONLY).
SET_SETTING='set_setting() {
  printf "# %s: %s=%s\n" "$1" "$2" "$3" >&2
  if grep -q "^$2=" "$1"; then
    sed -i "s|^$2=.*|$2=$3|" "$1"
  else
    printf "%s=%s\n" "$2" "$3" >>"$1"
  fi
}
'

XENDOMAINS_DEFAULTS="$SET_SETTING"'
f=/etc/default/xendomainsHA1
run cp /etc/default/xendomains "$f"
set_setting "$f" XENDOMAINS_MIGRATE "\"$MIGRATE_TO --live\""
set_setting "$f" XENDOMAINS_SAVE ""
set_setting "$f" XENDOMAINS_SHUTDOWN_ALL ""
set_setting "$f" XENDOMAINS_RESTORE false
set_setting "$f" XENDOMAINS_AUTO /etc/xen/auto/HA1
set_setting "$f" XENDOMAINS_AUTO_ONLY true
run cp "$f" /etc/default/xendomainsHA2
set_setting /etc/default/xendomainsHA2 XENDOMAINS_AUTO /etc/xen/auto/HA2'

XENDOMAINS_MIGRATE_TO="$SET_SETTING"'
for f in /etc/default/xendomainsHA1 /etc/default/xendomainsHA2; do
  set_setting "$f" XENDOMAINS_MIGRATE "\"$MIGRATE_TO --live\""
done'

# What the recipe has identical on both nodes, and each file's mode.
HEARTBEAT_SHARED=(
  /etc/ha.d/authkeys:0600 /etc/ha.d/ha.cf:0644 /etc/ha.d/haresources:0644
  /etc/ha.d/resource.d/xendomainsHA1:0755 /etc/ha.d/resource.d/xendomainsHA2:0755
  /etc/default/xendomainsHA1:0644 /etc/default/xendomainsHA2:0644
)

heartbeat_setup() {
  step heartbeat-files "authkeys (sha1, 0600), ha.cf (ucast on $PUBLIC_BRIDGE, the public link), haresources, on ha1"
  local path
  for path in /etc/ha.d/authkeys /etc/ha.d/ha.cf /etc/ha.d/haresources; do
    install_file ha1 "$path" "$([ "$path" = /etc/ha.d/authkeys ] && echo 0600 || echo 0644)"
  done

  step heartbeat-resources "xendomainsHA1 and xendomainsHA2: /etc/init.d/xendomains copied and edited, with their /etc/default files, on ha1"
  local group
  for group in HA1 HA2; do on ha1 "$(<"$SEED_FILES/xendomains-ha.sh")" GROUP="$group"; done
  on ha1 "$XENDOMAINS_DEFAULTS" MIGRATE_TO=ha2X

  step heartbeat-copy "the same Heartbeat files on ha2; there both /etc/default files migrate to ha1X"
  local entry
  for entry in "${HEARTBEAT_SHARED[@]}"; do copy_file ha1 ha2 "${entry%:*}" "${entry##*:}"; done
  on ha2 "$XENDOMAINS_MIGRATE_TO" MIGRATE_TO=ha1X

  step xen-auto "/etc/xen/auto/HA1 and HA2 with test linked in HA1, and xendomains off at boot, on both nodes"
  on_both '
run mkdir -p /etc/xen/auto/HA1 /etc/xen/auto/HA2
[ "$(readlink /etc/xen/auto/HA1/test || true)" = /etc/xen/test.cfg ] || run ln -sfn /etc/xen/test.cfg /etc/xen/auto/HA1/test
run update-rc.d -f xendomains remove'
}

heartbeat_start() {
  step heartbeat-start "/etc/init.d/heartbeat start on both nodes at once, enabled at boot"
  on_both '
if xl list test >/dev/null 2>&1 && ! systemctl is-active -q heartbeat.service; then
  echo "test runs outside Heartbeat: the recipe shuts it down first (the lab guest ignores a shutdown: xl destroy test)" >&2
  exit 1
fi
run /etc/init.d/heartbeat start
run systemctl enable heartbeat.service'

  step guest "Heartbeat starts test on ha1 through xendomainsHA1 (up to ${GUEST_TIMEOUT}s); it answers ping from ha2"
  if ! wait_for "test to run on ha1" "$GUEST_TIMEOUT" 5 ask ha1 'xl list test >/dev/null 2>&1'; then
    on ha1 'tail -n 40 /var/log/ha-debug; journalctl -u heartbeat.service -n 40 --no-pager' || true
    fail "test did not start on ha1 within ${GUEST_TIMEOUT}s (SEED_GUEST_TIMEOUT); Heartbeat's log on ha1 is above"
  fi
  [ -z "$(ask ha2 'xl list test 2>/dev/null || true')" ] || fail "test runs on ha2 as well"
  wait_for "test ($GUEST_ADDRESS) to answer ping from ha2" 180 5 ask ha2 'ping -c 1 -W 2 -q "$A" >/dev/null' A="$GUEST_ADDRESS" ||
    fail "test runs on ha1 but $GUEST_ADDRESS does not answer from ha2 (console: xl console test on ha1)"
}

summary() {
  step summary "what the recipe's reader looks at in the end"
  local node state
  for node in "${LAB_NODES[@]}"; do
    on "$node" '
echo "heartbeat $(systemctl is-active heartbeat.service), holding: $(cl_status rscstatus 2>/dev/null || echo unknown)"
for res in test-disk test-swap; do
  echo "$(drbdadm sh-minor "$res"):$res $(drbdadm cstate "$res") $(drbdadm role "$res") $(drbdadm dstate "$res")"
done
xl list'
    [ "$(ask "$node" 'systemctl is-active heartbeat.service || true')" = active ] || fail "Heartbeat is not active on $node"
  done
  state=$(ask ha1 'drbdadm role test-disk test-swap | sort -u; drbdadm dstate test-disk test-swap | sort -u')
  [ "$state" = $'Primary/Secondary\nUpToDate/UpToDate' ] || fail "ha1's DRBD disks should be Primary/Secondary UpToDate/UpToDate, found: $state"
}
