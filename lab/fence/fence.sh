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
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "power-switch.js serve" || return 1
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
  without_inherited_fds setsid node "$LAB_SRC/fence/power-switch.js" serve \
    --config "$LAB_FENCE_DIR/config.json" --port "$LAB_FENCE_PORT" --pid-file "$(fence_pidfile)" \
    -- bash "$LAB_SRC/lab.sh" start \
    </dev/null >>"$LAB_FENCE_DIR/power-switch.out" 2>&1 &
  local deadline=$((SECONDS + 15))
  until fence_pid >/dev/null; do
    [ $SECONDS -lt $deadline ] || die "the power switch did not start; see $LAB_FENCE_DIR/power-switch.out"
    sleep 0.2
  done
  log "power switch on 127.0.0.1:$LAB_FENCE_PORT (log $LAB_FENCE_DIR/power-switch.log)"
}

# fence_stop: stops the switch; its secret and log stay.
fence_stop() {
  local pid deadline
  pid=$(fence_pid) || { rm -f "$(fence_pidfile)"; return 0; }
  kill "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 5))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
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

# fence_install NODE: the STONITH plugin and the switch's secret on NODE (both over stdin).
fence_install() {
  local node=$1
  # shellcheck disable=SC2016
  lab_ssh "$node" 'set -eu
d=/usr/lib/stonith/plugins/external
mkdir -p "$d"
cat >"$d/.xen-ha-lab-switch.new"
chmod 0755 "$d/.xen-ha-lab-switch.new"
mv "$d/.xen-ha-lab-switch.new" "$d/xen-ha-lab-switch"' <"$LAB_SRC/fence/xen-ha-lab-switch" ||
    die "cannot install the STONITH plugin on $node"
  lab_ssh "$node" 'set -eu
umask 077
mkdir -p /etc/xen-ha-lab
cat >/etc/xen-ha-lab/.switch.secret.new
mv /etc/xen-ha-lab/.switch.secret.new /etc/xen-ha-lab/switch.secret' <"$LAB_FENCE_DIR/secret" ||
    die "cannot install the power switch's secret on $node"
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
