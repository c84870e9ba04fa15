// Seek: the state after any event, from the nearest checkpoint (in memory or
// in the file) plus at most CHECKPOINT_INTERVAL folds. Time-travel queries
// (state at N, diffs, provenance, watchpoints) are built on this.

import { Effect } from "effect";
import { BadInput, ProfileService } from "../model/framework.ts";
import { initialState, type State } from "../model/state.ts";
import type { Profile } from "../profiles/profile.ts";
import { BATCH, decodeState, foldAcrossCheckpoints, ReplayFault } from "./engine.ts";
import type { TraceSource } from "./source.ts";

export class Timeline {
  /** seq -> state after that event; 0 is the initial state. */
  private readonly memory = new Map<number, State>([[0, initialState()]]);

  constructor(
    readonly source: TraceSource,
    readonly profile: Profile,
  ) {}

  /** The state after event `seq` (0: before the first event). */
  stateAt(seq: number): Effect.Effect<State, ReplayFault | BadInput, ProfileService> {
    return Effect.gen(this, function* () {
      if (!Number.isInteger(seq) || seq < 0 || seq > this.source.count)
        return yield* Effect.fail(new BadInput({ file: this.source.file, field: "--at", message: `event ${seq} is outside 0..${this.source.count}` }));
      let [from, state] = this.nearestInMemory(seq);
      const inFile = yield* Effect.try({ try: () => this.source.checkpoints?.nearest(this.profile.key, seq), catch: (e) => e as BadInput });
      if (inFile && inFile.seq > from) {
        from = inFile.seq;
        state = decodeState(inFile.state);
        this.memory.set(from, state);
      }
      if (from === seq) return state;
      // Reading may fail on a corrupt database (BadInput); at most one checkpoint interval is read when checkpoints exist.
      const batches = yield* Effect.try({ try: () => this.source.batches(from + 1, seq, BATCH)[Symbol.iterator](), catch: (e) => e as BadInput });
      for (;;) {
        const next = yield* Effect.try({ try: () => batches.next(), catch: (e) => e as BadInput });
        if (next.done) break;
        const r = yield* foldAcrossCheckpoints(state, next.value, undefined, (at, st) => this.memory.set(at, st)).pipe(
          Effect.mapError((fault) => new ReplayFault({ fault, partial: { events: fault.seq - 1, verified: 0, divergence: null, lastSeq: fault.seq - 1 } })),
        );
        state = r.state;
      }
      return state;
    });
  }

  private nearestInMemory(seq: number): [number, State] {
    let best = 0;
    for (const k of this.memory.keys()) if (k <= seq && k > best) best = k;
    return [best, this.memory.get(best)!];
  }
}
