// iorr replay <trace> [--verify] [--profile P] [--until N] [--json]

import { Effect } from "effect";
import { divergenceJson, hashOf, replay, type ReplayFault } from "../../replay/engine.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { checkEventFlag, intFlag } from "../args.ts";
import { checkCheckpoints, EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { count } from "../report.ts";

export const replayCommand: Command = {
  usage: "replay <trace> [--verify] [--profile P] [--until N] [--json]",
  summary: "fold every event (up to N); with --verify stop at the first divergence",
  flags: { verify: {}, profile: { value: true }, until: { value: true } },
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const until = yield* intFlag("replay", "until", a.flags.until);
      return yield* usingTrace(a.positional[0]!, out, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("replay", a.flags.profile, src);
          if (until !== undefined) yield* checkEventFlag("replay", "until", until, src.file, src.count);
          const bar = out.progress("replay");
          const run = replay({ verify: a.flags.verify === true, ...(until !== undefined ? { until } : {}), progress: (d, t) => bar.update(d, t) });
          const r = yield* withTrace(src, profile, run).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) =>
              Effect.fail(
                stopped(src.file, f, {
                  events: f.partial.events,
                  verified: f.partial.verified,
                  divergence: divergenceJson(f.partial.divergence),
                  state_hash: null,
                }),
              ),
            ),
            Effect.ensuring(Effect.sync(() => bar.done())),
          );
          // A replay to the end has read the whole log; the checkpoints are the rest of the file.
          if (r.events === src.count) yield* checkCheckpoints(src);
          const hash = hashOf(r.state);
          out.print(`${src.file}: ${count(r.events, "event")} replayed under ${profile.spec.join(",")}`);
          if (a.flags.verify === true) out.print(`verified: ${count(r.verified, "expectation")} held`);
          if (r.divergence) {
            const d = r.divergence;
            out.print(`DIVERGENCE at event ${d.seq} (${d.op}), field "${d.field}":`);
            out.print(`  expected ${JSON.stringify(toJsonValue(d.expected))}`);
            out.print(`  actual   ${JSON.stringify(toJsonValue(d.actual))}`);
          }
          out.print(`state hash: ${hash}`);
          return {
            status: r.divergence ? EXIT.divergence : EXIT.ok,
            json: { events: r.events, verified: r.verified, divergence: divergenceJson(r.divergence), state_hash: hash },
          };
        }),
      );
    }),
};
