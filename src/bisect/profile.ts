// Bisect over behaviour: the first switch of a preset (or of the way from a good
// profile to a bad one) under which a trace stops verifying, or under which one
// event's outcome changes. A profile is an ordered list of switches, one per
// kernel or QEMU change (src/profiles/), so the answer names a patch.
// Binary search over the prefix length, as git bisect over commits: it assumes
// one change point, and checks both ends first.

import { Effect } from "effect";
import type { BadInput } from "../model/framework.ts";
import { firstMismatch, type Outcome } from "../model/outcome.ts";
import { PRESETS } from "../profiles/presets.ts";
import { expand, ProfileError, resolvePresetPrefix, resolveProfile, type Profile } from "../profiles/profile.ts";
import { replay, type Divergence, type ReplayFault } from "../replay/engine.ts";
import { Trace, type TraceSource } from "../replay/source.ts";
import { ProfileService } from "../model/framework.ts";

/** One step of the way from good to bad: a switch applied ("name") or removed ("-name"). */
export interface BisectSteps {
  /** The profile after the first `i` steps. */
  profileAt(i: number): Profile;
  /** The steps in order. */
  steps: readonly string[];
  /** Where each step is in the list it comes from (a preset's switches); else its place among the steps. */
  position(i: number): number;
}

/**
 * Toward `preset` from `base` (the trace's profile): the preset's switches that base
 * lacks, applied one at a time in the preset's order (then base's switches of that
 * component that the preset lacks, removed). The switches both have are in force from
 * the start, so a trace recorded under an earlier preset of the series is bisected over
 * the changes that came after it; the other components stay as base has them.
 */
export function presetSteps(base: Profile, preset: string): BisectSteps {
  if (!PRESETS.has(preset)) throw new ProfileError(preset, `unknown preset "${preset}" (see \`iorr profiles\`)`);
  const switches = expand(preset);
  const s = goodBadSteps(base, resolvePresetPrefix(base.spec, preset, switches.length));
  // A switch's index in the preset; a removal (a switch of base the preset lacks) comes after them all.
  return { ...s, position: (i) => (switches.includes(s.steps[i]!) ? switches.indexOf(s.steps[i]!) : switches.length + i) };
}

/**
 * From `good` to `bad`: the switches of bad that good lacks, in bad's order, then the
 * removal of those good has and bad lacks. After every step the profile is good's spec
 * followed by the steps so far, so the last one has exactly bad's switches.
 */
export function goodBadSteps(good: Profile, bad: Profile): BisectSteps {
  const add = bad.switches.filter((s) => !good.on(s));
  const remove = good.switches.filter((s) => !bad.on(s)).map((s) => `-${s}`);
  const steps = [...add, ...remove];
  return { steps, profileAt: (i) => resolveProfile([...good.spec, ...steps.slice(0, i)]), position: (i) => i };
}

/** How one profile does on the trace: verifies, or where it stops (a divergence or a fault). */
export type Verdict =
  | { ok: true; outcome?: Outcome }
  | { ok: false; divergence?: Divergence; fault?: { seq: number; op: string; kind: string; message: string }; outcome?: Outcome };

/** Replay under `profile`: with verify, or (with `event`) only up to that event, keeping its outcome. */
export function verdict(src: TraceSource, profile: Profile, event?: number): Effect.Effect<Verdict, BadInput> {
  let outcome: Outcome | undefined;
  const run = replay({
    verify: event === undefined,
    ...(event !== undefined ? { until: event } : {}),
    onOutcome: (ev, out) => {
      if (ev.seq === event) outcome = out;
    },
  });
  return run.pipe(
    Effect.map((r): Verdict => (r.divergence ? { ok: false, divergence: r.divergence } : { ok: true, ...(outcome ? { outcome } : {}) })),
    Effect.catchTag("ReplayFault", (f: ReplayFault) =>
      Effect.succeed<Verdict>({ ok: false, fault: { seq: f.fault.seq, op: f.fault.op, kind: f.fault.kind, message: f.fault.message } }),
    ),
    Effect.provideService(Trace, src),
    Effect.provideService(ProfileService, profile),
  );
}

export interface BisectProfileResult {
  /** Index of the first bad step in `steps` (0-based), or null when no step makes it bad. */
  index: number | null;
  steps: readonly string[];
  /** The verdict with no step applied, and at the first bad step. */
  good: Verdict;
  bad?: Verdict;
  /** Replays run. */
  replays: number;
}

/**
 * The first step under which the trace is bad: it stops verifying, or (with `event`)
 * that event's outcome differs from its outcome with no step applied. Null when the
 * last step is still good; index -1 when even no step verifies (nothing to bisect).
 */
export function bisectProfile(src: TraceSource, s: BisectSteps, event?: number): Effect.Effect<BisectProfileResult, BadInput> {
  return Effect.gen(function* () {
    let replays = 0;
    const judge = (i: number) => {
      replays++;
      return verdict(src, s.profileAt(i), event);
    };
    const good = yield* judge(0);
    // Nothing to bisect from: the trace does not verify (or does not reach the event) with no step applied.
    if (!good.ok) return { index: -1, steps: s.steps, good, bad: good, replays };
    const ref = good.outcome;
    const isBad = (v: Verdict): boolean => {
      if (!v.ok || event === undefined || ref === undefined || v.outcome === undefined) return !v.ok;
      // The event's outcome changed: compared both ways, as verify compares.
      return firstMismatch(ref as Record<string, unknown>, v.outcome) !== undefined || firstMismatch(v.outcome as Record<string, unknown>, ref) !== undefined;
    };
    const n = s.steps.length;
    const last = yield* judge(n);
    if (!isBad(last)) return { index: null, steps: s.steps, good, replays };
    // Invariant: good with lo steps, bad with hi steps.
    let lo = 0;
    let hi = n;
    let bad = last;
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const v = yield* judge(mid);
      if (isBad(v)) {
        hi = mid;
        bad = v;
      } else lo = mid;
    }
    return { index: hi - 1, steps: s.steps, good, bad, replays };
  });
}
