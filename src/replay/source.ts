// Where events come from: a JSONL file (parsed into memory) or a trace
// database. Both are the same service to the replay engine, so every command
// accepts either, and tests can run the engine on events built in memory.

import { Context, Effect, Layer } from "effect";
import { checkHeader, readJsonlTrace, type TraceHeader } from "../trace/jsonl.ts";
import type { TraceEvent } from "../model/events.ts";
import { BadInput } from "../model/framework.ts";
import { StoreError, TraceDb, isTraceDbPath, type StoredEvent } from "../store/tracedb.ts";

export interface TraceSource {
  readonly file: string;
  readonly header: TraceHeader;
  readonly count: number;
  /** Warnings found while reading (fields version 1 does not define). */
  readonly warnings: readonly string[];
  /** Events fromSeq..toSeq inclusive, in batches. */
  batches(fromSeq: number, toSeq: number, batchSize: number): Iterable<TraceEvent[]>;
  /** Checkpoints kept in the file, for the profile key; absent for JSONL. */
  readonly checkpoints?: {
    nearest(profileKey: string, atOrBefore: number): { seq: number; state: Uint8Array } | undefined;
  };
  /** The database behind the source, when there is one. */
  readonly db?: TraceDb;
}

export class Trace extends Context.Tag("iorr/Trace")<Trace, TraceSource>() {}

/** The decoded payload object is fresh per read, so it becomes the event itself (no copy on the replay path). */
export function storedToEvent(e: StoredEvent): TraceEvent {
  const ev = e.payload as TraceEvent;
  ev.seq = e.seq;
  ev.op = e.op;
  if (e.expect !== undefined) ev.expect = e.expect;
  return ev;
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

export function storeErrorToBadInput(e: unknown): BadInput {
  // The store's detail already names the event and field where there is one.
  if (e instanceof StoreError) return new BadInput({ file: e.file, message: e.detail });
  if (e instanceof BadInput) return e;
  throw e;
}

export function dbSource(db: TraceDb, file: string): TraceSource {
  const header = checkHeader(db.header(), file);
  return {
    file,
    header,
    count: db.count(),
    warnings: [],
    db,
    *batches(fromSeq, toSeq, batchSize) {
      try {
        for (const batch of db.batches(fromSeq, batchSize, toSeq)) yield batch.map(storedToEvent);
      } catch (e) {
        throw storeErrorToBadInput(e);
      }
    },
    checkpoints: {
      nearest: (key, at) => {
        try {
          return db.nearestCheckpoint(key, at);
        } catch (e) {
          throw storeErrorToBadInput(e);
        }
      },
    },
  };
}

/** Open a trace by path: a database (by extension or SQLite magic) or a JSONL file. */
export function openSource(file: string, opts: { readonly?: boolean } = {}): TraceSource {
  if (isTraceDbPath(file)) {
    let db: TraceDb;
    try {
      db = TraceDb.open(file, { readonly: opts.readonly ?? true });
    } catch (e) {
      throw storeErrorToBadInput(e);
    }
    try {
      return dbSource(db, file);
    } catch (e) {
      db.close();
      throw e;
    }
  }
  const t = readJsonlTrace(file);
  return memorySource(file, t.header, t.events, t.warnings);
}

/** The Trace service for a path, closed when the program using it ends. */
export function traceLayer(file: string, opts: { readonly?: boolean } = {}): Layer.Layer<Trace, BadInput> {
  return Layer.scoped(
    Trace,
    Effect.acquireRelease(
      Effect.try({ try: () => openSource(file, opts), catch: (e) => (e instanceof BadInput ? e : storeErrorToBadInput(e)) }),
      (src) => Effect.sync(() => src.db?.close()),
    ),
  );
}
