// docs/architecture.md "Store" and "Bad input": everything that decides a replay is
// checked (the header and the other meta rows by their checksums, payload, expect and
// stored outcome by the hash chain, checkpoints by theirs); a file left by an
// interrupted import is never read as a trace; bad output paths are plain errors.

import Database from "better-sqlite3";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCHEMA1_NO_OUTCOME, chainSlices, GENESIS, hash64 } from "../../src/store/hash.ts";
import { migrate, migrations } from "../../src/store/migrations.ts";
import { storedToEvent } from "../../src/replay/source.ts";
import { TraceDb } from "../../src/store/tracedb.ts";
import { HEADER, makeTrace, sampleEvents, scratchDir, storeError } from "./helpers.ts";

function tamper(path: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path);
  edit(db);
  db.close();
}

/** The meta value of `key` with one byte changed (its checksum left as it was). */
function flipMeta(path: string, key: string, at: (bytes: Buffer) => number): void {
  tamper(path, (db) => {
    const v = Buffer.from(db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key) as Buffer);
    v[at(v)]! ^= 0x01;
    db.prepare("UPDATE meta SET value = ? WHERE key = ?").run(v, key);
  });
}

describe("meta checksums (migrations/0002_integrity.sql)", () => {
  it("a changed header (profile, title) is refused at open, naming the header", () => {
    const path = makeTrace(scratchDir(), 5);
    flipMeta(path, "header", (v) => v.indexOf("linux-6.19") + 6); // linux-6.19 -> linux-7.19
    const err = storeError(() => TraceDb.open(path, { readonly: true }));
    expect(err.field).toBe("header");
    expect(err.message).toBe(
      `${path}: the trace header (profile, title, ...) (meta 'header') is corrupt: its checksum does not match (the file was modified or damaged)`,
    );
  });

  it("one byte of a field name in the shared-structure table (pid -> qid) is refused, not decoded into other events", () => {
    const path = makeTrace(scratchDir(), 5);
    flipMeta(path, "msgpack_structures", (v) => v.indexOf("pid"));
    const err = storeError(() => TraceDb.open(path, { readonly: true }));
    expect(err.field).toBe("msgpack_structures");
    expect(err.message).toMatch(/the msgpack shared-structure table .* is corrupt/);
  });

  it("the format version and the format marker are covered too", () => {
    for (const key of ["version", "format"]) {
      const path = makeTrace(scratchDir(), 2);
      flipMeta(path, key, (v) => v.length - 1);
      expect(storeError(() => TraceDb.open(path)).field).toBe(key);
    }
  });

  it("a row without a checksum is corrupt, never trusted", () => {
    const path = makeTrace(scratchDir(), 2);
    tamper(path, (db) => db.prepare("UPDATE meta SET sum = NULL WHERE key = 'count'").run());
    expect(storeError(() => TraceDb.open(path)).field).toBe("count");
  });
});

describe("stored outcomes are chained (src/store/hash.ts step 6)", () => {
  it("a changed outcome breaks the chain at its event, for streaming reads (replay) as for full reads", () => {
    const path = join(scratchDir(), "o.db");
    const db = TraceDb.create(path, HEADER);
    db.append(sampleEvents(10).map((e) => ({ ...e, outcome: { ret: 0 } })));
    db.commitFile();
    db.close();
    tamper(path, (raw) => raw.prepare("UPDATE events SET outcome = ? WHERE seq = 6").run(Buffer.from([0x81, 0xa3, 0x72, 0x65, 0x74, 0x01])));
    const again = TraceDb.open(path, { readonly: true });
    expect(storeError(() => [...again.batches(1, 100)]).seq).toBe(6);
    expect(storeError(() => again.read(6, 6)).message).toMatch(/event 6: hash chain broken/);
    again.close();
  });
});

describe("checkpoints (never used when corrupt)", () => {
  it("checkpointStatus() reports each checkpoint; a corrupt one is refused with the command that rebuilds them", () => {
    const path = makeTrace(scratchDir(), 30);
    const db = TraceDb.open(path);
    for (const seq of [0, 10, 20]) db.putCheckpoint("k", seq, Uint8Array.of(seq, 1, 2, 3));
    db.close();
    tamper(path, (raw) => raw.prepare("UPDATE checkpoints SET state = ? WHERE seq = 10").run(Buffer.from([10, 1, 2, 4])));
    const again = TraceDb.open(path, { readonly: true });
    expect(again.checkpointStatus()).toEqual([
      { profile: "k", seq: 0, bytes: 4, ok: true },
      { profile: "k", seq: 10, bytes: 4, ok: false },
      { profile: "k", seq: 20, bytes: 4, ok: true },
    ]);
    expect(again.nearestCheckpoint("k", 25)?.seq).toBe(20);
    const err = storeError(() => again.nearestCheckpoint("k", 15));
    expect(err.message).toBe(
      `${path}: event 10: the checkpoint taken after this event is corrupt; rebuild the checkpoints with: iorr checkpoints --rebuild ${path}`,
    );
    again.close();
  });

  it("a checkpoint moved to another profile key is corrupt (the key is part of its sum)", () => {
    const path = makeTrace(scratchDir(), 30);
    const db = TraceDb.open(path);
    db.putCheckpoint("linux-6.19", 10, Uint8Array.of(1, 2, 3));
    db.close();
    tamper(path, (raw) => raw.prepare("UPDATE checkpoints SET profile = 'linux-6.1' WHERE seq = 10").run());
    const again = TraceDb.open(path, { readonly: true });
    expect(again.checkpointStatus()).toEqual([{ profile: "linux-6.1", seq: 10, bytes: 3, ok: false }]);
    expect(storeError(() => again.nearestCheckpoint("linux-6.1", 10)).seq).toBe(10);
    again.close();
  });

  it("a state too large for SQLite is not stored (a checkpoint only saves folding)", () => {
    const db = TraceDb.open(makeTrace(scratchDir(), 3));
    const huge = { length: 300 * 1024 * 1024 } as Uint8Array; // only its length is looked at before refusing
    expect(db.putCheckpoint("k", 1, huge)).toBe(false);
    expect(db.checkpointCount()).toBe(0);
    db.close();
  });
});

describe("interrupted imports leave nothing that is read as a trace", () => {
  it("a temporary file is refused by name, and a renamed one by its unfinished marker", () => {
    const dir = scratchDir();
    const target = join(dir, "t.db");
    const building = TraceDb.create(target, HEADER);
    building.append(sampleEvents(4));
    const tmp = readdirSync(dir).find((f) => /^t\.db\.tmp-\d+$/.test(f))!;
    expect(storeError(() => TraceDb.open(join(dir, tmp), { readonly: true })).message).toMatch(/a temporary file of an import that did not finish/);
    // Copied away under a trace's name, what it holds is still unfinished.
    writeFileSync(join(dir, "copy.db"), readFileSync(join(dir, tmp)));
    writeFileSync(join(dir, "copy.db-wal"), readFileSync(join(dir, `${tmp}-wal`)));
    const err = storeError(() => TraceDb.open(join(dir, "copy.db"), { readonly: true }));
    expect(err.field).toBe("incomplete");
    expect(err.message).toMatch(/an unfinished trace: the import or recording that was writing it was interrupted/);
    building.abandon();
  });

  it("the next import to a target removes what a killed one left (its process gone)", () => {
    const dir = scratchDir();
    const target = join(dir, "t.db");
    // A dead pid's leftovers: the database and its WAL files.
    for (const suffix of ["", "-wal", "-shm"]) writeFileSync(join(dir, `t.db.tmp-999999${suffix}`), "x");
    // Another target's temp file is not touched.
    writeFileSync(join(dir, "other.db.tmp-999999"), "x");
    const db = TraceDb.create(target, HEADER);
    db.append(sampleEvents(2));
    db.commitFile();
    db.close();
    expect(readdirSync(dir).sort()).toEqual(["other.db.tmp-999999", "t.db"]);
  });

  it("a committed and closed trace is one self-contained file, and read-only opens add none", () => {
    const dir = scratchDir();
    const path = makeTrace(dir, 50);
    expect(readdirSync(dir)).toEqual(["t.db"]);
    const ro = TraceDb.open(path, { readonly: true });
    ro.verifyChain();
    ro.close();
    expect(readdirSync(dir)).toEqual(["t.db"]);
  });

  it("a trace left in WAL mode (older iorr) is put back in rollback mode by a read-only open", () => {
    const dir = scratchDir();
    const path = makeTrace(dir, 5);
    tamper(path, (db) => db.pragma("journal_mode = WAL"));
    expect(readFileSync(path)[18]).toBe(2);
    const ro = TraceDb.open(path, { readonly: true });
    ro.close();
    expect(readdirSync(dir)).toEqual(["t.db"]);
    expect(readFileSync(path)[18]).toBe(1);
  });
});

describe("paths (docs/architecture.md Bad input: plain messages, exit 2)", () => {
  it("an output that is a directory, in a missing directory, or in an unwritable one", () => {
    const dir = scratchDir();
    mkdirSync(join(dir, "sub"));
    expect(storeError(() => TraceDb.create(join(dir, "sub"), HEADER)).message).toBe(`${join(dir, "sub")}: is a directory; give the path of the file to write`);
    expect(storeError(() => TraceDb.create(join(dir, "missing", "t.db"), HEADER)).message).toBe(
      `${join(dir, "missing", "t.db")}: cannot write here: directory ${join(dir, "missing")} does not exist`,
    );
    if (process.getuid?.() !== 0) {
      mkdirSync(join(dir, "ro"));
      chmodSync(join(dir, "ro"), 0o555);
      expect(storeError(() => TraceDb.create(join(dir, "ro", "t.db"), HEADER)).message).toBe(
        `${join(dir, "ro", "t.db")}: cannot write in ${join(dir, "ro")}: permission denied`,
      );
      chmodSync(join(dir, "ro"), 0o755);
    }
    expect(readdirSync(dir).sort()).toEqual(process.getuid?.() !== 0 ? ["ro", "sub"] : ["sub"]);
  });

  it("inputs: a directory, a 1-byte file (truncated, not 'not a trace')", () => {
    const dir = scratchDir();
    expect(storeError(() => TraceDb.open(dir)).message).toBe(`${dir}: is a directory, not a trace`);
    const one = join(dir, "one.db");
    writeFileSync(one, "S");
    expect(storeError(() => TraceDb.open(one)).message).toBe(`${one}: truncated: 1 byte, shorter than the 100-byte header every trace database starts with`);
  });
});

describe("upgrade of a schema 1 file (migrations/0002_integrity.sql)", () => {
  /** A schema 1 trace as iorr wrote it before 0002: no meta sums, the chain without outcomes. */
  function schema1Trace(path: string, corruptAt?: number): void {
    const db = new Database(path);
    migrate(db, path, migrations().slice(0, 1));
    const events = sampleEvents(20);
    const t = TraceDb.create(join(path, "..", "scratch.db"), HEADER);
    t.append(events.map((e) => ({ ...e, outcome: { ret: e.seq } })));
    t.commitFile();
    t.close();
    // Copy rows and meta with the schema 1 chain.
    const src = new Database(join(path, "..", "scratch.db"), { readonly: true });
    const rows = src.prepare("SELECT seq, op, payload, expect, outcome FROM events ORDER BY seq").raw().all() as [
      number,
      string,
      Buffer,
      Buffer | null,
      Buffer | null,
    ][];
    const prev = GENESIS.slice();
    const insert = db.prepare("INSERT INTO events (seq, op, payload, expect, outcome, hash) VALUES (?, ?, ?, ?, ?, ?)");
    for (const [seq, op, p, e, o] of rows) {
      chainSlices(prev, prev, seq, op, p, 0, p.length, e ?? p, 0, e ? e.length : -1, p, 0, SCHEMA1_NO_OUTCOME);
      insert.run(seq, op, seq === corruptAt ? Buffer.concat([p, Buffer.from([0xc0])]) : p, e, o, prev);
    }
    for (const [key, value] of src.prepare("SELECT key, value FROM meta WHERE key != 'head'").raw().all() as [string, Buffer][])
      db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)").run(key, value);
    db.prepare("INSERT INTO meta (key, value) VALUES ('head', ?)").run(Buffer.concat([Buffer.from([0xc4, 8]), prev]));
    // Schema 1 checkpoints: sum = hash64(state). One that holds, one that does not.
    const hash10 = db.prepare("SELECT hash FROM events WHERE seq = 10").pluck().get() as Buffer;
    db.prepare("INSERT INTO checkpoints VALUES ('k', 10, ?, ?, ?)").run(hash10, Buffer.from([1]), hash64(Uint8Array.of(1)));
    db.prepare("INSERT INTO checkpoints VALUES ('j', 10, ?, ?, ?)").run(hash10, Buffer.from([1]), Buffer.from([0]));
    db.close();
    src.close();
  }

  it("a read-only open says how to upgrade; a writable one verifies the old chain and re-chains with outcomes", () => {
    const path = join(scratchDir(), "old.db");
    schema1Trace(path);
    expect(storeError(() => TraceDb.open(path, { readonly: true })).message).toBe(
      `${path}: schema 1 predates this build's 2; upgrade it once with: iorr upgrade ${path}`,
    );
    const db = TraceDb.open(path);
    expect(db.schemaVersion()).toBe(2);
    db.verifyChain();
    expect(db.read(7, 7)[0]!.outcome).toEqual({ ret: 7 });
    // The checkpoint that held follows its event's new chain value; the other stays corrupt.
    expect(db.checkpointStatus().map((c) => [c.profile, c.ok])).toEqual([
      ["j", false],
      ["k", true],
    ]);
    db.close();
    const ro = TraceDb.open(path, { readonly: true });
    ro.verifyChain();
    ro.close();
  });

  it("a schema 1 file whose chain is broken is not upgraded (and stays as it was)", () => {
    const path = join(scratchDir(), "old.db");
    schema1Trace(path, 12);
    const before = readFileSync(path);
    const err = storeError(() => TraceDb.open(path));
    expect(err.seq).toBe(12);
    expect(err.message).toMatch(/event 12: cannot upgrade: hash chain broken/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});

describe("events read from a database are validated as JSONL lines are (src/replay/source.ts)", () => {
  it("a payload the chain vouches for but that is not a valid event is bad input naming event and field", () => {
    const path = join(scratchDir(), "v.db");
    const db = TraceDb.create(path, HEADER);
    // The store checks framing, not meaning: a tool (or a bug) can write this with a valid chain.
    db.append([
      { seq: 1, op: "process", payload: { pid: 1 } },
      { seq: 2, op: "mem.map", payload: { pid: 1, va: 4096n, length: "lots" } },
    ]);
    db.commitFile();
    db.close();
    const ro = TraceDb.open(path, { readonly: true });
    const [first, second] = ro.read(1, 2);
    expect(storedToEvent(first!, path)).toMatchObject({ seq: 1, op: "process", pid: 1 });
    const err = storeError(() => storedToEvent(second!, path));
    expect(err).toMatchObject({ seq: 2, field: "length" });
    expect(err.message).toBe(`${path}: event 2: expected an integer (number, "0x..." or decimal string), got "lots"`);
    ro.close();
  });
});
