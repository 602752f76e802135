# shellcheck shell=bash
# The lab's SSH identities: one client key pair for root logins, and one host key
# per node made here (not on first boot: that costs about a minute under TCG) so
# the lab knows each fingerprint before the node ever boots.

ensure_keys() {
  install -d -m 700 "$LAB_SSH_DIR"
  if [ ! -f "$LAB_KEY" ]; then
    ssh-keygen -q -t ed25519 -N '' -C pulumi-xen-ha-lab -f "$LAB_KEY"
  fi
  chmod 600 "$LAB_KEY"
  local node dir
  for node in "${LAB_NODES[@]}"; do
    dir="$LAB_SSH_DIR/hostkeys/$node"
    if [ ! -f "$dir/ssh_host_ed25519_key" ]; then
      install -d -m 700 "$dir"
      ssh-keygen -q -t ed25519 -N '' -C "root@$node" -f "$dir/ssh_host_ed25519_key"
    fi
    chmod 600 "$dir/ssh_host_ed25519_key"
  done
}

host_key_pub() { cut -d' ' -f1,2 "$LAB_SSH_DIR/hostkeys/$1/ssh_host_ed25519_key.pub"; }
host_key_fingerprint() {
  ssh-keygen -l -E sha256 -f "$LAB_SSH_DIR/hostkeys/$1/ssh_host_ed25519_key.pub" | cut -d' ' -f2
}

write_known_hosts() {
  mkdir -p "$LAB_RUN"
  local node tmp="$LAB_KNOWN_HOSTS.tmp"
  : >"$tmp"
  for node in "${LAB_NODES[@]}"; do
    printf '[127.0.0.1]:%s %s\n' "$(node_ssh_port "$node")" "$(host_key_pub "$node")" >>"$tmp"
  done
  mv "$tmp" "$LAB_KNOWN_HOSTS"
}
