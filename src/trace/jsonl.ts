// The JSONL trace format, version 1 (docs/trace-format.md): reading with
// every error naming file, line and field; writing back the same events.

import { closeSync, openSync, readSync } from "node:fs";
import { flagNames, parseFlags } from "../uapi/layout.ts";
import { EventError, OPS, type FieldSpec, type TraceEvent } from "../model/events.ts";
import { BadInput } from "../model/framework.ts";
import { toJsonValue } from "../model/outcome.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { describe } from "../model/values.ts";
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

/** Check a header object (line 1 of the trace, or the header stored in a database). */
export function checkHeader(h: unknown, file: string, line?: number): TraceHeader {
  const bad = (field: string, message: string) => new BadInput({ file, ...(line !== undefined ? { line } : {}), field, message });
  if (h === null || typeof h !== "object" || Array.isArray(h)) throw bad("format", "the first object must be the header {\"format\":\"iorr-trace\",\"version\":1,...}");
  const o = h as Record<string, unknown>;
  if (o.format !== "iorr-trace") throw bad("format", `expected "iorr-trace", got ${describe(o.format)} (is this an iorr trace?)`);
  if (o.version !== 1) throw bad("version", `this iorr reads trace format version 1, the file says ${describe(o.version)}`);
  const p = o.profile;
  if (p !== undefined) {
    const items = typeof p === "string" ? [p] : Array.isArray(p) && p.every((x) => typeof x === "string") ? (p as string[]) : undefined;
    if (!items) throw bad("profile", `expected a preset name or a list of preset and switch names, got ${describe(p)}`);
    try {
      resolveProfile(items);
    } catch (e) {
      if (e instanceof ProfileError) throw bad("profile", e.message);
      throw e;
    }
  }
  return o as TraceHeader;
}

/** Read and validate a whole JSONL trace. Throws BadInput naming file, line and field. */
export function readJsonlTrace(file: string): ParsedTrace {
  let header: TraceHeader | undefined;
  const events: TraceEvent[] = [];
  const warnings: string[] = [];
  const warned = new Set<string>();
  let lineNo = 0;
  let lines_: Iterable<string>;
  try {
    lines_ = lines(file);
  } catch (e) {
    throw new BadInput({ file, message: (e as Error).message });
  }
  try {
    for (const raw of lines_) {
      lineNo++;
      // A UTF-8 byte order mark, as some editors write, is not part of the first object.
      const text = (lineNo === 1 ? raw.replace(/^\uFEFF/, "") : raw).trim();
      if (text === "" || text.startsWith("//")) continue;
      let obj: unknown;
      try {
        obj = JSON.parse(text);
      } catch (e) {
        throw new BadInput({ file, line: lineNo, message: `not valid JSON: ${(e as Error).message}` });
      }
      if (!header) {
        header = checkHeader(obj, file, lineNo);
        continue;
      }
      if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new BadInput({ file, line: lineNo, seq: events.length + 1, message: `expected an event object, got ${describe(obj)}` });
      const seq = events.length + 1;
      try {
        events.push(
          parseTraceEvent(obj as Record<string, unknown>, seq, (field, message) => {
            const key = `${(obj as { op?: string }).op}.${field}`;
            if (!warned.has(key)) {
              warned.add(key);
              warnings.push(`${file}:${lineNo}: event ${seq}: field ${field}: ${message}`);
            }
          }),
        );
      } catch (e) {
        if (e instanceof EventError) throw new BadInput({ file, line: lineNo, seq, field: e.field, message: e.message });
        throw e;
      }
    }
  } catch (e) {
    if (e instanceof BadInput) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code) throw new BadInput({ file, message: err.code === "ENOENT" ? "no such file" : err.message });
    throw e;
  }
  if (!header) throw new BadInput({ file, line: Math.max(lineNo, 1), field: "format", message: "empty trace: no header line" });
  return { header, events, warnings };
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
    return v.map((item) => (item !== null && typeof item === "object" ? Object.fromEntries(Object.entries(item).map(([k, x]) => [k, fieldToJson(spec.items![k], x)])) : item));
  return typeof v === "bigint" ? "0x" + v.toString(16) : toJsonValue(v);
}

export function headerToJson(h: Record<string, unknown>): string {
  return JSON.stringify(h);
}
