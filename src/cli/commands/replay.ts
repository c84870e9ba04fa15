// iorr replay <trace> [--verify] [--profile P] [--until N] [--json]

import { Effect } from "effect";
import { divergenceJson, hashOf, replay, type ReplayFault } from "../../replay/engine.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { intFlag, parseArgs } from "../args.ts";
import { EXIT, print, printJson, profileFor, usingTrace, withTrace, type Command } from "../common.ts";
import { progressBar } from "../progress.ts";

export const replayCommand: Command = (argv) =>
  Effect.gen(function* () {
    const a = yield* parseArgs(
      "replay",
      argv,
      { verify: {}, profile: { value: true }, until: { value: true }, json: {} },
      { min: 1, max: 1, names: "<trace>" },
    );
    const until = yield* intFlag("replay", "until", a.flags.until);
    const json = a.flags.json === true;
    return yield* usingTrace(a.positional[0]!, (src) =>
      Effect.gen(function* () {
        const profile = yield* profileFor("replay", a.flags.profile, src.header);
        if (!json) for (const w of src.warnings) process.stderr.write(`iorr: warning: ${w}\n`);
        const bar = progressBar("replay", !json);
        const run = replay({ verify: a.flags.verify === true, ...(until !== undefined ? { until } : {}), progress: (d, t) => bar.update(d, t) });
        const outcome = yield* withTrace(src, profile, run).pipe(
          Effect.map((r) => ({ ok: r })),
          Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.succeed({ fault: f })),
          Effect.ensuring(Effect.sync(() => bar.done())),
        );
        if ("fault" in outcome) {
          const { fault, partial } = outcome.fault;
          const status = fault.kind === "bad-input" ? EXIT.badInput : EXIT.fault;
          if (json)
            printJson({
              events: partial.events,
              verified: partial.verified,
              divergence: divergenceJson(partial.divergence),
              state_hash: null,
              fault: { seq: fault.seq, op: fault.op, kind: fault.kind, message: fault.message },
            });
          process.stderr.write(
            `iorr: ${src.file}: event ${fault.seq} (${fault.op}): ${fault.kind === "bad-input" ? "" : "simulator fault: "}${fault.message}\n`,
          );
          return status;
        }
        const r = outcome.ok;
        const hash = hashOf(r.state);
        if (json) {
          printJson({ events: r.events, verified: r.verified, divergence: divergenceJson(r.divergence), state_hash: hash });
        } else {
          print(`${src.file}: ${r.events} events replayed under ${profile.spec.join(",")}`);
          if (a.flags.verify === true) print(`verified: ${r.verified} expectations held`);
          if (r.divergence) {
            const d = r.divergence;
            print(`DIVERGENCE at event ${d.seq} (${d.op}), field "${d.field}":`);
            print(`  expected ${JSON.stringify(toJsonValue(d.expected))}`);
            print(`  actual   ${JSON.stringify(toJsonValue(d.actual))}`);
          }
          print(`state hash: ${hash}`);
        }
        return r.divergence ? EXIT.divergence : EXIT.ok;
      }),
    );
  });
