#!/bin/sh
# The job that applies NodeNetwork's interface settings (see apply.ts). The uploaded job is its
# header, its settings as quoted assignments (STATUS, CONFIRM, BACKUP, LOG, FILES, TAKE_DOWN, FLUSH,
# BRING_UP, CONFIRM_SECONDS) and then every line below the marker, unchanged. FILES holds one
# "LIVE<TAB>STAGED" line per file to install.
set -u
# --- body ---
exec >>"$LOG" 2>&1
TAB=$(printf '\t')

status() { printf '%s\n' "$*" >"$STATUS.tmp" && mv -f "$STATUS.tmp" "$STATUS"; echo "status: $*"; }
reverse() { r=""; for i in $1; do r="$i $r"; done; printf '%s' "$r"; }
take_down() { for i in $1; do if ifquery --state "$i" >/dev/null 2>&1; then ifdown --force "$i" || echo "ifdown $i failed"; fi; done; }
flush() { for i in $1; do keep_addresses "$i"; ip -4 addr flush dev "$i" 2>/dev/null || true; done; }
keep_addresses() { [ -e "$BACKUP/addresses.$1" ] || ip -4 -o addr show dev "$1" 2>/dev/null | awk '{ print $4 }' >"$BACKUP/addresses.$1"; }
restore_addresses() {
  for f in "$BACKUP"/addresses.*; do
    [ -s "$f" ] || continue
    i=${f##*/addresses.}
    ip link set "$i" up
    while read -r a; do ip addr replace "$a" dev "$i"; done <"$f"
  done
}
bring_up() { for i in $1; do ifquery --state "$i" >/dev/null 2>&1 || flush "$i"; ifup "$i" || return 1; done; }
bring_back() { for i in $1; do ifup "$i" || return 1; done; }
install_file() { tmp="${2%/*}/.${2##*/}.pulumi-tmp"; cp -p "$1" "$tmp" && mv -f "$tmp" "$2"; }

# Calls "$1 INDEX LIVE STAGED" for each file, in order.
each_file() {
  n=0
  while IFS="$TAB" read -r live staged; do
    [ -n "$live" ] || continue
    "$1" "$n" "$live" "$staged"
    n=$((n + 1))
  done <<FILES_END
$FILES
FILES_END
}
backup_one() { if [ -e "$2" ]; then cp -p "$2" "$BACKUP/$1"; else : >"$BACKUP/$1.absent"; fi; }
install_one() { install_file "$3" "$2"; }
restore_one() { if [ -e "$BACKUP/$1.absent" ]; then rm -f "$2"; else install_file "$BACKUP/$1" "$2"; fi; }

rollback() {
  status "rolling-back: $1"
  take_down "$(reverse "$BRING_UP")"
  each_file restore_one
  bring_back "$(reverse "$TAKE_DOWN")" || echo "restoring the old settings: ifup failed"
  restore_addresses
  status "rolled-back: $1"
}

rm -rf "$BACKUP" "$CONFIRM"
mkdir -p "$BACKUP"
status applying
each_file backup_one
take_down "$TAKE_DOWN"
flush "$FLUSH"
each_file install_one
if ! bring_up "$BRING_UP"; then
  rollback "ifup failed"
  exit 1
fi
status applied
waited=0
while [ ! -e "$CONFIRM" ] && [ "$waited" -lt "$CONFIRM_SECONDS" ]; do
  sleep 1
  waited=$((waited + 1))
done
if [ "$CONFIRM_SECONDS" -gt 0 ] && [ ! -e "$CONFIRM" ]; then
  rollback "not confirmed within $CONFIRM_SECONDS s"
  exit 1
fi
rm -rf "$BACKUP"
status confirmed
