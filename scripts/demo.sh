#!/usr/bin/env bash
# The main job: bring the two-node lab up (a running lab and the stack's state are kept as they
# are), apply the example cluster to it with the real `pulumi up` on the `lab` stack, and print
# the cluster's status as the package's status view reads it live from the hosts (where each VM
# runs, DRBD's roles and disk states, Heartbeat's view). Running it again changes nothing on the hosts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
t0=$(date +%s)
phase() { printf '[demo] %-32s %4d s\n' "$1" $(($(date +%s) - t0)); }

bash lab/lab.sh up
phase "lab up"
bash scripts/pulumi-install.sh >/dev/null
npm run --silent build
phase "engine and package ready"

eval "$(bash scripts/lab-env.sh)"
lab_dir="${XEN_HA_LAB_DIR:-$HOME/.cache/pulumi-xen-ha/lab}"
[ -f Pulumi.lab.yaml ] || cp examples/stacks/Pulumi.lab.yaml Pulumi.lab.yaml
if [ ! -f "$lab_dir/heartbeat-authkey" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '=+/\n' >"$lab_dir/heartbeat-authkey")
fi
pulumi stack select lab --create --secrets-provider passphrase >/dev/null
pulumi up --stack lab --yes --skip-preview
phase "pulumi up"

echo
echo "== stack outputs"
pulumi stack output --stack lab --json
echo
# The status view exits 1 when something needs a person; the demo shows it either way.
node dist/cli/main.js status --stack lab || true
phase "done"
