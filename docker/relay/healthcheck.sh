#!/bin/bash
# Healthy when the relay's /healthz answers 200 (every socket bound, policy loaded, last reload
# accepted, IP forwarding off). Docker runs this every second, so it starts no process.
exec 3<>/dev/tcp/127.0.0.1/9100 || exit 1
printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3
IFS= read -r -t 2 status <&3 || exit 1
[[ $status == HTTP/1.?" 200"* ]]
