// Folding events into states: one working copy and one Effect per batch.
//
// States are immutable and share unchanged subtrees with the states before
// them (checkpoints, time travel). A batch's reducers run on a plain, mutable
// working copy instead of immer drafts: a root table (s.processes, s.files,
// s.memory, ...) is copied whole the first time the batch reaches it, and at
// the end of the batch every part of the copies still equal to the state
// before is replaced by that state's own object again (shareUnchanged), so the
// new state shares every subtree the batch did not change, as a produce would.
// This moves the cost of immutability from every access (a Proxy trap each)
// to the batch boundary (one copy and one comparison of each table reached).
// See docs/decisions.md, "Replay cost".

import { Effect } from "effect";
import { enableMapSet, setAutoFreeze } from "immer";
import type { TraceEvent } from "./events.ts";
import { notModelled, NotModelledError, ProfileService, SimulatorFault, type ReduceEnv } from "./framework.ts";
import { EventError } from "./events.ts";
import type { Outcome } from "./outcome.ts";
import { FILE_OPS } from "./fops.ts";
import { provenance } from "./provenance.ts";
import { reducerFor } from "./ops.ts";
import type { State } from "./state.ts";
import { copyTree, shareUnchanged } from "./working.ts";

// immer still derives states outside the fold (tests, the vIOMMU IOTLB's
// copy-on-write check): Map drafts on, and no freezing of new subtrees.
setAutoFreeze(false);
enableMapSet();

/**
 * Called after each event with the batch's working state after it (read it, never
 * write it, and keep nothing of it past the call); return false to stop the fold
 * after this event.
 */
export type Visit = (ev: TraceEvent, outcome: Outcome, state: State) => boolean;

export interface FoldResult {
  state: State;
  /** Events folded (the stopping event included). */
  processed: number;
  stopped: boolean;
}

/**
 * Fold `events` into `state` under the profile service. A simulator fault
 * fails the Effect; the events before it are folded into nothing (the caller
 * keeps the previous state), and the fault names the event. `events` may be a lazy
 * iterable (a recorder's next event depends on the outcome the visitor saw).
 */
export function foldBatch(state: State, events: Iterable<TraceEvent>, visit?: Visit): Effect.Effect<FoldResult, SimulatorFault, ProfileService> {
  return Effect.flatMap(ProfileService, (profile) =>
    Effect.suspend(() => {
      let processed = 0;
      let stopped = false;
      const env: { profile: typeof profile; seq: number; fops: typeof FILE_OPS } = { profile, seq: 0, fops: FILE_OPS };
      const work = new WorkingState(state);
      const root = work.root;
      const rec = provenance();
      for (const ev of events) {
        env.seq = ev.seq;
        if (rec !== null) rec.at(ev);
        let out: Outcome | SimulatorFault;
        try {
          out = reducerFor(ev.op)(root, ev, env as ReduceEnv);
        } catch (e) {
          out = asFault(ev, e);
        }
        // The working copy is dropped: the caller keeps `state`, which nothing wrote to.
        if (out instanceof SimulatorFault) return Effect.fail(out);
        processed++;
        if (visit && !visit(ev, out, root)) {
          stopped = true;
          break;
        }
      }
      return Effect.succeed({ state: work.finish(), processed, stopped });
    }),
  );
}

/**
 * A batch's working copy of a state. `root` is what reducers see: reading a
 * root member the first time copies it (copyTree), and writes go to the copy.
 * finish() builds the new state from the copies, sharing what did not change.
 */
class WorkingState {
  readonly root = {} as State;
  private readonly copies: Partial<Record<keyof State, unknown>> = {};

  constructor(private readonly base: State) {
    const copies = this.copies;
    for (const key of Object.keys(base) as (keyof State)[]) {
      let copy: unknown;
      let copied = false;
      Object.defineProperty(this.root, key, {
        enumerable: true,
        get: () => {
          if (!copied) {
            copy = copies[key] = copyTree(base[key]);
            copied = true;
          }
          return copy;
        },
        set: (v: unknown) => {
          copy = copies[key] = v;
          copied = true;
        },
      });
    }
  }

  /** The state after the batch: `base` itself when nothing changed. */
  finish(): State {
    let next: State | undefined;
    for (const key of Object.keys(this.copies) as (keyof State)[]) {
      const copy = this.copies[key];
      const shared = shareUnchanged(this.base[key], copy);
      if (shared === this.base[key]) continue;
      next ??= { ...this.base };
      (next as unknown as Record<string, unknown>)[key] = shared;
    }
    return next ?? this.base;
  }
}

/** A throw inside a reducer: an event field only interpretable now (bad input), or a simulator bug. */
function asFault(ev: TraceEvent, e: unknown): SimulatorFault {
  if (e instanceof EventError) return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "bad-input", message: `field ${e.field}: ${e.message}` });
  if (e instanceof NotModelledError) return notModelled(ev, e.message);
  return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "internal", message: `internal error: ${(e as Error)?.stack ?? String(e)}` });
}
