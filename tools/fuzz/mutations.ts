// The mutations of the bad-input fuzzer (tools/fuzz/traces.ts): each takes the
// lines of a trace and a PRNG and returns the mutated lines and what it did.
// Values are written as JSON text, so that a number JSON.parse would round
// (2^53+1) reaches the parser as the user wrote it.

export type Rand = () => number;

export interface Mutated {
  lines: string[];
  /** 1-based line the mutation touched. */
  line: number;
  /** What was done, for the report: "replace arg.flags by [null]". */
  what: string;
}

/** A value the fuzzer puts in place of another, by its JSON text. */
export const VALUES: readonly string[] = [
  "null",
  "true",
  "[]",
  "{}",
  "[null]",
  '"0x"',
  "-1",
  "1.5",
  "9007199254740993", // 2^53+1: JSON.parse rounds it to 2^53
  "1e300",
  JSON.stringify("x".repeat(4096)),
  // Valid but extreme integers: they reach the model, not just the parser.
  "0",
  '"0xffffffffffffffff"',
  '"0x8000000000000000"',
  "4294967295",
];

export const MUTATIONS = [
  "drop-line",
  "duplicate-line",
  "swap-lines",
  "delete-field",
  "add-field",
  "replace-value",
  "wrong-case-key",
  "misspelt-key",
  "truncate-line",
  "flip-char",
] as const;

export type MutationKind = (typeof MUTATIONS)[number];

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A place in a JSON value: the container and the key or index in it, with its dotted path for the report. */
interface Slot {
  parent: Json[] | { [k: string]: Json };
  key: string | number;
  path: string;
}

function slots(v: Json, path: string, out: Slot[]): Slot[] {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      const p = `${path}[${i}]`;
      out.push({ parent: v, key: i, path: p });
      slots(x, p, out);
    });
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      out.push({ parent: v, key: k, path: p });
      slots(x, p, out);
    }
  return out;
}

/** The lines that hold a JSON object (the header and the events), by index. */
function objectLines(lines: readonly string[]): number[] {
  const out: number[] = [];
  lines.forEach((l, i) => {
    if (l.trim().startsWith("{")) out.push(i);
  });
  return out;
}

/** An object with key `from` renamed to `to`, in the same key order. */
function renameKey(o: { [k: string]: Json }, from: string, to: string): void {
  const entries = Object.entries(o);
  for (const k of Object.keys(o)) delete o[k];
  for (const [k, v] of entries) o[k === from ? to : k] = v;
}

function misspell(r: Rand, k: string): string {
  if (k.length < 2) return `${k}${k}`;
  const i = Math.floor(r() * (k.length - 1));
  switch (Math.floor(r() * 3)) {
    case 0: // two letters swapped
      return k.slice(0, i) + k[i + 1] + k[i] + k.slice(i + 2);
    case 1: // a letter dropped
      return k.slice(0, i) + k.slice(i + 1);
    default: // a letter doubled
      return k.slice(0, i) + k[i] + k.slice(i);
  }
}

function wrongCase(k: string): string {
  const up = k.toUpperCase();
  return up !== k ? up : k.toLowerCase() !== k ? k.toLowerCase() : `${k}_`;
}

const SENTINEL = "\u0000iorr-fuzz-value\u0000";

/** Every key of every object in the traces: what add-field puts where it may not belong. */
export function vocabulary(traces: Iterable<readonly string[]>): string[] {
  const keys = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v)) {
        keys.add(k);
        walk(x);
      }
  };
  for (const lines of traces)
    for (const l of lines) {
      try {
        walk(JSON.parse(l));
      } catch {
        // a comment or a blank line
      }
    }
  return [...keys].sort();
}

/** Apply one mutation of `kind` at a random place; undefined when the trace offers no place for it. */
export function mutate(kind: MutationKind, lines: readonly string[], r: Rand, keys: readonly string[] = []): Mutated | undefined {
  const objs = objectLines(lines);
  if (objs.length === 0) return undefined;
  // Events far more often than the header: the header is one line of many.
  const at = pick(r, objs);
  const out = [...lines];
  const line = at + 1;
  switch (kind) {
    case "drop-line":
      out.splice(at, 1);
      return { lines: out, line, what: "drop the line" };
    case "duplicate-line":
      out.splice(at, 0, lines[at]!);
      return { lines: out, line, what: "duplicate the line" };
    case "swap-lines": {
      const j = objs[objs.indexOf(at) + 1];
      if (j === undefined) return undefined;
      [out[at], out[j]] = [lines[j]!, lines[at]!];
      return { lines: out, line, what: `swap with line ${j + 1}` };
    }
    case "truncate-line": {
      const cut = 1 + Math.floor(r() * (lines[at]!.length - 1));
      out[at] = lines[at]!.slice(0, cut);
      return { lines: out, line, what: `cut after ${cut} characters` };
    }
    case "flip-char": {
      const text = lines[at]!;
      const i = Math.floor(r() * text.length);
      const c = pick(r, [...'{}[]":,.-0179aefxZ \\']);
      out[at] = text.slice(0, i) + c + text.slice(i + 1);
      return { lines: out, line, what: `character ${i + 1} -> ${JSON.stringify(c)}` };
    }
  }
  let obj: Json;
  try {
    obj = JSON.parse(lines[at]!) as Json;
  } catch {
    return undefined;
  }
  const all = slots(obj, "", []);
  const keyed = all.filter((s) => typeof s.key === "string");
  if (all.length === 0) return undefined;
  let what: string;
  let literal: string | undefined;
  switch (kind) {
    case "delete-field": {
      const s = pick(r, keyed);
      delete (s.parent as { [k: string]: Json })[s.key as string];
      what = `delete ${s.path}`;
      break;
    }
    case "add-field": {
      // A key of the corpus in an object of this event (the event itself included) that lacks it.
      const objects = [obj, ...all.map((x) => (x.parent as Record<string | number, Json>)[x.key]!)].filter(
        (o): o is { [k: string]: Json } => o !== null && typeof o === "object" && !Array.isArray(o),
      );
      const o = pick(r, objects);
      const k = pick(r, keys);
      if (k === undefined || Object.hasOwn(o, k)) return undefined;
      literal = pick(r, VALUES);
      o[k] = SENTINEL;
      what = `add ${k}: ${literal.length > 40 ? `a ${literal.length - 2}-character string` : literal}${o === obj ? "" : " in a nested object"}`;
      break;
    }
    case "replace-value": {
      const s = pick(r, all);
      literal = pick(r, VALUES);
      (s.parent as Record<string | number, Json>)[s.key] = SENTINEL;
      what = `replace ${s.path} by ${literal.length > 40 ? `a ${literal.length - 2}-character string` : literal}`;
      break;
    }
    case "wrong-case-key":
    case "misspelt-key": {
      const s = pick(r, keyed);
      const k = s.key as string;
      const to = kind === "wrong-case-key" ? wrongCase(k) : misspell(r, k);
      if (to === k || Object.hasOwn(s.parent as object, to)) return undefined; // "mm" swapped, or a key that is already there
      renameKey(s.parent as { [k: string]: Json }, k, to);
      what = `rename ${s.path} to ${to}`;
      break;
    }
  }
  let text = JSON.stringify(obj);
  if (literal !== undefined) text = text.replace(JSON.stringify(SENTINEL), literal);
  out[at] = text;
  return { lines: out, line, what };
}
