#!/usr/bin/env python3
"""DHCP exchanges that no real client in the lab can be made to do, crafted with scapy
(independently of dhcplab's codec) for the exchanges suite (test/e2e/exchanges.test.ts).

    exchange.py <action> <mac> [address]

Actions, each sent out of eth0 to the relay, each printing one JSON line of what came back:
  confirm6 MAC ADDRESS      a CONFIRM for ADDRESS (RFC 8415 §18.3.3); waits for the REPLY and
                            prints its status code
  decline6 MAC              SOLICIT, REQUEST, then DECLINE of the address granted (RFC 8415
                            §18.3.8); prints the address and the DECLINE's REPLY status code
A client is DUID-LL of MAC. A wait for a reply ends at the reply, or after 10 s without one.
"""
import json
import random
import sys
import threading

from scapy.all import UDP, AsyncSniffer, Ether, IPv6, conf, sendp
from scapy.layers.dhcp6 import (
    DHCP6_Advertise,
    DHCP6_Confirm,
    DHCP6_Decline,
    DHCP6_Reply,
    DHCP6_Request,
    DHCP6_Solicit,
    DHCP6OptClientId,
    DHCP6OptElapsedTime,
    DHCP6OptIA_NA,
    DHCP6OptIAAddress,
    DHCP6OptServerId,
    DHCP6OptStatusCode,
    DUID_LL,
)

conf.verb = 0
IFACE = "eth0"
WAIT = 10


def sniffing(bpf, wanted, last, send):
    """Sniffs what `wanted` accepts from before `send` until `last` accepts one (or WAIT s)."""
    ready = threading.Event()
    sniffer = AsyncSniffer(
        iface=IFACE,
        filter=bpf,
        lfilter=wanted,
        stop_filter=last,
        timeout=WAIT,
        started_callback=ready.set,
    )
    sniffer.start()
    ready.wait(WAIT)
    send()
    sniffer.join()
    return list(sniffer.results or [])


def exchange6(message, expect):
    """Sends a DHCPv6 message to All_DHCP_Relay_Agents_and_Servers; the reply of its type, or None."""
    trid = message.trid
    got = sniffing(
        "udp dst port 546",
        lambda p: expect in p and p[expect].trid == trid,
        lambda p: True,
        lambda: sendp(Ether() / IPv6(dst="ff02::1:2") / UDP(sport=546, dport=547) / message, iface=IFACE),
    )
    return got[0] if got else None


def status_of(reply):
    layer = reply.getlayer(DHCP6OptStatusCode) if reply is not None else None
    return None if layer is None else layer.statuscode


def client_id(mac):
    return DHCP6OptClientId(duid=DUID_LL(lladdr=mac))


def trid():
    return random.getrandbits(24)


def confirm6(mac, address):
    message = (
        DHCP6_Confirm(trid=trid())
        / client_id(mac)
        / DHCP6OptElapsedTime()
        / DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=address, preflft=0, validlft=0)])
    )
    reply = exchange6(message, DHCP6_Reply)
    return {"reply": reply is not None, "status": status_of(reply)}


def decline6(mac):
    solicit = DHCP6_Solicit(trid=trid()) / client_id(mac) / DHCP6OptElapsedTime() / DHCP6OptIA_NA(iaid=1)
    advertise = exchange6(solicit, DHCP6_Advertise)
    if advertise is None or DHCP6OptIAAddress not in advertise:
        return {"error": "no ADVERTISE with an address"}
    server = advertise[DHCP6OptServerId].duid
    address = advertise[DHCP6OptIAAddress].addr
    ia = lambda: DHCP6OptIA_NA(iaid=1, ianaopts=[DHCP6OptIAAddress(addr=address)])  # noqa: E731
    request = DHCP6_Request(trid=trid()) / client_id(mac) / DHCP6OptServerId(duid=server) / DHCP6OptElapsedTime() / ia()
    reply = exchange6(request, DHCP6_Reply)
    if reply is None or DHCP6OptIAAddress not in reply:
        return {"error": "no REPLY to the REQUEST", "address": address}
    decline = DHCP6_Decline(trid=trid()) / client_id(mac) / DHCP6OptServerId(duid=server) / DHCP6OptElapsedTime() / ia()
    declined = exchange6(decline, DHCP6_Reply)
    return {"address": address, "reply": declined is not None, "status": status_of(declined)}


ACTIONS = {"confirm6": confirm6, "decline6": decline6}
action, *args = sys.argv[1:]
print(json.dumps(ACTIONS[action](*args)), flush=True)
