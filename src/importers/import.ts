// `iorr import`: a JSONL trace into a trace database. The events are validated
// first (bad input leaves no file), appended in batches with the hash chain,
// then replayed once under the trace's profile so that the file carries each
// event's simulated outcome and the checkpoints seek needs.

import { Effect, type Either, Exit } from "effect";
import type { TraceEvent } from "../model/events.ts";
import { ProfileService, type BadInput } from "../model/framework.ts";
import type { Outcome } from "../model/outcome.ts";
import type { Profile } from "../profiles/profile.ts";
import { encodeState, replay, type ReplayFault } from "../replay/engine.ts";
import { eventToStored, memorySource, storeCall, Trace } from "../replay/source.ts";
import { TraceDb } from "../store/tracedb.ts";
import { readJsonlTrace, type TraceHeader } from "../trace/jsonl.ts";

export interface ImportResult {
  events: number;
  checkpoints: number;
  warnings: readonly string[];
  /** The simulator stopped here while computing outcomes (events after it keep no outcome). */
  fault?: { seq: number; op: string; message: string };
}

const APPEND_BATCH = 50_000;

/** Import progress: events stored, then events replayed (for outcomes and checkpoints). */
export type ImportProgress = (phase: "store" | "replay", done: number, total: number) => void;

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
): Effect.Effect<ImportResult & { header: TraceHeader; profile: Profile }, BadInput> {
  return Effect.gen(function* () {
    const trace = yield* readJsonlTrace(input);
    const profile = yield* profileOf(trace.header);
    const r = yield* importEvents(input, trace.header, trace.events, output, profile, progress, trace.warnings);
    return { ...r, header: trace.header, profile };
  });
}

/** Store validated events as a trace database, with outcomes and checkpoints under `profile`. */
export function importEvents(
  input: string,
  header: TraceHeader,
  events: readonly TraceEvent[],
  output: string,
  profile: Profile,
  progress?: ImportProgress,
  warnings: readonly string[] = [],
): Effect.Effect<ImportResult, BadInput> {
  return Effect.gen(function* () {
    const db = yield* storeCall(() => TraceDb.create(output, header));
    const work = Effect.gen(function* () {
      for (let i = 0; i < events.length; i += APPEND_BATCH) {
        yield* storeCall(() => db.append(events.slice(i, i + APPEND_BATCH).map(eventToStored)));
        progress?.("store", Math.min(events.length, i + APPEND_BATCH), events.length);
      }
      yield* storeCall(() => db.setMeta("checkpoint_profile", profile.spec));
      let checkpoints = 0;
      let pending: { seq: number; outcome: Record<string, unknown> }[] = [];
      const flush = () => {
        if (pending.length) db.setOutcomes(pending);
        pending = [];
      };
      const result = yield* replay({
        onOutcome: (ev: TraceEvent, out: Outcome) => {
          pending.push({ seq: ev.seq, outcome: out as Record<string, unknown> });
          if (pending.length >= APPEND_BATCH) flush();
        },
        onCheckpoint: (seq, state) => {
          db.putCheckpoint(profile.key, seq, encodeState(state));
          checkpoints++;
        },
        progress: (done, total) => progress?.("replay", done, total),
      }).pipe(
        Effect.map(() => undefined),
        Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.succeed({ seq: f.fault.seq, op: f.fault.op, message: f.fault.message })),
        Effect.provideService(Trace, memorySource(input, header, events)),
        Effect.provideService(ProfileService, profile),
      );
      yield* storeCall(() => {
        flush();
        db.commitFile();
      });
      const out: ImportResult = { events: events.length, checkpoints, warnings };
      if (result) out.fault = result;
      return out;
    });
    // Whatever stops the import (bad input, a crash, an interrupt), nothing is left at the target.
    return yield* work.pipe(Effect.onExit((exit) => (Exit.isFailure(exit) ? Effect.sync(() => db.abandon()) : Effect.void)));
  });
}
