#!/bin/sh
# A pcap of one lab network on stdout, taken in the relay's network namespace (dhcplab capture):
#   dhcplab-capture ADDRESS [TCPDUMP ARGUMENTS...]
# ADDRESS is the relay's IPv4 address on that network: the interface that holds it is captured;
# the rest (a count, a filter's words) goes to tcpdump as its arguments.
dev=$(ip -o -4 addr show | awk -v a="$1" '{split($4, p, "/"); if (p[1] == a) print $2}')
[ -n "$dev" ] || { echo "no interface holds $1" >&2; exit 2; }
shift
# --immediate-mode: each packet as it comes, not in the kernel's buffered blocks, which lag up to a
# second and are lost with tcpdump when it is stopped.
exec tcpdump -i "$dev" --immediate-mode -U -s 0 -w - "$@"
