#!/usr/bin/env bash
# Runs ShellCheck over every shell file of the repository: *.sh and every tracked file whose first line
# names sh, bash or busybox sh; or only the files given. Installs Debian's shellcheck when it is
# missing and this runs as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v shellcheck >/dev/null 2>&1; then
  install=(apt-get install -y --no-install-recommends shellcheck)
  [ "$(id -u)" -eq 0 ] || { echo "lint-shell: shellcheck is missing; install it with: sudo ${install[*]}" >&2; exit 1; }
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  # A fresh machine may have no package lists yet.
  if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >"$log" 2>&1; then
    apt-get update -q >>"$log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${install[@]}" >>"$log" 2>&1 || { cat "$log" >&2; echo "lint-shell: '${install[*]}' failed" >&2; exit 1; }
  fi
fi

if [ $# -gt 0 ]; then
  shellcheck -x "$@"
  exit 0
fi
mapfile -t files < <(
  {
    git ls-files '*.sh'
    git ls-files | while IFS= read -r f; do
      [ -f "$f" ] && head -n 1 "$f" | grep -qE '^#!.*(/|env )(ba)?sh( |$)|^#!/bin/busybox sh' && echo "$f"
    done
  } | sort -u
)
shellcheck -x "${files[@]}"
echo "lint-shell: ${#files[@]} shell files clean"
