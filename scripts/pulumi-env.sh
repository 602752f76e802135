#!/usr/bin/env bash
# Prints the `export` lines that point the Pulumi CLI at a local file backend, offline:
#   eval "$(bash scripts/pulumi-env.sh <backend-dir>)"      (or PULUMI_XEN_HA_BACKEND_DIR=<dir>)
#
#   PATH                               the CLI's bin dir first (pulumi, pulumi-language-nodejs,
#                                      pulumi-resource-pulumi-nodejs)
#   PULUMI_BACKEND_URL=file://<dir>    the state lives in <dir> (created here); never Pulumi Cloud
#   PULUMI_CONFIG_PASSPHRASE_FILE      a passphrase file generated on first use (mode 0600) in the
#                                      cache dir, never in the repo; it encrypts the stacks' secrets
#   PULUMI_SKIP_UPDATE_CHECK=true      no update check
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true   no plugin downloads
#   PULUMI_HOME                        the CLI's own home (plugins, credentials) under the cache
#
# The CLI is built first if needed (scripts/pulumi-install.sh, its progress on stderr); once built
# this takes well under a second. Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-xen-ha.
set -euo pipefail

dir="${1:-${PULUMI_XEN_HA_BACKEND_DIR:-}}"
if [ -z "$dir" ]; then
  echo "usage: bash scripts/pulumi-env.sh <backend-dir>   (or set PULUMI_XEN_HA_BACKEND_DIR)" >&2
  exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pulumi_bin=$(bash "$here/pulumi-install.sh" --quiet | tail -n1)
bin_dir=$(dirname "$pulumi_bin")

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-xen-ha"
mkdir -p "$cache_root/pulumi-home"
passphrase_file="$cache_root/passphrase"
if [ ! -s "$passphrase_file" ]; then
  (umask 077 && head -c 32 /dev/urandom | base64 > "$passphrase_file.tmp.$$" && mv -n "$passphrase_file.tmp.$$" "$passphrase_file")
  rm -f "$passphrase_file.tmp.$$"
fi
chmod 0600 "$passphrase_file"

q() { printf '%q' "$1"; }
echo "export PATH=$(q "$bin_dir"):\"\$PATH\""
echo "export PULUMI_BACKEND_URL=$(q "file://$dir")"
echo "export PULUMI_CONFIG_PASSPHRASE_FILE=$(q "$passphrase_file")"
echo "unset PULUMI_CONFIG_PASSPHRASE"
echo "export PULUMI_SKIP_UPDATE_CHECK=true"
echo "export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
echo "export PULUMI_HOME=$(q "$cache_root/pulumi-home")"
