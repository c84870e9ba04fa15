// `iorr import --from qemu-trace <qemu.log>`: a QEMU `-trace` log (log backend) to a trace,
// as JSONL (each event after a `//` comment holding its log line) or as a trace database.
// A file that cannot be read or holds no known event is bad input, and so is a log none of
// whose lines can be used; nothing is written then.

import { Effect, type Either } from "effect";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { TraceEvent } from "../../model/events.ts";
import { EventError } from "../../model/events.ts";
import { BadInput } from "../../model/framework.ts";
import { parseTraceEvent } from "../../model/ops.ts";
import type { Profile } from "../../profiles/profile.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { checkHeader, fileError, type TraceHeader } from "../../trace/jsonl.ts";
import { type ImportProgress, type ImportResult, importEvents } from "../import.ts";
import type { Report } from "./context.ts";
import { type Conversion, convertLog } from "./convert.ts";

export interface QemuLogImport {
  conversion: Conversion;
  header: TraceHeader;
  events: TraceEvent[];
  /** The JSONL text of the trace. */
  jsonl: () => Generator<string>;
}

/** The log read, converted and validated as a trace; bad input when it is no usable QEMU trace log. */
export function convertQemuLog(input: string): Effect.Effect<QemuLogImport, BadInput> {
  return Effect.suspend(() => {
    let text: string;
    try {
      text = readFileSync(input, "utf8");
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (typeof err?.code === "string") return Effect.fail(new BadInput({ file: input, message: fileError(err) }));
      throw e;
    }
    const raw = text.split("\n");
    if (raw.length && raw[raw.length - 1] === "") raw.pop();
    const conversion = convertLog(raw, basename(input));
    const r = conversion.report;
    if (conversion.known === 0)
      return Effect.fail(
        new BadInput({
          file: input,
          message: `not a QEMU trace log: none of its ${r.lines} lines is a known trace event (vfio_*, iommufd_*, vtd_*, pci_* as the log backend writes them)`,
        }),
      );
    const usedLines = Object.values(r.used).reduce((a, b) => a + b, 0);
    if (usedLines === 0) {
      const first = r.malformed[0];
      return Effect.fail(
        first
          ? new BadInput({
              file: input,
              line: first.line,
              field: first.event,
              message: `arguments do not match the format "${first.expected.join('" or "')}"; no line of the log can be used`,
            })
          : new BadInput({ file: input, message: `no line of the log can be used (${summary(r)})` }),
      );
    }
    const header = Effect.runSync(Effect.either(checkHeader(conversion.header, input)));
    if (header._tag === "Left") return Effect.fail(header.left);
    const events: TraceEvent[] = [];
    for (const e of conversion.events) {
      try {
        events.push(parseTraceEvent(e.event, events.length + 1));
      } catch (err) {
        // The converter wrote an event the trace format refuses: a defect, said with the log line it comes from.
        if (err instanceof EventError)
          return Effect.fail(
            new BadInput({ file: input, ...(e.line ? { line: e.line } : {}), field: err.field, message: `converted to an invalid event: ${err.message}` }),
          );
        throw err;
      }
    }
    function* jsonl(): Generator<string> {
      yield `${JSON.stringify(conversion.header)}\n`;
      for (const e of conversion.events) {
        if (e.source !== undefined) yield `// ${e.source.replace(/[\r\n]/g, " ")}\n`;
        yield `${JSON.stringify(e.event)}\n`;
      }
    }
    return Effect.succeed({ conversion, header: header.right, events, jsonl });
  });
}

/** Store a converted log as a trace database (replayed once for outcomes and checkpoints). */
export function importQemuLog(
  input: string,
  output: string,
  q: QemuLogImport,
  profileOf: (header: TraceHeader) => Either.Either<Profile, BadInput>,
  progress?: ImportProgress,
): Effect.Effect<ImportResult & { profile: Profile }, BadInput | ReplayFault> {
  return Effect.gen(function* () {
    const profile = yield* profileOf(q.header);
    const r = yield* importEvents(input, q.header, q.events, output, profile, progress);
    return { ...r, profile };
  });
}

/** "12 used, 30 unused, 1 unknown, 2 malformed" */
export function summary(r: Report): string {
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const unused = Object.values(r.unused).reduce((a, o) => a + sum(o), 0);
  return `${sum(r.used)} used, ${unused} unused, ${sum(r.unknown)} of unknown events, ${r.malformed.length} malformed`;
}
