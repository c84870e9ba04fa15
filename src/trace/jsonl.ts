// The JSONL trace format, version 1 (docs/trace-format.md): reading with
// every error naming file, line and field; writing back the same events.

import { Effect, Either } from "effect";
import { closeSync, openSync, readSync } from "node:fs";
import { flagNames, parseFlags } from "../uapi/layout.ts";
import { EventError, OPS, type FieldSpec, type TraceEvent } from "../model/events.ts";
import { BadInput } from "../model/framework.ts";
import { toJsonValue } from "../model/outcome.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { closestName, describe, numberError } from "../model/values.ts";
import { ProfileError, resolveProfile } from "../profiles/profile.ts";

export interface TraceHeader {
  format: "iorr-trace";
  version: 1;
  profile?: string | string[];
  title?: string;
  source?: string;
  [meta: string]: unknown;
}

export interface ParsedTrace {
  header: TraceHeader;
  events: TraceEvent[];
  warnings: string[];
}

/** Lines of a file, read in chunks so a large trace never sits in memory as one string. */
function* lines(path: string): Generator<string> {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    let rest = "";
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const text = rest + buf.toString("utf8", 0, n);
      const parts = text.split("\n");
      rest = parts.pop()!;
      yield* parts;
    }
    if (rest.length > 0) yield rest;
  } finally {
    closeSync(fd);
  }
}

/** The keys trace format version 1 gives the header a meaning (docs/trace-format.md "Header"). */
const HEADER_KEYS = ["format", "version", "profile", "title", "source", "seed"] as const;

/**
 * Check a header object (line 1 of the trace, or the header stored in a
 * database). Other keys are metadata, kept as given; but a known key in
 * another case (`Profile`) is bad input, and so is a near miss of `profile`,
 * the one key that changes what replays. A near miss of another key is kept
 * and said through `warn`.
 */
export function checkHeader(h: unknown, file: string, line?: number, warn?: (message: string) => void): Either.Either<TraceHeader, BadInput> {
  const bad = (field: string, message: string) => Either.left(new BadInput({ file, ...(line !== undefined ? { line } : {}), field, message }));
  if (h === null || typeof h !== "object" || Array.isArray(h))
    return bad("format", 'the first object must be the header {"format":"iorr-trace","version":1,...}');
  const o = h as Record<string, unknown>;
  const metadata = Object.keys(o).filter((k) => !(HEADER_KEYS as readonly string[]).includes(k));
  for (const k of metadata) {
    const known = HEADER_KEYS.find((x) => x === k.toLowerCase());
    if (known) return bad(k, `header keys are lower case: did you mean "${known}"?`);
  }
  if (o.format !== "iorr-trace")
    return bad(
      "format",
      o.format === undefined
        ? 'missing: the first object must be the header {"format":"iorr-trace","version":1,...}'
        : `expected "iorr-trace", got ${describe(o.format)} (is this an iorr trace?)`,
    );
  if (o.version !== 1)
    return bad("version", `this iorr reads trace format version 1, the file says ${o.version === undefined ? "no version" : describe(o.version)}`);
  for (const k of metadata) if (closestName(k, ["profile"])) return bad(k, 'did you mean "profile"? (the trace would replay under the default profile)');
  const p = o.profile;
  if (p !== undefined) {
    const items = typeof p === "string" ? [p] : Array.isArray(p) && p.every((x) => typeof x === "string") ? (p as string[]) : undefined;
    if (!items) return bad("profile", `expected a preset name or a list of preset and switch names, got ${describe(p)}`);
    try {
      resolveProfile(items);
    } catch (e) {
      if (e instanceof ProfileError) return bad("profile", e.message);
      throw e;
    }
  }
  for (const k of ["title", "source"]) if (o[k] !== undefined && typeof o[k] !== "string") return bad(k, `expected a string, got ${describe(o[k])}`);
  if (o.seed !== undefined && typeof o.seed !== "string" && !Number.isSafeInteger(o.seed))
    return bad("seed", `expected a string or an integer, got ${typeof o.seed === "number" ? numberError(o.seed) : describe(o.seed)}`);
  for (const k of metadata) {
    const near = closestName(k, HEADER_KEYS);
    if (near) warn?.(`${file}${line !== undefined ? `:${line}` : ""}: header key ${k}: kept as metadata (did you mean "${near}"?)`);
  }
  return Either.right(o as TraceHeader);
}

/** What a user is told when the trace file cannot be read (Node's error codes in words). */
export function fileError(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case "ENOENT":
      return "no such file";
    case "EISDIR":
      return "is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "EMFILE":
    case "ENFILE":
      return "too many open files";
    default:
      return `cannot be read (${e.syscall ?? "read"} failed: ${e.code})`;
  }
}

/** One line of a trace: a header, an event, nothing (blank or a comment), or the bad input it is. */
type Line = { header: TraceHeader } | { event: TraceEvent } | null;

/** Read and validate a whole JSONL trace; bad input names file, line and field. */
export function readJsonlTrace(file: string): Effect.Effect<ParsedTrace, BadInput> {
  return Effect.suspend(() => {
    let header: TraceHeader | undefined;
    const events: TraceEvent[] = [];
    const warnings: string[] = [];
    let lineNo = 0;
    const parseLine = (raw: string): Either.Either<Line, BadInput> => {
      // A UTF-8 byte order mark, as some editors write, is not part of the first object.
      const text = (lineNo === 1 ? raw.replace(/^\uFEFF/, "") : raw).trim();
      if (text === "" || text.startsWith("//")) return Either.right(null);
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        return Either.left(new BadInput({ file, line: lineNo, message: jsonError(text, (e as Error).message) }));
      }
      if (!header)
        return Either.map(
          checkHeader(obj, file, lineNo, (w) => warnings.push(w)),
          (h) => ({ header: h }),
        );
      const seq = events.length + 1;
      if (obj === null || typeof obj !== "object" || Array.isArray(obj))
        return Either.left(new BadInput({ file, line: lineNo, seq, message: `expected an event object, got ${describe(obj)}` }));
      try {
        return Either.right({ event: parseTraceEvent(obj as Record<string, unknown>, seq) });
      } catch (e) {
        if (e instanceof EventError) return Either.left(new BadInput({ file, line: lineNo, seq, field: e.field, message: e.message }));
        throw e;
      }
    };
    try {
      for (const raw of lines(file)) {
        lineNo++;
        const r = parseLine(raw);
        if (Either.isLeft(r)) return Effect.fail(r.left);
        if (r.right === null) continue;
        if ("header" in r.right) header = r.right.header;
        else events.push(r.right.event);
      }
    } catch (e) {
      // The file itself: missing, a directory, unreadable.
      const err = e as NodeJS.ErrnoException;
      if (typeof err?.code === "string") return Effect.fail(new BadInput({ file, message: fileError(err) }));
      throw e;
    }
    if (!header) return Effect.fail(new BadInput({ file, line: Math.max(lineNo, 1), field: "format", message: "empty trace: no header line" }));
    return Effect.succeed({ header, events, warnings });
  });
}

/** The JSON object of one event, as the trace format writes it (bytes as hex, 64-bit values exact). */
export function eventToJson(ev: TraceEvent, expect?: Record<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = { op: ev.op };
  const spec = OPS[ev.op];
  for (const [k, v] of Object.entries(ev)) {
    if (k === "seq" || k === "op" || k === "expect" || v === undefined) continue;
    if (k === "bytes" && spec?.bytes) {
      o.hex = Buffer.from(v as Uint8Array).toString("hex");
      continue;
    }
    o[k] = fieldToJson(spec?.fields[k], v);
  }
  const e = expect ?? ev.expect;
  if (e !== undefined) o.expect = toJsonValue(e);
  return o;
}

/** A field's value as the trace format writes it: flag fields by their names, 64-bit values exact. */
function fieldToJson(spec: FieldSpec | undefined, v: unknown): unknown {
  if (spec?.kind === "flags" && spec.flags) return flagNames(spec.flags, parseFlags(v, spec.flags, "")).map((n) => spec.flags!.prefix + n);
  if (spec?.kind === "list" && spec.items && Array.isArray(v))
    return v.map((item) =>
      item !== null && typeof item === "object" ? Object.fromEntries(Object.entries(item).map(([k, x]) => [k, fieldToJson(spec.items![k], x)])) : item,
    );
  return typeof v === "bigint" ? `0x${v.toString(16)}` : toJsonValue(v);
}

export function headerToJson(h: Record<string, unknown>): string {
  return JSON.stringify(h);
}

/** JSON.parse's complaint, said as a truncation when the line ends inside a value (a file cut short). */
function jsonError(text: string, message: string): string {
  const at = /at position (\d+)/.exec(message);
  const cut = /Unexpected end of JSON input|Unterminated string/.test(message) || (at !== null && Number(at[1]) >= text.length);
  return cut ? `truncated: the line ends inside a JSON value (${message})` : `not valid JSON: ${message}`;
}
