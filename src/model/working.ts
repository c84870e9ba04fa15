// The two halves of a batch's copy-on-write (src/model/fold.ts), over the
// values a state is made of. Plain objects, arrays, Maps and Sets are the
// tree: copied, compared, shared (what immer drafts). A state-data class
// instance (src/model/hash.ts) is copied with its clone(): its owner's code
// writes to it in place (the IOTLB). Anything else (Uint8Array frames,
// bigints, strings) is replaced, never written in place, so it is shared as is.

import { isStateData } from "./hash.ts";

type Cloneable = { clone(): unknown };
const isCloneable = (v: object): v is Cloneable => isStateData(v) && typeof (v as Partial<Cloneable>).clone === "function";

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A private copy of `v` that can be written anywhere without changing `v`. */
export function copyTree<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    const a = v.slice();
    for (let i = 0; i < a.length; i++) if (typeof a[i] === "object" && a[i] !== null) a[i] = copyTree(a[i]);
    return a as T;
  }
  if (v instanceof Map) {
    const m = new Map();
    for (const [k, x] of v) m.set(k, typeof x === "object" && x !== null ? copyTree(x) : x);
    return m as T;
  }
  if (isPlainObject(v)) {
    const o: Record<string, unknown> = Object.getPrototypeOf(v) === null ? Object.assign(Object.create(null), v) : { ...v };
    for (const k in o) {
      const x = o[k];
      if (typeof x === "object" && x !== null) o[k] = copyTree(x);
    }
    return o as T;
  }
  if (v instanceof Set) {
    const s = new Set();
    for (const x of v) s.add(copyTree(x));
    return s as T;
  }
  if (isCloneable(v)) return v.clone() as T;
  return v;
}

/**
 * `copy` (a copyTree of `base`, since written to) with every subtree that still
 * equals base's replaced by base's own: `base` itself when nothing changed.
 * Equal means the same keys in the same order (iteration order is behaviour)
 * holding the same values, all the way down; leaves by identity (===).
 * `copy` is updated in place.
 */
export function shareUnchanged<T>(base: T, copy: T): T {
  if (base === copy || typeof copy !== "object" || copy === null || typeof base !== "object" || base === null) return copy;
  if (Array.isArray(copy)) return Array.isArray(base) ? (shareArray(base, copy) as T) : copy;
  if (copy instanceof Map) return base instanceof Map ? (shareMap(base, copy) as T) : copy;
  if (isPlainObject(copy)) return isPlainObject(base) ? (shareObject(base, copy) as T) : copy;
  if (copy instanceof Set) return base instanceof Set ? (shareSet(base, copy) as T) : copy;
  return copy;
}

function shareArray(base: unknown[], copy: unknown[]): unknown[] {
  let same = base.length === copy.length;
  for (let i = 0; i < copy.length; i++) {
    const b = base[i];
    const s = shareUnchanged(b, copy[i]);
    copy[i] = s;
    if (s !== b) same = false;
  }
  return same ? base : copy;
}

function shareMap(base: Map<unknown, unknown>, copy: Map<unknown, unknown>): Map<unknown, unknown> {
  let same = base.size === copy.size;
  const inBase = base.entries();
  for (const [k, v] of copy) {
    const b = base.get(k);
    const s = b === undefined ? v : shareUnchanged(b, v);
    if (s !== v) copy.set(k, s);
    if (same) {
      const n = inBase.next();
      same = !n.done && n.value[0] === k && n.value[1] === s;
    }
  }
  return same ? base : copy;
}

function shareObject(base: Record<string, unknown>, copy: Record<string, unknown>): Record<string, unknown> {
  const baseKeys = Object.keys(base);
  let same = true;
  let i = 0;
  for (const k in copy) {
    const b = base[k];
    const s = shareUnchanged(b, copy[k]);
    copy[k] = s;
    if (same && (baseKeys[i] !== k || s !== b)) same = false;
    i++;
  }
  return same && i === baseKeys.length ? base : copy;
}

function shareSet(base: Set<unknown>, copy: Set<unknown>): Set<unknown> {
  if (base.size !== copy.size) return copy;
  const inBase = base.values();
  for (const v of copy) if (inBase.next().value !== v) return copy;
  return base;
}
