// `iorr import`: a JSONL trace into a trace database. The events are validated
// first (bad input leaves no file), then replayed once under the trace's profile;
// each event is stored with its simulated outcome (chained with it, src/store/hash.ts)
// and the checkpoints seek needs are stored as replay reaches them. Any failure (bad
// input, a simulator fault, a crash, an interrupt) leaves nothing at the target.

import { Effect, type Either, Exit } from "effect";
import type { TraceEvent } from "../model/events.ts";
import { ProfileService, type BadInput } from "../model/framework.ts";
import type { Outcome } from "../model/outcome.ts";
import type { Profile } from "../profiles/profile.ts";
import { encodeState, replay, type ReplayFault } from "../replay/engine.ts";
import { eventToStored, memorySource, storeCall, Trace } from "../replay/source.ts";
import { TraceDb, type StoredEvent } from "../store/tracedb.ts";
import { readJsonlTrace, type TraceHeader } from "../trace/jsonl.ts";
import { decodeRecorded, RECORDED_SOURCE } from "./recorded.ts";

export interface ImportResult {
  events: number;
  checkpoints: number;
  /** Checkpoints not stored because the state was too large (seeks near them fold further). */
  checkpointsSkipped: number;
  warnings: readonly string[];
}

const APPEND_BATCH = 50_000;

/** Import progress: events replayed and stored, of the total. */
export type ImportProgress = (done: number, total: number) => void;

/**
 * Read a JSONL trace once and store it; the profile is chosen from its header
 * (the command line's --profile, else the header's own), so the file is parsed
 * a single time.
 */
export function importJsonl(
  input: string,
  output: string,
  profileOf: (header: TraceHeader) => Either.Either<Profile, BadInput>,
  progress?: ImportProgress,
): Effect.Effect<ImportResult & { header: TraceHeader; profile: Profile }, BadInput | ReplayFault> {
  return Effect.gen(function* () {
    const trace = yield* readJsonlTrace(input);
    const profile = yield* profileOf(trace.header);
    // A recording of a real program (iorr record -- <command>): raw struct bytes become members where they can.
    const events = trace.header.source === RECORDED_SOURCE ? trace.events.map(decodeRecorded) : trace.events;
    const r = yield* importEvents(input, trace.header, events, output, profile, progress, trace.warnings);
    return { ...r, header: trace.header, profile };
  });
}

/**
 * Store validated events as a trace database, with outcomes and checkpoints under
 * `profile`. A simulator fault fails the import (ReplayFault) as it fails replay.
 */
export function importEvents(
  input: string,
  header: TraceHeader,
  events: readonly TraceEvent[],
  output: string,
  profile: Profile,
  progress?: ImportProgress,
  warnings: readonly string[] = [],
): Effect.Effect<ImportResult, BadInput | ReplayFault> {
  return Effect.gen(function* () {
    const db = yield* storeCall(() => TraceDb.create(output, header));
    const work = Effect.gen(function* () {
      yield* storeCall(() => db.setMeta("checkpoint_profile", profile.spec));
      let checkpoints = 0;
      let checkpointsSkipped = 0;
      let pending: StoredEvent[] = [];
      const flush = () => {
        if (pending.length) db.append(pending);
        pending = [];
      };
      yield* replay({
        onOutcome: (ev: TraceEvent, out: Outcome) => {
          pending.push({ ...eventToStored(ev), outcome: out as Record<string, unknown> });
          if (pending.length >= APPEND_BATCH) flush();
        },
        onCheckpoint: (seq, state) => {
          flush();
          if (db.putCheckpoint(profile.key, seq, encodeState(state))) checkpoints++;
          else checkpointsSkipped++;
        },
        progress,
      }).pipe(Effect.provideService(Trace, memorySource(input, header, events)), Effect.provideService(ProfileService, profile));
      yield* storeCall(() => {
        flush();
        db.commitFile();
        db.close();
      });
      return { events: events.length, checkpoints, checkpointsSkipped, warnings };
    });
    // Whatever stops the import (bad input, a fault, a crash, an interrupt), nothing is left at the target.
    return yield* work.pipe(Effect.onExit((exit) => (Exit.isFailure(exit) ? Effect.sync(() => db.abandon()) : Effect.void)));
  });
}
