#!/bin/bash
# Kea's config-test mode (kea-dhcp4 -t, kea-dhcp6 -t, kea-dhcp-ddns -t) on each configuration in /etc/kea,
# before a lab exists; on a refusal it prints "REFUSED <file>" and Kea's reason, and exits 1.
# Run with no network (nothing can leave) and NET_ADMIN: Kea checks that the interfaces it is
# told to listen on exist, so it gets an eth0 as the lab's Kea has, one end of an unplugged veth.
ip link add eth0 type veth peer name eth0-peer && ip link set eth0 up
mkdir -p /run/kea /var/lib/kea && chmod 0750 /run/kea
status=0
for d in 4 6; do
  f=/etc/kea/kea-dhcp$d.conf
  [ -f "$f" ] || continue
  if ! kea-dhcp$d -t "$f" > /tmp/out 2>&1; then
    echo "REFUSED kea-dhcp$d.conf"
    grep -E "ERROR|FATAL|rror" /tmp/out | sed -E 's/^[0-9-]+ [0-9:.]+ +//' | tail -n 5
    status=1
  fi
done
f=/etc/kea/kea-dhcp-ddns.conf
if [ -f "$f" ] && ! kea-dhcp-ddns -t "$f" > /tmp/out 2>&1; then
  echo "REFUSED kea-dhcp-ddns.conf"
  grep -E "ERROR|FATAL|rror" /tmp/out | sed -E 's/^[0-9-]+ [0-9:.]+ +//' | tail -n 5
  status=1
fi
exit $status
