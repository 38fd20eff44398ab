#!/bin/sh
# Runs a command once the container's IPv6 addresses have finished duplicate address detection
# (up to 5 s): dhcplab-link-ready COMMAND [ARGUMENTS...]. perfdhcp -6 sends from its link-local
# address, which cannot be used while it is tentative.
for i in $(seq 50); do ip -6 addr show dev eth0 tentative | grep -q . || break; sleep 0.1; done
exec "$@"
