// docs/architecture.md "Bad input" (reject with a message naming the file, the event and the
// field; never half-read) and "Store" (a newer schema or a broken hash chain is a clear
// error naming the first bad event).

import Database from "better-sqlite3";
import { readFileSync, truncateSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeMeta } from "../../src/store/codec.ts";
import { chain } from "../../src/store/hash.ts";
import { latestSchema } from "../../src/store/migrations.ts";
import { TraceDb } from "../../src/store/tracedb.ts";
import { makeTrace, scratchDir, storeError, writeMeta } from "./helpers.ts";

/** Edits a committed trace behind the store's back. */
function tamper(path: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path);
  edit(db);
  db.close();
}

describe("hash chain (docs/architecture.md Store: a broken chain names the first bad event)", () => {
  it("detects a modified payload and names its seq", () => {
    const path = makeTrace(scratchDir(), 1000);
    tamper(path, (db) => {
      const p = db.prepare("SELECT payload FROM events WHERE seq = 500").pluck().get() as Buffer;
      p[p.length - 1]! ^= 1;
      db.prepare("UPDATE events SET payload = ? WHERE seq = 500").run(p);
    });
    const db = TraceDb.open(path, { readonly: true });
    const err = storeError(() => db.read(1, 1000));
    expect(err.message).toBe(`${path}: event 500: hash chain broken (the event or an earlier one was modified)`);
    expect(err.seq).toBe(500);
    expect(err.file).toBe(path);
    expect(storeError(() => db.verifyChain()).seq).toBe(500);
    expect(storeError(() => [...db.batches(1, 64)]).seq).toBe(500);
    expect(db.read(1, 499)).toHaveLength(499);
    db.close();
  });

  it("detects a modified hash, at that event or (reading from after it) the next", () => {
    const path = makeTrace(scratchDir(), 1000);
    tamper(path, (db) => db.prepare("UPDATE events SET hash = ? WHERE seq = 700").run(Buffer.alloc(8, 0xab)));
    const db = TraceDb.open(path, { readonly: true });
    expect(storeError(() => db.verifyChain()).seq).toBe(700);
    expect(storeError(() => db.read(650, 720)).seq).toBe(700);
    expect(storeError(() => db.read(701, 720)).seq).toBe(701);
    db.close();
  });

  it("detects a modified expect and a modified op (both are chained)", () => {
    const path = makeTrace(scratchDir(), 30);
    tamper(path, (db) => {
      db.prepare("UPDATE events SET expect = ? WHERE seq = 4").run(encodeMeta({ fd: 4 }));
      db.prepare("UPDATE events SET op = 'ioctl' WHERE seq = 9").run();
    });
    const db = TraceDb.open(path, { readonly: true });
    expect(storeError(() => db.read(1, 30)).seq).toBe(4);
    expect(storeError(() => db.read(5, 30)).seq).toBe(9);
    db.close();
  });

  it("detects a rewritten last event through the head kept in meta, at open", () => {
    const path = makeTrace(scratchDir(), 10);
    tamper(path, (db) => db.prepare("UPDATE events SET hash = ? WHERE seq = 10").run(Buffer.alloc(8)));
    expect(storeError(() => TraceDb.open(path)).message).toMatch(/event 10: hash chain broken/);
  });
});

describe("damaged files (docs/architecture.md Bad input: name the file, never half-read)", () => {
  it("a file cut in half is reported as corrupt, naming the file", () => {
    const path = makeTrace(scratchDir(), 3000);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const err = storeError(() => {
      const db = TraceDb.open(path);
      db.verifyChain();
    });
    expect(err.file).toBe(path);
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/corrupt or truncated/);
  });

  it("rows missing at the end: names the first missing event", () => {
    const path = makeTrace(scratchDir(), 100);
    tamper(path, (db) => db.prepare("DELETE FROM events WHERE seq > 90").run());
    const err = storeError(() => TraceDb.open(path));
    expect(err.message).toBe(`${path}: event 91: truncated log: this event and those after it are missing (meta records 100 events, the last row is event 90)`);
    expect(err.seq).toBe(91);
  });

  it("a row missing in the middle: named when read", () => {
    const path = makeTrace(scratchDir(), 100);
    tamper(path, (db) => db.prepare("DELETE FROM events WHERE seq = 50").run());
    const db = TraceDb.open(path, { readonly: true });
    expect(storeError(() => db.read(40, 60)).message).toMatch(/event 50: missing from the log/);
    expect(storeError(() => db.read(51, 60)).seq).toBe(50);
    expect(storeError(() => db.verifyChain()).seq).toBe(50);
    db.close();
  });

  it("a payload that does not decode names the event and the field", () => {
    const path = makeTrace(scratchDir(), 12);
    // A valid chain over bytes that end mid-map: only decoding fails.
    tamper(path, (db) => {
      const rows = db.prepare("SELECT seq, op, payload, expect FROM events ORDER BY seq").raw().all() as [number, string, Buffer, Buffer | null][];
      let prev: Uint8Array = new Uint8Array(8);
      const update = db.prepare("UPDATE events SET payload = ?, hash = ? WHERE seq = ?");
      for (const [seq, op, payload, expect] of rows) {
        const p = seq === 7 ? Buffer.from([0x82, 0xa1]) : payload;
        prev = chain(prev, seq, op, p, expect, null);
        update.run(p, prev, seq);
      }
      writeMeta(db, "head", prev);
    });
    const db = TraceDb.open(path, { readonly: true });
    const err = storeError(() => db.read(1, 12));
    expect(err.seq).toBe(7);
    expect(err.field).toBe("payload");
    expect(err.message).toMatch(/event 7: payload cannot be decoded/);
    db.close();
  });

  it("lost shared structures make payloads undecodable, reported per event", () => {
    const path = makeTrace(scratchDir(), 5);
    tamper(path, (db) => db.prepare("DELETE FROM meta WHERE key = 'msgpack_structures'").run());
    const db = TraceDb.open(path, { readonly: true });
    const err = storeError(() => db.verifyChain());
    expect(err.seq).toBe(1);
    expect(err.field).toBe("payload");
    db.close();
  });
});

describe("not a trace (docs/architecture.md Bad input and Store: newer schema is a clear error)", () => {
  it("a missing file", () => {
    const path = join(scratchDir(), "nope.db");
    expect(storeError(() => TraceDb.open(path)).message).toBe(`${path}: no such file`);
  });

  it("a file that is not SQLite (a JSONL trace given by mistake)", () => {
    const path = join(scratchDir(), "trace.jsonl");
    writeFileSync(path, '{"format":"iorr-trace","version":1}\n'.repeat(200));
    expect(storeError(() => TraceDb.open(path)).message).toMatch(/trace\.jsonl: not an SQLite database/);
    expect(readFileSync(path, "utf8").startsWith('{"format"')).toBe(true);
  });

  it("an empty file", () => {
    const path = join(scratchDir(), "empty.db");
    writeFileSync(path, "");
    expect(storeError(() => TraceDb.open(path)).message).toMatch(/empty file, not an iorr trace/);
  });

  it("an SQLite database of some other program", () => {
    const path = join(scratchDir(), "other.db");
    tamper(path, (db) => db.exec("CREATE TABLE songs (title TEXT)"));
    expect(storeError(() => TraceDb.open(path, { readonly: true })).message).toBe(`${path}: an SQLite database, but not an iorr trace (no meta table)`);
    tamper(path, (db) => db.exec("PRAGMA user_version = 1; CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB)"));
    expect(storeError(() => TraceDb.open(path)).message).toMatch(/not an iorr trace \(meta format is missing\)/);
  });

  it("a database in UTF-16 (reads concatenate blobs as UTF-8 text)", () => {
    const path = join(scratchDir(), "utf16.db");
    tamper(path, (db) => {
      db.pragma("encoding = 'UTF-16le'");
      db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB)");
      db.prepare("INSERT INTO meta VALUES ('format', ?)").run(encodeMeta("iorr-trace"));
    });
    expect(storeError(() => TraceDb.open(path)).message).toMatch(/text encoding is UTF-16le; iorr traces are UTF-8/);
  });

  it("a trace written by a newer schema", () => {
    const path = makeTrace(scratchDir(), 3);
    tamper(path, (db) => db.pragma("user_version = 99"));
    expect(storeError(() => TraceDb.open(path)).message).toBe(`${path}: written by a newer iorr (schema 99, this build knows up to ${latestSchema()})`);
    expect(storeError(() => TraceDb.open(path, { readonly: true })).message).toMatch(/schema 99/);
  });
});

describe("StoreError (docs/architecture.md Bad input: name the file, the event and the field)", () => {
  it("carries file, seq and field, and the message without the file as detail", () => {
    const path = makeTrace(scratchDir(), 3);
    const db = TraceDb.open(path);
    const err = storeError(() => db.append([{ seq: 9, op: "open", payload: {} }]));
    expect(err).toMatchObject({ file: path, seq: 9, field: "seq", name: "StoreError" });
    expect(err.message).toBe(`${path}: ${err.detail}`);
    expect(err.detail).toMatch(/^event 9: expected event 4/);
    db.close();
  });
});
