#!/bin/sh
# Forced command for the key the peer dom0 migrates guests with. Written by pulumi-xen-ha.
set -eu
set -f
refuse() { echo "xen-ha-migration-gate: refused: ${SSH_ORIGINAL_COMMAND:-(nothing)}" >&2; exit 1; }
is_name() { case "$1" in ''|.*|-*|*[!A-Za-z0-9_.+-]*) return 1 ;; esac; }
# shellcheck disable=SC2086 # split into words on purpose; set -f keeps globs out
set -- ${SSH_ORIGINAL_COMMAND:-}
case "${1:-}" in
  xl|xm)
    tool=$1
    shift
    if [ "${1:-}" = list ]; then
      if [ $# -ne 2 ] || ! is_name "$2"; then refuse; fi
      exec "$tool" list "$2"
    fi
    [ "$tool" = xl ] || refuse
    receive=no
    for word in "$@"; do
      case "$word" in
        migrate-receive) receive=yes ;;
        -t|-T|-e|-d|-p|-v|-vv|-vvv|-vvvv|-vvvvv) ;;
        *) refuse ;;
      esac
    done
    [ "$receive" = yes ] || refuse
    exec xl "$@"
    ;;
  drbdadm)
    if [ $# -ne 3 ] || [ "$2" != role ] || ! is_name "$3"; then refuse; fi
    exec drbdadm role "$3"
    ;;
  receive-save)
    [ $# -eq 2 ] || refuse
    case "$2" in ''|.*|*[!A-Za-z0-9_.-]*) refuse ;; esac
    umask 077
    mkdir -p /var/lib/xen/save
    cat > "/var/lib/xen/save/$2.save.part"
    mv "/var/lib/xen/save/$2.save.part" "/var/lib/xen/save/$2.save"
    ;;
  *) refuse ;;
esac
