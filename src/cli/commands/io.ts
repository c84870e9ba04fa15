// iorr import <trace.jsonl> -o <trace.db> [--profile P] [--json]
// iorr export <trace> [-o out.jsonl] [--outcomes] [--profile P]
// iorr info <trace> [--json]

import { Effect } from "effect";
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { eventToJson } from "../../trace/jsonl.ts";
import { importJsonl } from "../../importers/import.ts";
import { BadInput } from "../../model/framework.ts";
import type { Outcome } from "../../model/outcome.ts";
import { replay, type ReplayFault } from "../../replay/engine.ts";
import { isTraceDbPath } from "../../store/tracedb.ts";
import { parseArgs } from "../args.ts";
import { EXIT, print, printJson, profileFor, readAll, usingTrace, withTrace, type Command } from "../common.ts";
import { progressBar } from "../progress.ts";

export const importCommand: Command = (argv) =>
  Effect.gen(function* () {
    const a = yield* parseArgs(
      "import",
      argv,
      { output: { value: true, short: "o" }, profile: { value: true }, json: {} },
      { min: 1, max: 1, names: "<trace.jsonl> -o <trace.db>" },
    );
    const input = a.positional[0]!;
    const output = a.flags.output;
    if (typeof output !== "string")
      return yield* Effect.fail(
        new BadInput({ file: "iorr import", field: "-o", message: "the output database is required: iorr import <trace.jsonl> -o <trace.db>" }),
      );
    if (isTraceDbPath(input) && input.endsWith(".db"))
      return yield* Effect.fail(new BadInput({ file: input, message: "already a trace database; import reads a JSONL trace" }));
    const json = a.flags.json === true;
    const bars = { store: progressBar("import: storing  ", !json), replay: progressBar("import: replaying", !json) };
    const r = yield* importJsonl(
      input,
      output,
      (header) => profileFor("import", a.flags.profile, header),
      (phase, d, t) => bars[phase].update(d, t),
    ).pipe(
      Effect.ensuring(
        Effect.sync(() => {
          bars.store.done();
          bars.replay.done();
        }),
      ),
    );
    if (!json) for (const w of r.warnings) process.stderr.write(`iorr: warning: ${w}\n`);
    if (json) printJson({ events: r.events, checkpoints: r.checkpoints, output, fault: r.fault ?? null });
    else {
      print(`${output}: ${r.events} events imported, ${r.checkpoints} checkpoints under ${r.profile.spec.join(",")}`);
      if (r.fault) print(`note: the simulator stopped at event ${r.fault.seq} (${r.fault.op}): ${r.fault.message}; later events have no stored outcome`);
    }
    return EXIT.ok;
  });

/** Write a file completely or not at all: a temp file renamed into place. */
function writeAtomically(path: string, chunks: Iterable<string>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  try {
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}

export const exportCommand: Command = (argv) =>
  Effect.gen(function* () {
    const a = yield* parseArgs(
      "export",
      argv,
      { output: { value: true, short: "o" }, outcomes: {}, profile: { value: true } },
      { min: 1, max: 1, names: "<trace> [-o out.jsonl]" },
    );
    return yield* usingTrace(a.positional[0]!, (src) =>
      Effect.gen(function* () {
        // --outcomes records what the simulator computed as each event's expect (a recording).
        let outcomes: Map<number, Outcome> | undefined;
        if (a.flags.outcomes === true) {
          const profile = yield* profileFor("export", a.flags.profile, src.header);
          const got = new Map<number, Outcome>();
          const r = yield* withTrace(src, profile, replay({ onOutcome: (ev, out) => got.set(ev.seq, out) })).pipe(
            Effect.map(() => undefined),
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.succeed(f)),
          );
          if (r) {
            process.stderr.write(`iorr: ${src.file}: event ${r.fault.seq} (${r.fault.op}): simulator fault: ${r.fault.message}\n`);
            return r.fault.kind === "bad-input" ? EXIT.badInput : EXIT.fault;
          }
          outcomes = got;
        }
        const events = yield* readAll(src);
        function* lines() {
          yield `${JSON.stringify(src.header)}\n`;
          for (const ev of events) yield `${JSON.stringify(eventToJson(ev, outcomes?.get(ev.seq) as Record<string, unknown> | undefined))}\n`;
        }
        const out = a.flags.output;
        if (typeof out === "string") {
          yield* Effect.try({ try: () => writeAtomically(out, lines()), catch: (e) => new BadInput({ file: out, message: (e as Error).message }) });
        } else for (const l of lines()) process.stdout.write(l);
        return EXIT.ok;
      }),
    );
  });

export const infoCommand: Command = (argv) =>
  Effect.gen(function* () {
    const a = yield* parseArgs("info", argv, { json: {} }, { min: 1, max: 1, names: "<trace>" });
    const file = a.positional[0]!;
    return yield* usingTrace(file, (src) =>
      Effect.gen(function* () {
        const ops: Record<string, number> = {};
        let expects = 0;
        // Reading every event verifies the whole hash chain of a database.
        for (const ev of yield* readAll(src)) {
          ops[ev.op] = (ops[ev.op] ?? 0) + 1;
          if (ev.expect) expects++;
        }
        const db = src.db;
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
        if (a.flags.json === true) printJson(info);
        else {
          print(`${file}: iorr trace, format version 1 (${info.kind}, ${info.bytes} bytes)`);
          for (const [k, v] of Object.entries(src.header)) if (k !== "format" && k !== "version") print(`  ${k}: ${JSON.stringify(v)}`);
          print(`events: ${src.count}, ${expects} with a recorded outcome to verify`);
          print(
            `ops: ${
              Object.entries(ops)
                .map(([k, v]) => `${k} ${v}`)
                .join(", ") || "none"
            }`,
          );
          if (db) {
            print(`schema version ${info.schema}; hash chain verified, head ${info.head_hash}`);
            print(`checkpoints: ${info.checkpoints} (profile ${JSON.stringify(info.checkpoint_profile)})`);
          }
        }
        return EXIT.ok;
      }),
    );
  });
