# shellcheck shell=bash
# The base image: a Debian bookworm dom0 with Xen 4.17 and the cluster software,
# built with mmdebstrap from this machine's apt sources and cached under
# $LAB_DIR/images/<recipe hash>/.

# Both cluster managers: Heartbeat (release 1) and Pacemaker with Corosync and its quorum device
# client; resource-agents has ocf:heartbeat:Xen, which drives xl. Recommends are not installed:
# no fence-agents (the lab fences with its own agent, lab/fence/fence_xen_ha_lab).
LAB_PACKAGES=(
  xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-tools
  lvm2 drbd-utils heartbeat
  pacemaker pacemaker-cli-utils corosync corosync-qdevice crmsh resource-agents
  linux-image-amd64 systemd-sysv udev kmod
  openssh-server ifupdown iproute2 iputils-ping bridge-utils chrony
  busybox-static procps psmisc
)
LAB_IMAGE_SIZE="${LAB_IMAGE_SIZE:-6G}"

# Everything that defines the image: the package list, the build steps, the
# files put into it, and the keys baked into it. Changing any of them builds a
# new image on the next start from bare disks.
recipe_hash() {
  (
    cd "$LAB_SRC" || exit 1
    echo "${LAB_PACKAGES[*]} $LAB_IMAGE_SIZE"
    declare -f build_image
    find image -type f -print0 | sort -z | xargs -0 sha256sum
    cat "$LAB_KEY.pub" "$LAB_SSH_DIR"/hostkeys/*/ssh_host_ed25519_key.pub
  ) | sha256sum | cut -c1-16
}

image_dir() { echo "$LAB_DIR/images/$1"; }

# ensure_image: sets IMAGE_HASH, building the image when it is not cached.
ensure_image() {
  IMAGE_HASH=$(recipe_hash)
  local dir
  dir=$(image_dir "$IMAGE_HASH")
  if [ -f "$dir/complete" ]; then
    log "image $IMAGE_HASH is cached"
    return
  fi
  [ "$(id -u)" -eq 0 ] || die "building the image needs root (mmdebstrap and a root-owned file system); run as root once"
  build_image "$IMAGE_HASH"
}

build_image() {
  local hash=$1 dir tmp
  dir=$(image_dir "$hash")
  tmp="$dir.tmp"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local -a sources
  mapfile -t sources < <(apt_sources_files)
  log "building image $hash with mmdebstrap (log: $tmp/build.log)"
  local include
  include=$(IFS=,; echo "${LAB_PACKAGES[*]}")
  # shellcheck disable=SC2016 # the hooks are expanded by mmdebstrap, with the hook's own $1
  if ! LAB_SRC="$LAB_SRC" LAB_DIR="$LAB_DIR" LAB_NODES="${LAB_NODES[*]}" mmdebstrap \
    --mode=root --variant=required --format=directory \
    --include="$include" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --essential-hook='cp -a "$LAB_SRC/image/rootfs/." "$1/"' \
    --customize-hook='bash "$LAB_SRC/image/customize.sh" "$1"' \
    bookworm "$tmp/rootfs" "${sources[@]}" >"$tmp/build.log" 2>&1; then
    tail -n 30 "$tmp/build.log" >&2
    die "mmdebstrap failed; see $tmp/build.log"
  fi

  local root="$tmp/rootfs" kver
  kver=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
  cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"
  gunzip -c "$root/boot/xen-4.17-amd64.gz" >"$tmp/xen"
  # shellcheck disable=SC2016 # dpkg-query's own format fields
  chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$tmp/packages.txt"
  awk '$1 == "xen-hypervisor-4.17-amd64" { print $2 }' "$tmp/packages.txt" >"$tmp/xen.version"
  log "making the ext4 image ($LAB_IMAGE_SIZE, sparse)"
  mke2fs -q -t ext4 -L lab-root -d "$root" "$tmp/base.img" "$LAB_IMAGE_SIZE"
  rm -rf "$root"
  date -u +%FT%TZ >"$tmp/complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  prune_images "$hash"
}

# Removes cached images that neither the current recipe nor a node's disk uses.
prune_images() {
  local keep=$1 d h used
  for d in "$LAB_DIR"/images/*; do
    [ -d "$d" ] || continue
    h=$(basename "$d")
    [ "$h" = "$keep" ] && continue
    used=0
    for n in "${LAB_NODES[@]}"; do
      [ "$(cat "$LAB_DIR/nodes/$n/image" 2>/dev/null)" = "$h" ] && used=1
    done
    [ $used -eq 0 ] && { log "removing unused image $h"; rm -rf "$d"; }
  done
}

# hypervisor_binary IMAGE_HASH: path of the multiboot Xen binary for LAB_HYPERVISOR.
hypervisor_binary() {
  case $LAB_HYPERVISOR in
    default) echo "$(image_dir "$1")/xen" ;;
    *) fetch_hypervisor "$(hypervisor_package_version "$1")" ;;
  esac
}

# hypervisor_package_version IMAGE_HASH
hypervisor_package_version() {
  case $LAB_HYPERVISOR in
    default) cat "$(image_dir "$1")/xen.version" ;;
    # bookworm's release, built with shadow paging: PV guests live-migrate on it.
    4.17.5) echo 4.17.5+72-g01140da4e8-1 ;;
    *) echo "$LAB_HYPERVISOR" ;;
  esac
}

# fetch_hypervisor VERSION: the given release of xen-hypervisor-4.17-amd64, from
# this machine's apt, unpacked once into $LAB_DIR/hypervisors/VERSION/xen.
fetch_hypervisor() {
  local version=$1 dir="$LAB_DIR/hypervisors/$1"
  if [ ! -f "$dir/xen" ]; then
    local tmp="$dir.tmp"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    log "fetching xen-hypervisor-4.17-amd64=$version"
    if ! (cd "$tmp" && apt-get download -q "xen-hypervisor-4.17-amd64=$version") >"$tmp/download.log" 2>&1; then
      [ "$(id -u)" -eq 0 ] && apt-get update -q >>"$tmp/download.log" 2>&1
      (cd "$tmp" && apt-get download -q "xen-hypervisor-4.17-amd64=$version") >>"$tmp/download.log" 2>&1 ||
        die "cannot download xen-hypervisor-4.17-amd64=$version; see $tmp/download.log"
    fi
    dpkg-deb --fsys-tarfile "$tmp"/xen-hypervisor-4.17-amd64_*.deb |
      tar -xO ./boot/xen-4.17-amd64.gz | gunzip -c >"$tmp/xen"
    rm -f "$tmp"/*.deb
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  echo "$dir/xen"
}
