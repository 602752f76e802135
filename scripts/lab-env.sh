#!/usr/bin/env bash
# Prints the `export` lines for running the Pulumi CLI by hand against the lab stack:
#   eval "$(npm run --silent lab:env)"
#   pulumi stack ls; pulumi preview --diff --stack lab
# The lab's state lives in ${XEN_HA_LAB_DIR:-$HOME/.cache/pulumi-xen-ha/lab}/state (the lab's
# reset deletes that folder). See scripts/pulumi-env.sh for what each variable does.
set -euo pipefail
lab_dir="${XEN_HA_LAB_DIR:-$HOME/.cache/pulumi-xen-ha/lab}"
exec bash "$(dirname "${BASH_SOURCE[0]}")/pulumi-env.sh" "$lab_dir/state"
