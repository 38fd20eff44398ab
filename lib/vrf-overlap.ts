import { isPrefix, prefixesOverlap, prefixesOverlap6 } from "./codec/prefix.ts";

/** A VRF as far as overlap goes: the segments it serves (absent: every one). */
export interface VrfOnSegments {
  segments?: readonly string[];
}

/** Whether two VRFs' segments share none (a VRF without segments is on every one). */
export function separateSegments(a: VrfOnSegments, b: VrfOnSegments): boolean {
  return (
    a.segments !== undefined && b.segments !== undefined && !a.segments.some((s) => b.segments?.includes(s))
  );
}

/**
 * The first VRF before the `i`-th whose prefixes (`prefixesOf`) overlap `prefix` on a segment both
 * serve: two tenants may number their clients alike only where their segments tell them apart. A
 * string that is no prefix of the family (its own field's check refuses it) overlaps nothing.
 */
export function overlapOnSharedSegment<V extends VrfOnSegments>(
  vrfs: readonly V[],
  i: number,
  prefixesOf: (v: V) => readonly string[],
  prefix: string,
  family: 4 | 6,
): V | undefined {
  if (!isPrefix(prefix, family)) return undefined;
  const overlap = family === 4 ? prefixesOverlap : prefixesOverlap6;
  const v = vrfs[i] as V;
  return vrfs
    .slice(0, i)
    .find(
      (w) => prefixesOf(w).some((p) => isPrefix(p, family) && overlap(p, prefix)) && !separateSegments(v, w),
    );
}
