#!/usr/bin/env python3
"""dhcplab's delay line: netem's delay, jitter, loss, duplication, reordering, corruption and rate on
one link, for kernels without sch_netem.

Run in the network namespace of the service whose link is impaired (NET_ADMIN, /dev/net/tun). Every
frame the link sends is redirected at its egress (tc clsact, a u32 match-all filter, mirred) to a tap
device; this program reads it there, holds it, and sends it on the link through a packet socket that
bypasses the link's queueing (PACKET_QDISC_BYPASS), and so the redirect: the frame leaves once, late.

  dhcplab-delay-line --mac MAC [--delay MS] [--jitter MS] [--loss P] [--duplicate P] [--reorder P]
                     [--corrupt P] [--rate BITS_PER_SECOND]

It prints "ready" once the link is redirected, and undoes it all when it ends (SIGTERM, or an error).
"""

import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
PACKET_QDISC_BYPASS = 20
SOL_PACKET = 263
QUEUE_LIMIT = 1000


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True)


def link_by_mac(mac: str) -> str:
    for name in os.listdir("/sys/class/net"):
        try:
            with open(f"/sys/class/net/{name}/address") as f:
                if f.read().strip().lower() == mac.lower():
                    return name
        except OSError:
            continue
    sys.exit(f"dhcplab-delay-line: no link with MAC {mac} in this namespace")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mac", required=True)
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--jitter", type=float, default=0.0)
    p.add_argument("--loss", type=float, default=0.0)
    p.add_argument("--duplicate", type=float, default=0.0)
    p.add_argument("--reorder", type=float, default=0.0)
    p.add_argument("--corrupt", type=float, default=0.0)
    p.add_argument("--rate", type=float, default=0.0, help="bits per second; 0: unlimited")
    a = p.parse_args()

    dev = link_by_mac(a.mac)
    tap = f"dl{dev}"[:15]

    def undo() -> None:
        subprocess.run(["tc", "qdisc", "del", "dev", dev, "clsact"], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", "dev", tap], stderr=subprocess.DEVNULL)

    def stop(*_: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        serve(a, dev, tap)
    finally:
        # Whatever ended it (a signal, an error), the link is not left redirected into nothing.
        undo()


def serve(a: argparse.Namespace, dev: str, tap: str) -> None:
    # The tap device the link's egress is redirected to; this program holds its other end. No
    # IPv6 address of its own: it would send its own DAD and MLD frames, which would go on the link.
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI))
    run("ip", "link", "set", "dev", tap, "addrgenmode", "none")
    run("ip", "link", "set", "dev", tap, "up")
    # Protocol 0: a socket that sends only (it would otherwise receive every frame of the link).
    out = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    out.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
    out.bind((dev, 0))
    subprocess.run(["tc", "qdisc", "del", "dev", dev, "clsact"], stderr=subprocess.DEVNULL)
    run("tc", "qdisc", "add", "dev", dev, "clsact")
    run("tc", "filter", "add", "dev", dev, "egress", "protocol", "all", "u32", "match", "u32", "0", "0",
        "action", "mirred", "egress", "redirect", "dev", tap)
    print("ready", flush=True)

    queue: list[tuple[float, int, bytes]] = []
    order = 0
    free_at = 0.0  # the rate limit: when the link is free to send the next frame

    def due(now: float) -> float:
        # netem's reorder: this share of frames goes at once, the others wait their delay.
        if a.reorder and random.random() * 100 < a.reorder:
            return now
        jitter = random.uniform(-a.jitter, a.jitter) if a.jitter else 0.0
        return now + max(0.0, a.delay + jitter) / 1000

    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else None
        ready, _, _ = select.select([fd], [], [], timeout)
        now = time.monotonic()
        if ready:
            frame = os.read(fd, 65536)
            # Lost by chance; or, like netem's default limit, dropped on a full queue.
            if not (a.loss and random.random() * 100 < a.loss) and len(queue) < QUEUE_LIMIT:
                copies = 2 if a.duplicate and random.random() * 100 < a.duplicate else 1
                for _ in range(copies):
                    data = frame
                    if a.corrupt and random.random() * 100 < a.corrupt and len(frame) > 14:
                        b = bytearray(frame)
                        i = random.randrange(14, len(b))
                        b[i] ^= 1 << random.randrange(8)
                        data = bytes(b)
                    at = due(now)
                    if a.rate:
                        at = max(at, free_at)
                        free_at = at + len(data) * 8 / a.rate
                    order += 1
                    heapq.heappush(queue, (at, order, data))
        while queue and queue[0][0] <= time.monotonic():
            _, _, data = heapq.heappop(queue)
            try:
                out.send(data)
            except OSError:
                pass


if __name__ == "__main__":
    main()
