// Append budget (docs/architecture.md "Performance budgets"): TraceDb.append must stay within
// 1.5x of a bare better-sqlite3 insert loop of the same rows. The bare loop gets the rows
// pre-encoded (msgpack + chain hash), one prepared one-row INSERT per row in a single
// transaction, with the same pragmas and schema. The store does its own validation,
// encoding, hashing, batching and commit-by-rename; it wins time back by inserting
// several rows per statement (see TraceDb.appendChunk), which the bare loop does not.
//
// Run alone: node --expose-gc --import tsx tools/bench/append.ts [events] [batch] [reps]

import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { EventCodec } from "../../src/store/codec.ts";
import { GENESIS, chain } from "../../src/store/hash.ts";
import { migrate } from "../../src/store/migrations.ts";
import { TraceDb, tuneNewFile, type StoredEvent } from "../../src/store/tracedb.ts";

/**
 * Events per append() call (one transaction each). Measured 1k..250k: 1k is ~10% slower,
 * 10k and up are level, so 10k, which loses least on a kill -9.
 */
export const APPEND_BATCH = 10_000;

export interface AppendBench {
  bare_ms: number;
  store_ms: number;
  append_ratio: number;
}

function makeEvents(n: number): StoredEvent[] {
  const events: StoredEvent[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const seq = i + 1;
    switch (i % 3) {
      case 0:
        events[i] = { seq, op: "open", payload: { pid: 100, path: "/dev/iommu" }, expect: { fd: 3 } };
        break;
      case 1:
        events[i] = { seq, op: "close", payload: { pid: 100, fd: 3 }, expect: { ret: 0 } };
        break;
      default:
        events[i] = { seq, op: "param", payload: { name: "vfio.pasid_quota", value: 1000 } };
    }
  }
  return events;
}

type Row = [seq: number, op: string, payload: Uint8Array, expect: Uint8Array | null, hash: Uint8Array];

function preEncode(events: readonly StoredEvent[]): Row[] {
  const codec = new EventCodec(() => []);
  let prev = GENESIS;
  return events.map((e) => {
    const payload = codec.encode(e.payload);
    const expect = e.expect === undefined ? null : codec.encode(e.expect);
    prev = chain(prev, e.seq, e.op, payload, expect);
    return [e.seq, e.op, payload, expect, prev];
  });
}

function removeDb(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

function timeBare(rows: readonly Row[], path: string): number {
  const t0 = performance.now();
  const db = new Database(path);
  tuneNewFile(db);
  migrate(db, path);
  // The tightest loop a caller could write: one prepared insert per row, only the columns it has.
  const insert = db.prepare("INSERT INTO events (seq, op, payload, expect, hash) VALUES (?, ?, ?, ?, ?)");
  db.transaction(() => {
    for (const r of rows) {
      insert.run(r[0], r[1], r[2], r[3], r[4]);
    }
  })();
  db.close();
  return performance.now() - t0;
}

function timeStore(events: readonly StoredEvent[], path: string, batch: number): number {
  const t0 = performance.now();
  const t = TraceDb.create(path, { format: "iorr-trace", version: 1, title: "append bench" });
  for (let i = 0; i < events.length; i += batch) t.append(events.slice(i, i + batch));
  t.commitFile();
  t.close();
  return performance.now() - t0;
}

/** One bare run and one store run over the same events; times in ms. */
function measure(events: readonly StoredEvent[], batch: number, dir: string): [bare: number, store: number] {
  const barePath = join(dir, `iorr-bench-bare-${process.pid}.db`);
  const storePath = join(dir, `iorr-bench-store-${process.pid}.db`);
  try {
    removeDb(barePath);
    removeDb(storePath);
    const bare = timeBare(preEncode(events), barePath);
    // The pre-encoded rows are garbage now; collect them (when --expose-gc allows) so
    // the store run does not pay for the bare run's heap.
    (globalThis as { gc?: () => void }).gc?.();
    return [bare, timeStore(events, storePath, batch)];
  } finally {
    removeDb(barePath);
    removeDb(storePath);
  }
}

/**
 * Best of `reps` interleaved runs of each path, after an untimed warm-up (JIT, SQLite and
 * file-system caches): single runs on a small VM vary by +-25%, mostly in file I/O.
 */
export function benchAppend(n = 1_000_000, batch = APPEND_BATCH, reps = 3): AppendBench {
  const dir = tmpdir();
  const events = makeEvents(n);
  measure(events.slice(0, Math.min(n, 50_000)), batch, dir);
  let bare_ms = Infinity;
  let store_ms = Infinity;
  for (let i = 0; i < reps; i++) {
    const [b, s] = measure(events, batch, dir);
    bare_ms = Math.min(bare_ms, b);
    store_ms = Math.min(store_ms, s);
  }
  return { bare_ms: Math.round(bare_ms), store_ms: Math.round(store_ms), append_ratio: Math.round((store_ms / bare_ms) * 100) / 100 };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const n = Number(process.argv[2] ?? 1_000_000);
  const batch = Number(process.argv[3] ?? APPEND_BATCH);
  const reps = Number(process.argv[4] ?? 3);
  console.log(JSON.stringify({ events: n, batch, reps, ...benchAppend(n, batch, reps) }));
}
