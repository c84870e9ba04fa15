// Probes: an event of the trace format evaluated against a state without changing it
// (docs/architecture.md "Queries"). The event is folded into a throwaway working copy
// of the state (src/model/fold.ts), so it answers exactly what the same event would
// answer at that point of the trace (a DMA walks the tables, fills and reads the IOTLB,
// an ioctl checks its arguments), and the state the caller holds is left as it was.
// Bisect, watchpoints and `why` all ask their questions this way: one mechanism, and
// every model that lands later answers probes for free.

import { Effect, Either } from "effect";
import { EventError, type TraceEvent } from "../model/events.ts";
import { foldBatch } from "../model/fold.ts";
import { BadInput, type ProfileService, type SimulatorFault } from "../model/framework.ts";
import { parseTraceEvent } from "../model/ops.ts";
import type { Outcome } from "../model/outcome.ts";
import type { State } from "../model/state.ts";

/**
 * A probe given on the command line as one JSON object of the trace format (`expect`
 * allowed, `seq` not: a probe has no place in the trace). `where` names the flag.
 */
export function parseProbe(json: string, where: string): Either.Either<TraceEvent, BadInput> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    return Either.left(new BadInput({ file: where, message: `not valid JSON: ${(e as Error).message}` }));
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return Either.left(
      new BadInput({ file: where, message: 'expected one event object, such as {"op":"dma","bdf":"0000:01:00.0","iova":"0x1000","access":"read"}' }),
    );
  return probeOf(raw as Record<string, unknown>, where);
}

/** A probe from an event object already read (parseProbe's checks after the JSON). */
export function probeOf(o: Record<string, unknown>, where: string): Either.Either<TraceEvent, BadInput> {
  if (o.seq !== undefined)
    return Either.left(new BadInput({ file: where, field: "seq", message: "a probe has no seq: it is asked of the state at a point (--at)" }));
  try {
    // Numbered 0 here; probeAt() numbers it after the point it is asked at.
    return Either.right(parseTraceEvent(o, 0));
  } catch (e) {
    if (e instanceof EventError) return Either.left(new BadInput({ file: where, field: e.field, message: e.message }));
    throw e;
  }
}

/**
 * The outcome `probe` has in `state`, the state after event `at`: the probe is folded
 * as event at+1 into a copy that is then dropped.
 */
export function probeAt(state: State, at: number, probe: TraceEvent): Effect.Effect<Outcome, SimulatorFault, ProfileService> {
  return Effect.map(foldOne(state, { ...probe, seq: at + 1 }), (r) => r.outcome);
}

/** One event folded into `state`: the state after it (sharing what it did not change) and its outcome. */
export function foldOne(state: State, ev: TraceEvent): Effect.Effect<{ state: State; outcome: Outcome }, SimulatorFault, ProfileService> {
  let outcome: Outcome | undefined;
  return Effect.map(
    foldBatch(state, [ev], (_e, out) => {
      outcome = out;
      return true;
    }),
    (r) => ({ state: r.state, outcome: outcome! }),
  );
}
