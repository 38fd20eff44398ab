#!/bin/bash
# BIND 9 on the VRF's DNS service address (DHCPLAB_DNS_ADDRESS, the server kea-dhcp-ddns sends
# its updates to), held on lo besides the container's Docker addresses, and on loopback for dig.
set -u

if [ -n "${DHCPLAB_DNS_ADDRESS:-}" ]; then
  ip address replace "$DHCPLAB_DNS_ADDRESS/32" dev lo || exit 65
fi

# The scenario's folder, as the lab copied (or Compose mounted, read-only) it: named.conf.local
# where Debian's named.conf includes it, every other file a zone file in /var/lib/bind, where BIND
# writes their journals (dynamic updates). A start begins from the files: journals of an earlier
# run are dropped with the zones they belonged to.
src=/etc/dhcplab/dns
cp "$src/named.conf.local" /etc/bind/named.conf.local || exit 65
rm -f /var/lib/bind/*.jnl
for f in "$src"/*; do
  [ "${f##*/}" = named.conf.local ] || cp "$f" /var/lib/bind/
done
chown -R bind:bind /var/lib/bind
# Only the service address and loopback: the container's Docker address answers nothing.
cat > /etc/bind/named.conf.options <<OPTIONS
options {
  directory "/var/cache/bind";
  listen-on { 127.0.0.1; ${DHCPLAB_DNS_ADDRESS:+$DHCPLAB_DNS_ADDRESS;} };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
};
OPTIONS

# Refuse a configuration BIND refuses, with its words, before it starts.
named-checkconf -z /etc/bind/named.conf || exit 65

# -g: in the foreground, logging to stderr (docker logs); -u bind: drop root after binding.
exec named -g -u bind
