#!/bin/sh
# One real DHCP client, once, on eth0 (dhcplab client; orchestrator/docker/clients.ts):
#
#   dhcplab-client KIND FAMILY [--pd] [--vendor-class TEXT] [--arch N] [--hostname NAME]
#
# KIND: dhclient, dhcpcd or udhcpc; FAMILY: 4 or 6. --pd (DHCPv6, dhclient and dhcpcd): an
# address and a delegated prefix, as a CPE router asks (dhclient -N -P, dhcpcd's ia_na and ia_pd).
# --vendor-class and --arch (DHCPv4): present itself as a PXE ROM does (options 60 and 93).
# --hostname: the name it gives itself: option 12 (udhcpc, dhclient, dhcpcd -h) in DHCPv4, the
# Client FQDN option 39 in DHCPv6 (dhclient's fqdn.fqdn, dhcpcd -F both).
# Prints the client's output, then ADDRESS <address/length> for what it obtained (outside the
# lab's own Docker subnets, 10.213.0.0/16 and fd64:6c61:6200::/48), PREFIX <prefix> for each
# prefix delegated to it, and NEXT-SERVER and BOOT-FILE for the ACK's siaddr and file (DHCPv4,
# udhcpc and dhclient). Exits with the client's status (124 when it ran out of time).
set -u
# The client itself, run by the script under timeout (below): __run KIND FAMILY PD VENDOR ARCH HOSTNAME.
if [ "${1:-}" = __run ]; then
  kind=$2 family=$3 pd=$4 vendor=$5 arch=$6 name=$7
  RUN_ONLY=1
else
  RUN_ONLY=0
  kind=$1 family=$2
  shift 2
fi
[ "$RUN_ONLY" = 1 ] || { pd=0; vendor=""; arch=""; name=""; }
while [ "$RUN_ONLY" = 0 ] && [ $# -gt 0 ]; do
  case $1 in
    --pd) pd=1; shift ;;
    --vendor-class) vendor=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --hostname)
      # A DNS name only: it is written into dhclient's configuration.
      case $2 in *[!A-Za-z0-9.-]*|"") echo "dhcplab-client: host name $2 is not a DNS name" >&2; exit 2 ;; esac
      name=$2; shift 2 ;;
    *) echo "dhcplab-client: unknown option $1" >&2; exit 2 ;;
  esac
done

run() {
  case "$kind-$family-$pd" in
    dhclient-4-0)
      # A PXE identity or a name goes in a configuration of its own; otherwise Debian's is used.
      set --
      if [ -n "$vendor$arch$name" ]; then
        printf 'option pxe-arch code 93 = unsigned integer 16;\n' > /tmp/dhclient.conf
        if [ -n "$name" ]; then printf 'send host-name "%s";\n' "$name" >> /tmp/dhclient.conf; fi
        if [ -n "$vendor" ]; then
          escaped=$(printf '%s' "$vendor" | sed 's/\\/\\\\/g; s/"/\\"/g')
          printf 'send vendor-class-identifier "%s";\n' "$escaped" >> /tmp/dhclient.conf
        fi
        if [ -n "$arch" ]; then printf 'send pxe-arch %s;\n' "$arch" >> /tmp/dhclient.conf; fi
        set -- -cf /tmp/dhclient.conf
      fi
      dhclient -4 -1 -v -lf /tmp/leases -sf /tmp/hook-dhclient "$@" eth0 ;;
    dhclient-6-*)
      set --
      if [ "$pd" = 1 ]; then set -- -N -P; fi
      if [ -n "$name" ]; then
        printf 'send fqdn.fqdn "%s";\nsend fqdn.server-update on;\n' "$name" > /tmp/dhclient6.conf
        set -- "$@" -cf /tmp/dhclient6.conf
      fi
      dhclient -6 "$@" -1 -v -lf /tmp/leases eth0 ;;
    udhcpc-4-0)
      set --
      if [ -n "$vendor" ]; then set -- "$@" -V "$vendor"; fi
      if [ -n "$arch" ]; then set -- "$@" -x "0x5d:$(printf '%04x' "$arch")"; fi
      if [ -n "$name" ]; then set -- "$@" -x "hostname:$name"; fi
      udhcpc -i eth0 -n -q -f -t 5 -T 2 -s /tmp/hook-udhcpc "$@" ;;
    dhcpcd-4-0)
      # dhcpcd takes the value of this option only after "=". -L: no IPv4 link-local address
      # after a few seconds without an answer (with -1 dhcpcd would take it and stop): the lab
      # asks for DHCP, for up to -t seconds.
      set --
      if [ -n "$vendor" ]; then set -- "--vendorclassid=$vendor"; fi
      if [ -n "$name" ]; then set -- "$@" -h "$name"; fi
      dhcpcd -4 -1 -B -L -t 15 -f /dev/null "$@" eth0 ;;
    dhcpcd-6-0)
      set --
      if [ -n "$name" ]; then set -- -h "$name" -F both; fi
      dhcpcd -6 -1 -B -t 15 -f /dev/null --noipv6rs --ia_na "$@" eth0 ;;
    # dhcpcd takes IA_PD only in an interface block of a configuration file.
    dhcpcd-6-1)
      printf 'noipv6rs\ninterface eth0\n  ia_na 1\n  ia_pd 2\n' > /tmp/dhcpcd.conf
      set --
      if [ -n "$name" ]; then set -- -h "$name" -F both; fi
      dhcpcd -6 -1 -B -t 15 -f /tmp/dhcpcd.conf "$@" eth0 ;;
    *) echo "dhcplab-client: $kind does not do DHCPv$family$([ $pd = 1 ] && echo ' prefix delegation') in the lab" >&2; return 2 ;;
  esac
}

if [ "$RUN_ONLY" = 1 ]; then run; exit $?; fi
# Until the container's IPv6 addresses have finished duplicate address detection (up to 5 s).
for i in $(seq 50); do ip -6 addr show dev eth0 tentative | grep -q . || break; sleep 0.1; done

# DHCPv4 hook scripts: record the ACK's next-server and boot file, then do what the client's own does.
cat > /tmp/hook-udhcpc <<'EOF'
#!/bin/sh
[ "$1" = bound ] && { echo "NEXT-SERVER $siaddr"; echo "BOOT-FILE $boot_file"; } >> /tmp/boot
exec /etc/udhcpc/default.script "$@"
EOF
cat > /tmp/hook-dhclient <<'EOF'
#!/bin/sh
[ "$reason" = BOUND ] && { echo "NEXT-SERVER $new_next_server"; echo "BOOT-FILE $new_filename"; } >> /tmp/boot
exec /sbin/dhclient-script "$@"
EOF
chmod +x /tmp/hook-udhcpc /tmp/hook-dhclient


# The client, stopped after 40 s; its output in one log.
timeout 40 "$0" __run "$kind" "$family" "$pd" "$vendor" "$arch" "$name" > /tmp/client.log 2>&1
status=$?
cat /tmp/client.log
ip -o "-$family" addr show dev eth0 scope global | awk '{print $4}' \
  | grep -v -e '^10\.213\.' -e '^fd64:6c61:6200:' | sed 's/^/ADDRESS /'
if [ "$pd" = 1 ]; then
  # Where each client records its delegated prefixes: dhclient's lease file, dhcpcd's log.
  if [ "$kind" = dhclient ]; then sed -n 's/^ *iaprefix \([^ ]*\) {.*/PREFIX \1/p' /tmp/leases
  else sed -n 's/.*delegated prefix \([^ ]*\).*/PREFIX \1/p' /tmp/client.log; fi
fi
cat /tmp/boot 2>/dev/null
exit $status
