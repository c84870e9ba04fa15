// The replay engine: fold a trace's events, compare each outcome with its
// recorded `expect`, stop at the first divergence, keep checkpoints.

import { Data, Effect } from "effect";
import { addExtension, Packr } from "msgpackr";
import { Iotlb, type IotlbEntry } from "../pagewalk/iotlb.ts";
import type { TraceEvent } from "../model/events.ts";
import { foldBatch, type FoldResult, type Visit } from "../model/fold.ts";
import type { BadInput, ProfileService, SimulatorFault } from "../model/framework.ts";
import { stateHash } from "../model/hash.ts";
import { firstMismatch, toJsonValue, type Outcome } from "../model/outcome.ts";
import { initialState, type State } from "../model/state.ts";
import { storeCall, Trace, type TraceSource } from "./source.ts";

/**
 * Events between checkpoints. Measured with `npm run bench` (seek_ms): at 4096
 * a seek folds at most 4095 events (~5-10 ms) after decoding one checkpoint,
 * while a 1,000,000-event trace keeps 245 checkpoints. See docs/decisions.md.
 */
export const CHECKPOINT_INTERVAL = 4096;

/** Events read and folded together: one working copy (src/model/fold.ts) and one Effect each. */
export const BATCH = 4096;

export interface Divergence {
  seq: number;
  op: string;
  /** The expect field that did not hold first. */
  field: string;
  expected: Record<string, unknown>;
  actual: Outcome;
}

export interface ReplayOptions {
  verify?: boolean;
  /** Stop after this event. */
  until?: number;
  /** Called with (events done, total) after each batch. */
  progress?: (done: number, total: number) => void;
  /**
   * Called after each event with its outcome (import keeps them) and the state after
   * it (a batch's working copy: read it during the call only, never write it).
   */
  onOutcome?: (ev: TraceEvent, outcome: Outcome, state: State) => void;
  /** Called with each checkpoint state as it is reached (import stores them). */
  onCheckpoint?: (seq: number, state: State) => void;
}

export interface ReplayResult {
  /** Events folded. */
  events: number;
  /** Expectations checked that held. */
  verified: number;
  divergence: Divergence | null;
  state: State;
  /** The last event folded (0 for none). */
  lastSeq: number;
}

/** A simulator fault during replay, with what was replayed before it. */
export class ReplayFault extends Data.TaggedError("ReplayFault")<{
  readonly fault: SimulatorFault;
  readonly partial: Omit<ReplayResult, "state">;
}> {}

/** Replay the trace service's events under the profile service. */
export function replay(opts: ReplayOptions = {}): Effect.Effect<ReplayResult, ReplayFault | BadInput, Trace | ProfileService> {
  return Effect.gen(function* () {
    const src = yield* Trace;
    const until = Math.min(opts.until ?? src.count, src.count);
    let state = initialState();
    let verified = 0;
    let divergence: Divergence | null = null;
    let done = 0;
    const visit = (ev: TraceEvent, out: Outcome, after: State): boolean => {
      opts.onOutcome?.(ev, out, after);
      if (opts.verify && ev.expect) {
        const field = firstMismatch(ev.expect, out, ev);
        if (field !== undefined) {
          divergence = { seq: ev.seq, op: ev.op, field, expected: ev.expect, actual: out };
          return false;
        }
        verified++;
      }
      return true;
    };
    const batches = yield* storeCall(() => src.batches(1, until, BATCH)[Symbol.iterator]());
    for (;;) {
      const next = yield* storeCall(() => batches.next());
      if (next.done) break;
      const r = yield* foldAcrossCheckpoints(state, next.value, visit, opts.onCheckpoint).pipe(
        Effect.mapError((fault) => new ReplayFault({ fault, partial: { events: fault.seq - 1, verified, divergence, lastSeq: fault.seq - 1 } })),
      );
      state = r.state;
      done += r.processed;
      if (r.stopped) return { events: done, verified, divergence, state, lastSeq: done };
      opts.progress?.(done, until);
    }
    return { events: done, verified, divergence, state, lastSeq: done };
  });
}

/**
 * Fold consecutive events, split at checkpoint boundaries so that every
 * multiple of CHECKPOINT_INTERVAL is a real, shareable state.
 */
export function foldAcrossCheckpoints(
  start: State,
  events: readonly TraceEvent[],
  visit: Visit | undefined,
  onCheckpoint: ((seq: number, state: State) => void) | undefined,
): Effect.Effect<FoldResult, SimulatorFault, ProfileService> {
  return Effect.gen(function* () {
    let state = start;
    let processed = 0;
    for (let i = 0; i < events.length; ) {
      const firstSeq = events[i]!.seq;
      const boundary = (Math.floor((firstSeq - 1) / CHECKPOINT_INTERVAL) + 1) * CHECKPOINT_INTERVAL;
      const j = Math.min(events.length, i + (boundary - firstSeq + 1));
      const r = yield* foldBatch(state, events.slice(i, j), visit);
      state = r.state;
      processed += r.processed;
      if (r.stopped) return { state, processed, stopped: true };
      const last = events[j - 1]!.seq;
      if (last % CHECKPOINT_INTERVAL === 0) onCheckpoint?.(last, state);
      i = j;
    }
    return { state, processed, stopped: false };
  });
}

// ---- checkpoints: states as bytes ----

// Records for plain objects, msgpack maps for the state's Map tables (decoded back as Maps).
// A state-data class (src/model/hash.ts) is an extension: its toStateData(), rebuilt by its fromStateData.
addExtension({ Class: Iotlb, type: 0x49, write: (t: Iotlb) => t.toStateData(), read: (d: IotlbEntry[]) => Iotlb.fromStateData(d) });
const statePackr = new Packr({ useRecords: true, int64AsType: "bigint", mapsAsObjects: false, moreTypes: false });

export function encodeState(state: State): Uint8Array {
  return statePackr.pack(state);
}

export function decodeState(bytes: Uint8Array): State {
  return statePackr.unpack(bytes) as State;
}

/** The state hash reported by replay and state. */
export function hashOf(state: State): string {
  return stateHash(state);
}

export function divergenceJson(d: Divergence | null): unknown {
  return d === null ? null : { seq: d.seq, op: d.op, expected: toJsonValue(d.expected), actual: toJsonValue(d.actual) };
}

export type { TraceSource };
