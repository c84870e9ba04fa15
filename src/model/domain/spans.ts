// interval_tree_for_each_span (lib/interval_tree.c) over the model's range
// lists: [first, last] cut into maximal used spans (covered by at least one
// range; touching ranges merge) and the holes between them, in order.

import type { IovaRange } from "./state.ts";

export interface Span {
  start: bigint;
  last: bigint;
  used: boolean;
}

/** The spans of [first, last] given ranges that may overlap (reserved ranges do). */
export function spans(ranges: readonly IovaRange[], first: bigint, last: bigint): Span[] {
  const hits = ranges.filter((r) => r.last >= first && r.start <= last).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Span[] = [];
  let cur = first;
  let i = 0;
  while (i < hits.length) {
    const start = hits[i]!.start > cur ? hits[i]!.start : cur;
    if (start > cur) out.push({ start: cur, last: start - 1n, used: false });
    let end = hits[i]!.last;
    // Merge every range that overlaps or touches the used span.
    while (++i < hits.length && hits[i]!.start <= end + 1n) if (hits[i]!.last > end) end = hits[i]!.last;
    if (end >= last) {
      out.push({ start, last, used: true });
      return out;
    }
    out.push({ start, last: end, used: true });
    cur = end + 1n;
  }
  out.push({ start: cur, last, used: false });
  return out;
}

/** Only the holes of spans(). */
export function holes(ranges: readonly IovaRange[], first: bigint, last: bigint): IovaRange[] {
  return spans(ranges, first, last)
    .filter((s) => !s.used)
    .map((s) => ({ start: s.start, last: s.last }));
}

/** Does any range intersect [start, last]? (interval_tree_iter_first != NULL) */
export function intersects(ranges: readonly IovaRange[], start: bigint, last: bigint): boolean {
  return ranges.some((r) => r.start <= last && r.last >= start);
}
