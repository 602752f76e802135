# shellcheck shell=sh
# shellcheck disable=SC2154 # log_tag, log_name and the switch_* settings come from the including script
# The client side of the lab's power switch protocol (README.md), shared by the two agents that
# run on the nodes: the Heartbeat STONITH plugin xen-ha-lab-switch and the Pacemaker fence agent
# fence_xen_ha_lab. POSIX sh. Each sources this file from beside itself when run from the
# repository; fence_install (fence.sh) puts its text in their place, so that the installed file
# stands alone.
#
# The including script sets, before it calls anything here:
#   log_tag         syslog tag (logger -t)
#   log_name        prefix of the lines on stderr
#   switch_address  switch_port  secret_file   where the switch is, and its secret
#
# The secret is read into an unexported shell variable and written to the connection by the
# shell's built-in printf: it is never on a command line, in an environment or in a log.
# The connection uses bash's /dev/tcp: bash is Essential in Debian, so every dom0 has it.

# An `off` can take the switch 20 s (quit, then SIGKILL); requests are answered one at a time.
answer_timeout=60
max_delay=600

# log LEVEL MESSAGE: to syslog (daemon facility) and stderr, never to stdout (the cluster software
# reads stdout as the agent's answer).
log() {
  logger -t "$log_tag" -p "daemon.$1" -- "$2" 2>/dev/null || :
  printf '%s: %s\n' "$log_name" "$2" >&2
}

# A word the switch's protocol accepts as a node name.
plain_word() {
  case $1 in
    '' | *[!A-Za-z0-9._-]*) return 1 ;;
  esac
  return 0
}

# trim VALUE: VALUE without the white space around it.
trim() {
  trim_value=${1#"${1%%[![:space:]]*}"}
  printf '%s' "${trim_value%"${trim_value##*[![:space:]]}"}"
}

# delay_valid NAME VALUE: whether VALUE is a whole number of seconds from 0 to max_delay, plain
# decimal (the shell would read 010 as octal); logs why not.
delay_valid() {
  case $2 in
    0 | [1-9] | [1-9][0-9] | [1-9][0-9][0-9])
      [ "$2" -le "$max_delay" ] && return 0
      ;;
  esac
  log err "$1 '$2' is not a whole number of seconds from 0 to $max_delay"
  return 1
}

# switch_wait NAME SECONDS ACTION HOST: waits before a reset or off, so that in a fence race the
# node whose device has no delay gets its request to the switch first.
switch_wait() {
  [ "$2" -gt 0 ] || return 0
  log notice "waiting $1=$2s before $3 $4"
  sleep "$2"
}

# switch_config_valid: the switch's address and port are well formed and its secret readable.
switch_config_valid() {
  case $switch_port in
    '' | *[!0-9]*) log err "switch_port '$switch_port' is not a port number"; return 1 ;;
  esac
  case $switch_address in
    '' | *[!A-Za-z0-9.:-]*) log err "switch_address '$switch_address' is not an address"; return 1 ;;
  esac
  if [ ! -r "$secret_file" ]; then
    log err "cannot read the switch secret $secret_file"
    return 1
  fi
  if [ -n "$(find "$secret_file" -prune -perm /077 2>/dev/null)" ]; then
    log warning "$secret_file is readable by others than its owner; chmod 600 it"
  fi
}

# switch_ask ACTION NODE: prints the switch's one-line answer; fails when there is none.
switch_ask() {
  switch_config_valid || return 1
  secret=""
  IFS= read -r secret <"$secret_file" || [ -n "$secret" ] || {
    log err "$secret_file is empty"
    return 1
  }
  # The address and port reach bash as arguments, never as part of its script.
  # shellcheck disable=SC2016
  reply=$(printf 'SECRET %s\n%s %s\n' "$secret" "$1" "$2" |
    timeout "$answer_timeout" bash -c 'exec 3<>"/dev/tcp/$1/$2" && cat >&3 && head -n 1 <&3' \
      "$log_name" "$switch_address" "$switch_port")
  secret=""
  if [ -z "$reply" ]; then
    log err "no answer from the power switch at $switch_address:$switch_port to '$1 $2'"
    return 1
  fi
  printf '%s\n' "$reply"
}
