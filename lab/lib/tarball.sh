# shellcheck shell=bash
# A root file system tarball for xen-create-image --install-method=tar inside
# the nodes (there is no package mirror inside the lab). Built on request only.

LAB_TARBALL_PACKAGES=(kmod locales systemd-sysv udev ifupdown iproute2 iputils-ping openssh-server)

cmd_guest_tarball() {
  lab_lock
  mkdir -p "$LAB_DIR"
  ensure_prereqs
  local hash out
  hash=$({ declare -f cmd_guest_tarball; echo "${LAB_TARBALL_PACKAGES[*]}"; } | sha256sum | cut -c1-16)
  out="$LAB_DIR/guest/rootfs-$hash.tar.gz"
  if [ ! -f "$out" ]; then
    [ "$(id -u)" -eq 0 ] || die "building the tarball needs root"
    local -a sources
    mapfile -t sources < <(apt_sources_files)
    mkdir -p "$LAB_DIR/guest"
    rm -f "$LAB_DIR"/guest/rootfs-*.tar.gz
    log "building the guest tarball (log: $LAB_DIR/guest/build.log)"
    local include
    include=$(IFS=,; echo "${LAB_TARBALL_PACKAGES[*]}")
    # shellcheck disable=SC2016 # the hook is expanded by mmdebstrap, with the hook's own $1
    mmdebstrap --mode=root --variant=minbase --include="$include" \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --customize-hook='rm -f "$1/etc/apt/sources.list" "$1"/etc/apt/sources.list.d/*' \
      bookworm "$out.tmp.tar.gz" "${sources[@]}" >"$LAB_DIR/guest/build.log" 2>&1 ||
      die "mmdebstrap failed; see $LAB_DIR/guest/build.log"
    mv "$out.tmp.tar.gz" "$out"
  fi
  echo "$out"
}
