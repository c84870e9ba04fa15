// State values for people and for --json: the part of a state a path selects, a
// change's before/after, a watch's value. Generic over the state like paths and
// diffs: Maps, objects, arrays, Sets, state-data classes and frames of bytes.

import { isStateData } from "../model/hash.ts";
import { hex } from "../model/values.ts";
import type { Change } from "./diff.ts";
import { children } from "./path.ts";

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

/**
 * As toJsonValue (64-bit values as numbers, or hex strings past 2^53), except that
 * bytes are `{"bytes":n}` unless `withBytes` asks for their `{"hex":...}`, as
 * `state --json` leaves memory contents to --memory.
 */
export function valueJson(v: unknown, withBytes: boolean): unknown {
  if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : hex(v);
  if (isBytes(v)) return withBytes ? { hex: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") } : { bytes: v.length };
  if (Array.isArray(v)) return v.map((x) => valueJson(x, withBytes));
  if (v instanceof Set) return [...v].map((x) => valueJson(x, withBytes));
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) o[String(k)] = valueJson(x, withBytes);
    return o;
  }
  if (v !== null && typeof v === "object") {
    if (isStateData(v)) return valueJson(v.toStateData(), withBytes);
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = valueJson(x, withBytes);
    return o;
  }
  return v;
}

function leaf(v: unknown): string | undefined {
  if (typeof v === "bigint") return hex(v);
  if (typeof v === "string") return v === "" || /[\s:{}[\],"]/.test(v) ? JSON.stringify(v) : v;
  if (v === null || typeof v !== "object") return String(v);
  if (isBytes(v)) {
    let words = 0;
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let off = 0; off + 8 <= v.length; off += 8) if (view.getBigUint64(off, true) !== 0n) words++;
    return `(${v.length} bytes, ${words} non-zero 8-byte word${words === 1 ? "" : "s"})`;
  }
  const kids = children(v instanceof Set ? [...v] : v);
  if (!kids || kids.length === 0) return Array.isArray(v) || v instanceof Set ? "[]" : "{}";
  return undefined;
}

/** A value as indented lines, one member a line, keys as a path names them. */
export function renderValue(v: unknown, indent = ""): string[] {
  const l = leaf(v);
  if (l !== undefined) return [`${indent}${l}`];
  const out: string[] = [];
  for (const [k, x] of children(v instanceof Set ? [...v] : v)!) {
    const xl = leaf(x);
    if (xl !== undefined) out.push(`${indent}${k}: ${xl}`);
    else out.push(`${indent}${k}:`, ...renderValue(x, `${indent}  `));
  }
  return out;
}

/** A value on one line (64-bit values in hex), cut at `max` characters. */
export function inline(v: unknown, max = Number.POSITIVE_INFINITY): string {
  const s = oneLine(v);
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function oneLine(v: unknown): string {
  const l = leaf(v);
  if (l !== undefined) return l;
  const list = Array.isArray(v) || v instanceof Set;
  const kids = children(v instanceof Set ? [...v] : v)!;
  return list ? `[${kids.map(([, x]) => oneLine(x)).join(", ")}]` : `{${kids.map(([k, x]) => `${k}: ${oneLine(x)}`).join(", ")}}`;
}

const MARK = { added: "+", removed: "-", changed: "~" } as const;

/** A change on one line: "+ path = after", "- path = before", "~ path: before -> after". */
export function describeChange(c: Change, max = 200): string {
  if (c.kind === "added") return `${MARK.added} ${c.path} = ${inline(c.after, max)}`;
  if (c.kind === "removed") return `${MARK.removed} ${c.path} = ${inline(c.before, max)}`;
  return `${MARK.changed} ${c.path}: ${inline(c.before, max)} -> ${inline(c.after, max)}`;
}
