// Trace values: integers as JSON numbers or hex/decimal strings (any 64-bit
// value), PCI addresses, byte strings. Parsing is strict so that a typo is bad
// input, never a silently different simulation.

import { inexactNumberMessage } from "../uapi/layout.ts";

export const U64_MAX = (1n << 64n) - 1n;
export const U32_MAX = 0xffffffff;
export const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export class ValueError extends Error {}

/** Why a JSON number is not an integer a trace may give: a fraction, or too large to be exact. */
export function numberError(v: number): string {
  return Number.isInteger(v) || !Number.isFinite(v) ? inexactNumberMessage(v) : `expected an integer, got ${v}`;
}

/** A 64-bit unsigned value: number (<= 2^53-1), "0x..." or decimal string. */
export function parseU64(v: unknown): bigint {
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new ValueError(numberError(v));
    n = BigInt(v);
  } else if (typeof v === "string") {
    if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(v)) throw new ValueError(`expected an integer (number, "0x..." or decimal string), got "${v}"`);
    n = BigInt(v);
  } else throw new ValueError(`expected an integer, got ${describe(v)}`);
  if (n < 0n || n > U64_MAX) throw new ValueError(`${v} is outside 0..2^64-1`);
  return n;
}

/** A small integer (pid, fd, offsets): a number or numeric string within JS's safe range. */
export function parseInt53(v: unknown, min = 0): number {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v)) throw new ValueError(numberError(v));
    if (v < min) throw new ValueError(`expected an integer >= ${min}, got ${v}`);
    return v;
  }
  if (typeof v === "string" && /^-?(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(v)) {
    const neg = v.startsWith("-");
    const n = BigInt(neg ? v.slice(1) : v) * (neg ? -1n : 1n);
    if (n > MAX_SAFE || n < -MAX_SAFE) throw new ValueError(`${v} is too large here`);
    return parseInt53(Number(n), min);
  }
  throw new ValueError(`expected an integer, got ${describe(v)}`);
}

/** A value as bad-input messages show it, in the trace's own terms. */
export function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return v.length > 60 ? `a ${v.length}-character string` : JSON.stringify(v);
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/**
 * The first number inside a raw JSON value that JSON.parse could not hold
 * exactly: an integer beyond 2^53-1 (JSON.parse has already rounded it) or
 * one too large for a double at all. Such a value is bad input wherever it is:
 * the trace must write it as a string ("0x..." or decimal).
 */
export function inexactNumber(v: unknown, path: string): { path: string; value: number } | undefined {
  // The path is built only for the value found: this runs on every event read.
  const at: (string | number)[] = [];
  const value = findInexact(v, at);
  if (value === undefined) return undefined;
  let p = path;
  for (let i = at.length - 1; i >= 0; i--) {
    const k = at[i]!;
    p = typeof k === "number" ? `${p}[${k}]` : p === "" ? k : `${p}.${k}`;
  }
  return { path: p, value };
}

/** The inexact number inside v, pushing its keys (innermost first) on `at`. Byte strings hold none. */
function findInexact(v: unknown, at: (string | number)[]): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && (Number.isSafeInteger(v) || !Number.isInteger(v)) ? undefined : v;
  if (v === null || typeof v !== "object" || ArrayBuffer.isView(v)) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = findInexact(v[i], at);
      if (bad !== undefined) {
        at.push(i);
        return bad;
      }
    }
    return undefined;
  }
  for (const k in v) {
    const bad = findInexact((v as Record<string, unknown>)[k], at);
    if (bad !== undefined) {
      at.push(k);
      return bad;
    }
  }
  return undefined;
}

const HOST_BDF = /^([0-9a-fA-F]{4}):([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7])$/;
const GUEST_BDF = /^([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7])$/;

/** "0000:01:00.0", canonicalised to lower case. */
export function parseHostBdf(v: unknown): string {
  if (typeof v !== "string" || !HOST_BDF.test(v)) throw new ValueError(`expected a host PCI address like "0000:01:00.0", got ${describe(v)}`);
  const m = HOST_BDF.exec(v)!;
  if (parseInt(m[3]!, 16) > 0x1f) throw new ValueError(`device number in ${v} is above 0x1f`);
  return v.toLowerCase();
}

/** "00:03.0" (segment 0), canonicalised to lower case. */
export function parseGuestBdf(v: unknown): string {
  if (typeof v !== "string" || !GUEST_BDF.test(v)) throw new ValueError(`expected a guest PCI address like "00:03.0", got ${describe(v)}`);
  const m = GUEST_BDF.exec(v)!;
  if (parseInt(m[2]!, 16) > 0x1f) throw new ValueError(`device number in ${v} is above 0x1f`);
  return v.toLowerCase();
}

/** Bytes from `hex`, or little-endian `u64` / `u32` words. */
export function parseBytes(src: { hex?: unknown; u64?: unknown; u32?: unknown }): { bytes: Uint8Array; field: string } {
  const given = (["hex", "u64", "u32"] as const).filter((k) => src[k] !== undefined);
  if (given.length !== 1) throw new ValueError(given.length === 0 ? "one of hex, u64, u32 is required" : `give only one of ${given.join(", ")}`);
  const field = given[0]!;
  if (field === "hex") {
    const h = src.hex;
    if (typeof h !== "string" || !/^([0-9a-fA-F]{2})*$/.test(h.replace(/\s+/g, ""))) throw new ValueError("hex: expected an even number of hex digits");
    return { bytes: Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex")), field };
  }
  const words = src[field];
  if (!Array.isArray(words)) throw new ValueError(`${field}: expected a list of integers`);
  const width = field === "u64" ? 8 : 4;
  const out = new Uint8Array(words.length * width);
  const view = new DataView(out.buffer);
  words.forEach((w, i) => {
    const n = parseU64(w);
    if (width === 8) view.setBigUint64(i * 8, n, true);
    else {
      if (n > 0xffffffffn) throw new ValueError(`u32[${i}]: ${w} does not fit in 32 bits`);
      view.setUint32(i * 4, Number(n), true);
    }
  });
  return { bytes: out, field };
}

/** A value for output: a number when exact in JSON, else a hex string. */
export function outInt(v: number | bigint): number | string {
  if (typeof v === "number") return v;
  return v <= MAX_SAFE ? Number(v) : `0x${v.toString(16)}`;
}

export function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

/** Levenshtein distance, for "did you mean": small strings only. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known name `name` is most likely a misspelling of: equal but for case,
 * else within two edits (the closest, the first of equals); undefined when none is close.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}
