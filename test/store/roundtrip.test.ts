// docs/architecture.md "Store" (msgpack payloads, appends in batched transactions) and "The
// one rule" (the same events give the same bytes on any machine): what is appended comes
// back exactly, also in a later process that only has the file.

import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { GENESIS, chain } from "../../src/store/hash.ts";
import { TraceDb, type StoredEvent } from "../../src/store/tracedb.ts";
import { HEADER, makeTrace, sampleEvents, scratchDir } from "./helpers.ts";

const rich: StoredEvent = {
  seq: 1,
  op: "ioctl",
  payload: {
    pid: 4242,
    cmd: "IOMMU_IOAS_MAP",
    iova: 2n ** 64n - 1n,
    length: 0x20_0000n,
    zero: 0n,
    negative: -(2n ** 63n),
    float: 1.5,
    big_number: 0x7f00_0000_0000,
    flags: [true, false],
    nested: { area: { start: 0x1000n, pages: [1, 2, 3], name: "ram" }, empty: {} },
    bytes: Uint8Array.of(0, 1, 2, 255),
    empty_bytes: new Uint8Array(0),
    text: "päßwörd ✓",
  },
  expect: { errno: "EOVERFLOW", ret: -75 },
  outcome: { ret: 0, out: { pa: 0xfffff000n } },
};

describe("event round trip (docs/architecture.md Store: msgpack payloads)", () => {
  it("keeps bigint up to 2^64-1, nested objects and Uint8Array exactly", () => {
    const path = join(scratchDir(), "rt.db");
    const db = TraceDb.create(path, HEADER);
    db.append([rich]);
    const back = db.read(1, 1)[0]!;
    expect(back).toEqual(rich);
    expect(back.payload.iova).toBe(18446744073709551615n);
    expect(typeof back.payload.big_number).toBe("number");
    expect(back.payload.bytes).toBeInstanceOf(Uint8Array);
    db.commitFile();
    expect(db.read(1, 1)[0]).toEqual(rich);
    db.close();
  });

  it("omits expect and outcome when absent", () => {
    const path = join(scratchDir(), "rt.db");
    const db = TraceDb.create(path, HEADER);
    db.append([{ seq: 1, op: "close", payload: { fd: 3 } }]);
    expect(Object.keys(db.read(1, 1)[0]!)).toEqual(["seq", "op", "payload"]);
    db.abandon();
  });

  it("reopens in a fresh TraceDb: header, count, head and shared structures come from the file", () => {
    const path = join(scratchDir(), "rt.db");
    const events = sampleEvents(1000);
    const db = TraceDb.create(path, HEADER);
    for (let i = 0; i < events.length; i += 300) db.append(events.slice(i, i + 300));
    db.setMeta("profile", ["linux-mainline", "qemu-flts-final"]);
    const head = db.headHash();
    db.commitFile();
    db.close();

    const again = TraceDb.open(path, { readonly: true });
    expect(again.header()).toEqual(HEADER);
    expect(again.meta()).toEqual({ format: "iorr-trace", version: 1, header: HEADER });
    expect(again.count()).toBe(1000);
    expect(again.headHash()).toEqual(head);
    expect(again.getMeta("profile")).toEqual(["linux-mainline", "qemu-flts-final"]);
    expect(again.getMeta("msgpack_structures")).toBeInstanceOf(Array);
    expect(again.read(1, 1000)).toEqual(events);
    again.verifyChain();
    again.close();
  });

  it("appends to a reopened trace reuse its structures and add new ones", () => {
    const dir = scratchDir();
    const path = makeTrace(dir, 10);
    const more: StoredEvent[] = [...sampleEvents(5, 11), { seq: 16, op: "ioctl", payload: { brand: "new", shape: [1n] } }];
    const db = TraceDb.open(path);
    const before = (db.getMeta("msgpack_structures") as string[][]).length;
    db.append(more);
    expect((db.getMeta("msgpack_structures") as string[][]).length).toBe(before + 1);
    db.close();
    const again = TraceDb.open(path, { readonly: true });
    expect(again.read(1, 16)).toEqual([...sampleEvents(10), ...more]);
    again.close();
  });

  it("is decodable by a separate process (structures persisted with the batch)", () => {
    const dir = scratchDir();
    const path = join(dir, "rt.db");
    const db = TraceDb.create(path, HEADER);
    db.append([rich, ...sampleEvents(5, 2)]);
    db.commitFile();
    db.close();
    const script = join(dir, "read.mts");
    const store = pathToFileURL(join(import.meta.dirname, "../../src/store/tracedb.ts")).href;
    writeFileSync(
      script,
      `import { TraceDb } from ${JSON.stringify(store)};
       const db = TraceDb.open(process.argv[2], { readonly: true });
       db.verifyChain();
       const [e] = db.read(1, 1);
       const show = (_k, v) => (typeof v === "bigint" ? v.toString() + "n" : v instanceof Uint8Array ? ["u8", ...v] : v);
       console.log(JSON.stringify([db.count(), e.payload, e.outcome], show));`,
    );
    const out = execFileSync(process.execPath, ["--import", "tsx", script, path], { encoding: "utf8" });
    const show = (_k: string, v: unknown) => (typeof v === "bigint" ? `${v}n` : v instanceof Uint8Array ? ["u8", ...v] : v);
    expect(out.trim()).toBe(JSON.stringify([6, rich.payload, rich.outcome], show));
  });

  it("stores the documented chain over the stored bytes, whatever the batch boundaries", () => {
    const path = join(scratchDir(), "rt.db");
    const events = sampleEvents(2600).map((e) => (e.seq % 5 === 0 ? { ...e, outcome: { ret: e.seq } } : e));
    const db = TraceDb.create(path, HEADER);
    // Uneven batches, one larger than the store's internal encode chunk.
    for (const [lo, hi] of [
      [0, 1],
      [1, 78],
      [78, 2200],
      [2200, 2600],
    ])
      db.append(events.slice(lo, hi));
    db.commitFile();
    const head = db.headHash();
    expect(db.read(1, 2600)).toEqual(events);
    db.close();
    const raw = new Database(path, { readonly: true });
    const rows = raw.prepare("SELECT seq, op, payload, expect, outcome, hash FROM events ORDER BY seq").raw().all() as [
      number,
      string,
      Buffer,
      Buffer | null,
      Buffer | null,
      Buffer,
    ][];
    raw.close();
    let prev = GENESIS;
    for (const [seq, op, payload, expectBytes, outcomeBytes, hash] of rows) {
      prev = chain(prev, seq, op, payload, expectBytes, outcomeBytes);
      expect(Buffer.from(prev).equals(hash)).toBe(true);
    }
    expect(prev).toEqual(head);
  });

  it("streams batches that concatenate to read() of the same range", () => {
    const path = join(scratchDir(), "rt.db");
    const db = TraceDb.create(path, HEADER);
    db.append(sampleEvents(25));
    const chunks = [...db.batches(4, 10)];
    expect(chunks.map((c) => c.length)).toEqual([10, 10, 2]);
    expect(chunks.flat()).toEqual(db.read(4, 25));
    expect([...db.batches(4, 10, 9)].flat()).toEqual(db.read(4, 9));
    expect(db.read(5, 4)).toEqual([]);
    expect(() => db.read(1, 26)).toThrow(/event 26: not in this trace \(it has events 1..25\)/);
    expect(() => db.read(0, 3)).toThrow(/event 0: not in this trace/);
    db.abandon();
  });

  it("reads back any op text exactly, through whole ranges and row by row alike", () => {
    // A range is read packed (its ops inside one text, length-prefixed) when its ops are
    // printable ASCII, else row by row: events 1-20 have ops with the text's separators and
    // digits, 21-40 add a newline, non-ASCII and a NUL.
    const printable = ["open", "a,1,2,", "3,", "-1,x", "close"];
    const any = [...printable, "x\ny", "öp ✓", "nul\0op"];
    const events: StoredEvent[] = Array.from({ length: 40 }, (_, i) => ({
      seq: i + 1,
      op: i < 20 ? printable[i % printable.length]! : any[i % any.length]!,
      payload: { i },
      ...(i % 2 ? { expect: { ret: i } } : {}),
    }));
    const path = join(scratchDir(), "rt.db");
    const db = TraceDb.create(path, HEADER);
    db.append(events);
    db.commitFile();
    db.close();
    const again = TraceDb.open(path, { readonly: true });
    expect(again.read(1, 20)).toEqual(events.slice(0, 20));
    expect(again.read(1, 40)).toEqual(events);
    expect([...again.batches(1, 7)].flat()).toEqual(events);
    expect(again.read(22, 22)).toEqual([events[21]]);
    again.verifyChain();
    again.close();
  });

  it("stores outcomes with their events, chained (a changed outcome breaks the chain)", () => {
    const path = join(scratchDir(), "rt.db");
    const db = TraceDb.create(path, HEADER);
    const events = sampleEvents(3);
    events[1]!.outcome = { ret: 0, new_shape: { id: 7n } };
    db.append(events);
    expect(db.read(2, 2)[0]!.outcome).toEqual({ ret: 0, new_shape: { id: 7n } });
    // Streaming reads (replay) check outcomes but do not decode them.
    expect([...db.batches(2, 1, 2)].flat()[0]!.outcome).toBeUndefined();
    const without = sampleEvents(3);
    const other = TraceDb.create(join(scratchDir(), "other.db"), HEADER);
    other.append(without);
    expect(other.headHash()).not.toEqual(db.headHash());
    other.close();
    db.commitFile();
    db.close();
    const again = TraceDb.open(path);
    expect(again.read(2, 2)[0]!.outcome).toEqual({ ret: 0, new_shape: { id: 7n } });
    again.verifyChain();
    again.close();
  });
});

describe("empty logs (docs/architecture.md Replay: replay folds whatever the log holds)", () => {
  it("reads, streams and verifies a trace with no events", () => {
    const path = join(scratchDir(), "empty.db");
    const db = TraceDb.create(path, HEADER);
    db.commitFile();
    db.close();
    const again = TraceDb.open(path, { readonly: true });
    expect(again.count()).toBe(0);
    expect(again.read(1, 0)).toEqual([]);
    expect([...again.batches(1, 100)]).toEqual([]);
    again.verifyChain();
    again.close();
  });
});
