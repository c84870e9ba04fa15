// iorr bisect events <trace> --probe '<event>' (--equals '<outcome>' | --differs '<outcome>') [--profile P]
// iorr bisect profile <trace> (--preset P | --good P1 --bad P2) [--event N] [--profile P]
// iorr bisect-run <trace> [--profile P]: for `git bisect run` (0 good, 1 bad, 125 cannot tell)

import { Effect, Either } from "effect";
import type { TraceEvent } from "../../model/events.ts";
import { BadInput } from "../../model/framework.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { SWITCHES } from "../../profiles/switches.ts";
import { ProfileError, resolveProfile, splitSpec, type Profile } from "../../profiles/profile.ts";
import { bisectEvents, type ProbeTest } from "../../bisect/events.ts";
import { bisectProfile, goodBadSteps, presetSteps, verdict, type BisectSteps, type Verdict } from "../../bisect/profile.ts";
import { probeOf } from "../../query/probe.ts";
import { divergenceJson, type ReplayFault } from "../../replay/engine.ts";
import { Timeline } from "../../replay/timeline.ts";
import { storeCall, type TraceSource } from "../../replay/source.ts";
import { checkEventFlag, intFlag } from "../args.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import type { Done, Failure, Output } from "../report.ts";

const bad = (field: string, message: string) => new BadInput({ file: "iorr bisect", field, message });

/** The probe with the outcome to compare, from --probe and --equals / --differs. */
function probeTest(flags: Record<string, string | true>): Either.Either<{ probe: TraceEvent; test: ProbeTest }, BadInput> {
  const probeText = flags.probe;
  if (typeof probeText !== "string")
    return Either.left(bad("--probe", 'needs an event, such as \'{"op":"dma","bdf":"0000:01:00.0","iova":"0x1000","access":"read"}\''));
  const which = (["equals", "differs"] as const).filter((k) => flags[k] !== undefined);
  if (which.length !== 1) return Either.left(bad("--equals", "give --equals '<outcome>' or --differs '<outcome>', exactly one"));
  const kind = which[0]!;
  const text = flags[kind];
  if (typeof text !== "string") return Either.left(bad(`--${kind}`, 'needs an outcome, such as \'{"pa":"0x40000010"}\''));
  let expected: unknown;
  try {
    expected = JSON.parse(text);
  } catch (e) {
    return Either.left(bad(`--${kind}`, `not valid JSON: ${(e as Error).message}`));
  }
  // The outcome is checked as an `expect` of the probe is (src/model/events.ts): same names, same values.
  let raw: unknown;
  try {
    raw = JSON.parse(probeText);
  } catch (e) {
    return Either.left(bad("--probe", `not valid JSON: ${(e as Error).message}`));
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return Either.left(bad("--probe", "expected one event object"));
  return Either.flatMap(probeOf({ ...raw, expect: expected }, "iorr bisect"), (ev) => {
    const { expect, ...probe } = ev;
    if (!expect) return Either.left(bad(`--${kind}`, "expected an outcome object"));
    return Either.right({ probe: probe as TraceEvent, test: { kind, expected: expect } });
  });
}

function eventsMode(src: TraceSource, profile: Profile, flags: Record<string, string | true>, out: Output): Effect.Effect<Done, Failure> {
  return Effect.gen(function* () {
    const { probe, test } = yield* probeTest(flags);
    const from = (yield* intFlag("bisect", "from", flags.from)) ?? 0;
    const to = (yield* intFlag("bisect", "to", flags.to)) ?? src.count;
    yield* checkEventFlag("bisect", "from", from, src.file, src.count);
    yield* checkEventFlag("bisect", "to", to, src.file, src.count);
    if (from > to) return yield* Effect.fail(bad("--from", `${from} is after --to ${to}`));
    const timeline = new Timeline(src);
    const r = yield* withTrace(src, profile, bisectEvents(timeline, from, to, probe, test)).pipe(
      Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f, { first: null }))),
    );
    // The event at the change point: what it is, for the reader.
    const at = r.first !== null && r.first > 0 ? yield* eventAt(src, r.first) : undefined;
    const what = `${test.kind === "equals" ? "matches" : "stops matching"} ${JSON.stringify(toJsonValue(test.expected))}`;
    if (r.first === null) out.print(`the probe never ${what} after events ${from}..${to} of ${src.file} (${r.probes} probes)`);
    else if (r.first === from) out.print(`the probe already ${what} ${from === 0 ? "before the first event" : `after event ${from}`} (${r.probes} probes)`);
    else {
      out.print(`first event after which the probe ${what}: ${r.first} (${label(at)}) (${r.probes} probes over ${to - from} events)`);
      out.print(`  before event ${r.first}: ${JSON.stringify(toJsonValue(r.before))}`);
      out.print(`  after event ${r.first}:  ${JSON.stringify(toJsonValue(r.after))}`);
    }
    return { status: EXIT.ok, json: { first: r.first, op: at?.op ?? null, ...(at?.op === "ioctl" ? { cmd: at.cmd } : {}), probes: r.probes } };
  });
}

/** "ioctl IOMMU_IOAS_MAP", "dma", ...: an event as a reader names it. */
function label(ev: TraceEvent | undefined): string {
  if (!ev) return "?";
  return ev.op === "ioctl" ? `ioctl ${typeof ev.cmd === "number" ? `0x${ev.cmd.toString(16)}` : String(ev.cmd)}` : ev.op;
}

/** The event numbered seq (read from the source: a database verifies it on the way). */
function eventAt(src: TraceSource, seq: number): Effect.Effect<TraceEvent | undefined, BadInput> {
  return storeCall(() => {
    for (const batch of src.batches(seq, seq, 1)) return batch[0];
    return undefined;
  });
}

function verdictJson(v: Verdict | undefined): unknown {
  if (!v || v.ok) return null;
  if (v.divergence) return divergenceJson(v.divergence);
  return v.fault ? { seq: v.fault.seq, op: v.fault.op, fault: v.fault.message } : null;
}

function profileMode(src: TraceSource, flags: Record<string, string | true>, out: Output): Effect.Effect<Done, Failure> {
  return Effect.gen(function* () {
    const event = yield* intFlag("bisect", "event", flags.event);
    if (event !== undefined) yield* checkEventFlag("bisect", "event", event, src.file, src.count);
    const resolve = (flag: "good" | "bad", v: string | true | undefined) =>
      Effect.try({
        try: () => {
          if (typeof v !== "string") throw new ProfileError("", "needs a profile");
          return resolveProfile(splitSpec(v));
        },
        catch: (e) => bad(`--${flag}`, (e as Error).message),
      });
    let steps: BisectSteps;
    let label: string;
    if (flags.preset !== undefined) {
      if (flags.good !== undefined || flags.bad !== undefined) return yield* Effect.fail(bad("--preset", "give --preset P, or --good P1 --bad P2, not both"));
      const preset = flags.preset;
      // The trace's own profile (or --profile) for the components the preset is not of.
      const base = yield* profileFor("bisect", flags.profile, src);
      steps = yield* Effect.try({
        try: () => {
          if (typeof preset !== "string") throw new ProfileError("", "needs a preset name");
          return presetSteps(base, preset);
        },
        catch: (e) => bad("--preset", (e as Error).message),
      });
      label = `the switches of ${flags.preset}`;
    } else {
      if (flags.good === undefined || flags.bad === undefined) return yield* Effect.fail(bad("--preset", "give --preset P, or --good P1 --bad P2"));
      steps = goodBadSteps(yield* resolve("good", flags.good), yield* resolve("bad", flags.bad));
      label = `the way from ${flags.good} to ${flags.bad}`;
    }
    const bar = out.progress("bisect");
    const r = yield* bisectProfile(src, steps, event).pipe(Effect.ensuring(Effect.sync(() => bar.done())));
    const what = event === undefined ? "the trace stops verifying" : `the outcome of event ${event} changes`;
    if (r.index === -1) {
      const v = verdictJson(r.good);
      return yield* Effect.fail(
        new BadInput({
          file: src.file,
          message: `nothing to bisect: with none of ${label} applied the trace already ${event === undefined ? "does not verify" : `does not reach event ${event}`}${v ? ` (${JSON.stringify(v)})` : ""}`,
        }),
      );
    }
    if (r.index === null) {
      out.print(`no step of ${label} (${r.steps.length}) makes ${what.replace("stops", "stop").replace("changes", "change")} (${r.replays} replays)`);
      return { status: EXIT.ok, json: { switch: null, index: null, description: null, divergence: null, replays: r.replays } };
    }
    const step = r.steps[r.index]!;
    const name = step.replace(/^-/, "");
    const def = SWITCHES.get(name);
    const description = def ? `${step.startsWith("-") ? "without: " : ""}${def.summary} (${def.source})` : step;
    const divergence = verdictJson(r.bad);
    out.print(`first step under which ${what}: ${step} (${label}, index ${steps.position(r.index)}; ${r.replays} replays over ${r.steps.length} steps)`);
    out.print(`  ${description}`);
    if (r.bad && !r.bad.ok && r.bad.divergence) {
      const d = r.bad.divergence;
      out.print(
        `  first divergence: event ${d.seq} (${d.op}), field "${d.field}": expected ${JSON.stringify(toJsonValue(d.expected))}, actual ${JSON.stringify(toJsonValue(d.actual))}`,
      );
    } else if (r.bad && !r.bad.ok && r.bad.fault) out.print(`  the simulator stops at event ${r.bad.fault.seq} (${r.bad.fault.op}): ${r.bad.fault.message}`);
    else if (event !== undefined)
      out.print(
        `  event ${event}: ${JSON.stringify(toJsonValue(r.good.ok ? r.good.outcome : undefined))} before, ${JSON.stringify(toJsonValue(r.bad?.outcome))} after`,
      );
    return {
      status: EXIT.ok,
      json: {
        switch: step,
        index: steps.position(r.index),
        description,
        divergence,
        ...(event !== undefined ? { event, before: toJsonValue(r.good.ok ? r.good.outcome : null), after: toJsonValue(r.bad?.outcome ?? null) } : {}),
        replays: r.replays,
      },
    };
  });
}

export const bisectCommand: Command = {
  usage:
    "bisect events|profile <trace> (--probe E (--equals O | --differs O) [--from N] [--to M] | --preset P | --good P1 --bad P2 [--event N]) [--profile P] [--json]",
  summary: "the first event after which a probe's outcome changes, or the first switch that breaks a trace",
  flags: {
    probe: { value: true },
    equals: { value: true },
    differs: { value: true },
    from: { value: true },
    to: { value: true },
    preset: { value: true },
    good: { value: true },
    bad: { value: true },
    event: { value: true },
    profile: { value: true },
  },
  args: { min: 2, max: 2, names: ["events|profile", "<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const mode = a.positional[0]!;
      if (mode !== "events" && mode !== "profile") return yield* Effect.fail(bad("mode", `expected "events" or "profile", got "${mode}"`));
      return yield* usingTrace(a.positional[1]!, out, (src) =>
        mode === "events"
          ? Effect.flatMap(profileFor("bisect", a.flags.profile, src), (profile) => eventsMode(src, profile, a.flags, out))
          : profileMode(src, a.flags, out),
      );
    }),
};

export const bisectRunCommand: Command = {
  usage: "bisect-run <trace> [--profile P] [--json]",
  summary: "for git bisect run: exit 0 when the trace verifies, 1 when it diverges, 125 when it cannot be replayed",
  flags: { profile: { value: true } },
  args: { min: 1, max: 1, names: ["<trace>"] },
  // git bisect run: 125 is "cannot tell, skip this commit"; any other failure would mark it bad.
  failureStatus: 125,
  run: (a, out) =>
    usingTrace(a.positional[0]!, out, (src) =>
      Effect.gen(function* () {
        const profile = yield* profileFor("bisect-run", a.flags.profile, src);
        const v = yield* verdict(src, profile);
        if (v.ok) {
          out.print(`${src.file}: verifies under ${profile.spec.join(",")}`);
          return { status: EXIT.ok, json: { verdict: "good", profile: profile.spec, divergence: null } };
        }
        if (v.divergence) {
          const d = v.divergence;
          out.print(`${src.file}: diverges under ${profile.spec.join(",")} at event ${d.seq} (${d.op}), field "${d.field}"`);
          return { status: EXIT.divergence, json: { verdict: "bad", profile: profile.spec, divergence: divergenceJson(d) } };
        }
        const f = v.fault!;
        out.print(`${src.file}: cannot be replayed under ${profile.spec.join(",")}: event ${f.seq} (${f.op}): ${f.message}`);
        return { status: 125, json: { verdict: "skip", profile: profile.spec, fault: f } };
      }),
    ),
};
