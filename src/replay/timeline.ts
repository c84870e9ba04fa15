// Seek: the state after any event, from the nearest checkpoint (in memory or
// in the file) plus at most CHECKPOINT_INTERVAL folds. Time-travel queries
// (state at N, diffs, provenance, watchpoints) are built on this.

import { Effect } from "effect";
import { BadInput, ProfileService } from "../model/framework.ts";
import { initialState, type State } from "../model/state.ts";
import { BATCH, decodeState, foldAcrossCheckpoints, ReplayFault } from "./engine.ts";
import { storeCall, type TraceSource } from "./source.ts";

export class Timeline {
  /** By profile key: seq -> state after that event under that profile; 0 is the initial state. */
  private readonly memory = new Map<string, Map<number, State>>();

  constructor(readonly source: TraceSource) {}

  private memoryOf(profileKey: string): Map<number, State> {
    let m = this.memory.get(profileKey);
    if (!m) {
      m = new Map([[0, initialState()]]);
      this.memory.set(profileKey, m);
    }
    return m;
  }

  /** The state after event `seq` (0: before the first event), under the profile service's profile. */
  stateAt(seq: number): Effect.Effect<State, ReplayFault | BadInput, ProfileService> {
    return Effect.gen(this, function* () {
      if (!Number.isInteger(seq) || seq < 0 || seq > this.source.count)
        return yield* Effect.fail(new BadInput({ file: this.source.file, field: "--at", message: `event ${seq} is outside 0..${this.source.count}` }));
      const profile = yield* ProfileService;
      const memory = this.memoryOf(profile.key);
      let [from, state] = nearestInMemory(memory, seq);
      const inFile = yield* storeCall(() => this.source.checkpoints?.nearest(profile.key, seq));
      if (inFile && inFile.seq > from) {
        from = inFile.seq;
        state = decodeState(inFile.state);
        memory.set(from, state);
      }
      if (from === seq) return state;
      // Reading may fail on a corrupt database (BadInput); at most one checkpoint interval is read when checkpoints exist.
      const batches = yield* storeCall(() => this.source.batches(from + 1, seq, BATCH)[Symbol.iterator]());
      for (;;) {
        const next = yield* storeCall(() => batches.next());
        if (next.done) break;
        const r = yield* foldAcrossCheckpoints(state, next.value, undefined, (at, st) => memory.set(at, st)).pipe(
          Effect.mapError((fault) => new ReplayFault({ fault, partial: { events: fault.seq - 1, verified: 0, divergence: null, lastSeq: fault.seq - 1 } })),
        );
        state = r.state;
      }
      return state;
    });
  }
}

/** The latest state kept at or before seq. */
function nearestInMemory(memory: ReadonlyMap<number, State>, seq: number): [number, State] {
  let best = 0;
  for (const k of memory.keys()) if (k <= seq && k > best) best = k;
  return [best, memory.get(best)!];
}
