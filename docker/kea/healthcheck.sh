#!/bin/bash
# Healthy when the control agent answers status-get with result 0 for every server
# this container runs.
set -euo pipefail
conf=${KEA_CONFIG_DIR:-/etc/kea}
services=()
[ -f "$conf/kea-dhcp4.conf" ] && services+=('"dhcp4"')
[ -f "$conf/kea-dhcp6.conf" ] && services+=('"dhcp6"')
list=$(IFS=,; echo "${services[*]}")
port=${KEA_CA_PORT:-8000}
reply=$(curl -fsS --max-time 2 -H 'Content-Type: application/json' \
  -d "{\"command\":\"status-get\",\"service\":[$list]}" "http://127.0.0.1:$port/")
echo "$reply" | jq -e --argjson n "${#services[@]}" 'length == $n and all(.[]; .result == 0)' >/dev/null
