// What the commands share: the shape of a command, opening a trace with its
// profile, running an Effect program with the trace and profile services.

import { Effect, Either, Layer } from "effect";
import { BadInput, ProfileService } from "../model/framework.ts";
import { ProfileError, resolveProfile, splitSpec, type Profile } from "../profiles/profile.ts";
import type { TraceEvent } from "../model/events.ts";
import type { ReplayFault } from "../replay/engine.ts";
import { openSource, storeCall, Trace, type TraceSource } from "../replay/source.ts";
import type { CheckpointStatus } from "../store/tracedb.ts";
import type { ArgSpec, Parsed } from "./args.ts";
import type { Progress } from "./progress.ts";
import { TraceFault, type Done, type Failure, type Output } from "./report.ts";

export { EXIT } from "./report.ts";

/** A command: its arguments (every command also takes --json) and what it does with them. */
export interface Command extends ArgSpec {
  summary: string;
  /** The exit status of any failure (bad input, a fault, a defect) instead of 2 or 3: `git bisect run` wants 125. */
  failureStatus?: number;
  run(a: Parsed, out: Output): Effect.Effect<Done, Failure>;
}

/** --profile on the command line wins over the trace header, which wins over the default. */
export function profileFor(
  command: string,
  flag: string | true | undefined,
  trace: { file: string; header: { profile?: string | string[] } } | undefined,
): Either.Either<Profile, BadInput> {
  try {
    if (flag !== undefined) {
      if (flag === true) throw new ProfileError("", "needs a value");
      return Either.right(resolveProfile(splitSpec(flag)));
    }
    const p = trace?.header.profile;
    return Either.right(resolveProfile(p === undefined ? undefined : typeof p === "string" ? [p] : p));
  } catch (e) {
    if (e instanceof ProfileError)
      return Either.left(
        flag !== undefined || !trace
          ? new BadInput({ file: `iorr ${command}`, field: "--profile", message: e.message })
          : new BadInput({ file: trace.file, field: "profile", message: `in the header: ${e.message}` }),
      );
    throw e;
  }
}

/** Open a trace (JSONL or database) for the length of `use`, its warnings reported, closing it however `use` ends. */
export function usingTrace<A, E>(file: string, out: Output, use: (src: TraceSource) => Effect.Effect<A, E>): Effect.Effect<A, E | BadInput> {
  return Effect.acquireUseRelease(
    Effect.tap(openSource(file), (src) =>
      Effect.sync(() => {
        for (const w of src.warnings) out.warn(w);
      }),
    ),
    use,
    (src) => Effect.sync(() => src.db?.close()),
  );
}

/** Provide a trace and a profile to a program. */
export function withTrace<A, E>(src: TraceSource, profile: Profile, program: Effect.Effect<A, E, Trace | ProfileService>): Effect.Effect<A, E> {
  return program.pipe(Effect.provide(Layer.merge(Layer.succeed(Trace, src), Layer.succeed(ProfileService, profile))));
}

/** The simulator stopped at an event: a TraceFault carrying the command's figures so far. */
export function stopped(file: string, f: ReplayFault, figures: Record<string, unknown> = {}): TraceFault {
  return new TraceFault({ file, fault: f.fault, figures });
}

/** Every event of a trace, reading (and so verifying) a database as it goes. */
export function readAll(src: TraceSource, progress?: Progress): Effect.Effect<TraceEvent[], BadInput> {
  return storeCall(() => {
    const all: TraceEvent[] = [];
    for (const batch of src.batches(1, src.count, 10_000)) {
      for (const ev of batch) all.push(ev);
      progress?.update(all.length, src.count);
    }
    return all;
  }).pipe(Effect.ensuring(Effect.sync(() => progress?.done())));
}

/** Corrupt checkpoints as one line: where they are and what rebuilds them; undefined when all hold. */
export function corruptCheckpoints(file: string, status: readonly CheckpointStatus[]): string | undefined {
  const bad = status.filter((c) => !c.ok);
  if (bad.length === 0) return undefined;
  const where = bad.map((c) => `event ${c.seq}`).join(", ");
  return `${bad.length} of ${status.length} checkpoints are corrupt (after ${where}); rebuild them with: iorr checkpoints --rebuild ${file}`;
}

/**
 * A command that reads a whole database (replay, export, info) checks its checkpoints too,
 * states one at a time: reading a whole file checks the whole file.
 */
export function checkCheckpoints(src: TraceSource): Effect.Effect<void, BadInput> {
  const db = src.db;
  if (!db) return Effect.void;
  return Effect.flatMap(
    storeCall(() => db.checkpointStatus()),
    (status) => {
      const problem = corruptCheckpoints(src.file, status);
      return problem ? Effect.fail(new BadInput({ file: src.file, field: "checkpoint", message: problem })) : Effect.void;
    },
  );
}
