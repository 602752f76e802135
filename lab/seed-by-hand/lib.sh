# Helpers of seed-by-hand (sourced by build.sh after lab/lib/common.sh): steps, commands and files
# on the nodes, templates, waits.
# shellcheck shell=bash disable=SC2016

SEED_STEP="(start)"
SEED_FILES="$SEED_SRC/files"

step() {
  SEED_STEP=$1
  printf '\n[seed-by-hand %s] step %s: %s\n' "$(date +%H:%M:%S)" "$1" "$2" >&2
}
note() { printf '[seed-by-hand] %s\n' "$*" >&2; }
fail() {
  printf '[seed-by-hand] step %s failed: %s\n' "$SEED_STEP" "$*" >&2
  exit 1
}
seed_on_exit() {
  local rc=$?
  [ "$rc" -eq 0 ] || printf '[seed-by-hand] FAILED in step %s (exit %s); fix the cause and run it again: finished steps are skipped\n' "$SEED_STEP" "$rc" >&2
}

# POSIX single quotes for the remote shell (dash or bash): 'it'\''s'.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# Every remote script starts with this: stop at the first failure, and `run CMD...` prints the
# command as the recipe's reader types it, then runs it.
REMOTE_PREAMBLE='set -euo pipefail
run() { printf "# %s\n" "$*" >&2; "$@"; }
'

# remote NODE SCRIPT [NAME=VALUE...]: SCRIPT run by bash as root on NODE's dom0, with each
# NAME=VALUE in its environment (values never enter the script text). stdin and stdout pass
# through; the lab's SSH options and pinned host key (lab_ssh).
remote() {
  local node=$1 script=$2 cmd=env kv
  shift 2
  for kv in "$@"; do cmd+=" $(q "$kv")"; done
  cmd+=" bash -c $(q "$REMOTE_PREAMBLE$script")"
  lab_ssh "$node" "$cmd"
}

# on NODE SCRIPT [NAME=VALUE...]: remote without stdin, every output line prefixed with the node.
on() {
  local node=$1
  remote "$@" </dev/null 2>&1 | sed -u "s/^/  $node| /" >&2
}

# ask NODE SCRIPT [NAME=VALUE...]: remote without stdin; prints the script's stdout.
ask() { remote "$@" </dev/null; }

# on_both SCRIPT [NAME=VALUE...]: the same script on both nodes at once; fails when either fails.
on_both() {
  local p1 p2 rc=0
  on ha1 "$@" &
  p1=$!
  on ha2 "$@" &
  p2=$!
  wait "$p1" || rc=1
  wait "$p2" || rc=1
  [ "$rc" -eq 0 ] || fail "on at least one node (see above)"
}

WRITE_FILE='dir=${FILE_PATH%/*}
mkdir -p "$dir"
tmp=$(mktemp "$dir/.seed-by-hand.XXXXXX")
cat >"$tmp"
chmod "$FILE_MODE" "$tmp"
mv -f "$tmp" "$FILE_PATH"
printf "# wrote %s (mode %s, %s bytes)\n" "$FILE_PATH" "$FILE_MODE" "$(wc -c <"$FILE_PATH")" >&2'

# put NODE PATH MODE: writes stdin to PATH on NODE (a temporary file renamed into place).
put() {
  remote "$1" "$WRITE_FILE" FILE_PATH="$2" FILE_MODE="$3" 2>&1 | sed -u "s/^/  $1| /" >&2
}

# copy_file FROM TO PATH MODE: the recipe's "copy the exact same file to the other node". The
# file is read whole first (the dot keeps its trailing newlines), so a failed read writes nothing.
copy_file() {
  local text
  text=$(ask "$1" 'cat -- "$FILE_PATH"; echo .' FILE_PATH="$3")
  printf '%s' "${text%.}" | put "$2" "$3" "$4"
}

# render TEMPLATE NAME=VALUE...: files/TEMPLATE with each @NAME@ replaced by VALUE.
render() {
  local template=$1 text kv
  shift
  text=$(<"$SEED_FILES/$template")
  for kv in "$@"; do text=${text//"@${kv%%=*}@"/"${kv#*=}"}; done
  if [[ $text =~ @[A-Z0-9_]+@ ]]; then fail "files/$template: no value for ${BASH_REMATCH[0]}"; fi
  printf '%s\n' "$text"
}

# wait_for WHAT SECONDS INTERVAL CMD...: runs CMD every INTERVAL seconds until it succeeds, for
# at most SECONDS; says what it waits for every 30 s.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2)) interval=$3 said=-30
  shift 3
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    if [ $((SECONDS - said)) -ge 30 ]; then
      note "waiting for $what ($((deadline - SECONDS)) s left)"
      said=$SECONDS
    fi
    sleep "$interval"
  done
}

# bare_hosts: lab.sh's own bare check (lib/bare.sh). Its reports in run/bare/ are test-prepare's
# record of the nodes, so this one keeps its own in run/seed-by-hand/bare/.
bare_hosts() {
  local LAB_RUN="$LAB_RUN/seed-by-hand"
  check_bare
}

# Root's key pair on each dom0, each in the other's authorized_keys, and each peer known by its
# crossover names (ha1X, ha1x, its address): what xl migrate's SSH needs, as ssh-copy-id leaves it.
exchange_root_keys() {
  local node peer key hostkey
  declare -A keys hostkeys
  for node in "${LAB_NODES[@]}"; do
    on "$node" '[ -f /root/.ssh/id_ed25519 ] || run ssh-keygen -q -t ed25519 -N "" -f /root/.ssh/id_ed25519'
    keys[$node]=$(ask "$node" 'cat /root/.ssh/id_ed25519.pub')
    hostkeys[$node]=$(ask "$node" 'cut -d " " -f 1,2 /etc/ssh/ssh_host_ed25519_key.pub')
  done
  for node in "${LAB_NODES[@]}"; do
    peer=$(node_peer "$node")
    key=${keys[$peer]} hostkey="${peer}X,${peer}x,${LAB_CROSSOVER_ADDRESS[$peer]} ${hostkeys[$peer]}"
    on "$node" '
install -d -m 700 /root/.ssh
grep -qxF "$KEY" /root/.ssh/authorized_keys || { printf "# ssh-copy-id from %s\n" "$PEER" >&2; echo "$KEY" >>/root/.ssh/authorized_keys; }
touch /root/.ssh/known_hosts
grep -qxF "$HOSTKEY" /root/.ssh/known_hosts || { printf "# known_hosts: %s\n" "${HOSTKEY%% *}" >&2; echo "$HOSTKEY" >>/root/.ssh/known_hosts; }' \
      KEY="$key" HOSTKEY="$hostkey" PEER="$peer"
  done
}
