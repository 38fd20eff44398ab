/** The embedded default policy: the classic RED/BLUE scenario. `dhcplab` writes it out as policy.yaml. */
export const DEFAULT_POLICY = `# dhcplab relay policy: the classic RED/BLUE scenario.
# Rules are tried in order; the first whose every match field holds decides.
version: 1

# A client that no rule matches: "drop" (the default) or { vrf: NAME }.
unmatched: drop

# DHCPv4 packets that arrive with giaddr set (a downstream relay):
#   forward  - RFC 3046's default: hops + 1, sent on unchanged (the server answers the
#              downstream relay directly, so it needs a route to it)
#   takeover - the relay remembers the downstream giaddr, applies this policy as for a
#              client, and returns the reply to giaddr:67. The lab needs this for
#              perfdhcp, which always sends as a relay (giaddr = its own address).
relayedClients: takeover

# Option 82 that a client (giaddr 0) sent itself is untrusted (RFC 3046 §2.1):
#   discard (default) | append | replace | forward, as isc-dhcp-relay's -m.
existingOption82: discard

# Hop limits: DHCPv4 hops (default 16) and DHCPv6 hop-count (RFC 8415 §7.6: 8, at most 32).
maxHops: 16
maxHopCount6: 8

rules:
  # DUID-LL clients of RED are DATA clients, whatever their MAC says.
  - name: red-duid-ll
    match: { family: 6, mac: "00:aa:*", duidType: LL }
    vrf: RED
    dhcp6: { interfaceId: V6_DATA_LINK }

  - name: red-video
    match: { mac: "00:aa:01:*" }
    vrf: RED
    option82: { circuitId: VIDEO_CIRCUIT, remoteId: "{mac}" }
    dhcp6: { interfaceId: V6_VIDEO_LINK, remoteId: { enterprise: 2393, id: "{mac}" } }

  - name: red-data
    match: { mac: "00:aa:02:*" }
    vrf: RED
    option82: { circuitId: DATA_CIRCUIT, remoteId: "{mac}" }
    dhcp6: { interfaceId: V6_DATA_LINK, remoteId: { enterprise: 2393, id: "{mac}" } }

  # Any other 00:aa: client reaches RED with no class: RED's Kea gives it nothing.
  - name: red
    match: { mac: "00:aa:*" }
    vrf: RED

  - name: blue
    match: { mac: "00:bb:*" }
    vrf: BLUE
    option82: { circuitId: "BLUE_{mac}" }
    dhcp6: { interfaceId: V6_BLUE_LINK }
`;
