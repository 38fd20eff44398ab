import { macToBytes } from "../lib/codec/address.ts";
import { MSG } from "../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4 } from "../lib/codec/dhcp4/message.ts";
import { Exchange } from "../lib/loadgen/latency.ts";
import type { DoraReport } from "../lib/loadgen/report.ts";
import { discover, replyType, requestOffered } from "./messages.ts";

/** Where the load generator's datagrams go and come from: a UDP socket on port 68, or a fake. */
export interface Wire {
  /** Sends a BOOTREQUEST to the servers' port (67) of the destination the run was given. */
  send(bytes: Uint8Array): void;
  /** Every datagram that arrives on port 68. */
  onMessage(receive: (bytes: Uint8Array) => void): void;
}

/** A DORA load: `rate` exchanges a second for `seconds`, over `clients` MACs counted up from `mac`. */
export interface DoraOptions {
  mac: string;
  clients: number;
  rate: number;
  seconds: number;
  /** How long a DISCOVER or REQUEST waits for its reply before it counts as dropped (ms). */
  timeoutMs: number;
  /** Send as a relay agent with this giaddr (a baseline without a relay), not as clients. */
  giaddr?: string;
  /**
   * From this second of the run, exchanges start with a growing `secs` (seconds since then, plus
   * one), as perfdhcp's -Y does: clients that have waited. Kea HA counts only such clients.
   */
  secsAfter?: number;
}

interface InFlight {
  client: number;
  phase: "discover" | "request";
  sentAt: number;
  secs: number;
}

/** The clock and timers of a run; tests give a fake one. */
export interface Clock {
  now(): number;
  every(ms: number, tick: () => void): { stop(): void };
}

const realClock: Clock = {
  now: () => performance.now(),
  every(ms, tick) {
    const t = setInterval(tick, ms);
    return { stop: () => clearInterval(t) };
  },
};

/** How often the scheduler starts what is due and expires what timed out. */
const TICK_MS = 2;

/**
 * Runs DISCOVER-OFFER-REQUEST-ACK exchanges at a target rate, each simulated client with its own
 * chaddr, and matches replies to exchanges by xid and chaddr. Per exchange it times the DISCOVER
 * to its OFFER and the REQUEST to its ACK; it resolves when the run's time is over and every
 * exchange has been answered or timed out.
 */
export function runDora(wire: Wire, o: DoraOptions, clock: Clock = realClock): Promise<DoraReport> {
  const macs = clientMacs(o.mac, o.clients);
  const discoverOffer = new Exchange("DISCOVER-OFFER");
  const requestAck = new Exchange("REQUEST-ACK");
  const inFlight = new Map<number, InFlight>();
  let malformed = 0;
  let orphans = 0;
  let naks = 0;
  let started = 0;
  let acks = 0;
  let nextXid = (Math.random() * 0x7fffffff) >>> 0;
  const t0 = clock.now();
  const endAt = t0 + o.seconds * 1000;
  const secsAt = (now: number): number => {
    const since = (now - t0) / 1000 - (o.secsAfter ?? Number.POSITIVE_INFINITY);
    return since < 0 ? 0 : Math.min(0xffff, Math.floor(since) + 1);
  };

  wire.onMessage((bytes) => {
    let m: ReturnType<typeof decodeDhcp4>;
    try {
      m = decodeDhcp4(bytes);
    } catch {
      malformed++;
      return;
    }
    const t = inFlight.get(m.xid);
    const mac = t && macs[t.client];
    if (!t || !mac || !sameMac(m.chaddr, mac)) {
      orphans++;
      return;
    }
    const type = replyType(m);
    const now = clock.now();
    if (t.phase === "discover" && type === MSG.OFFER) {
      const req = requestOffered(mac, m.xid, m, o, t);
      if (!req) {
        orphans++;
        return;
      }
      discoverOffer.answered(now - t.sentAt);
      t.phase = "request";
      t.sentAt = clock.now();
      requestAck.started();
      wire.send(req);
    } else if (t.phase === "request" && (type === MSG.ACK || type === MSG.NAK)) {
      requestAck.answered(now - t.sentAt);
      inFlight.delete(m.xid);
      if (type === MSG.ACK) acks++;
      else naks++;
    } else {
      // A second OFFER (from another server), or a reply out of turn.
      orphans++;
    }
  });

  return new Promise((resolve) => {
    const timer = clock.every(TICK_MS, () => {
      const now = clock.now();
      // Start what the target rate makes due by now (perfdhcp does the same per tick).
      // (The elapsed time is capped, not the clock: t0 + seconds - t0 may fall short of seconds.)
      const due = Math.floor((Math.min(now - t0, o.seconds * 1000) / 1000) * o.rate);
      for (; started < due; started++) {
        const client = started % macs.length;
        const xid = nextXid;
        nextXid = (nextXid + 1) >>> 0;
        const secs = secsAt(now);
        inFlight.set(xid, { client, phase: "discover", sentAt: now, secs });
        discoverOffer.started();
        wire.send(discover(macs[client] as Uint8Array, xid, o, { secs }));
      }
      // Map order is insertion order, not send order (a REQUEST restarts the clock): scan all.
      for (const [xid, t] of inFlight) {
        if (now - t.sentAt < o.timeoutMs) continue;
        inFlight.delete(xid);
        (t.phase === "discover" ? discoverOffer : requestAck).lost();
      }
      if (now >= endAt && inFlight.size === 0) {
        timer.stop();
        resolve({
          rate: Math.round((acks / o.seconds) * 1000) / 1000,
          malformed,
          orphans,
          naks,
          exchanges: [discoverOffer.figures(), requestAck.figures()],
        });
      }
    });
  });
}

/** `count` MACs counted up from `base` in its low three bytes. */
export function clientMacs(base: string, count: number): Uint8Array[] {
  const b = macToBytes(base);
  if (b.length !== 6) throw new Error(`--mac ${base}: a MAC has 6 bytes`);
  if (count < 1 || count > 0xffffff) throw new Error(`--clients ${count}: between 1 and 16777215`);
  const low = ((b[3] as number) << 16) | ((b[4] as number) << 8) | (b[5] as number);
  return Array.from({ length: count }, (_, i) => {
    const n = (low + i) & 0xffffff;
    return Uint8Array.of(b[0] as number, b[1] as number, b[2] as number, n >> 16, (n >> 8) & 0xff, n & 0xff);
  });
}

function sameMac(chaddr: Uint8Array, mac: Uint8Array): boolean {
  for (let i = 0; i < mac.length; i++) if (chaddr[i] !== mac[i]) return false;
  return true;
}

export type { DoraReport };
