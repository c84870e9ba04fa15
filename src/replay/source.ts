// Where events come from: a JSONL file (parsed into memory) or a trace
// database. Both are the same service to the replay engine, so every command
// accepts either, and tests can run the engine on events built in memory.

import { Context, Effect } from "effect";
import { statSync } from "node:fs";
import { checkHeader, readJsonlTrace, type TraceHeader } from "../trace/jsonl.ts";
import { EventError, type TraceEvent } from "../model/events.ts";
import { BadInput } from "../model/framework.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { StoreError, TraceDb, isTraceDbPath, type StoredEvent } from "../store/tracedb.ts";

export interface TraceSource {
  readonly file: string;
  readonly header: TraceHeader;
  readonly count: number;
  /** Warnings found while reading (a header key kept as metadata that looks like a misspelt known key). */
  readonly warnings: readonly string[];
  /** Events fromSeq..toSeq inclusive, in batches; a database's throw StoreError when corrupt (read them through storeCall). */
  batches(fromSeq: number, toSeq: number, batchSize: number): Iterable<TraceEvent[]>;
  /** Checkpoints kept in the file, for the profile key (throws StoreError when one is corrupt); absent for JSONL. */
  readonly checkpoints?: {
    nearest(profileKey: string, atOrBefore: number): { seq: number; state: Uint8Array } | undefined;
  };
  /** The database behind the source, when there is one. */
  readonly db?: TraceDb;
}

export class Trace extends Context.Tag("iorr/Trace")<Trace, TraceSource>() {}

/**
 * A stored event, validated as a JSONL line is (src/model/events.ts): the chain proves
 * the bytes are those written, not that the writer wrote a valid event, so a payload
 * that is not one is bad input naming the event and field, never a simulator fault.
 */
export function storedToEvent(e: StoredEvent, file: string): TraceEvent {
  const raw = e.payload;
  raw.op = e.op;
  if (e.expect !== undefined) raw.expect = e.expect;
  try {
    return parseTraceEvent(raw, e.seq);
  } catch (err) {
    if (err instanceof EventError) throw new StoreError(file, err.message, e.seq, err.field);
    throw err;
  }
}

export function eventToStored(ev: TraceEvent): StoredEvent {
  const { seq, op, expect, ...payload } = ev;
  return expect === undefined ? { seq, op, payload } : { seq, op, payload, expect };
}

export function memorySource(file: string, header: TraceHeader, events: readonly TraceEvent[], warnings: readonly string[] = []): TraceSource {
  return {
    file,
    header,
    count: events.length,
    warnings,
    *batches(fromSeq, toSeq, batchSize) {
      for (let i = fromSeq; i <= toSeq; i += batchSize) yield events.slice(i - 1, Math.min(toSeq, i + batchSize - 1)) as TraceEvent[];
    },
  };
}

/**
 * A call into the store: a StoreError (a corrupt, truncated or unreadable trace
 * database) is bad input, the typed failure; anything else is a defect of the
 * simulator. The store throws its own error so that it needs no Effect.
 */
export function storeCall<A>(f: () => A): Effect.Effect<A, BadInput> {
  return Effect.suspend(() => {
    try {
      return Effect.succeed(f());
    } catch (e) {
      if (e instanceof StoreError)
        return Effect.fail(
          new BadInput({
            file: e.file,
            message: e.problem,
            ...(e.seq !== undefined ? { seq: e.seq } : {}),
            ...(e.field !== undefined ? { field: e.field } : {}),
          }),
        );
      return Effect.die(e);
    }
  });
}

/** A source over a trace database; its batches and checkpoints throw StoreError (see storeCall). */
export function dbSource(db: TraceDb, file: string): Effect.Effect<TraceSource, BadInput> {
  return Effect.gen(function* () {
    const header = yield* checkHeader(yield* storeCall(() => db.header()), file);
    return {
      file,
      header,
      count: db.count(),
      warnings: [],
      db,
      *batches(fromSeq, toSeq, batchSize) {
        for (const batch of db.batches(fromSeq, batchSize, toSeq)) yield batch.map((e) => storedToEvent(e, file));
      },
      checkpoints: { nearest: (key, at) => db.nearestCheckpoint(key, at) },
    };
  });
}

/** Is `file` a directory? Any other trouble (missing, unreadable) is the open's to report. */
function isDirectory(file: string): boolean {
  try {
    return statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Open a trace by path: a database (by extension or SQLite magic) or a JSONL file. */
export function openSource(file: string, opts: { readonly?: boolean } = {}): Effect.Effect<TraceSource, BadInput> {
  // Said before SQLite would call it a disk I/O error.
  if (isDirectory(file)) return Effect.fail(new BadInput({ file, message: "is a directory" }));
  if (!isTraceDbPath(file)) return Effect.map(readJsonlTrace(file), (t) => memorySource(file, t.header, t.events, t.warnings));
  return Effect.flatMap(
    storeCall(() => TraceDb.open(file, { readonly: opts.readonly ?? true })),
    (db) => dbSource(db, file).pipe(Effect.tapError(() => Effect.sync(() => db.close()))),
  );
}
