#!/bin/sh
# A tower of isc-dhcp-relay in front of its subscriber segment (dhcplab's towers feature).
# Arguments: its Docker address on the subscriber segment, the tower's address/prefix, its
# transport address, the central relay's transport address, the tower's IPv6 address/64 or "-",
# the central relay's transport IPv6 address.
# dhcrelay takes giaddr from the interface's first IPv4 address: the tower's address is made
# the only one. -a adds Option 82 (Circuit-ID = the interface's name); with an IPv6 address a
# second dhcrelay -6 (-I: Interface-ID) whose RELAY-FORW link-address is that address.
set -e
sub=$(ip -o -4 addr show | awk -v a="$1" 'index($4, a "/") == 1 {print $2}')
up=$(ip -o -4 addr show | awk -v a="$3" 'index($4, a "/") == 1 {print $2}')
ip -4 addr flush dev "$sub"
ip addr add "$2" dev "$sub"
if [ "$5" != "-" ]; then
  ip -6 addr flush dev "$sub" scope global
  ip addr add "$5" dev "$sub" nodad
  for i in $(seq 50); do ip -6 addr show tentative | grep -q . || break; sleep 0.1; done
  dhcrelay -6 -d -I -l "$sub" -u "$6%$up" &
fi
exec dhcrelay -4 -d -a -m replace -id "$sub" -iu "$up" "$4"
