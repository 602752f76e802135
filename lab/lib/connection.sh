# shellcheck shell=bash
# The connection JSON ($LAB_RUN/lab.json) that tests and the demo read. Facts
# about the running nodes (data disk, Xen version) are read from the nodes.

# A JSON string, escaped by node (the lab's tests run on node anyway).
json_str() { node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' -- "$1"; }

# node_facts NODE: "dataDisk|xenVersion|virtCaps" as the node reports them.
node_facts() {
  # shellcheck disable=SC2016 # expanded on the node
  lab_ssh "$1" 'set -e
    disk=$(readlink -f /dev/disk/by-id/virtio-lab-data)
    info=$(xl info)
    ver=$(printf "%s\n" "$info" | sed -n "s/^xen_version *: *//p")
    caps=$(printf "%s\n" "$info" | sed -n "s/^virt_caps *: *//p")
    printf "%s|%s|%s\n" "$disk" "$ver" "$caps"'
}

write_connection() {
  local node first=1 tmp="$LAB_JSON.tmp" facts disk ver caps option package
  read -r option package <"$LAB_RUN/ha1.hypervisor"
  {
    printf '{\n  "hypervisor": %s,\n  "hypervisorPackage": %s,\n' "$(json_str "$option")" "$(json_str "$package")"
    printf '  "privateKeyPath": %s,\n  "knownHostsPath": %s,\n  "nodes": {\n' "$(json_str "$LAB_KEY")" "$(json_str "$LAB_KNOWN_HOSTS")"
    for node in "${LAB_NODES[@]}"; do
      # A node busy under emulation (a failover, two guests) can be slow to send its SSH banner.
      local try
      for try in 1 2 3 4 5; do
        facts=$(node_facts "$node") && break
        [ "$try" -lt 5 ] || die "cannot read $node's facts over SSH"
        sleep 5
      done
      IFS='|' read -r disk ver caps <<<"$facts"
      read -r option package <"$LAB_RUN/$node.hypervisor"
      [ $first -eq 1 ] || printf ',\n'
      first=0
      printf '    "%s": {\n' "$node"
      printf '      "host": "127.0.0.1",\n      "port": %s,\n      "user": "root",\n' "$(node_ssh_port "$node")"
      printf '      "hostKey": %s,\n      "hostPublicKey": %s,\n' "$(json_str "$(host_key_fingerprint "$node")")" "$(json_str "$(host_key_pub "$node")")"
      printf '      "publicNic": "%s",\n      "crossoverNic": "%s",\n      "managementNic": "%s",\n' "$LAB_PUBLIC_NIC" "$LAB_CROSSOVER_NIC" "$LAB_MGMT_NIC"
      printf '      "publicAddress": "%s",\n      "crossoverAddress": "%s",\n' "${LAB_PUBLIC_ADDRESS[$node]}" "${LAB_CROSSOVER_ADDRESS[$node]}"
      printf '      "dataDisk": %s,\n' "$(json_str "$disk")"
      printf '      "hypervisor": %s,\n      "hypervisorPackage": %s,\n' "$(json_str "$option")" "$(json_str "$package")"
      printf '      "xenVersion": %s,\n      "virtCaps": %s\n    }' "$(json_str "$ver")" "$(json_str "$caps")"
    done
    printf '\n  }\n}\n'
  } >"$tmp"
  mv "$tmp" "$LAB_JSON"
}
