import { describe, expect, it } from "vitest";
import { nextInput, prng } from "../../../test/fuzz/mutate.ts";
import { goldenPackets } from "../../../test/support/golden.ts";
import { DecodeError } from "../errors.ts";
import { MSG, OP, OPT } from "./codes.ts";
import { type Dhcp4Message, decodeDhcp4, encodeDhcp4 } from "./message.ts";
import { DecodedDhcp4, READ_IN_PLACE, ScannedDhcp4 } from "./scan.ts";

function decodeOrUndefined(bytes: Uint8Array): Dhcp4Message | undefined {
  try {
    return decodeDhcp4(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return undefined;
    throw err;
  }
}

/** Replies in the shapes servers send: option 54 and Option 82 in either order, pads, a trailer. */
function replySeeds(): Uint8Array[] {
  const requests = goldenPackets().filter((p) => p.family === 4 && !p.malformed);
  const seeds: Uint8Array[] = [];
  for (const [i, p] of requests.entries()) {
    const m = decodeDhcp4(p.bytes);
    m.op = OP.BOOTREPLY;
    const o82 = { code: OPT.relayAgentInfo, data: Uint8Array.of(1, 3, 0x70, 0x31, 0x2f) };
    const o54 = { code: OPT.serverId, data: Uint8Array.of(10, 213, 2, 10) };
    const o53 = { code: OPT.messageType, data: Uint8Array.of(MSG.ACK) };
    const pad = { code: OPT.pad, data: new Uint8Array(0) };
    m.options.options = [
      [o53, o54, pad, o82],
      [o53, o82, { code: 1, data: Uint8Array.of(255, 255, 255, 0) }, o54],
      [pad, o53, o54],
      [o82, o53],
    ][i % 4] as typeof m.options.options;
    seeds.push(encodeDhcp4(m, { maxSize: Number.POSITIVE_INFINITY }));
  }
  return seeds;
}

describe("ScannedDhcp4: a message read in place", () => {
  it("reads and rewrites as the full decode and encode do, on requests, replies and their mutations", () => {
    const rand = prng(20261207);
    const requests = goldenPackets()
      .filter((p) => p.family === 4 && !p.malformed)
      .map((p) => p.bytes);
    const seeds = [...replySeeds(), ...requests];
    let scanned = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const input = i < seeds.length ? (seeds[i] as Uint8Array) : nextInput(rand, seeds);
      const s = ScannedDhcp4.scan(input);
      const m = decodeOrUndefined(input);
      if (!s) {
        refused++;
        continue;
      }
      scanned++;
      // Whatever the scan takes, the decoder takes too, and reads the same.
      expect(m, Buffer.from(input).toString("hex")).toBeDefined();
      if (!m) continue;
      const d = new DecodedDhcp4(m);
      const fields = (v: typeof s | typeof d) => [
        v.op,
        v.hops,
        v.xid,
        v.hlen,
        v.ciaddr,
        v.giaddr,
        v.messageType,
        v.maxMessageSize,
        [...v.chaddr],
        ...READ_IN_PLACE.map((code) => v.option(code)),
      ];
      expect(fields(s)).toEqual(fields(d));
      const option82 = [undefined, Uint8Array.of(1, 2, 0x61, 0x62), new Uint8Array(300).fill(7)][i % 3];
      const changes = {
        ...(i % 2 === 0 ? { serverId: Uint8Array.of(192, 168, 10, 1) } : {}),
        ...(i % 5 === 0 ? { giaddr: "10.213.9.1" } : {}),
        ...(i % 7 === 0 ? { hops: 3 } : {}),
      };
      // A decoded view changes its message: a fresh one for each rewrite.
      const forwarded = new DecodedDhcp4(decodeDhcp4(input)).forwarded(i % 4);
      expect(Buffer.from(s.forwarded(i % 4)).toString("hex")).toBe(Buffer.from(forwarded).toString("hex"));
      expect(Buffer.from(s.rewrite(option82, changes)).toString("hex")).toBe(
        Buffer.from(d.rewrite(option82, changes)).toString("hex"),
      );
    }
    // Both outcomes are common: the run reaches the rewrite and the refusals.
    expect(scanned).toBeGreaterThan(2000);
    expect(refused).toBeGreaterThan(2000);
  });

  it("leaves to the full decode what it does not cover", () => {
    const [seed] = replySeeds();
    const m = decodeDhcp4(seed as Uint8Array);
    const withOptions = (options: Dhcp4Message["options"]["options"]) =>
      encodeDhcp4({ ...m, options: { ...m.options, options } }, { maxSize: Number.POSITIVE_INFINITY });
    const type = { code: OPT.messageType, data: Uint8Array.of(MSG.OFFER) };
    // RFC 2132 §9.3: options overloaded into sname or file.
    expect(
      ScannedDhcp4.scan(withOptions([type, { code: OPT.overload, data: Uint8Array.of(1) }])),
    ).toBeUndefined();
    // RFC 3396: an option in several instances, to be concatenated.
    const part = { code: OPT.relayAgentInfo, data: Uint8Array.of(1, 1, 0x41) };
    expect(ScannedDhcp4.scan(withOptions([type, part, part]))).toBeUndefined();
    // Too short for the BOOTP header, or the wrong magic cookie.
    expect(ScannedDhcp4.scan((seed as Uint8Array).subarray(0, 239))).toBeUndefined();
    const cookie = (seed as Uint8Array).slice();
    cookie[236] = 0;
    expect(ScannedDhcp4.scan(cookie)).toBeUndefined();
    expect(ScannedDhcp4.scan(withOptions([type]))?.messageType).toBe(MSG.OFFER);
  });
});
