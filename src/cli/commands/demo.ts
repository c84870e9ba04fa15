// iorr demo [dir]: the main job on the bundled sample traces: import each into
// a database, replay it with --verify, travel to an event, and summarise. The
// databases live in a temporary directory removed at the end, so every command
// the demo suggests names the sample traces themselves.

import { Effect } from "effect";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { importJsonl } from "../../importers/import.ts";
import { BadInput } from "../../model/framework.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { divergenceJson, hashOf, replay, type ReplayFault } from "../../replay/engine.ts";
import { Timeline } from "../../replay/timeline.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { describeFailure, errorJson } from "../report.ts";
import { describeState } from "./state.ts";

export const demoCommand: Command = {
  usage: "demo [dir] [--json]",
  summary: "import, verify and explore the sample traces",
  flags: {},
  args: { min: 0, max: 1, names: ["[dir]"] },
  run: (a, out) =>
    Effect.gen(function* () {
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
      const traces: Record<string, unknown>[] = [];
      let totalEvents = 0;
      let totalVerified = 0;
      let failures = 0;
      out.print(`iorr demo: ${files.length} sample traces from ${dir}/, each imported into a database (in a temporary directory)`);
      out.print("");
      try {
        for (const f of files) {
          const input = join(dir, f);
          const db = join(work, `${basename(f, ".jsonl")}.db`);
          const imported = yield* importJsonl(input, db, (header) => profileFor("demo", undefined, { file: input, header })).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.succeed(stopped(input, f))),
          );
          if ("fault" in imported) {
            // The simulator cannot finish this sample: nothing was imported; say so and go on.
            failures++;
            traces.push({ file: input, error: errorJson(imported) });
            out.print(`  ${f.padEnd(34)} ${describeFailure(imported).replace(/^iorr: /, "")}`);
            continue;
          }
          const imp = imported;
          const { header, profile } = imp;
          for (const w of imp.warnings) out.warn(w);
          const entry: Record<string, unknown> = { file: input, title: header.title ?? null, profile: profile.spec, checkpoints: imp.checkpoints };
          const line = yield* usingTrace(db, out, (src) =>
            withTrace(src, profile, replay({ verify: true })).pipe(
              Effect.map((r) => {
                totalEvents += r.events;
                totalVerified += r.verified;
                Object.assign(entry, { events: r.events, verified: r.verified, divergence: divergenceJson(r.divergence), state_hash: hashOf(r.state) });
                if (r.divergence) {
                  failures++;
                  return `DIVERGES at event ${r.divergence.seq} (${r.divergence.op}): expected ${JSON.stringify(toJsonValue(r.divergence.expected))}, got ${JSON.stringify(toJsonValue(r.divergence.actual))}`;
                }
                return `${r.events} events, ${r.verified} expectations verified, state ${hashOf(r.state).slice(0, 16)}`;
              }),
              Effect.catchTag("ReplayFault", (f: ReplayFault) => {
                failures++;
                const fault = stopped(input, f);
                Object.assign(entry, { events: f.partial.events, verified: f.partial.verified, divergence: null, state_hash: null, error: errorJson(fault) });
                return Effect.succeed(describeFailure(fault).replace(/^iorr: /, ""));
              }),
            ),
          );
          traces.push(entry);
          out.print(`  ${f.padEnd(34)} ${line}`);
          out.print(`  ${"".padEnd(34)} "${header.title ?? ""}" under ${profile.spec.join(",")}; ${imp.checkpoints} checkpoint(s) stored`);
        }
        // Time travel: the state in the middle of the last trace (the samples grow toward the richest), from its database.
        const lastFile = files[files.length - 1]!;
        const last = join(dir, lastFile);
        const travel = yield* usingTrace(join(work, `${basename(lastFile, ".jsonl")}.db`), out, (src) =>
          Effect.gen(function* () {
            const profile = yield* profileFor("demo", undefined, src);
            const at = Math.max(1, Math.floor(src.count / 2));
            const state = yield* withTrace(src, profile, new Timeline(src).stateAt(at)).pipe(Effect.catchTag("ReplayFault", () => Effect.succeed(undefined)));
            if (!state) return null;
            out.print("");
            out.print(`time travel: iorr state ${last} --at ${at}`);
            for (const l of describeState(state)) out.print(`  ${l}`);
            return { file: last, at, state_hash: hashOf(state) };
          }),
        );
        out.print("");
        out.print(
          `${files.length} traces, ${totalEvents} events, ${totalVerified} expectations verified, ${failures === 0 ? "no divergence" : `${failures} trace(s) diverged or faulted`}`,
        );
        out.print("try:");
        out.print(`  iorr replay ${last} --verify --json`);
        if (travel) out.print(`  iorr state ${last} --at ${travel.at}`);
        out.print(`  iorr info ${last}`);
        out.print(`  iorr export ${last} --outcomes`);
        return {
          status: failures === 0 ? EXIT.ok : EXIT.divergence,
          json: { dir, traces, events: totalEvents, verified: totalVerified, failures, time_travel: travel },
        };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }),
};
