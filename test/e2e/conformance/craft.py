#!/usr/bin/env python3
"""Crafts DHCP packets with scapy, independently of dhcplab's own codec, for the relay's
conformance suite (test/e2e/conformance.test.ts).

    craft.py '<JSON list of packets>'

Each packet is an object; "v" is 4 or 6. DHCPv4: op, type, xid, chaddr, giaddr, hops, option82
(hex of the option's value), src ("auto" for the sender's own; default 0.0.0.0), dst, sport, dport, ether (the next hop's MAC, to send to an
address the sender has no route to: the relay's backend address from the access side). DHCPv6: msg (solicit, relay-forw,
relay-repl), xid, mac (the DUID-LL's link-layer address, the packet's marker), hops, peer,
src, dst. Packets are sent in order, out of eth0; a line per packet says what was sent.
"""
import json
import sys

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, IPv6, conf, send, sendp
from scapy.layers.dhcp6 import (
    DHCP6_Advertise,
    DHCP6_RelayForward,
    DHCP6_RelayReply,
    DHCP6_Solicit,
    DHCP6OptClientId,
    DHCP6OptElapsedTime,
    DHCP6OptIA_NA,
    DHCP6OptIfaceId,
    DHCP6OptRelayMsg,
    DUID_LL,
)

conf.verb = 0
IFACE = "eth0"


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", "")).ljust(16, b"\0")


def dhcp4(p):
    options = [("message-type", p.get("type", "discover"))]
    if "option82" in p:
        options.append(("relay_agent_information", bytes.fromhex(p["option82"])))
    options.append("end")
    bootp = BOOTP(
        op=p.get("op", 1),
        xid=p["xid"],
        chaddr=mac_bytes(p["chaddr"]),
        giaddr=p.get("giaddr", "0.0.0.0"),
        hops=p.get("hops", 0),
        yiaddr=p.get("yiaddr", "0.0.0.0"),
    )
    src = p.get("src", "0.0.0.0")  # "auto": the sender's own address
    ip = IP(dst=p["dst"]) if src == "auto" else IP(src=src, dst=p["dst"])
    pkt = ip / UDP(sport=p.get("sport", 68), dport=p.get("dport", 67)) / bootp / DHCP(options=options)
    if p["dst"] == "255.255.255.255":
        sendp(Ether(dst="ff:ff:ff:ff:ff:ff") / pkt, iface=IFACE)
    elif "ether" in p:
        sendp(Ether(dst=p["ether"]) / pkt, iface=IFACE)
    else:
        send(pkt)


def client_message(p, kind):
    duid = DHCP6OptClientId(duid=DUID_LL(lladdr=p["mac"]))
    if kind == "advertise":
        return DHCP6_Advertise(trid=p["xid"]) / duid
    return DHCP6_Solicit(trid=p["xid"]) / duid / DHCP6OptElapsedTime() / DHCP6OptIA_NA(iaid=1)


def dhcp6(p):
    msg = p["msg"]
    if msg == "solicit":
        body, sport = client_message(p, "solicit"), 546
    elif msg == "relay-forw":
        body = DHCP6_RelayForward(hopcount=p.get("hops", 0), linkaddr="::", peeraddr=p["peer"]) / DHCP6OptRelayMsg(
            message=client_message(p, "solicit")
        )
        sport = 547
    elif msg == "relay-repl":
        body = (
            DHCP6_RelayReply(hopcount=0, linkaddr=p.get("link", "::"), peeraddr=p["peer"])
            / DHCP6OptIfaceId(ifaceid=b"V6_VIDEO_LINK")
            / DHCP6OptRelayMsg(message=client_message(p, "advertise"))
        )
        sport = 547
    else:
        raise SystemExit(f"unknown DHCPv6 message {msg}")
    ip = IPv6(dst=p["dst"]) if "src" not in p else IPv6(src=p["src"], dst=p["dst"])
    pkt = ip / UDP(sport=sport, dport=547) / body
    if p["dst"].lower().startswith("ff02:"):
        sendp(Ether() / pkt, iface=IFACE)
    else:
        send(pkt)


for packet in json.loads(sys.argv[1]):
    (dhcp4 if packet["v"] == 4 else dhcp6)(packet)
    print("sent", json.dumps(packet), flush=True)
