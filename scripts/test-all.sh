#!/usr/bin/env bash
# The whole test run, as CI runs it: build, unit tests, the real Pulumi engine, the QEMU lab.
# Prints the time of each phase and, last, one "N passed, N failed" line over all jest projects.
#
#   npm run test:all            (after `npm ci`)
#   LAB_KEEP=1 npm run test:all keeps a running lab instead of starting from bare hosts
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PULUMI_XEN_HA_REQUIRE_ENGINE=1  # a missing Pulumi engine fails the run instead of skipping

results=$(mktemp -d)
t0=$(date +%s)
phase_start=$t0
phase() {
  local now
  now=$(date +%s)
  printf '[test-all] %-28s %4d s (total %4d s)\n' "$1" $((now - phase_start)) $((now - t0))
  phase_start=$now
}

# shellcheck disable=SC2317 # called by the trap below
cleanup() {
  if [ "${CI:-}" = "true" ] || [ "${LAB_STOP_AFTER:-}" = "1" ]; then bash lab/lab.sh down >/dev/null 2>&1 || true; fi
  if [ -n "${pulumi_pid:-}" ]; then kill "$pulumi_pid" 2>/dev/null || true; fi
  rm -rf "$results"
}
trap cleanup EXIT

# The CLI build is CPU-bound and the lab's image build mostly I/O: run them side by side.
pulumi_log="$results/pulumi-install.log"
bash scripts/pulumi-install.sh >"$pulumi_log" 2>&1 &
pulumi_pid=$!

npm run --silent build
npm run --silent lint
phase "build and lint"

status=0
# run_jest RESULT PROJECT [PATHS...]: one jest run whose summary lands in $results/RESULT.json.
run_jest() {
  local result=$1 project=$2
  shift 2
  # Paths go before --selectProjects, which would take them for more project names. --forceExit:
  # a test that timed out may leave its pulumi process behind, and the run must go on.
  npx jest "$@" --runInBand --forceExit --json --outputFile="$results/$result.json" --selectProjects "$project" || status=1
}

# The lab test files of this run, in order (see test/support/lab-sequencer.js); LAB_SUITE overrides.
# The cluster test is the whole promise on bare hosts: networks, volumes, DRBD, Heartbeat, guests,
# a hard failover with its data, the way home through Heartbeat, a clean stop live-migrating, a cut
# link. The narrower lab files (the lab itself, LVM, DRBD, Heartbeat, network, xen-domu, xen-tools)
# and the long fencing and adoption tests keep a run under an hour by living in `npm run test:lab`.
read -r -a lab_suite <<<"${LAB_SUITE:-test/lab/cluster.test.ts}"

run_jest unit unit
phase "unit tests"

bash lab/lab.sh test-prepare
phase "lab up (bare hosts)"

if wait "$pulumi_pid"; then
  pulumi_pid=
  tail -n 3 "$pulumi_log"
else
  pulumi_pid=
  cat "$pulumi_log"
  echo "[test-all] pulumi:install failed" >&2
  status=1
fi
phase "pulumi:install (waited)"

run_jest engine engine
phase "engine tests"

# One jest run per file, so that each file's time is printed.
for file in "${lab_suite[@]}"; do
  name=$(basename "$file" .test.ts)
  run_jest "lab-$name" lab "$file"
  phase "lab tests: $name"
done

# shellcheck disable=SC2016 # JavaScript
node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1]).filter((f) => f.endsWith(".json"))) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests + r.numRuntimeErrorTestSuites; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"
exit "$status"
