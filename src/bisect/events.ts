// Bisect over events: the first event after which a probe's outcome matches an
// expected outcome (or stops matching it), in O(log N) seeks. The predicate is
// asked of states (src/query/probe.ts), so anything a trace event can observe
// can be bisected: a DMA's translation, an ioctl's answer, a register read.
// Like git bisect, it assumes one change point, false before it and true from it on:
// it checks both ends and bisects between them, in O(log N) seeks. When the predicate
// does not hold at the end, it samples SCAN_POINTS points first (see bisectEvents).

import { Effect } from "effect";
import type { TraceEvent } from "../model/events.ts";
import type { BadInput, ProfileService } from "../model/framework.ts";
import { firstMismatch, type Outcome } from "../model/outcome.ts";
import { probeAt } from "../query/probe.ts";
import type { Timeline } from "../replay/timeline.ts";
import { ReplayFault } from "../replay/engine.ts";

export interface BisectEventsResult {
  /** The first event after which the predicate holds (`from` when it holds there already); null when it is not found. */
  first: number | null;
  /** Probes asked (each one seek and one fold). */
  probes: number;
  /** The probe's outcome just before `first` and at it (absent when first is null or 0). */
  before?: Outcome;
  after?: Outcome;
}

/** `equals`: the probe's outcome satisfies `expected` as replay --verify compares; `differs`: it does not. */
export type ProbeTest = { kind: "equals" | "differs"; expected: Record<string, unknown> };

export function holds(test: ProbeTest, outcome: Outcome, probe: TraceEvent): boolean {
  const match = firstMismatch(test.expected, outcome, probe) === undefined;
  return test.kind === "equals" ? match : !match;
}

/** Points sampled, evenly spaced, when the predicate does not hold at the end (see bisectEvents). */
export const SCAN_POINTS = 64;

/** Bisect over the states after events from..to (0: before the first event). */
export function bisectEvents(
  timeline: Timeline,
  from: number,
  to: number,
  probe: TraceEvent,
  test: ProbeTest,
): Effect.Effect<BisectEventsResult, ReplayFault | BadInput, ProfileService> {
  return Effect.gen(function* () {
    let probes = 0;
    const ask = (at: number) =>
      Effect.gen(function* () {
        probes++;
        const state = yield* timeline.stateAt(at);
        return yield* probeAt(state, at, probe).pipe(
          // A probe that cannot be asked at this point (its device not declared yet: an
          // event field only the state can check) answers that, and matches no outcome.
          Effect.catchIf(
            (fault) => fault.kind === "bad-input",
            (fault) => Effect.succeed<Outcome>({ error: fault.message }),
          ),
          // One the simulator cannot answer stops the bisect, as it would stop a replay.
          Effect.mapError((fault) => new ReplayFault({ fault, partial: { events: at, verified: 0, divergence: null, lastSeq: at } })),
        );
      });
    const start = yield* ask(from);
    if (holds(test, start, probe)) return { first: from, probes, after: start };
    let lo = from;
    let hi = to;
    let before = start;
    let after = yield* ask(to);
    if (!holds(test, after, probe)) {
      // Not at the end (a teardown undid it, say): the first of SCAN_POINTS evenly spaced
      // points where it holds, then bisect before it. A change that comes and goes between
      // two points is not seen; --from/--to narrow the range.
      const step = Math.max(1, Math.ceil((to - from) / SCAN_POINTS));
      let found = false;
      for (let at = from + step; at < to; at += step) {
        const out = yield* ask(at);
        if (holds(test, out, probe)) {
          [hi, after, found] = [at, out, true];
          break;
        }
        [lo, before] = [at, out];
      }
      if (!found) return { first: null, probes };
    }
    // Invariant: the predicate is false at lo, true at hi.
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const out = yield* ask(mid);
      if (holds(test, out, probe)) [hi, after] = [mid, out];
      else [lo, before] = [mid, out];
    }
    return { first: hi, probes, before, after };
  });
}
