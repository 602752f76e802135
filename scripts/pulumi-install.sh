#!/usr/bin/env bash
# Installs the real Pulumi engine for this package's tests and for hand use:
#   the `pulumi` CLI, `pulumi-language-nodejs` and the `pulumi-resource-pulumi-nodejs` launcher,
# at the version of the @pulumi/pulumi SDK in node_modules.
#
# Usage: bash scripts/pulumi-install.sh [--quiet]      (npm run pulumi:install)
#   Progress and timings go to stderr (--quiet: nothing on a warm run); the LAST line, on stdout,
#   is the absolute path of the `pulumi` binary. PULUMI_INSTALL_NO_BUILD=1: never build (fail
#   instead); PULUMI_BUILD_JOBS: parallel compile jobs (default 2).
#
# 1. A `pulumi` already on PATH is used when `pulumi version` prints the SDK's version and
#    `pulumi-language-nodejs` sits beside it (an ordinary install of the CLI has both).
# 2. Otherwise both Go programs are built from their Go modules into
#      ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-xen-ha/pulumi/<version>/bin/
#    with GOMODCACHE/GOCACHE in ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-xen-ha/go/, and the
#    dynamic-provider launcher is copied beside them from node_modules/@pulumi/pulumi.
#    (No policy-pack launcher is installed: policy packs are not used here.)
#
# How the build works (scripts/pulumi-cli/):
# - cli/go.mod is a wrapper module requiring github.com/pulumi/pulumi/pkg/v3 and sdk/v3 at the
#   SDK's version and repeating pkg's one non-local replace (atotto/clipboard). `go install
#   .../cmd/pulumi@version` is refused because pkg/go.mod has local replaces. The version is
#   stamped with -X .../sdk/v3/go/common/version.Version=v<version>; without it `pulumi version`
#   prints nothing useful and the Automation API refuses inline refresh/destroy.
# - language-nodejs/go.mod builds pulumi-language-nodejs. Since 2023 the language host is its own
#   module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), but the Go module
#   proxy reachable here answers "403 Forbidden: This module version is not available" for every
#   version of it (tag, commit dc7edd58bc13 of pkg/v3.248.0, pseudo-version, @latest). So the host
#   is built from the last sdk/v3 release that still carried it as a package, v3.68.0
#   (github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs). The 3.248 CLI still
#   speaks its protocol: it falls back to GetRequiredPlugins and skips Handshake when a host
#   answers Unimplemented, and the 3.248 Node.js SDK's `cmd/run` takes the same flags
#   (--monitor, --engine, --sync, --project, --stack, --pwd, --dry-run, --parallel, ...).
#   test/engine/ runs a program directory through it to prove that.
# - When the SDK's version differs from the one pinned in cli/go.mod, the build copies the wrapper,
#   moves both requirements to the SDK's version and runs `go mod tidy` (update the committed
#   go.mod/go.sum afterwards with the printed hint).
#
# Measured (2 cores, 24 GiB, Go 1.26.8, empty GOMODCACHE/GOCACHE, this script end to end):
#   cold build, module downloads included: 4 min 2 s on an otherwise idle machine
#     (modules 12 s, pulumi 215 s, pulumi-language-nodejs 14 s); 7 min 21 s while the QEMU lab
#     was building beside it (modules 38 s, pulumi 364 s, language host 38 s). CPU: ~330 s user
#     + ~80 s system; peak memory 1.7 GB.
#   warm run (already built): 0.2 s.
#   sizes: pulumi 107 MiB, pulumi-language-nodejs 18 MiB (both stripped, -s -w); caches
#     1.6 GB of modules (GOMODCACHE) and 1.3 GB of build cache (GOCACHE).
set -euo pipefail

quiet=0
for arg in "$@"; do
  case "$arg" in
    -q|--quiet) quiet=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pulumi-install: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

t_start=$(date +%s.%N)
say() { [ "$quiet" = 1 ] || echo "pulumi-install: $*" >&2; }
loud() { echo "pulumi-install: $*" >&2; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sdk_dir="$repo/node_modules/@pulumi/pulumi"
if [ ! -f "$sdk_dir/package.json" ]; then
  loud "node_modules/@pulumi/pulumi is missing: run 'npm ci' first."
  exit 1
fi
version=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$sdk_dir/package.json" | head -n1)
if [ -z "$version" ]; then
  loud "cannot read the version of @pulumi/pulumi from $sdk_dir/package.json"
  exit 1
fi
launcher_src="$sdk_dir/pulumi-resource-pulumi-nodejs"

# 1. A matching CLI on PATH (with its language host beside it).
if on_path=$(command -v pulumi 2>/dev/null); then
  on_path_dir=$(cd "$(dirname "$on_path")" && pwd -P)
  on_path="$on_path_dir/$(basename "$on_path")"
  if [ -x "$on_path_dir/pulumi-language-nodejs" ] &&
     [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$on_path" version 2>/dev/null)" = "v$version" ]; then
    if [ ! -x "$on_path_dir/pulumi-resource-pulumi-nodejs" ] && ! command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1; then
      say "note: pulumi-resource-pulumi-nodejs is neither beside $on_path nor on PATH; dynamic providers need it (copy $launcher_src there)."
    fi
    say "using pulumi v$version on PATH ($(since "$t_start"))"
    echo "$on_path"
    exit 0
  fi
fi

cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-xen-ha"
prefix="$cache_root/pulumi/$version"
bin="$prefix/bin"
wrappers="$repo/scripts/pulumi-cli"

# The stamp records what the binaries were built from; a warm run compares it and stops there.
inputs_hash() {
  {
    echo "version=$version"
    cat "$wrappers/cli/go.mod" "$wrappers/cli/go.sum" "$wrappers/language-nodejs/go.mod" "$wrappers/language-nodejs/go.sum"
    sed -n '/^[[:space:]]*# --- build recipe ---$/,/^[[:space:]]*# --- end of build recipe ---$/p' "${BASH_SOURCE[0]}"
  } | sha256sum | cut -d' ' -f1
}
want_stamp=$(inputs_hash)
stamp_file="$prefix/build.stamp"

install_launcher() {
  if ! cmp -s "$launcher_src" "$bin/pulumi-resource-pulumi-nodejs" 2>/dev/null; then
    cp "$launcher_src" "$bin/pulumi-resource-pulumi-nodejs.tmp"
    chmod 0755 "$bin/pulumi-resource-pulumi-nodejs.tmp"
    mv -f "$bin/pulumi-resource-pulumi-nodejs.tmp" "$bin/pulumi-resource-pulumi-nodejs"
  fi
}

if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-nodejs" ] &&
   [ "$(cat "$stamp_file" 2>/dev/null)" = "$want_stamp" ] &&
   [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" version 2>/dev/null)" = "v$version" ]; then
  install_launcher
  say "pulumi v$version already built in $bin ($(since "$t_start"))"
  echo "$bin/pulumi"
  exit 0
fi

# 2. Build.
if [ -n "${PULUMI_INSTALL_NO_BUILD:-}" ]; then
  loud "pulumi v$version is not built in $bin nor on PATH, and PULUMI_INSTALL_NO_BUILD is set"
  exit 1
fi
if ! command -v go >/dev/null 2>&1; then
  loud "Go is not installed, so the Pulumi CLI v$version cannot be built from its Go modules."
  loud "Either install Go >= 1.25 (e.g. 'apt-get install golang' where it is recent enough, or from go.dev) and run"
  loud "'npm run pulumi:install' again, or install the Pulumi CLI v$version the ordinary way"
  loud "(https://www.pulumi.com/docs/iac/download-install/, e.g. its install script with '--version $version')"
  loud "and put its bin directory (which has pulumi and pulumi-language-nodejs) first on PATH."
  exit 1
fi

# Never let a build starve the machine: at most 2 compile jobs, at low priority.
jobs="${PULUMI_BUILD_JOBS:-2}"
export GOMODCACHE="$cache_root/go/mod"
export GOCACHE="$cache_root/go/build"
export GOFLAGS="-mod=readonly"
export CGO_ENABLED=0
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
mkdir -p "$GOMODCACHE" "$GOCACHE" "$bin"
lock="$prefix/.build.lock"

build() {
  loud "building pulumi v$version into $bin with $(go version | cut -d' ' -f3) ($jobs jobs; a cold build takes many minutes)"
  local src="$prefix/src"
  rm -rf "$src"
  mkdir -p "$src"
  cp -R "$wrappers/cli" "$wrappers/language-nodejs" "$src/"
  chmod -R u+w "$src"

  # --- build recipe ---
  local pinned
  pinned=$(sed -n 's/^[[:space:]]*github.com\/pulumi\/pulumi\/pkg\/v3 v\([^ ]*\).*/\1/p' "$src/cli/go.mod" | head -n1)
  if [ "$pinned" != "$version" ]; then
    loud "scripts/pulumi-cli/cli/go.mod pins v$pinned but the SDK is v$version: retargeting a copy (go mod tidy)"
    (cd "$src/cli" &&
      go mod edit -require="github.com/pulumi/pulumi/pkg/v3@v$version" -require="github.com/pulumi/pulumi/sdk/v3@v$version" &&
      GOFLAGS=-mod=mod go mod tidy)
    loud "to pin it: cp '$src/cli/go.mod' '$src/cli/go.sum' scripts/pulumi-cli/cli/"
  fi

  local t
  t=$(date +%s.%N)
  # Fetch only the modules the two programs need (go list loads their package graphs).
  (cd "$src/cli" && go list -deps github.com/pulumi/pulumi/pkg/v3/cmd/pulumi > /dev/null)
  (cd "$src/language-nodejs" && go list -deps github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs > /dev/null)
  loud "Go modules ready ($(since "$t"))"

  t=$(date +%s.%N)
  (cd "$src/cli" && nice -n 10 go build -p "$jobs" -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
    -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv -f "$bin/pulumi.tmp" "$bin/pulumi"
  loud "built pulumi ($(since "$t"))"

  t=$(date +%s.%N)
  local host_version
  host_version=$(sed -n 's/^[[:space:]]*\(require \)\{0,1\}github.com\/pulumi\/pulumi\/sdk\/v3 v\([^ ]*\).*/\2/p' "$src/language-nodejs/go.mod" | head -n1)
  (cd "$src/language-nodejs" && nice -n 10 go build -p "$jobs" -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$host_version" \
    -o "$bin/pulumi-language-nodejs.tmp" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs)
  mv -f "$bin/pulumi-language-nodejs.tmp" "$bin/pulumi-language-nodejs"
  loud "built pulumi-language-nodejs v$host_version ($(since "$t"))"
  # --- end of build recipe ---

  install_launcher
  rm -rf "$src"
}

# One build at a time per version (tests and shells may call this concurrently).
exec 9>"$lock"
if ! flock -n 9; then
  loud "another build of pulumi v$version is running; waiting for it"
  # A build takes about 15 minutes on two cores; one still holding the lock after an hour is stuck.
  flock -w 3600 9 || { loud "gave up after an hour waiting for the other build's lock ($lock)"; exit 1; }
fi
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$want_stamp" ] || [ ! -x "$bin/pulumi" ] || [ ! -x "$bin/pulumi-language-nodejs" ]; then
  build
  echo "$want_stamp" > "$stamp_file"
else
  install_launcher
fi

got=$(PULUMI_SKIP_UPDATE_CHECK=true "$bin/pulumi" version 2>/dev/null || true)
if [ "$got" != "v$version" ]; then
  loud "the built CLI prints version '$got', expected v$version"
  exit 1
fi
loud "pulumi $got ready in $bin: pulumi $(du -h "$bin/pulumi" | cut -f1), pulumi-language-nodejs $(du -h "$bin/pulumi-language-nodejs" | cut -f1) (total $(since "$t_start"))"
echo "$bin/pulumi"
