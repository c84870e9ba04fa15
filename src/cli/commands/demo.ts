// iorr demo [dir]: the main job on the bundled sample traces: import each into
// a database, replay it with --verify, travel to an event, and summarise.

import { Effect } from "effect";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { importJsonl } from "../../importers/import.ts";
import { BadInput } from "../../model/framework.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { hashOf, replay, type ReplayFault } from "../../replay/engine.ts";
import { Timeline } from "../../replay/timeline.ts";
import { parseArgs } from "../args.ts";
import { EXIT, print, profileFor, usingTrace, withTrace, type Command } from "../common.ts";
import { describeState } from "./state.ts";

export const demoCommand: Command = (argv) =>
  Effect.gen(function* () {
    const a = yield* parseArgs("demo", argv, {}, { min: 0, max: 1, names: "[dir]" });
    const dir = a.positional[0] ?? "traces";
    const files = yield* Effect.try({
      try: () =>
        readdirSync(dir)
          .filter((f) => f.endsWith(".jsonl"))
          .sort(),
      catch: (e) => new BadInput({ file: dir, message: (e as Error).message }),
    });
    if (files.length === 0) return yield* Effect.fail(new BadInput({ file: dir, message: "no .jsonl traces here" }));
    const work = mkdtempSync(join(tmpdir(), "iorr-demo-"));
    let totalEvents = 0;
    let totalVerified = 0;
    let failures = 0;
    print(`iorr demo: ${files.length} sample traces from ${dir}/, imported into ${work}/`);
    print("");
    try {
      for (const f of files) {
        const input = join(dir, f);
        const db = join(work, `${basename(f, ".jsonl")}.db`);
        const imp = yield* importJsonl(input, db, (h) => profileFor("demo", undefined, h));
        const { header, profile } = imp;
        const line = yield* usingTrace(db, (src) =>
          withTrace(src, profile, replay({ verify: true })).pipe(
            Effect.map((r) => {
              totalEvents += r.events;
              totalVerified += r.verified;
              if (r.divergence) {
                failures++;
                return `DIVERGES at event ${r.divergence.seq} (${r.divergence.op}): expected ${JSON.stringify(toJsonValue(r.divergence.expected))}, got ${JSON.stringify(toJsonValue(r.divergence.actual))}`;
              }
              return `${r.events} events, ${r.verified} expectations verified, state ${hashOf(r.state).slice(0, 16)}`;
            }),
            Effect.catchTag("ReplayFault", (f: ReplayFault) => {
              failures++;
              return Effect.succeed(`simulator fault at event ${f.fault.seq} (${f.fault.op}): ${f.fault.message}`);
            }),
          ),
        );
        print(`  ${f.padEnd(34)} ${line}`);
        print(`  ${"".padEnd(34)} "${header.title ?? ""}" under ${profile.spec.join(",")}; ${imp.checkpoints} checkpoint(s) stored`);
      }
      // Time travel: the state in the middle of the last trace (the samples grow toward the richest), from its database.
      const first = join(work, `${basename(files[files.length - 1]!, ".jsonl")}.db`);
      yield* usingTrace(first, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("demo", undefined, src.header);
          const at = Math.max(1, Math.floor(src.count / 2));
          const state = yield* withTrace(src, profile, new Timeline(src).stateAt(at)).pipe(Effect.catchTag("ReplayFault", () => Effect.succeed(undefined)));
          if (!state) return;
          print("");
          print(`time travel: iorr state ${basename(first)} --at ${at}`);
          for (const l of describeState(state)) print(`  ${l}`);
        }),
      );
      print("");
      print(
        `${files.length} traces, ${totalEvents} events, ${totalVerified} expectations verified, ${failures === 0 ? "no divergence" : `${failures} trace(s) diverged or faulted`}`,
      );
      print("try: iorr replay traces/<trace>.jsonl --verify --json, iorr state <trace> --at N, iorr info <trace>");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return failures === 0 ? EXIT.ok : EXIT.divergence;
  });
