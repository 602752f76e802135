# shellcheck shell=bash
# Runs on a node (after the remote preamble of lib.sh) with GROUP=HA1 or HA2: the recipe's
# "cp /etc/init.d/xendomains /etc/ha.d/resource.d/xendomainsHAn" and its edit, on bookworm's
# xendomains (README.md, "xendomains then and now"):
# - the recipe's XENDOM_CONFIG=/etc/default/xendomainsHAn: bookworm's script reads
#   /etc/default/xendomains in one line; that line now reads the group's own file;
# - the recipe's XENDOMAINS_AUTO_ONLY=true (and empty XENDOMAINS_SHUTDOWN_ALL), which bookworm's
#   script does not know: its stop (migrate, save, shut down) goes through xendomains_list,
#   which keeps only the domains linked in the group's XENDOMAINS_AUTO;
# - the recipe's LOCKFILE line has no counterpart: bookworm's script keeps no lock file.
# Any other shape of /etc/init.d/xendomains is refused rather than half edited.
src=/etc/init.d/xendomains
dst=/etc/ha.d/resource.d/xendomains$GROUP
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '# cp %s %s\n' "$src" "$dst" >&2
cat >"$work/auto-only" <<'EOT'

# The recipe's XENDOMAINS_AUTO_ONLY=true, which this xendomains does not read by itself: stop
# only the domains whose config is linked in XENDOMAINS_AUTO, so that each Heartbeat group's
# copy leaves the other group's domains alone.
xendomains_list()
{
  /usr/lib/xen-common/bin/xen-init-list | while read id name discard; do
    if [ "$XENDOMAINS_AUTO_ONLY" != true ]; then
      echo "$id $name"
      continue
    fi
    for file in $XENDOMAINS_AUTO/*; do
      if [ "$(check_config_name "$file")" = "$name" ]; then
        echo "$id $name"
        break
      fi
    done
  done
}
EOT
printf '# edit %s: XENDOM_CONFIG=/etc/default/xendomains%s, XENDOMAINS_AUTO_ONLY\n' "$dst" "$GROUP" >&2
AUTO_ONLY_FUNCTION=$(cat "$work/auto-only") awk -v group="$GROUP" '
  $0 == "[ -r /etc/default/xendomains ] && . /etc/default/xendomains" {
    print "XENDOM_CONFIG=/etc/default/xendomains" group
    print "[ -r \"$XENDOM_CONFIG\" ] && . \"$XENDOM_CONFIG\""
    config++
    next
  }
  $0 == "shopt -s nullglob" { print; print ENVIRON["AUTO_ONLY_FUNCTION"]; helper++; next }
  index($0, "/usr/lib/xen-common/bin/xen-init-list | while read id name discard; do") {
    sub("/usr/lib/xen-common/bin/xen-init-list", "xendomains_list")
    lists++
  }
  { print }
  END {
    if (config != 1 || helper != 1 || lists != 4) {
      printf "%s is not the xendomains this edit knows (settings line %d, nullglob %d, domain lists %d; expected 1, 1, 4)\n", FILENAME, config, helper, lists > "/dev/stderr"
      exit 1
    }
  }
' "$src" >"$work/script"
bash -n "$work/script"
install -m 0755 "$work/script" "$dst.new"
mv -f "$dst.new" "$dst"
grep -n 'XENDOM_CONFIG\|xendomains_list' "$dst" >&2
