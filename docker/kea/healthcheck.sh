#!/bin/bash
# Healthy when every server this container runs answers status-get with result 0 where it
# takes commands. KEA_CONTROL, set by the lab from the configuration, says where:
#   {"dhcp4": {"url": "http://127.0.0.1:8004/"}, ...}                      Kea 3.0: the server itself
#   {"dhcp4": {"url": "http://127.0.0.1:8000/", "service": "dhcp4"}, ...}  Kea 2.6: the control agent
set -euo pipefail
conf=${KEA_CONFIG_DIR:-/etc/kea}
agent='{"url":"http://127.0.0.1:8000/"}'
control=${KEA_CONTROL:-"{\"dhcp4\":$agent,\"dhcp6\":$agent}"}
for d in 4 6; do
  [ -f "$conf/kea-dhcp$d.conf" ] || continue
  url=$(jq -r --arg s "dhcp$d" '.[$s].url // empty' <<<"$control")
  [ -n "$url" ] || { echo "no control endpoint for dhcp$d in KEA_CONTROL" >&2; exit 1; }
  body=$(jq -c --arg s "dhcp$d" '{command: "status-get"} + (if .[$s].service then {service: [.[$s].service]} else {} end)' <<<"$control")
  curl -fsS --max-time 2 -H 'Content-Type: application/json' -d "$body" "$url" \
    | jq -e 'length == 1 and .[0].result == 0' >/dev/null
done
