#!/bin/bash
# Runs kea-dhcp4, kea-dhcp6, kea-dhcp-ddns and (Kea 2.6) kea-ctrl-agent side by side, as configured. If any of them exits the
# container stops with its status, so Docker (and the lab) sees a dead VRF at once;
# SIGTERM is forwarded to all of them so that `docker stop` is clean and fast.
set -u

# Kea refuses control sockets outside /run/kea, and that directory must be 0750.
mkdir -p /run/kea /var/lib/kea /var/log/kea
chmod 0750 /run/kea
rm -f /run/kea/*.pid /run/kea/*.lock

# Routes through the relay that the lab gives this server (DHCPLAB_ROUTES): giaddrs Kea has no
# link to, the VRF's IPv6 client subnets and delegated prefixes.
source /usr/local/lib/dhcplab/install-routes.sh

conf=${KEA_CONFIG_DIR:-/etc/kea}
declare -A pids=()
start() {
  local name=$1; shift
  "$@" &
  pids[$!]=$name
}
[ -f "$conf/kea-dhcp4.conf" ] && start dhcp4 kea-dhcp4 -c "$conf/kea-dhcp4.conf"
[ -f "$conf/kea-dhcp6.conf" ] && start dhcp6 kea-dhcp6 -c "$conf/kea-dhcp6.conf"
# DDNS: kea-dhcp-ddns sends the servers' name changes to the VRF's DNS server, where configured.
[ -f "$conf/kea-dhcp-ddns.conf" ] && start dhcp-ddns kea-dhcp-ddns -c "$conf/kea-dhcp-ddns.conf"
[ -f "$conf/kea-ctrl-agent.conf" ] && start ctrl-agent kea-ctrl-agent -c "$conf/kea-ctrl-agent.conf"
if [ ${#pids[@]} -eq 0 ]; then
  echo "kea-entrypoint: no configuration found in $conf" >&2
  exit 64
fi

stopping=no
terminate() {
  stopping=yes
  kill -TERM "${!pids[@]}" 2>/dev/null
}
trap terminate TERM INT

# wait -n returns when any child exits (or a trapped signal arrives).
wait -n -p done_pid "${!pids[@]}"
status=$?
if [ "$stopping" = no ]; then
  echo "kea-entrypoint: ${pids[${done_pid:-}]:-a server} exited with status $status; stopping the container" >&2
  kill -TERM "${!pids[@]}" 2>/dev/null
fi
wait
[ "$stopping" = yes ] && exit 0
exit "$status"
