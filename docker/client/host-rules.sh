#!/bin/sh
# The lab's rules in the host's firewall, run in the host's network namespace (docker run
# --network host --cap-add NET_ADMIN). Each rule names its lab in a comment "dhcplab:LAB". -w waits
# for the xtables lock: labs side by side change the host's rules at the same time.
#
#   dhcplab-host-rules add LAB [--allow BRIDGE]... [--isolate6 BRIDGE]...
#     --allow: accept what enters and leaves BRIDGE (DOCKER-USER, before the Engine's isolation
#       rules, which drop a DHCP client's broadcast from 0.0.0.0 as off-subnet). Nothing leaves
#       the bridge this way. No DOCKER-USER chain: the Engine drops nothing, nothing to add.
#     --isolate6: drop IPv6 that enters or leaves BRIDGE to or from another interface (ip6tables
#       FORWARD): Engines before 27 manage no ip6tables, and the host would route between bridges.
#   dhcplab-host-rules prune (--lab LAB | --all | --stale)
#     removes the lab's rules (or every dhcplab rule), and any rule whose bridge is gone.
set -eu
TAG=dhcplab:

add() {
  lab=$1; shift
  while [ $# -gt 0 ]; do
    case $1 in
      --allow)
        rule="DOCKER-USER -i $2 -o $2 -m comment --comment $TAG$lab -j ACCEPT"
        if iptables -w -S DOCKER-USER >/dev/null 2>&1; then
          iptables -w -C $rule 2>/dev/null || iptables -w -I $rule
          if ip6tables -w -S DOCKER-USER >/dev/null 2>&1; then ip6tables -w -C $rule 2>/dev/null || ip6tables -w -I $rule; fi
        fi ;;
      --isolate6)
        for rule in "FORWARD -i $2 ! -o $2" "FORWARD ! -i $2 -o $2"; do
          rule="$rule -m comment --comment $TAG$lab -j DROP"
          ip6tables -w -C $rule 2>/dev/null || ip6tables -w -I $rule
        done ;;
      *) echo "dhcplab-host-rules: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
  done
}

prune() {
  case $1 in
    --all) mine="$TAG" ;;
    --stale) mine="" ;;
    --lab) mine="$TAG$2" ;;
    *) echo "dhcplab-host-rules: prune --lab LAB | --all | --stale" >&2; exit 2 ;;
  esac
  for t in iptables ip6tables; do
    for c in DOCKER-USER FORWARD; do
      # iptables -S quotes the comment; xargs reads the rule back as the words it prints.
      $t -w -S $c 2>/dev/null | grep -- "--comment \"\\?$TAG" | while read -r line; do
        bridge=$(echo "$line" | sed -n 's/.* -[io] \([^ ]*\) .*/\1/p')
        lab=$(echo "$line" | sed -n "s/.*--comment \"\\?\\($TAG[^\" ]*\\).*/\\1/p")
        if { [ -n "$mine" ] && { [ "$mine" = "$TAG" ] || [ "$lab" = "$mine" ]; }; } || [ ! -e "/sys/class/net/$bridge" ]; then
          echo "$line" | sed 's/^-A /-D /' | xargs $t -w || true
        fi
      done
    done
  done
}

case ${1:-} in
  add) shift; add "$@" ;;
  prune) shift; prune "$@" ;;
  *) echo "usage: dhcplab-host-rules add LAB [--allow BRIDGE]... [--isolate6 BRIDGE]... | prune (--lab LAB | --all | --stale)" >&2; exit 2 ;;
esac
