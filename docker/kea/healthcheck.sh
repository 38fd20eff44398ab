#!/bin/bash
# Healthy when every server this container runs answers status-get with result 0 where it
# takes commands. KEA_CONTROL, set by the lab from the configuration, says where:
#   {"dhcp4":{"url":"http://127.0.0.1:8004/"},...}                    Kea 3.0: the server itself
#   {"dhcp4":{"url":"http://127.0.0.1:8000/","service":"dhcp4"},...}  Kea 2.6: the control agent
# Docker runs this every second, so it starts no process: bash's /dev/tcp speaks the HTTP.
set -u
conf=${KEA_CONFIG_DIR:-/etc/kea}
control=${KEA_CONTROL:-'{"dhcp4":{"url":"http://127.0.0.1:8000/","service":"dhcp4"},"dhcp6":{"url":"http://127.0.0.1:8000/","service":"dhcp6"}}'}

# status_ok URL [SERVICE]: POSTs status-get and looks for result 0 in the answer.
status_ok() {
  local hostport=${1#http://} service=${2:-} body reply="" line
  hostport=${hostport%%/*}
  body='{"command":"status-get"'${service:+",\"service\":[\"$service\"]"}'}'
  exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || return 1
  printf 'POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
    "$hostport" "${#body}" "$body" >&3
  while IFS= read -r -t 2 line <&3; do reply+=$line; done
  reply+=$line
  exec 3<&-
  [[ $reply == *'"result": 0'* ]]
}

for d in 4 6; do
  [ -f "$conf/kea-dhcp$d.conf" ] || continue
  [[ $control =~ \"dhcp$d\":\{\"url\":\"([^\"]+)\"(,\"service\":\"([^\"]+)\")? ]] || {
    echo "no control endpoint for dhcp$d in KEA_CONTROL" >&2
    exit 1
  }
  status_ok "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]}" || exit 1
done
