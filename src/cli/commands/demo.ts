// iorr demo [dir]: the main job on the bundled sample traces: the story
// (demo_story.ts: record a boot, replay it verified, jump to an event, explain a
// translation, bisect a behaviour change over a preset, audit PASIDs), then each
// sample imported into a database and replayed with --verify. The databases live
// in a temporary directory removed at the end; every command the demo prints
// names the samples themselves (or boot.db, what its first command writes).

import { Effect } from "effect";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { importJsonl } from "../../importers/import.ts";
import { BadInput } from "../../model/framework.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { divergenceJson, hashOf, replay, type ReplayFault } from "../../replay/engine.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { describeFailure, errorJson } from "../report.ts";
import { STORY_SAMPLES, tellStory, type StepResult } from "./demo_story.ts";

export const demoCommand: Command = {
  usage: "demo [dir] [--json]",
  summary: "the story on the sample traces (record, replay, travel, why, bisect, audit), then each one verified",
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
      const started = Date.now();
      try {
        // The story, when the directory holds the samples it is told on.
        const needed = [STORY_SAMPLES.bisect, STORY_SAMPLES.pasid].filter((f) => !existsSync(join(dir, f)));
        let story: StepResult[] | null = null;
        if (needed.length === 0) {
          out.print(`iorr demo: the story on the samples in ${dir}/ (each step shows the command that does it)`);
          out.print("");
          story = yield* tellStory(dir, work, { print: (l) => out.print(l) });
        } else out.print(`iorr demo: no story here (${dir}/ lacks ${needed.join(", ")})`);
        const storyFailures = story?.filter((s) => !s.ok).length ?? 0;
        out.print(`every sample trace of ${dir}/, imported into a database and replayed with --verify under its profile:`);
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
          const title = header.title ?? "";
          out.print(
            `  ${"".padEnd(34)} "${title.length > 90 ? `${title.slice(0, 89)}…` : title}" under ${profile.spec.join(",")}; ${imp.checkpoints} checkpoint(s) stored`,
          );
        }
        out.print("");
        out.print(
          `${files.length} traces, ${totalEvents} events, ${totalVerified} expectations verified, ${failures === 0 ? "no divergence" : `${failures} trace(s) diverged or faulted`}`,
        );
        if (story) out.print(`story: ${story.length - storyFailures} of ${story.length} steps did what they say`);
        out.print(`${((Date.now() - started) / 1000).toFixed(1)} s; what each sample shows, and a command to try on it: ${join(dir, "README.md")}`);
        return {
          status: failures === 0 && storyFailures === 0 ? EXIT.ok : EXIT.divergence,
          json: { dir, story, traces, events: totalEvents, verified: totalVerified, failures },
        };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }),
};
