#!/bin/bash
# dhcplab's faults on one lab link, run in the network namespace of the service it impairs (a
# sidecar container sharing it, with NET_ADMIN). The link is found by its MAC address.
#
#   dhcplab-fault condition --mac MAC [--delay MS] [--jitter MS] [--loss PCT] [--duplicate PCT]
#                           [--reorder PCT] [--corrupt PCT] [--rate RATE]
#   dhcplab-fault clear --mac MAC              the link's condition removed
#   dhcplab-fault cut --mac MAC ADDRESS...     nothing to or from these addresses on the link
#   dhcplab-fault heal --mac MAC ADDRESS...    the cut undone
#   dhcplab-fault ifname --mac MAC             the link's interface name
#   dhcplab-fault rename --mac MAC --to NAME [--addr CIDR]...
#                                              a link connected again given its old name and addresses
#
# Conditions: the egress of the link, as tc netem shapes it. Where the kernel has sch_netem, netem
# carries every condition; where it has not, loss is nftables' random drop (numgen) and rate is
# tbf, and delay, jitter, duplication, reordering and corruption are refused (exit 3) saying why
# (dhcplab then runs its delay line, docker/client/delay-line.py, instead).
# Prints the mechanism used ("netem", "nftables", "tbf", "nftables+tbf").
set -euo pipefail

die() { echo "dhcplab-fault: $*" >&2; exit 2; }
cannot() { echo "dhcplab-fault: $*" >&2; exit 3; }

cmd=${1:-}; shift || true
mac="" delay="" jitter="" loss="" duplicate="" reorder="" corrupt="" rate="" to=""
peers=() addrs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --mac) mac=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --jitter) jitter=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    --duplicate) duplicate=$2; shift 2 ;;
    --reorder) reorder=$2; shift 2 ;;
    --corrupt) corrupt=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --to) to=$2; shift 2 ;;
    --addr) addrs+=("$2"); shift 2 ;;
    -*) die "unknown option $1" ;;
    *) peers+=("$1"); shift ;;
  esac
done
[ -n "$mac" ] || die "--mac is required"
dev=$(ip -o link | awk -v m="${mac,,}" 'tolower($0) ~ "link/ether " m " " { sub(/@.*/, "", $2); sub(/:$/, "", $2); print $2 }')
[ -n "$dev" ] || die "no link with MAC $mac in this namespace"

# The table of a link's loss, and the table of every cut in this namespace.
loss_table="dhcplab_loss_${dev//[^a-zA-Z0-9]/_}"
cut_table="dhcplab_cut"

has_netem() {
  # Asked of the kernel on the link itself, replaced at once by what follows.
  tc qdisc replace dev "$dev" root netem delay 0ms 2>/dev/null
}

clear_link() {
  tc qdisc del dev "$dev" root 2>/dev/null || true
  # A delay line's redirect, should it have ended without undoing it.
  tc qdisc del dev "$dev" clsact 2>/dev/null || true
  nft delete table netdev "$loss_table" 2>/dev/null || true
  nft delete table inet "$loss_table" 2>/dev/null || true
}

case "$cmd" in
  condition)
    clear_link
    if has_netem; then
      args=()
      [ -n "$delay" ] && args+=(delay "${delay}ms" ${jitter:+"${jitter}ms"})
      [ -z "$delay" ] && [ -n "$jitter" ] && args+=(delay 0ms "${jitter}ms")
      [ -n "$loss" ] && args+=(loss "${loss}%")
      [ -n "$duplicate" ] && args+=(duplicate "${duplicate}%")
      [ -n "$reorder" ] && args+=(reorder "${reorder}%")
      [ -n "$corrupt" ] && args+=(corrupt "${corrupt}%")
      [ -n "$rate" ] && args+=(rate "$rate")
      tc qdisc replace dev "$dev" root netem "${args[@]}"
      echo "netem"
      exit 0
    fi
    for what in delay jitter duplicate reorder corrupt; do
      if [ -n "${!what}" ]; then
        clear_link
        cannot "this host's kernel has no netem qdisc (sch_netem), which $what needs"
      fi
    done
    mechanisms=()
    if [ -n "$loss" ]; then
      # numgen random mod 10000 < loss * 100: each frame leaving the link is dropped with that chance,
      # at the device's egress as netem drops it: also what a packet socket sends (the relay's DHCPv4
      # replies to clients, ARP), which an IP hook (postrouting) never sees.
      # A kernel before 5.16 has no egress hook: there, IP packets leaving the link (postrouting).
      threshold=$(awk -v p="$loss" 'BEGIN { printf "%d", p * 100 }')
      nft -f - 2>/dev/null <<EOF || nft -f - <<EOF2
table netdev $loss_table {
  chain out {
    type filter hook egress device "$dev" priority 0; policy accept;
    numgen random mod 10000 < $threshold counter drop comment "loss $loss%"
  }
}
EOF
table inet $loss_table {
  chain out {
    type filter hook postrouting priority -150; policy accept;
    oifname "$dev" numgen random mod 10000 < $threshold counter drop comment "loss $loss%"
  }
}
EOF2
      mechanisms+=(nftables)
    fi
    if [ -n "$rate" ]; then
      tc qdisc replace dev "$dev" root tbf rate "$rate" burst 32kbit latency 400ms
      mechanisms+=(tbf)
    fi
    if [ ${#mechanisms[@]} -eq 0 ]; then
      tc qdisc del dev "$dev" root 2>/dev/null || true
      die "no condition given (--delay, --jitter, --loss, --duplicate, --reorder, --corrupt, --rate)"
    fi
    (IFS=+; echo "${mechanisms[*]}")
    ;;
  clear)
    clear_link
    echo "cleared"
    ;;
  cut|heal)
    [ ${#peers[@]} -gt 0 ] || die "$cmd needs the addresses of the other end"
    nft -f - <<EOF
table inet $cut_table {
  chain out { type filter hook postrouting priority -160; policy accept; }
  chain in { type filter hook prerouting priority -160; policy accept; }
}
EOF
    for peer in "${peers[@]}"; do
      case "$peer" in *:*) ip=ip6 ;; *) ip=ip ;; esac
      if [ "$cmd" = cut ]; then
        nft add rule inet "$cut_table" out oifname "$dev" $ip daddr "$peer" counter drop comment "\"cut $dev $peer\""
        nft add rule inet "$cut_table" in iifname "$dev" $ip saddr "$peer" counter drop comment "\"cut $dev $peer\""
      else
        for chain in out in; do
          nft -a list chain inet "$cut_table" "$chain" \
            | awk -v c="cut $dev $peer" 'index($0, "comment \"" c "\"") { print $NF }' \
            | while read -r handle; do nft delete rule inet "$cut_table" "$chain" handle "$handle"; done
        done
      fi
    done
    echo "$cmd"
    ;;
  ifname)
    echo "$dev"
    ;;
  rename)
    # Docker names a link connected again after the next free ethN; the services in the
    # namespace were configured with its old name (Kea's interfaces). The IPv6 addresses go with
    # the link's down; they are put back.
    [ -n "$to" ] || die "rename needs --to NAME"
    if [ "$dev" != "$to" ]; then
      ip link set dev "$dev" down
      ip link set dev "$dev" name "$to"
      ip link set dev "$to" up
    fi
    for a in "${addrs[@]}"; do ip addr replace "$a" dev "$to"; done
    echo "$to"
    ;;
  *)
    die "usage: dhcplab-fault condition|clear|cut|heal|ifname|rename --mac MAC ..."
    ;;
esac
