// docs/architecture.md "Bad input": a rejected import leaves nothing half-written (the target
// is unchanged or not created); "Store": appends in batched transactions.

import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StoreError, TraceDb, isTraceDbPath } from "../../src/store/tracedb.ts";
import { HEADER, makeTrace, sampleEvents, scratchDir, storeError } from "./helpers.ts";

describe("build then rename (docs/architecture.md Bad input: nothing half-written)", () => {
  it("nothing appears at the path until commitFile()", () => {
    const dir = scratchDir();
    const path = join(dir, "t.db");
    const db = TraceDb.create(path, HEADER);
    db.append(sampleEvents(10));
    expect(existsSync(path)).toBe(false);
    db.commitFile();
    expect(existsSync(path)).toBe(true);
    db.append(sampleEvents(5, 11)); // still usable, now on the final file
    db.close();
    expect(readdirSync(dir)).toEqual(["t.db"]);
    expect(TraceDb.open(path).count()).toBe(15);
  });

  it("create + abandon leaves no file at all", () => {
    const dir = scratchDir();
    const db = TraceDb.create(join(dir, "t.db"), HEADER);
    db.append(sampleEvents(100));
    db.abandon();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("close() without commitFile() abandons too", () => {
    const dir = scratchDir();
    const db = TraceDb.create(join(dir, "t.db"), HEADER);
    db.append(sampleEvents(3));
    db.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("a failed import keeps an existing target byte for byte", () => {
    const dir = scratchDir();
    const path = makeTrace(dir, 50);
    const before = readFileSync(path);
    const db = TraceDb.create(path, { ...HEADER, title: "replacement" });
    db.append(sampleEvents(20));
    // The importer meets bad input at event 22 and gives up.
    expect(() => db.append([{ seq: 22, op: "open", payload: {} }])).toThrow(StoreError);
    db.abandon();
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dir)).toEqual(["t.db"]);
    const old = TraceDb.open(path);
    expect(old.count()).toBe(50);
    expect(old.header()).toEqual(HEADER);
    old.close();
  });

  it("commitFile() replaces an existing target", () => {
    const dir = scratchDir();
    const path = makeTrace(dir, 50);
    const db = TraceDb.create(path, { ...HEADER, title: "replacement" });
    db.append(sampleEvents(7));
    db.commitFile();
    db.close();
    const now = TraceDb.open(path);
    expect(now.count()).toBe(7);
    expect(now.header().title).toBe("replacement");
    now.verifyChain();
    now.close();
  });
});

describe("append (docs/architecture.md Store: appends in batched transactions)", () => {
  it("rejects a seq that does not continue the log, and the whole batch with it", () => {
    const db = TraceDb.create(join(scratchDir(), "t.db"), HEADER);
    db.append(sampleEvents(10));
    const head = db.headHash();
    const err = storeError(() => db.append([...sampleEvents(2, 11), ...sampleEvents(1, 14)]));
    expect(err.message).toMatch(/event 14: expected event 13 \(appends must continue the log without gaps\)/);
    expect(err.seq).toBe(14);
    expect(err.field).toBe("seq");
    expect(db.count()).toBe(10);
    expect(db.headHash()).toEqual(head);
    expect(() => db.read(11, 11)).toThrow(/event 11: not in this trace/);
    db.append(sampleEvents(3, 11));
    expect(db.count()).toBe(13);
    db.verifyChain();
    db.abandon();
  });

  it("names the event and field of a value msgpack cannot carry", () => {
    const db = TraceDb.create(join(scratchDir(), "t.db"), HEADER);
    const err = storeError(() => db.append([{ seq: 1, op: "ioctl", payload: { ok: 1 }, expect: { too_big: 2n ** 64n } }]));
    expect(err.seq).toBe(1);
    expect(err.field).toBe("expect");
    expect(db.count()).toBe(0);
    db.abandon();
  });

  it("persists shared structures first used by a batch that was rolled back and then retried", () => {
    const path = join(scratchDir(), "t.db");
    const db = TraceDb.create(path, HEADER);
    db.append(sampleEvents(10));
    const fresh = { seq: 11, op: "ioctl", payload: { never: "seen", before: 1 } };
    expect(() => db.append([fresh, { seq: 13, op: "x", payload: {} }])).toThrow(StoreError);
    db.append([fresh]);
    db.commitFile();
    db.close();
    const again = TraceDb.open(path, { readonly: true });
    expect(again.read(11, 11)).toEqual([fresh]);
    again.close();
  });

  it("a read-only trace refuses writes", () => {
    const path = makeTrace(scratchDir(), 3);
    const db = TraceDb.open(path, { readonly: true });
    expect(storeError(() => db.append(sampleEvents(1, 4))).message).toMatch(/opened read-only/);
    expect(() => db.setMeta("profile", "x")).toThrow(/opened read-only/);
    expect(() => db.putCheckpoint("p", 1, new Uint8Array(1))).toThrow(/opened read-only/);
    db.close();
  });

  it("meta keys the store maintains cannot be overwritten", () => {
    const db = TraceDb.create(join(scratchDir(), "t.db"), HEADER);
    for (const key of ["count", "head", "format", "version", "header", "msgpack_structures"]) {
      expect(storeError(() => db.setMeta(key, 1)).field).toBe(key);
    }
    db.setMeta("imported_from", { file: "x.jsonl", lines: 10n });
    expect(db.getMeta("imported_from")).toEqual({ file: "x.jsonl", lines: 10n });
    expect(db.getMeta("absent")).toBeUndefined();
    db.abandon();
  });
});

describe("isTraceDbPath (docs/architecture.md Store: one SQLite file per trace)", () => {
  it("recognises .db names and SQLite files by their magic", () => {
    const dir = scratchDir();
    const path = makeTrace(dir, 1, "trace.iorr");
    expect(isTraceDbPath(path)).toBe(true);
    expect(isTraceDbPath(join(dir, "missing.db"))).toBe(true);
    const jsonl = join(dir, "t.jsonl");
    writeFileSync(jsonl, '{"format":"iorr-trace"}\n');
    expect(isTraceDbPath(jsonl)).toBe(false);
    expect(isTraceDbPath(join(dir, "missing.jsonl"))).toBe(false);
  });
});
