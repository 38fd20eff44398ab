import { decodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { decodeDhcp6 } from "../../lib/codec/dhcp6/message.ts";
import { DecodeError } from "../../lib/codec/errors.ts";

/** What a fuzz run saw. */
export interface FuzzResult {
  family: 4 | 6;
  inputs: number;
  decoded: number;
  rejected: number;
  /** Inputs on which decode threw anything but a DecodeError (must stay empty). */
  failures: { input: string; error: string }[];
}

/** A small, seedable PRNG (mulberry32), so a failing run can be repeated. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One input: random bytes, or a seed packet mutated (bit flips, byte sets, cuts, splices). */
export function nextInput(rand: () => number, seeds: readonly Uint8Array[]): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  if (seeds.length === 0 || rand() < 0.2) {
    const out = new Uint8Array(int(700));
    for (let i = 0; i < out.length; i++) out[i] = int(256);
    return out;
  }
  let b = (seeds[int(seeds.length)] as Uint8Array).slice();
  const mutations = 1 + int(4);
  for (let m = 0; m < mutations && b.length > 0; m++) {
    const at = int(b.length);
    switch (int(5)) {
      case 0:
        b[at] = (b[at] as number) ^ (1 << int(8));
        break;
      case 1:
        b[at] = [0, 1, 0x7f, 0x80, 0xff][int(5)] as number;
        break;
      case 2:
        b = b.subarray(0, at);
        break;
      case 3: {
        const len = int(8);
        const junk = new Uint8Array(len).map(() => int(256));
        b = Uint8Array.of(...b.subarray(0, at), ...junk, ...b.subarray(at));
        break;
      }
      default:
        b = Uint8Array.of(...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + int(16))));
    }
  }
  return b;
}

/** Decodes `count` random and mutated inputs; every one must decode or throw a DecodeError. */
export function fuzz(family: 4 | 6, count: number, seed: number, seeds: readonly Uint8Array[]): FuzzResult {
  const decode = family === 4 ? decodeDhcp4 : decodeDhcp6;
  const rand = prng(seed);
  const result: FuzzResult = { family, inputs: count, decoded: 0, rejected: 0, failures: [] };
  for (let i = 0; i < count; i++) {
    const input = nextInput(rand, seeds);
    try {
      decode(input);
      result.decoded++;
    } catch (err) {
      if (err instanceof DecodeError) result.rejected++;
      else if (result.failures.length < 10) {
        result.failures.push({ input: Buffer.from(input).toString("hex"), error: String(err) });
      }
    }
  }
  return result;
}
