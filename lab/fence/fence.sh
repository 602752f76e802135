# shellcheck shell=bash
# The lab's power switch (lab/fence/README.md): started with the lab, reached by the nodes through
# their management link's guestfwd, and installed on them as a STONITH plugin. Sourced by lab.sh
# after lib/common.sh and lib/node.sh (it uses LAB_DIR, LAB_RUN, LAB_SRC, LAB_NODES, log, die,
# node_index, lab_ssh, without_inherited_fds).

LAB_FENCE_PORT="${LAB_FENCE_PORT:-47120}"   # the switch on this machine: 127.0.0.1 only
LAB_FENCE_DIR="$LAB_DIR/fence"              # secret, config.json, power-switch.log, pid file
# Where a node reaches the switch (the plugin's defaults), and where the switch sees it come from.
LAB_FENCE_GUEST_ADDRESS=10.0.2.100
LAB_FENCE_GUEST_PORT=7999
fence_source_address() { echo "127.0.1.$(node_index "$1")"; }

fence_pidfile() { echo "$LAB_FENCE_DIR/power-switch.pid"; }

# fence_pid: the switch's pid when it runs (a stale pid file is not a running switch).
fence_pid() {
  local pid
  pid=$(cat "$(fence_pidfile)" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q "power-switch.js serve" || return 1
  echo "$pid"
}

# fence_start: writes the switch's config (and its secret, once) and starts it, unless it runs.
# Its `on` boots a node with this lab.sh, which it finds by path.
fence_start() {
  fence_pid >/dev/null && return 0
  command -v node >/dev/null 2>&1 || die "the lab's power switch needs Node.js 20 (node) on this machine"
  local node args=()
  for node in "${LAB_NODES[@]}"; do args+=(--node "$node"); done
  node "$LAB_SRC/fence/power-switch.js" setup --dir "$LAB_FENCE_DIR" --run-dir "$LAB_RUN" "${args[@]}" >/dev/null ||
    die "cannot set up the power switch in $LAB_FENCE_DIR"
  rm -f "$(fence_pidfile)"
  # Its own session, and none of this shell's descriptors (the lab lock): it outlives this command.
  # The background subshell closes them and execs the switch itself, so no shell in between keeps
  # the lock open while the switch runs.
  (
    close_inherited_fds
    exec setsid node "$LAB_SRC/fence/power-switch.js" serve \
      --config "$LAB_FENCE_DIR/config.json" --port "$LAB_FENCE_PORT" --pid-file "$(fence_pidfile)" \
      -- bash "$LAB_SRC/lab.sh" start \
      </dev/null >>"$LAB_FENCE_DIR/power-switch.out" 2>&1
  ) &
  local server=$! deadline=$((SECONDS + 15))
  until fence_pid >/dev/null; do
    # bash reaps its exited children, so a switch that failed (a port in use) is gone here.
    kill -0 "$server" 2>/dev/null ||
      die "the power switch exited at start: $(tail -n 1 "$LAB_FENCE_DIR/power-switch.out") (see $LAB_FENCE_DIR/power-switch.out; LAB_FENCE_PORT sets the port)"
    [ $SECONDS -lt $deadline ] || die "the power switch did not start; see $LAB_FENCE_DIR/power-switch.out"
    sleep 0.2
  done
  log "power switch on 127.0.0.1:$LAB_FENCE_PORT (log $LAB_FENCE_DIR/power-switch.log)"
}

# fence_stop: stops the switch; its secret and log stay. A switch that is not running, or that
# ends while it is being stopped, is stopped: this never fails.
fence_stop() {
  local pid deadline
  pid=$(fence_pid) || { rm -f "$(fence_pidfile)"; return 0; }
  kill "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 5))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$(fence_pidfile)"
  log "power switch stopped"
}

# fence_guestfwd NODE: the suffix of NODE's management -netdev that lets it reach the switch.
# QEMU spawns the socat for each connection the node opens to 10.0.2.100:7999 (`restrict=on`
# lets explicit forwards through); `,,` is QEMU's escaped comma inside the option. The source
# address tells the switch's log which node asked.
fence_guestfwd() {
  printf ',guestfwd=tcp:%s:%s-cmd:socat - TCP:127.0.0.1:%s,,bind=%s' \
    "$LAB_FENCE_GUEST_ADDRESS" "$LAB_FENCE_GUEST_PORT" "$LAB_FENCE_PORT" "$(fence_source_address "$1")"
}

# The agents on the nodes: the Heartbeat STONITH plugin and the Pacemaker fence agent, each
# installed with the switch's client (switch-client.sh) in place of the line that sources it.
LAB_FENCE_PLUGIN_PATH=/usr/lib/stonith/plugins/external/xen-ha-lab-switch
LAB_FENCE_AGENT_PATH=/usr/sbin/fence_xen_ha_lab

# fence_inline FILE: FILE as installed on a node, standing alone: its one line that sources
# switch-client.sh replaced by that file's text. Fails unless there is exactly one such line.
fence_inline() {
  awk -v lib="$LAB_SRC/fence/switch-client.sh" '
    $0 == ". \"${0%/*}/switch-client.sh\"" {
      while ((getline line < lib) > 0) print line
      close(lib)
      n++
      next
    }
    { print }
    END { if (n != 1) exit 1 }
  ' "$1"
}

# What fence_install runs on a node as root. Its stdin: the switch's secret, then the plugin and
# the agent, each base64-encoded on one line. The watchdog is QEMU's i6300esb at PCI 00:09.0
# (node_boot). Exit 3: no watchdog.
# shellcheck disable=SC2016
FENCE_INSTALL_SCRIPT='set -eu
IFS= read -r secret
IFS= read -r plugin
IFS= read -r agent
(
  umask 077
  mkdir -p /etc/xen-ha-lab
  printf "%s\n" "$secret" >/etc/xen-ha-lab/.switch.secret.new
  mv /etc/xen-ha-lab/.switch.secret.new /etc/xen-ha-lab/switch.secret
)
secret=
install_agent() {
  d=${1%/*} f=${1##*/}
  mkdir -p "$d"
  printf "%s" "$2" | base64 -d >"$d/.$f.new"
  chmod 0755 "$d/.$f.new"
  mv "$d/.$f.new" "$d/$f"
}
install_agent '"$LAB_FENCE_PLUGIN_PATH"' "$plugin"
install_agent '"$LAB_FENCE_AGENT_PATH"' "$agent"
# udev loads i6300esb from its PCI alias when nothing blacklists it; this does not depend on
# that, and the file has it loaded at every boot, before fence_install comes back.
printf "i6300esb\n" >/etc/modules-load.d/.xen-ha-lab-watchdog.conf.new
mv /etc/modules-load.d/.xen-ha-lab-watchdog.conf.new /etc/modules-load.d/xen-ha-lab-watchdog.conf
modprobe i6300esb
# The driver registers as "i6300ESB timer": ask the device which module drives it.
driver=$(readlink -f /sys/bus/pci/devices/0000:00:09.0/driver/module 2>/dev/null || :)
if [ "${driver##*/}" != i6300esb ] || [ ! -c /dev/watchdog ]; then
  echo "no i6300esb watchdog at PCI 00:09.0 with /dev/watchdog" >&2
  exit 3
fi'

# fence_install NODE: the lab's equipment on NODE, in one SSH round trip, on every up and start:
# the STONITH plugin and the fence agent (0755), the switch's secret (0600; over stdin like the
# agents, never on a command line), and the i6300esb watchdog driver, loaded now and listed in
# /etc/modules-load.d/xen-ha-lab-watchdog.conf. Like a power cord, this is not the package's:
# check-bare does not look at it and the package must not remove it.
fence_install() {
  local node=$1 secret="" plugin agent rc=0
  IFS= read -r secret <"$LAB_FENCE_DIR/secret" || true
  [ -n "$secret" ] || die "the power switch's secret $LAB_FENCE_DIR/secret is missing or empty"
  if ! plugin=$(fence_inline "$LAB_SRC/fence/xen-ha-lab-switch" | base64 -w0) ||
    ! agent=$(fence_inline "$LAB_SRC/fence/fence_xen_ha_lab" | base64 -w0); then
    die "cannot put the switch's client (lab/fence/switch-client.sh) into the STONITH plugin and the fence agent"
  fi
  printf '%s\n' "$secret" "$plugin" "$agent" | lab_ssh "$node" "$FENCE_INSTALL_SCRIPT" || rc=$?
  case $rc in
    0) ;;
    3) die "$node has no watchdog device: it was booted without QEMU's i6300esb (by an older lab.sh?); 'lab.sh down' then 'lab.sh up' boots it with one" ;;
    *) die "cannot install the STONITH plugin, the fence agent, the switch's secret and the watchdog driver on $node" ;;
  esac
}

# fence_request ACTION NODE: asks the switch from this machine (status, on, off, reset).
fence_request() {
  node "$LAB_SRC/fence/power-switch.js" request --config "$LAB_FENCE_DIR/config.json" --port "$LAB_FENCE_PORT" "$@"
}

fence_status() {
  if fence_pid >/dev/null; then
    echo "power switch: running on 127.0.0.1:$LAB_FENCE_PORT (log $LAB_FENCE_DIR/power-switch.log)"
  else
    echo "power switch: not running"
  fi
}
