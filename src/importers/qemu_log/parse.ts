// The lines of a QEMU log (the `log` trace backend and the other qemu_log/error_report
// writers on the same stream): each line is a known event with its arguments, a known
// event whose arguments match none of its formats (malformed), an error_report message,
// a line that looks like an unknown event, or another qemu_log user's text.

import { type ArgValue, EVENT_FORMATS, type EventFormat, matchArgs } from "./formats.ts";

/**
 * The optional prefix (docs/qemu-logs.md): `pid@sec.usec:` (QEMU <= 5.2 always, 6.0-10.0 with
 * -msg timestamp=on; a thread id since 3.1), or an ISO 8601 UTC timestamp and a space (10.1 and
 * later with -msg timestamp=on, qemu_log's and error_report's prefix alike).
 */
const PREFIX = /^(?:(\d+)@(\d+)\.(\d{6}):|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) )/;
/** error_report()/warn_report(): `<program>: <message>` (error_vprintf_prefix, util/error-report.c). */
const ERROR_REPORT = /^([\w.+-]*qemu[\w.+-]*): ([\s\S]*)$/;
/** An unknown event: a name of trace-events' shape (lower case, with an underscore). */
const EVENT_NAME = /^[a-z][a-z0-9]*_[a-z0-9_]*$/;

export type LogLine =
  | { kind: "event"; line: number; name: string; args: Record<string, ArgValue>; format: EventFormat; prefix?: string }
  | { kind: "malformed"; line: number; name: string; text: string; expected: string[] }
  | { kind: "error_report"; line: number; message: string }
  | { kind: "unknown"; line: number; name: string }
  | { kind: "other"; line: number; text: string }
  | { kind: "blank"; line: number };

/** One line of a log (without its newline), numbered from 1. */
export function parseLine(raw: string, line: number): LogLine {
  let text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
  if (text.trim() === "") return { kind: "blank", line };
  const p = PREFIX.exec(text);
  const prefix = p ? p[0] : undefined;
  if (p) text = text.slice(p[0].length);
  const er = ERROR_REPORT.exec(text);
  if (er) return { kind: "error_report", line, message: er[2]! };
  const sp = text.indexOf(" ");
  const name = sp < 0 ? text : text.slice(0, sp);
  const rest = sp < 0 ? "" : text.slice(sp + 1);
  const formats = EVENT_FORMATS.get(name);
  if (formats) {
    const m = matchArgs(name, rest);
    if (m) return { kind: "event", line, name, args: m.args, format: m.format, ...(prefix ? { prefix } : {}) };
    return { kind: "malformed", line, name, text: rest, expected: formats.map((f) => f.printf) };
  }
  if (EVENT_NAME.test(name)) return { kind: "unknown", line, name };
  return { kind: "other", line, text };
}

/** Every line of a log's text. */
export function parseLog(text: string): LogLine[] {
  const lines = text.split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return lines.map((l, i) => parseLine(l, i + 1));
}
