#!/usr/bin/env bash
# The main job: bring the two-node lab up (a running lab and the stack's state are kept as they
# are), apply the example cluster to it with the real `pulumi up` on the `lab` stack, and print
# the cluster's status as the package's status view reads it live from the hosts (where each VM
# runs, DRBD's roles and disk states, Heartbeat's view). Running it again changes nothing on the hosts.
# `npm run demo -- pacemaker` applies it with Corosync and Pacemaker instead (stack lab-pacemaker).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
case "${1:-}" in
  "") stack=lab ;;
  pacemaker) stack=lab-pacemaker ;;
  *) echo "usage: npm run demo [-- pacemaker]" >&2; exit 2 ;;
esac
t0=$(date +%s)
phase() { printf '[demo] %-32s %4d s\n' "$1" $(($(date +%s) - t0)); }

bash lab/lab.sh up
phase "lab up"
bash scripts/pulumi-install.sh >/dev/null
npm run --silent build
phase "engine and package ready"

eval "$(bash scripts/lab-env.sh)"
lab_dir="${XEN_HA_LAB_DIR:-$HOME/.cache/pulumi-xen-ha/lab}"
[ -f "Pulumi.$stack.yaml" ] || cp "examples/stacks/Pulumi.$stack.yaml" "Pulumi.$stack.yaml"
if [ ! -f "$lab_dir/heartbeat-authkey" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '=+/\n' >"$lab_dir/heartbeat-authkey")
fi
if [ ! -f "$lab_dir/corosync-authkey" ]; then
  (umask 077 && head -c 192 /dev/urandom | base64 | tr -d '\n' >"$lab_dir/corosync-authkey")
fi
pulumi stack select "$stack" --create --secrets-provider passphrase >/dev/null
pulumi up --stack "$stack" --yes --skip-preview
phase "pulumi up"

echo
echo "== stack outputs"
pulumi stack output --stack "$stack" --json
echo
# The status view exits 1 when something needs a person; the demo shows it either way.
node dist/cli/main.js status --stack "$stack" || true
phase "done"
