// Folding events into states: one immer produce and one Effect per batch.

import { Effect } from "effect";
import { enableMapSet, produce, setAutoFreeze } from "immer";
import type { TraceEvent } from "./events.ts";
import { notModelled, NotModelledError, ProfileService, SimulatorFault, type ReduceEnv } from "./framework.ts";
import { EventError } from "./events.ts";
import type { Outcome } from "./outcome.ts";
import { FILE_OPS } from "./fops.ts";
import { reducerFor } from "./ops.ts";
import type { State } from "./state.ts";

// States are never mutated outside a produce (reducers only see drafts), so
// freezing every new subtree buys nothing but time on the replay path.
setAutoFreeze(false);
enableMapSet();

/** Called after each event; return false to stop the fold after this event. */
export type Visit = (ev: TraceEvent, outcome: Outcome) => boolean;

export interface FoldResult {
  state: State;
  /** Events folded (the stopping event included). */
  processed: number;
  stopped: boolean;
}

/**
 * Fold `events` into `state` under the profile service. A simulator fault
 * fails the Effect; the events before it are folded into nothing (the caller
 * keeps the previous state), and the fault names the event.
 */
export function foldBatch(state: State, events: readonly TraceEvent[], visit?: Visit): Effect.Effect<FoldResult, SimulatorFault, ProfileService> {
  return Effect.flatMap(ProfileService, (profile) =>
    Effect.suspend(() => {
      let fault: SimulatorFault | undefined;
      let processed = 0;
      let stopped = false;
      const env: { profile: typeof profile; seq: number; fops: typeof FILE_OPS } = { profile, seq: 0, fops: FILE_OPS };
      const next = produce(state, (draft) => {
        const root = batchRoot(draft as State);
        for (const ev of events) {
          env.seq = ev.seq;
          let out: Outcome | SimulatorFault;
          try {
            out = reducerFor(ev.op)(root, ev, env as ReduceEnv);
          } catch (e) {
            out = asFault(ev, e);
          }
          if (out instanceof SimulatorFault) {
            fault = out;
            return;
          }
          processed++;
          if (visit && !visit(ev, out)) {
            stopped = true;
            return;
          }
        }
      });
      return fault ? Effect.fail(fault) : Effect.succeed({ state: next, processed, stopped });
    }),
  );
}

/**
 * The root draft as reducers see it during one batch. Every reducer starts at
 * the root (s.processes, s.files, s.iommufd, ...), and each such read is a Proxy
 * trap on the root draft; the facade reads each root member's draft once per
 * batch and hands it out from a plain property after that. Writes go straight
 * to the draft, so immer sees every change as before.
 */
function batchRoot(draft: State): State {
  const facade = {} as State;
  for (const key of Object.keys(draft) as (keyof State)[]) {
    let cached: unknown;
    let have = false;
    Object.defineProperty(facade, key, {
      enumerable: true,
      get: () => {
        if (!have) {
          cached = draft[key];
          have = true;
        }
        return cached;
      },
      set: (v: unknown) => {
        (draft as unknown as Record<string, unknown>)[key] = v;
        cached = v;
        have = true;
      },
    });
  }
  return facade;
}

/** A throw inside a reducer: an event field only interpretable now (bad input), or a simulator bug. */
function asFault(ev: TraceEvent, e: unknown): SimulatorFault {
  if (e instanceof EventError) return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "bad-input", message: `field ${e.field}: ${e.message}` });
  if (e instanceof NotModelledError) return notModelled(ev, e.message);
  return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "internal", message: `internal error: ${(e as Error)?.stack ?? String(e)}` });
}
