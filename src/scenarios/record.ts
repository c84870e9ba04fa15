// `iorr record --scenario`: a scenario (scenario.ts) drives the live model event by
// event, the way a VMM and a guest would; each event is folded as it is yielded, its
// outcome goes back to the scenario, and the event is appended with that outcome as
// its `expect` and as its stored outcome, in batches, so memory stays flat at any
// scale. The fold is the engine's (foldBatch, one working copy per checkpoint
// interval, outcomes checked by the same visitor shape replay uses). Checkpoints are
// spaced by bytes written (recordCheckpoint below; docs/decisions.md "Checkpoints of
// recordings"). The file is built as import builds it (TraceDb.create: a temporary
// name, renamed on commit); any failure leaves nothing. No clock, no randomness but
// the seeded PRNG, nothing of the process in the file: a seed, a scale and a profile
// give one file, byte for byte.

import { Effect, Exit } from "effect";
import { statSync } from "node:fs";
import { normaliseExpect, type TraceEvent } from "../model/events.ts";
import { foldBatch } from "../model/fold.ts";
import { type BadInput, ProfileService, SimulatorFault } from "../model/framework.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { toJsonValue, type Outcome } from "../model/outcome.ts";
import { initialState, type State } from "../model/state.ts";
import type { Profile } from "../profiles/profile.ts";
import { CHECKPOINT_INTERVAL, encodeState, ReplayFault } from "../replay/engine.ts";
import { eventToStored, storeCall } from "../replay/source.ts";
import { TraceDb, type StoredEvent } from "../store/tracedb.ts";
import { EventError } from "../model/events.ts";
import { prng } from "./prng.ts";
import { ScenarioError, type RawEvent, type Scenario } from "./scenario.ts";

export interface RecordOptions {
  scenario: Scenario;
  seed: number;
  scale: number;
  output: string;
  profile: Profile;
  /** Called with (events recorded, the scenario's estimate) after each batch. */
  progress?: (done: number, total: number) => void;
}

export interface RecordResult {
  events: number;
  /** Checkpoints stored, and those passed over to keep the file from growing by a state per interval. */
  checkpoints: number;
  checkpointsSpaced: number;
  /** Size of the finished file. */
  bytes: number;
  /** Bytes of event rows and of checkpoint states written. */
  eventBytes: number;
  checkpointBytes: number;
  header: Record<string, unknown>;
}

/**
 * A checkpoint at an interval boundary is stored when the event bytes written since the
 * last stored one are at least CHECKPOINT_SPACING times its size: checkpoints then take
 * at most 1/CHECKPOINT_SPACING of the events' bytes, however large the state (guest RAM,
 * page tables), and a small state is stored at every interval as import stores it.
 * Measured in docs/decisions.md "Checkpoints of recordings".
 */
export const CHECKPOINT_SPACING = 1;

/** Whether to store a checkpoint of `stateBytes` when `sinceLast` event bytes were written since the last one. */
export function checkpointDue(stateBytes: number, sinceLast: number): boolean {
  return sinceLast >= stateBytes * CHECKPOINT_SPACING;
}

export function recordHeader(scenario: Scenario, seed: number, scale: number, profile: Profile): Record<string, unknown> {
  return {
    format: "iorr-trace",
    version: 1,
    profile: [...profile.spec],
    title: scenario.title,
    source: "record",
    recorded: { scenario: scenario.name, seed, scale },
  };
}

/** Record a scenario into a new trace database (see the top of this file). */
export function recordScenario(opts: RecordOptions): Effect.Effect<RecordResult, BadInput | ReplayFault> {
  const { scenario, seed, scale, output, profile } = opts;
  const header = recordHeader(scenario, seed, scale, profile);
  return Effect.gen(function* () {
    const db = yield* storeCall(() => TraceDb.create(output, header));
    const work = Effect.gen(function* () {
      yield* storeCall(() => db.setMeta("checkpoint_profile", profile.spec));
      const gen = scenario.run({ rng: prng(seed), scale, profile });
      const estimate = Math.max(1, scenario.estimate(scale));
      let seq = 0;
      let finished = false;
      let last: Outcome | undefined;
      // One checkpoint interval of rows, appended in one transaction after its fold.
      let pending: StoredEvent[] = [];
      const flush = () => {
        if (pending.length) db.append(pending);
        pending = [];
      };
      // The events up to the next checkpoint boundary, pulled from the scenario one at a
      // time: each next() hands it the outcome of the event before.
      const upTo = function* (boundary: number): Generator<TraceEvent> {
        while (seq < boundary) {
          let r: IteratorResult<RawEvent, void>;
          try {
            r = seq === 0 ? gen.next(undefined as unknown as Outcome) : gen.next(last!);
          } catch (e) {
            throw e instanceof ScenarioError ? new ScenarioStep(seq + 1, e.message) : e;
          }
          if (r.done) {
            finished = true;
            return;
          }
          seq++;
          yield parseTraceEvent(r.value, seq);
        }
      };
      const visit = (ev: TraceEvent, out: Outcome): boolean => {
        last = out;
        ev.expect = normaliseExpect(toJsonValue(out));
        const row = eventToStored(ev); // a fresh object: the stored outcome goes on it, no copy
        row.outcome = out as Record<string, unknown>;
        pending.push(row);
        return true;
      };
      let state: State = initialState();
      let checkpoints = 0;
      let checkpointsSpaced = 0;
      let checkpointBytes = 0;
      let bytesAtCheckpoint = 0;
      while (!finished) {
        const r = yield* foldBatch(state, upTo(seq + CHECKPOINT_INTERVAL), visit).pipe(
          Effect.catchAllDefect((d) => Effect.fail(asFault(d, seq))),
          Effect.mapError((fault) => new ReplayFault({ fault, partial: { events: fault.seq - 1, verified: 0, divergence: null, lastSeq: fault.seq - 1 } })),
        );
        state = r.state;
        yield* storeCall(flush);
        if (!finished && seq % CHECKPOINT_INTERVAL === 0) {
          const bytes = encodeState(state);
          if (checkpointDue(bytes.length, db.bytesAppended - bytesAtCheckpoint) && (yield* storeCall(() => db.putCheckpoint(profile.key, seq, bytes)))) {
            checkpoints++;
            checkpointBytes += bytes.length;
            bytesAtCheckpoint = db.bytesAppended;
          } else checkpointsSpaced++;
        }
        opts.progress?.(seq, Math.max(seq, estimate));
      }
      const eventBytes = db.bytesAppended;
      yield* storeCall(() => {
        db.commitFile();
        db.close();
      });
      return { events: seq, checkpoints, checkpointsSpaced, bytes: statSync(output).size, eventBytes, checkpointBytes, header };
    });
    return yield* work.pipe(
      Effect.provideService(ProfileService, profile),
      Effect.onExit((exit) => (Exit.isFailure(exit) ? Effect.sync(() => db.abandon()) : Effect.void)),
    );
  });
}

/** A scenario step the model refused, raised inside the fold: reported as the fault of the event it came after. */
class ScenarioStep extends Error {
  constructor(
    readonly seq: number,
    message: string,
  ) {
    super(message);
  }
}

/** A throw out of the scenario or the parser while the fold pulls events: a fault naming the event. */
function asFault(d: unknown, seq: number): SimulatorFault {
  if (d instanceof ScenarioStep)
    return new SimulatorFault({ seq: d.seq - 1, op: "record", kind: "internal", message: `scenario: after event ${d.seq - 1}: ${d.message}` });
  if (d instanceof EventError)
    return new SimulatorFault({ seq: seq + 1, op: "record", kind: "internal", message: `scenario yielded a bad event: field ${d.field}: ${d.message}` });
  return new SimulatorFault({ seq: seq + 1, op: "record", kind: "internal", message: `internal error: ${(d as Error)?.stack ?? String(d)}` });
}
