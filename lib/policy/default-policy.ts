/** The embedded default policy: the classic RED/BLUE scenario. `dhcplab` writes it out as policy.yaml. */
export const DEFAULT_POLICY = `# dhcplab relay policy: the classic RED/BLUE scenario.
# Rules are tried in order; the first whose every match field holds decides.
version: 1

# A client that no rule matches: "drop" (the default) or { vrf: NAME }.
unmatched: drop

# DHCPv4 packets that arrive with giaddr set (a downstream relay). Only a trusted downstream
# relay is served: one whose giaddr is its own source address on the access network, or inside
# trustedRelays. A giaddr that is one of this relay's own addresses is discarded (RFC 3046 §2.1.1).
#   forward  - RFC 3046's default: hops + 1, sent on unchanged (the server answers the
#              downstream relay directly, so it needs a route to it)
#   takeover - the relay remembers the downstream giaddr, applies this policy as for a
#              client, and returns the reply to giaddr:67. The lab needs this for
#              perfdhcp, which always sends as a relay (giaddr = its own address).
relayedClients: takeover
# Prefixes of downstream relays trusted even when the giaddr is not their source address.
trustedRelays: []

# Option 82 that a client (giaddr 0) sent itself is untrusted (RFC 3046 §2.1):
#   discard (default) | append | replace | forward, as isc-dhcp-relay's -m.
# append and forward keep the client's sub-options, but never one this relay sets itself:
# Kea reads the relay's Circuit-ID, Remote-ID and Link Selection, never a client's forgery.
existingOption82: discard

# DHCPv4: a request whose hops field exceeds maxHops is discarded (RFC 1542 §4.1.1: the limit
# is at most 16 and SHOULD default to 4; isc-dhcp-relay uses 10). A request at the limit is
# still relayed. DHCPv6: a RELAY-FORW whose hop-count has reached maxHopCount6 is discarded
# (RFC 8415 §19.1.2; HOP_COUNT_LIMIT is 8, at most 32).
maxHops: 4
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
