// A live session's model: the state, every event folded through the same
// reducers as replay (foldBatch), the events kept with their outcomes as
// `expect` for the session trace, and the calls the model does not cover.

import { Effect } from "effect";
import { EventError, type TraceEvent } from "../model/events.ts";
import { foldBatch } from "../model/fold.ts";
import { ProfileService, SimulatorFault } from "../model/framework.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { toJsonValue, type Outcome } from "../model/outcome.ts";
import { initialState, type State } from "../model/state.ts";
import type { Profile } from "../profiles/profile.ts";

/** A call the model did not answer: why (the fault's message or the event field at fault). */
export interface Unmodelled {
  why: string;
}

export class LiveSession {
  state: State = initialState();
  /** The folded events as raw trace events, each with its outcome as `expect`, in order. */
  readonly events: Record<string, unknown>[] = [];
  /** Calls answered ENOSYS, by reason. */
  readonly enosys = new Map<string, number>();
  calls = 0;

  constructor(readonly profile: Profile) {}

  /**
   * Fold one event. A simulator fault or an event the trace format refuses
   * leaves the state as it was and nothing is kept: the caller answers ENOSYS.
   */
  fold(raw: Record<string, unknown>): Outcome | Unmodelled {
    const seq = this.events.length + 1;
    let ev: TraceEvent;
    try {
      ev = parseTraceEvent(raw, seq);
    } catch (e) {
      if (e instanceof EventError) return { why: `${String(raw.op)}: ${e.field}: ${e.message}` };
      throw e;
    }
    let outcome: Outcome | undefined;
    const r = Effect.runSync(
      Effect.either(
        Effect.provideService(
          foldBatch(this.state, [ev], (_e, out) => {
            outcome = out;
            return true;
          }),
          ProfileService,
          this.profile,
        ),
      ),
    );
    if (r._tag === "Left") {
      const f = r.left;
      return { why: f instanceof SimulatorFault ? f.message : String(f) };
    }
    this.state = r.right.state;
    this.events.push({ ...raw, expect: toJsonValue(outcome) });
    return outcome!;
  }

  /** The session's events as a trace holds them (each checked as a trace's event is). */
  traceEvents(): TraceEvent[] {
    return this.events.map((raw, i) => parseTraceEvent(raw, i + 1));
  }

  /** Count a call answered ENOSYS. */
  unmodelled(why: string): void {
    this.enosys.set(why, (this.enosys.get(why) ?? 0) + 1);
  }

  enosysTotal(): number {
    let n = 0;
    for (const c of this.enosys.values()) n += c;
    return n;
  }
}

export function isUnmodelled(x: Outcome | Unmodelled): x is Unmodelled {
  return (x as Unmodelled).why !== undefined;
}
