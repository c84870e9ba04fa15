// Structural diffs of two states (docs/architecture.md "Queries"): what changed
// between two events, as paths a user would look up with `state --path`. Generic
// over the state: Maps (keys as text), objects, arrays, Sets and state-data
// classes (their toStateData()) are walked the same way, so every model that lands
// later is diffed for free. States share every subtree a fold did not change
// (src/model/fold.ts), so a subtree that is the same object on both sides is
// skipped without being read: that is what makes a diff cheap.
//
// Physical memory is the one part named differently: a frame (4 KiB of bytes) is
// compared per 8-byte word, the size of a page-table entry, and each changed word
// is a change of its own at "memory.<physical address>", before/after as hex.

import { isStateData } from "../model/hash.ts";
import { CHUNK_SHIFT, PAGE_SHIFT, PAGE_SIZE, type MemoryState } from "../model/memory/state.ts";
import { hex } from "../model/values.ts";
import { WORD, wordOf, wordPath } from "./memory.ts";

export type ChangeKind = "added" | "removed" | "changed";

/** One change: `before` is absent for "added", `after` for "removed". Values are the state's own. */
export interface Change {
  path: string;
  kind: ChangeKind;
  before?: unknown;
  after?: unknown;
}

const CHUNK_FRAMES = 1 << CHUNK_SHIFT;

/**
 * Every change from state `a` to state `b`, in path order (Map keys ascending, memory by
 * address); `base` is the path of `a` and `b` in their state when they are a part of one.
 */
export function diffStates(a: unknown, b: unknown, base = ""): Change[] {
  const out: Change[] = [];
  walk(base, a, b, out);
  return out;
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

function walk(path: string, a: unknown, b: unknown, out: Change[]): void {
  if (a === b) return;
  if (path === "memory" && isMemory(a) && isMemory(b)) memory(a, b, out);
  else if (a instanceof Map && b instanceof Map) maps(path, a, b, out);
  else if (a instanceof Set && b instanceof Set) sets(path, a, b, out);
  else if (Array.isArray(a) && Array.isArray(b)) arrays(path, a, b, out);
  else if (isObject(a) && isObject(b) && isStateData(a) && isStateData(b)) walk(path, a.toStateData(), b.toStateData(), out);
  else if (isObject(a) && isObject(b) && !isStateData(a) && !isStateData(b)) objects(path, a, b, out);
  else if (!equal(a, b)) out.push({ path, kind: "changed", before: a, after: b });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !(v instanceof Map) && !(v instanceof Set) && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function isMemory(v: unknown): v is MemoryState {
  return isObject(v) && v.frames instanceof Map;
}

/** Map keys in the order the state hash uses (numbers ascending, then text). */
function sortKeys<K>(keys: K[]): K[] {
  return keys.sort((x, y) => (typeof x === "number" && typeof y === "number" ? x - y : String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0));
}

function maps(path: string, a: Map<unknown, unknown>, b: Map<unknown, unknown>, out: Change[]): void {
  const keys = sortKeys([...new Set([...a.keys(), ...b.keys()])]);
  for (const k of keys) {
    const p = join(path, String(k));
    if (!b.has(k)) out.push({ path: p, kind: "removed", before: a.get(k) });
    else if (!a.has(k)) out.push({ path: p, kind: "added", after: b.get(k) });
    else walk(p, a.get(k), b.get(k), out);
  }
}

function sets(path: string, a: Set<unknown>, b: Set<unknown>, out: Change[]): void {
  for (const k of sortKeys([...a].filter((x) => !b.has(x)))) out.push({ path: join(path, String(k)), kind: "removed", before: k });
  for (const k of sortKeys([...b].filter((x) => !a.has(x)))) out.push({ path: join(path, String(k)), kind: "added", after: k });
}

function objects(path: string, a: Record<string, unknown>, b: Record<string, unknown>, out: Change[]): void {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const k of keys) {
    const x = a[k];
    const y = b[k];
    const p = join(path, k);
    if (x === undefined && y === undefined) continue;
    if (y === undefined) out.push({ path: p, kind: "removed", before: x });
    else if (x === undefined) out.push({ path: p, kind: "added", after: y });
    else walk(p, x, y, out);
  }
}

/**
 * Arrays (sorted tables such as an IOAS's areas, append-only ledgers): the equal
 * items at both ends are trimmed, so an item inserted or removed in the middle is
 * one change at its index rather than a change of every item after it; what is left
 * is compared item by item, the longer side's extra items added or removed.
 */
function arrays(path: string, a: readonly unknown[], b: readonly unknown[], out: Change[]): void {
  let lo = 0;
  while (lo < a.length && lo < b.length && equal(a[lo], b[lo])) lo++;
  let ea = a.length;
  let eb = b.length;
  while (ea > lo && eb > lo && equal(a[ea - 1], b[eb - 1])) {
    ea--;
    eb--;
  }
  const common = Math.min(ea, eb) - lo;
  for (let i = lo; i < lo + common; i++) walk(join(path, String(i)), a[i], b[i], out);
  for (let i = lo + common; i < ea; i++) out.push({ path: join(path, String(i)), kind: "removed", before: a[i] });
  for (let i = lo + common; i < eb; i++) out.push({ path: join(path, String(i)), kind: "added", after: b[i] });
}

/** Memory: its allocator figures as members, its frames per 8-byte word at "memory.<address>". */
function memory(a: MemoryState, b: MemoryState, out: Change[]): void {
  const { frames: fa, ...ra } = a;
  const { frames: fb, ...rb } = b;
  if (fa !== fb) {
    const chunks = sortKeys([...new Set([...fa.keys(), ...fb.keys()])]);
    for (const c of chunks) {
      const ca = fa.get(c);
      const cb = fb.get(c);
      if (ca === cb) continue;
      const idx = sortKeys([...new Set([...(ca?.keys() ?? []), ...(cb?.keys() ?? [])])]);
      for (const i of idx) frame(c * CHUNK_FRAMES + i, ca?.get(i), cb?.get(i), out);
    }
  }
  objects("memory", ra, rb, out);
}

/** One frame's words: changed words; a frame added or removed by its non-zero words. */
function frame(pfn: number, a: Uint8Array | undefined, b: Uint8Array | undefined, out: Change[]): void {
  if (a === b || (a && b && Buffer.compare(a, b) === 0)) return;
  const base = BigInt(pfn) << BigInt(PAGE_SHIFT);
  for (let off = 0; off < PAGE_SIZE; off += WORD) {
    const x = wordOf(a, off);
    const y = wordOf(b, off);
    if (x === y) continue;
    const path = wordPath(base + BigInt(off));
    if (!b) out.push({ path, kind: "removed", before: hex(x) });
    else if (!a) out.push({ path, kind: "added", after: hex(y) });
    else out.push({ path, kind: "changed", before: hex(x), after: hex(y) });
  }
}

/** Structural equality of two state values (the same object is equal without a look). */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array)
    return a instanceof Uint8Array && b instanceof Uint8Array && a.length === b.length && Buffer.compare(a, b) === 0;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, x] of a) if (!b.has(k) || !equal(x, b.get(k))) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const x of a) if (!b.has(x)) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (isStateData(a) || isStateData(b)) return isStateData(a) && isStateData(b) && equal(a.toStateData(), b.toStateData());
  const oa = a as Record<string, unknown>;
  const ob = b as Record<string, unknown>;
  const ka = Object.keys(oa).filter((k) => oa[k] !== undefined);
  const kb = Object.keys(ob).filter((k) => ob[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!equal(oa[k], ob[k])) return false;
  return true;
}
