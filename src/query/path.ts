// Paths into a state: "iommufd.1.objects.2.areas", "pasid.quota.100.used". A segment
// is a Map key (compared as text), an object member or an array index; state-data
// classes (the IOTLB) are read through their toStateData(). Generic over the state,
// so `state --path`, watchpoints and diffs reach every model the same way.

import { isStateData } from "../model/hash.ts";

export type PathResult = { found: true; value: unknown } | { found: false; at: string; missing: string; known: string[] };

/** The segments of a dotted path; "" is the whole state. */
export function splitPath(path: string): string[] {
  return path === "" ? [] : path.split(".");
}

/** The children of a value by key, as a path sees them (Map keys as text). */
export function children(v: unknown): [string, unknown][] | undefined {
  if (v instanceof Map) return [...v].map(([k, x]) => [String(k), x]);
  if (ArrayBuffer.isView(v)) return undefined;
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
  if (v !== null && typeof v === "object") {
    if (isStateData(v)) return children(v.toStateData());
    return Object.entries(v).filter(([, x]) => x !== undefined);
  }
  return undefined;
}

function child(v: unknown, key: string): { ok: true; value: unknown } | { ok: false } {
  if (v instanceof Map) {
    if (v.has(key)) return { ok: true, value: v.get(key) };
    const n = Number(key);
    if (key !== "" && Number.isInteger(n) && v.has(n)) return { ok: true, value: v.get(n) };
    return { ok: false };
  }
  const kids = children(v);
  const hit = kids?.find(([k]) => k === key);
  return hit ? { ok: true, value: hit[1] } : { ok: false };
}

/** The value at `path` in `root`, or where the path leaves the state and what was there. */
export function selectPath(root: unknown, path: string): PathResult {
  let v = root;
  const segs = splitPath(path);
  for (let i = 0; i < segs.length; i++) {
    let c = child(v, segs[i]!);
    // A key with dots in it (a PCI address, "0000:01:00.0") takes the segments it spans.
    for (let j = i + 1; !c.ok && j < segs.length; j++) {
      c = child(v, segs.slice(i, j + 1).join("."));
      if (c.ok) i = j;
    }
    if (!c.ok) return { found: false, at: segs.slice(0, i).join("."), missing: segs[i]!, known: (children(v) ?? []).map(([k]) => k) };
    v = c.value;
  }
  return { found: true, value: v };
}
