// iorr record --scenario <name> [--seed S] [--scale N] -o <trace.db> [--profile P] [--json]
// iorr record [-o trace.db] [--profile P] [--platform file.jsonl] [--json] -- <command> [args...] (record_program.ts)

import { Effect } from "effect";
import { BadInput } from "../../model/framework.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { SCENARIOS, scenarioByName } from "../../scenarios/index.ts";
import { recordScenario } from "../../scenarios/record.ts";
import { EXIT, profileFor, stopped, type Command } from "../common.ts";
import { count } from "../report.ts";
import { nearest } from "../suggest.ts";
import { recordProgram } from "./record_program.ts";

/** A non-negative integer flag (seed, scale) with its bounds, or the bad input naming it. */
function intFlag(v: string | true | undefined, flag: string, dflt: number, min: number, max: number): Effect.Effect<number, BadInput> {
  if (v === undefined) return Effect.succeed(dflt);
  const n = typeof v === "string" && /^[0-9]+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    return Effect.fail(
      new BadInput({
        file: "iorr record",
        field: flag,
        message: `expected an integer from ${min} to ${max}, got ${v === true ? "nothing" : JSON.stringify(v)}`,
      }),
    );
  return Effect.succeed(n);
}

export const recordCommand: Command = {
  usage: "record (--scenario <name> [--seed S] [--scale N] | [--platform file.jsonl] -- <command> [args...]) -o <trace.db> [--profile P] [--json]",
  summary: "record a scenario into a trace database, or (-- <command>) what a program's /dev/iommu and /dev/vfio calls got from the kernel",
  flags: {
    scenario: { value: true },
    seed: { value: true },
    scale: { value: true },
    output: { value: true, short: "o" },
    profile: { value: true },
    platform: { value: true },
  },
  args: { min: 0, max: Number.MAX_SAFE_INTEGER, names: [] },
  run: (a, out) =>
    Effect.gen(function* () {
      if (a.dashdash) return yield* recordProgram(a, out);
      if (a.positional.length)
        return yield* Effect.fail(
          new BadInput({ file: "iorr record", field: "<command>", message: `unexpected argument "${a.positional[0]}": a command goes after --` }),
        );
      if (a.flags.platform !== undefined)
        return yield* Effect.fail(
          new BadInput({ file: "iorr record", field: "--platform", message: "goes with -- <command>; a scenario sets up its own platform" }),
        );
      const names = SCENARIOS.map((s) => s.name);
      const name = a.flags.scenario;
      if (typeof name !== "string")
        return yield* Effect.fail(
          new BadInput({ file: "iorr record", field: "--scenario", message: `a scenario or -- <command> is required; known scenarios: ${names.join(", ")}` }),
        );
      const scenario = scenarioByName(name);
      if (!scenario) {
        const near = nearest(name, names);
        return yield* Effect.fail(
          new BadInput({
            file: "iorr record",
            field: "--scenario",
            message: `unknown scenario "${name}"${near ? `; did you mean "${near}"?` : ""} (known: ${names.join(", ")})`,
          }),
        );
      }
      const seed = yield* intFlag(a.flags.seed, "--seed", 1, 0, 0xffffffff);
      const scale = yield* intFlag(a.flags.scale, "--scale", 1, 1, 1_000_000);
      const output = a.flags.output;
      if (typeof output !== "string")
        return yield* Effect.fail(
          new BadInput({ file: "iorr record", field: "-o", message: "the output database is required: iorr record --scenario <name> -o <trace.db>" }),
        );
      const profile = yield* profileFor("record", a.flags.profile, { file: "iorr record", header: { profile: [...scenario.profile] } });
      const bar = out.progress("record");
      const r = yield* recordScenario({ scenario, seed, scale, output, profile, progress: (d, t) => bar.update(d, t) }).pipe(
        // The model refused a step (exit 3): nothing is written.
        Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(output, f, { output, written: false }))),
        Effect.ensuring(Effect.sync(() => bar.done())),
      );
      out.print(
        `${output}: ${count(r.events, "event")} recorded (${scenario.name}, seed ${seed}, scale ${scale}), ${count(r.checkpoints, "checkpoint")} under ${profile.spec.join(",")}, ${r.bytes} bytes`,
      );
      return {
        status: EXIT.ok,
        json: {
          scenario: scenario.name,
          seed,
          scale,
          profile: profile.spec,
          output,
          events: r.events,
          checkpoints: r.checkpoints,
          checkpoints_spaced: r.checkpointsSpaced,
          bytes: r.bytes,
          event_bytes: r.eventBytes,
          checkpoint_bytes: r.checkpointBytes,
        },
      };
    }),
};
