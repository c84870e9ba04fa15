// docs/architecture.md "Replay and time travel": checkpoints every K events, in the file too,
// so a seek costs at most K folds; a damaged checkpoint must be detected, not replayed from.

import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TraceDb } from "../../src/store/tracedb.ts";
import { HEADER, makeTrace, sampleEvents, scratchDir } from "./helpers.ts";

const state = (n: number) => Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + n) & 0xff);

describe("checkpoints (docs/architecture.md Replay: checkpoints in the file, seek from the nearest)", () => {
  it("round trip: the nearest at or before a seq, per profile key", () => {
    const path = makeTrace(scratchDir(), 300);
    const db = TraceDb.open(path);
    for (const seq of [0, 100, 200]) db.putCheckpoint("linux-mainline", seq, state(seq));
    db.putCheckpoint("linux-6.19", 150, state(1));
    expect(db.checkpointSeqs("linux-mainline")).toEqual([0, 100, 200]);
    expect(db.checkpointCount("linux-mainline")).toBe(3);
    expect(db.checkpointCount()).toBe(4);
    expect(db.nearestCheckpoint("linux-mainline", 150)).toEqual({ seq: 100, state: state(100) });
    expect(db.nearestCheckpoint("linux-mainline", 99)?.seq).toBe(0);
    expect(db.nearestCheckpoint("linux-mainline", 300)?.seq).toBe(200);
    expect(db.nearestCheckpoint("linux-6.19", 149)).toBeUndefined();
    expect(db.nearestCheckpoint("linux-6.19", 150)?.state).toEqual(state(1));
    db.putCheckpoint("linux-mainline", 100, state(5)); // replaces
    expect(db.nearestCheckpoint("linux-mainline", 100)?.state).toEqual(state(5));
    db.deleteCheckpoints("linux-mainline");
    expect(db.checkpointSeqs("linux-mainline")).toEqual([]);
    expect(db.checkpointSeqs("linux-6.19")).toEqual([150]);
    db.close();
    const again = TraceDb.open(path, { readonly: true });
    expect(again.nearestCheckpoint("linux-6.19", 1000)).toEqual({ seq: 150, state: state(1) });
    again.close();
  });

  it("refuses a checkpoint past the end of the log", () => {
    const db = TraceDb.create(join(scratchDir(), "t.db"), HEADER);
    db.append(sampleEvents(5));
    expect(() => db.putCheckpoint("p", 6, state(0))).toThrow(/event 6: not in this trace/);
    db.abandon();
  });

  it("a modified state is reported as a corrupt checkpoint", () => {
    const path = makeTrace(scratchDir(), 300);
    const db = TraceDb.open(path);
    db.putCheckpoint("p", 100, state(100));
    db.close();
    const raw = new Database(path);
    const s = raw.prepare("SELECT state FROM checkpoints WHERE seq = 100").pluck().get() as Buffer;
    s[10]! ^= 0xff;
    raw.prepare("UPDATE checkpoints SET state = ? WHERE seq = 100").run(s);
    raw.close();
    const again = TraceDb.open(path);
    expect(() => again.nearestCheckpoint("p", 120)).toThrow(/event 100: the checkpoint taken after this event is corrupt/);
    again.close();
  });

  it("a checkpoint whose chain value does not match the event it follows is corrupt", () => {
    const path = makeTrace(scratchDir(), 300);
    const db = TraceDb.open(path);
    db.putCheckpoint("p", 200, state(200));
    db.close();
    const raw = new Database(path);
    raw.prepare("UPDATE checkpoints SET chain = ? WHERE seq = 200").run(Buffer.alloc(8, 1));
    raw.close();
    const again = TraceDb.open(path);
    expect(() => again.nearestCheckpoint("p", 250)).toThrow(/event 200: the checkpoint taken after this event is corrupt/);
    again.close();
  });
});
