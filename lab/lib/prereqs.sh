# shellcheck shell=bash
# Host prerequisites: installed through apt when running as root, else the exact
# command is printed.

# package:command pairs; the command proves the package is there.
LAB_HOST_PREREQS=(
  qemu-system-x86:qemu-system-x86_64
  qemu-utils:qemu-img
  mmdebstrap:mmdebstrap
  e2fsprogs:mke2fs
  openssh-client:ssh-keygen
  socat:socat
  corosync-qnetd:corosync-qnetd
  util-linux:flock
)

ensure_prereqs() {
  local missing=() pair
  for pair in "${LAB_HOST_PREREQS[@]}"; do
    command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [ "$(id -u)" -ne 0 ]; then
    die "missing host packages; install them with: sudo ${install[*]}"
  fi
  log "installing host packages: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" >"$LAB_DIR/apt-install.log" 2>&1; then
    # A fresh machine may have no package lists yet.
    apt-get update -q >>"$LAB_DIR/apt-install.log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${install[@]}" >>"$LAB_DIR/apt-install.log" 2>&1 ||
      die "'${install[*]}' failed; see $LAB_DIR/apt-install.log"
  fi
}

# The apt sources of this machine that serve bookworm, one file per line.
# LAB_APT_SOURCES names a sources file to use instead.
apt_sources_files() {
  if [ -n "${LAB_APT_SOURCES:-}" ]; then
    [ -f "$LAB_APT_SOURCES" ] || die "LAB_APT_SOURCES=$LAB_APT_SOURCES is not a file"
    echo "$LAB_APT_SOURCES"
    return
  fi
  local f found=0
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    if grep -v '^[[:space:]]*#' "$f" | grep -qw bookworm; then
      echo "$f"
      found=1
    fi
  done
  [ $found -eq 1 ] || die "no apt source for Debian bookworm in /etc/apt; set LAB_APT_SOURCES to a sources file"
}
