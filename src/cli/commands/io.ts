// iorr import <trace.jsonl> -o <trace.db> [--profile P] [--json]
// iorr import --from qemu-trace <qemu.log> -o <out.db|out.jsonl> [--profile P] [--json]
// iorr export <trace> [-o out.jsonl [--json]] [--outcomes] [--profile P]
// iorr info <trace> [--json]

import { Effect } from "effect";
import { existsSync, statSync } from "node:fs";
import { eventToJson } from "../../trace/jsonl.ts";
import { importJsonl } from "../../importers/import.ts";
import { convertQemuLog, importQemuLog, summary } from "../../importers/qemu_log/import.ts";
import type { Report } from "../../importers/qemu_log/context.ts";
import { BadInput } from "../../model/framework.ts";
import type { Outcome } from "../../model/outcome.ts";
import { replay, type ReplayFault } from "../../replay/engine.ts";
import { isTraceDbPath, MAX_CHECKPOINT_BYTES } from "../../store/tracedb.ts";
import { checkCheckpoints, EXIT, profileFor, readAll, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { writeOutput } from "../output_file.ts";
import type { Output } from "../report.ts";

/** Do two paths name one existing file (so writing one would replace the other)? */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
import { count } from "../report.ts";

const IMPORT_FORMATS = ["jsonl", "qemu-trace"];

export const importCommand: Command = {
  usage: "import [--from jsonl|qemu-trace] <input> -o <trace.db|out.jsonl> [--profile P] [--json]",
  summary: "store a JSONL trace with outcomes and checkpoints, or convert a QEMU -trace log (--from qemu-trace)",
  flags: { output: { value: true, short: "o" }, profile: { value: true }, from: { value: true } },
  args: { min: 1, max: 1, names: ["<input>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const input = a.positional[0]!;
      const output = a.flags.output;
      const from = a.flags.from ?? "jsonl";
      if (typeof from !== "string" || !IMPORT_FORMATS.includes(from))
        return yield* Effect.fail(
          new BadInput({ file: "iorr import", field: "--from", message: `unknown input format ${JSON.stringify(from)}: one of ${IMPORT_FORMATS.join(", ")}` }),
        );
      if (typeof output !== "string")
        return yield* Effect.fail(
          new BadInput({ file: "iorr import", field: "-o", message: "the output database is required: iorr import <trace.jsonl> -o <trace.db>" }),
        );
      if (sameFile(input, output))
        return yield* Effect.fail(new BadInput({ file: "iorr import", field: "-o", message: `${output} is the input trace; it would be replaced` }));
      if (from === "qemu-trace") return yield* importQemuTrace(input, output, a.flags.profile, out);
      if (isTraceDbPath(input) && input.endsWith(".db"))
        return yield* Effect.fail(new BadInput({ file: input, message: "already a trace database; import reads a JSONL trace" }));
      const bar = out.progress("import");
      const r = yield* importJsonl(
        input,
        output,
        (header) => profileFor("import", a.flags.profile, { file: input, header }),
        (d, t) => bar.update(d, t),
      ).pipe(
        // As replay: the simulator cannot finish this trace (exit 3), and nothing is written.
        Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(input, f, { output, written: false }))),
        Effect.ensuring(Effect.sync(() => bar.done())),
      );
      for (const w of r.warnings) out.warn(w);
      out.print(`${output}: ${count(r.events, "event")} imported, ${count(r.checkpoints, "checkpoint")} under ${r.profile.spec.join(",")}`);
      if (r.checkpointsSkipped)
        out.print(
          `note: ${r.checkpointsSkipped} checkpoint(s) not stored (states over ${MAX_CHECKPOINT_BYTES >> 20} MiB); seeks near them fold from further back`,
        );
      return { status: EXIT.ok, json: { events: r.events, checkpoints: r.checkpoints, checkpoints_skipped: r.checkpointsSkipped, output } };
    }),
};

/** --from qemu-trace: convert the log, report what was used, write JSONL or store a database. */
function importQemuTrace(input: string, output: string, profileFlag: string | true | undefined, out: Output) {
  return Effect.gen(function* () {
    const q = yield* convertQemuLog(input);
    const r = q.conversion.report;
    for (const m of r.malformed)
      out.warn(`${input}:${m.line}: ${m.event}: arguments do not match the format "${m.expected.join('" or "')}": ${JSON.stringify(m.text)}`);
    let stored: { checkpoints: number } | undefined;
    if (output.endsWith(".jsonl")) {
      yield* writeOutput(output, q.jsonl());
    } else {
      const bar = out.progress("import");
      stored = yield* importQemuLog(
        input,
        output,
        q,
        (header) => profileFor("import", profileFlag, { file: input, header }),
        (d, t) => bar.update(d, t),
      ).pipe(
        Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(input, f, { output, written: false }))),
        Effect.ensuring(Effect.sync(() => bar.done())),
      );
    }
    out.print(`${output}: ${count(q.events.length, "event")} from ${input} (${summary(r)})${stored ? `, ${count(stored.checkpoints, "checkpoint")}` : ""}`);
    printReport(r, q.conversion.header.assumed as string[], out);
    return {
      status: EXIT.ok,
      json: {
        output,
        events: q.events.length,
        ...(stored ? { checkpoints: stored.checkpoints } : {}),
        lines: r.lines,
        used: r.used,
        unused: r.unused,
        unknown: r.unknown,
        malformed: r.malformed,
        no_expect: r.no_expect,
        assumed: q.conversion.header.assumed,
      },
    };
  });
}

function printReport(r: Report, assumed: readonly string[], out: Output): void {
  const list = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  out.print(`used: ${list(r.used) || "none"}`);
  if (Object.keys(r.no_expect).length) out.print(`emitted without expect (no recorded result in the log): ${list(r.no_expect)}`);
  for (const [why, names] of Object.entries(r.unused)) out.print(`unused (${why}): ${list(names)}`);
  if (Object.keys(r.unknown).length) out.print(`unknown events: ${list(r.unknown)}`);
  for (const m of r.malformed) out.print(`malformed: line ${m.line}: ${m.event}`);
  out.print("assumed:");
  for (const s of assumed) out.print(`  - ${s}`);
}

export const exportCommand: Command = {
  usage: "export <trace> [-o out.jsonl [--json]] [--outcomes] [--profile P]",
  summary: "write a trace as JSONL (--outcomes: computed outcomes as expect)",
  flags: { output: { value: true, short: "o" }, outcomes: {}, profile: { value: true } },
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const output = a.flags.output;
      if (out.json && typeof output !== "string")
        return yield* Effect.fail(
          new BadInput({ file: "iorr export", field: "--json", message: "needs -o: without it stdout is the trace itself, not a summary" }),
        );
      if (typeof output === "string" && sameFile(a.positional[0]!, output))
        return yield* Effect.fail(new BadInput({ file: "iorr export", field: "-o", message: `${output} is the input trace; it would be replaced` }));
      return yield* usingTrace(a.positional[0]!, out, (src) =>
        Effect.gen(function* () {
          // --outcomes records what the simulator computed as each event's expect (a recording).
          let outcomes: Map<number, Outcome> | undefined;
          if (a.flags.outcomes === true) {
            const profile = yield* profileFor("export", a.flags.profile, src);
            const got = new Map<number, Outcome>();
            const bar = out.progress("export: replaying");
            yield* withTrace(src, profile, replay({ onOutcome: (ev, o) => got.set(ev.seq, o), progress: (d, t) => bar.update(d, t) })).pipe(
              Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f))),
              Effect.ensuring(Effect.sync(() => bar.done())),
            );
            outcomes = got;
          }
          yield* checkCheckpoints(src);
          const events = yield* readAll(src, out.progress("export: reading  "));
          function* lines() {
            yield `${JSON.stringify(src.header)}\n`;
            for (const ev of events) yield `${JSON.stringify(eventToJson(ev, outcomes?.get(ev.seq) as Record<string, unknown> | undefined))}\n`;
          }
          if (typeof output === "string") {
            const bytes = yield* writeOutput(output, lines(), { bar: out.progress("export: writing  "), total: events.length });
            out.print(`${output}: ${count(events.length, "event")} written${outcomes ? " with the simulated outcomes as expect" : ""} (${bytes} bytes)`);
          } else for (const l of lines()) process.stdout.write(l);
          return {
            status: EXIT.ok,
            json: {
              output: output ?? null,
              events: events.length,
              outcomes: outcomes !== undefined,
              bytes: typeof output === "string" ? statSync(output).size : null,
            },
          };
        }),
      );
    }),
};

export const infoCommand: Command = {
  usage: "info <trace> [--json]",
  summary: "header, event counts, hash chain and checkpoints",
  flags: {},
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const file = a.positional[0]!;
      return yield* usingTrace(file, out, (src) =>
        Effect.gen(function* () {
          const ops: Record<string, number> = {};
          let expects = 0;
          // Reading every event verifies the whole hash chain of a database.
          for (const ev of yield* readAll(src, out.progress("info: reading"))) {
            ops[ev.op] = (ops[ev.op] ?? 0) + 1;
            if (ev.expect) expects++;
          }
          const db = src.db;
          yield* checkCheckpoints(src);
          const info = {
            file,
            kind: db ? "database" : "jsonl",
            bytes: existsSync(file) ? statSync(file).size : 0,
            header: src.header,
            events: src.count,
            expectations: expects,
            ops,
            ...(db
              ? {
                  schema: db.schemaVersion(),
                  hash_chain: "ok",
                  head_hash: Buffer.from(db.headHash()).toString("hex"),
                  checkpoint_profile: db.getMeta("checkpoint_profile") ?? null,
                  checkpoints: db.checkpointCount(),
                }
              : {}),
          };
          out.print(`${file}: iorr trace, format version 1 (${info.kind}, ${info.bytes} bytes)`);
          for (const [k, v] of Object.entries(src.header)) if (k !== "format" && k !== "version") out.print(`  ${k}: ${JSON.stringify(v)}`);
          out.print(`events: ${src.count}, ${expects} with a recorded outcome to verify`);
          out.print(
            `ops: ${
              Object.entries(ops)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ") || "none"
            }`,
          );
          if (db) {
            out.print(`schema version ${info.schema}; hash chain verified, head ${info.head_hash}`);
            out.print(`checkpoints: ${info.checkpoints}, all verified (outcomes and checkpoints under ${JSON.stringify(info.checkpoint_profile)})`);
          }
          return { status: EXIT.ok, json: info };
        }),
      );
    }),
};
