// One trace = one SQLite file (schema in migrations/). TraceDb is the only code that
// reads or writes it: appends in batched transactions with the hash chain of hash.ts
// (payload, expect and outcome of every event), verified reads, checkpoints per profile,
// and meta values, each with its checksum (meta.ts).
//
// A new trace is built in `${path}.tmp-${pid}`, marked unfinished (meta 'incomplete'),
// and renamed into place by commitFile(), so a failed or killed import leaves the target
// as it was; the next create() of that target removes what a killed one left
// (docs/architecture.md "Bad input").

import Database from "better-sqlite3";
import { renameSync } from "node:fs";
import { dirname } from "node:path";
import { EventCodec, decodeMeta, encodeMeta, plain, type Structures } from "./codec.ts";
import { StoreError, fromSqlite } from "./errors.ts";
import { GENESIS, chainInto, chainSlices, keyedHash64, sameHash, sameHashAt } from "./hash.ts";
import { corruptMeta, metaSum, metaSumHolds } from "./meta.ts";
import { checkNotNewer, latestSchema, migrate, schemaVersion } from "./migrations.ts";
import { NOT_PRINTABLE, OpNames, FIELDS_PER_ROW, PACKED_RANGE, readFields } from "./packed.ts";
import {
  checkOutputPath,
  checkTraceFile,
  fsyncDir,
  leaveWal,
  removeDbFiles,
  removeStaleTemps,
  restJournal,
  tempPathFor,
  tuneNewFile,
  tunePragmas,
} from "./sqlitefile.ts";
import { upgradeStep } from "./upgrade.ts";

export { StoreError, fsMessage } from "./errors.ts";
export { checkOutputPath, isTraceDbPath, tuneNewFile, tunePragmas } from "./sqlitefile.ts";

export interface StoredEvent {
  seq: number;
  op: string;
  payload: Record<string, unknown>;
  expect?: Record<string, unknown>;
  outcome?: Record<string, unknown>;
}

export interface TraceMeta {
  format: "iorr-trace";
  version: 1;
  /** The JSONL header object as given. */
  header: Record<string, unknown>;
}

const FORMAT = "iorr-trace";
const TRACE_VERSION = 1;
// Keys TraceDb maintains itself; setMeta() refuses them so the log cannot be desynchronised.
const RESERVED_META = new Set(["format", "version", "header", "count", "head", "msgpack_structures", "incomplete"]);
const VERIFY_CHUNK = 10_000;
// Events encoded ahead of inserting them, and rows per INSERT (see appendChunk); both
// chosen by measurement.
const ENCODE_CHUNK = 1024;
const INSERT_ROWS = 32;
/** The largest checkpoint state stored (see putCheckpoint). */
export const MAX_CHECKPOINT_BYTES = 256 * 1024 * 1024;

/** One stored checkpoint and whether it holds (its state's sum, and the chain value of its event). */
export interface CheckpointStatus {
  profile: string;
  seq: number;
  bytes: number;
  ok: boolean;
}

/** Is this an iorr trace? From schema 2 on, a format marker whose checksum fails is corruption, not another program's file. */
function checkFormat(db: Database.Database, path: string, withSums: boolean): void {
  const row = db
    .prepare(`SELECT value, ${withSums ? "sum" : "NULL"} FROM meta WHERE key = 'format'`)
    .raw()
    .get() as [Buffer | null, Buffer | null] | undefined;
  const bytes = row?.[0];
  if (withSums && row !== undefined && !metaSumHolds("format", row[0], row[1])) throw new StoreError(path, corruptMeta("format"), undefined, "format");
  let format: unknown;
  try {
    format = bytes === undefined || bytes === null ? undefined : decodeMeta(bytes);
  } catch {
    format = "(undecodable)";
  }
  if (format !== FORMAT) {
    throw new StoreError(path, `an SQLite database, but not an iorr trace (meta format is ${JSON.stringify(format) ?? "missing"})`, undefined, "format");
  }
}

/** Per-row columns of a read; the bytes come separately, concatenated (see prepare()). */
type RowInfo = [seq: number, op: string, payloadLen: number, expectLen: number | null, outcomeLen: number | null, hashLen: number];
const NO_BYTES = new Uint8Array(0);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The prepared statements of one connection (commitFile() reopens, so they are rebuilt). */
function prepare(db: Database.Database) {
  return {
    insert: db.prepare("INSERT INTO events (seq, op, payload, expect, outcome, hash) VALUES (?, ?, ?, ?, ?, ?)"),
    insertMany: db.prepare(`INSERT INTO events (seq, op, payload, expect, outcome, hash) VALUES ${Array(INSERT_ROWS).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`),
    // Reads: one statement returns a whole range as three values (see readPacked):
    // better-sqlite3 makes a JS array per row and a Buffer (with its own backing store)
    // per blob, which cost more than everything else in reading an event.
    rangePacked: db.prepare(PACKED_RANGE).raw(true),
    // Row by row, the authority when the packed form does not check out (see readRange).
    rangeInfo: db
      .prepare(
        "SELECT seq, op, octet_length(payload), octet_length(expect), octet_length(outcome), octet_length(hash) FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq",
      )
      .raw(true),
    rangeBytes: db
      .prepare(
        "SELECT CAST(group_concat(CAST(payload || ifnull(expect, x'') || ifnull(outcome, x'') || hash AS TEXT), '' ORDER BY seq) AS BLOB) FROM events WHERE seq BETWEEN ? AND ?",
      )
      .pluck(true),
    hashAt: db.prepare("SELECT hash FROM events WHERE seq = ?").pluck(true),
    lastSeq: db.prepare("SELECT max(seq) FROM events").pluck(true),
    putMeta: db.prepare("INSERT INTO meta (key, value, sum) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, sum = excluded.sum"),
    getMeta: db.prepare("SELECT value, sum FROM meta WHERE key = ?").raw(true),
    allMeta: db.prepare("SELECT key, value, sum FROM meta ORDER BY key").raw(true),
    deleteMeta: db.prepare("DELETE FROM meta WHERE key = ?"),
    putCheckpoint: db.prepare("INSERT OR REPLACE INTO checkpoints (profile, seq, chain, state, sum) VALUES (?, ?, ?, ?, ?)"),
    nearestCheckpoint: db.prepare("SELECT seq, chain, state, sum FROM checkpoints WHERE profile = ? AND seq <= ? ORDER BY seq DESC LIMIT 1").raw(true),
    checkpointSeqs: db.prepare("SELECT seq FROM checkpoints WHERE profile = ? ORDER BY seq").pluck(true),
    checkpointKeys: db.prepare("SELECT profile, seq FROM checkpoints ORDER BY profile, seq").raw(true),
    checkpointRow: db.prepare("SELECT chain, state, sum FROM checkpoints WHERE profile = ? AND seq = ?").raw(true),
    deleteAllCheckpoints: db.prepare("DELETE FROM checkpoints"),
    checkpointCount: db.prepare("SELECT count(*) FROM checkpoints WHERE profile = ?").pluck(true),
    allCheckpointCount: db.prepare("SELECT count(*) FROM checkpoints").pluck(true),
    deleteCheckpoints: db.prepare("DELETE FROM checkpoints WHERE profile = ?"),
  };
}

export class TraceDb {
  private db!: Database.Database;
  private st!: ReturnType<typeof prepare>;
  private readonly codec: EventCodec;
  private n = 0;
  private readonly head = new Uint8Array(8);
  // Scratch chain values, reused so appends and verified reads allocate no hashes.
  private readonly work = new Uint8Array(8);
  private readonly check = new Uint8Array(8);
  // The packed read's per-row fields, and the op names seen.
  private readonly num = new Int32Array(4);
  private readonly ops = new OpNames();
  // One chunk's encoded columns and one statement's arguments, reused across appends.
  private readonly payloads = new Array<Uint8Array>(ENCODE_CHUNK);
  private readonly expects = new Array<Uint8Array | null>(ENCODE_CHUNK);
  private readonly outcomes = new Array<Uint8Array | null>(ENCODE_CHUNK);
  private readonly args = new Array<unknown>(INSERT_ROWS * 6);
  private readonly hashSlots = Array.from({ length: INSERT_ROWS }, () => new Uint8Array(8));
  private closed = false;
  /** Bytes of event rows appended through this handle (payload, expect, outcome, chain value): a recorder spaces its checkpoints by them. */
  bytesAppended = 0;
  // Structures written by the transaction in progress, confirmed once it commits.
  private unconfirmed: Structures | undefined;
  private appendTx!: (events: readonly StoredEvent[]) => number;
  private readTx!: (lo: number, hi: number) => [RowInfo[], Buffer | null];

  private constructor(
    /** The trace's path (also while it is being built under a temporary name). */
    readonly file: string,
    db: Database.Database,
    /** The temporary file while building; undefined once committed or when opened. */
    private tmp: string | undefined,
    readonly readonly: boolean,
  ) {
    this.codec = new EventCodec(() => this.loadStructures());
    this.attach(db);
  }

  static create(path: string, header: Record<string, unknown>): TraceDb {
    let db: Database.Database | undefined;
    let tmp: string | undefined;
    try {
      checkOutputPath(path);
      // What a killed build of this target left behind (its process is gone).
      removeStaleTemps(path);
      tmp = tempPathFor(path);
      removeDbFiles(tmp, true);
      db = new Database(tmp);
      tuneNewFile(db);
      migrate(db, path);
      const t = new TraceDb(path, db, tmp, false);
      db.transaction(() => {
        t.put("incomplete", true);
        t.put("format", FORMAT);
        t.put("version", TRACE_VERSION);
        t.put("header", header);
        t.put("count", 0);
        t.put("head", GENESIS);
      })();
      return t;
    } catch (err) {
      db?.close();
      if (tmp !== undefined) removeDbFiles(tmp, true);
      throw fromSqlite(path, err);
    }
  }

  static open(path: string, opts: { readonly?: boolean } = {}): TraceDb {
    const ro = opts.readonly ?? false;
    checkTraceFile(path);
    let db: Database.Database | undefined;
    try {
      // A file still in WAL mode (written by an older iorr) would get -wal/-shm files beside it.
      if (ro) leaveWal(path);
      db = new Database(path, { readonly: ro, fileMustExist: true });
      // The first statement reads page 1: a non-SQLite or damaged file fails here.
      const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck().get();
      if (!hasMeta) throw new StoreError(path, "an SQLite database, but not an iorr trace (no meta table)");
      // Schema first: a newer iorr may keep its meta differently.
      const schema = checkNotNewer(db, path);
      checkFormat(db, path, schema >= 2);
      // Reads concatenate blobs through TEXT, which is byte-exact only in UTF-8.
      const encoding = db.pragma("encoding", { simple: true });
      if (encoding !== "UTF-8") throw new StoreError(path, `text encoding is ${String(encoding)}; iorr traces are UTF-8`);
      if (schema < latestSchema()) {
        if (ro)
          throw new StoreError(
            path,
            `schema ${schema} predates this build's ${latestSchema()}; upgrade it once with: iorr upgrade ${path}`,
            undefined,
            "schema",
          );
        migrate(db, path, undefined, upgradeStep(path));
      }
      if (!ro) tunePragmas(db);
      const t = new TraceDb(path, db, undefined, ro);
      t.verifyMeta();
      t.loadState();
      return t;
    } catch (err) {
      db?.close();
      throw fromSqlite(path, err);
    }
  }

  // --- meta ---------------------------------------------------------------------------

  meta(): TraceMeta {
    return { format: FORMAT, version: TRACE_VERSION, header: this.header() };
  }

  header(): Record<string, unknown> {
    const h = this.getMeta("header");
    if (!isRecord(h)) throw new StoreError(this.file, "meta 'header' is missing or not an object", undefined, "header");
    return h;
  }

  count(): number {
    return this.n;
  }

  /** The file's schema number (PRAGMA user_version; see migrations/). */
  schemaVersion(): number {
    return this.run(() => schemaVersion(this.db));
  }

  /** The chain value of the last event (genesis for an empty log). */
  headHash(): Uint8Array {
    return this.head.slice();
  }

  setMeta(key: string, value: unknown): void {
    this.writable();
    if (RESERVED_META.has(key)) throw new StoreError(this.file, `meta '${key}' is maintained by the store and cannot be set`, undefined, key);
    this.put(key, value);
  }

  getMeta(key: string): unknown {
    const bytes = this.metaBytes(key);
    if (bytes === undefined) return undefined;
    try {
      return decodeMeta(bytes);
    } catch (err) {
      throw new StoreError(this.file, `meta '${key}' cannot be decoded (${(err as Error).message})`, undefined, key);
    }
  }

  /** A meta value's bytes, checked against its sum; undefined when the key is absent. */
  private metaBytes(key: string): Buffer | undefined {
    const row = this.run(() => this.st.getMeta.get(key)) as [Buffer | null, Buffer | null] | undefined;
    if (row === undefined) return undefined;
    if (!metaSumHolds(key, row[0], row[1])) throw new StoreError(this.file, corruptMeta(key), undefined, key);
    return row[0]!;
  }

  /** Every meta row's checksum (a file with a corrupt header or structure table is refused at open). */
  private verifyMeta(): void {
    for (const [key, value, sum] of this.run(() => this.st.allMeta.all()) as [string, Buffer | null, Buffer | null][]) {
      if (!metaSumHolds(key, value, sum)) throw new StoreError(this.file, corruptMeta(key), undefined, key);
    }
    if (this.metaBytes("incomplete") !== undefined)
      throw new StoreError(
        this.file,
        "an unfinished trace: the import or recording that was writing it was interrupted before it completed; import the trace again",
        undefined,
        "incomplete",
      );
  }

  // --- events -------------------------------------------------------------------------

  /** Appends events numbered count()+1, count()+2, ... in one transaction. */
  append(events: readonly StoredEvent[]): void {
    this.writable();
    if (events.length === 0) return;
    this.unconfirmed = undefined;
    const last = this.run(() => this.appendTx(events));
    this.structuresCommitted();
    this.n = last;
    this.head.set(this.work);
  }

  /**
   * Events fromSeq..toSeq inclusive (empty when toSeq < fromSeq), each checked against
   * the hash chain from the stored hash of event fromSeq-1.
   */
  read(fromSeq: number, toSeq: number): StoredEvent[] {
    const out: StoredEvent[] = [];
    if (!this.checkRange(fromSeq, toSeq)) return out;
    this.readRange(fromSeq, toSeq, this.prevHash(fromSeq), out, true);
    return out;
  }

  /** Streams fromSeq..toSeq (default: the last event) in chunks, verified as read() does, without stored outcomes. */
  *batches(fromSeq: number, batchSize: number, toSeq: number = this.n): Generator<StoredEvent[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    if (!this.checkRange(fromSeq, toSeq)) return;
    const prev = this.prevHash(fromSeq);
    for (let lo = fromSeq; lo <= toSeq; lo += batchSize) {
      const out: StoredEvent[] = [];
      this.readRange(lo, Math.min(toSeq, lo + batchSize - 1), prev, out, false);
      yield out;
    }
  }

  /** Checks the whole log: contiguity, every chain value, every row decodes, meta head. */
  verifyChain(): void {
    const prev = GENESIS.slice();
    for (let lo = 1; lo <= this.n; lo += VERIFY_CHUNK) {
      this.readRange(lo, Math.min(this.n, lo + VERIFY_CHUNK - 1), prev, [], true);
    }
    this.checkTail(prev);
  }

  // --- checkpoints --------------------------------------------------------------------

  /**
   * Stores a replay state taken after event `seq` (0: the initial state). A state over
   * MAX_CHECKPOINT_BYTES is not stored (false): a checkpoint only saves folding time,
   * and SQLite refuses values near 1 GB.
   */
  putCheckpoint(profileKey: string, seq: number, state: Uint8Array): boolean {
    this.writable();
    this.checkSeq(seq, 0);
    if (state.length > MAX_CHECKPOINT_BYTES) return false;
    const chainAt = seq === 0 ? GENESIS : this.hashAt(seq);
    this.run(() => this.st.putCheckpoint.run(profileKey, seq, chainAt, state, keyedHash64(profileKey, state)));
    return true;
  }

  /** The latest checkpoint at or before `atOrBefore`; a corrupt one is refused, never used. */
  nearestCheckpoint(profileKey: string, atOrBefore: number): { seq: number; state: Uint8Array } | undefined {
    const row = this.run(() => this.st.nearestCheckpoint.get(profileKey, atOrBefore)) as [number, Buffer, Buffer, Buffer] | undefined;
    if (!row) return undefined;
    const [seq, chainAt, state, sum] = row;
    if (!this.checkpointHolds(profileKey, seq, chainAt, state, sum)) {
      throw new StoreError(
        this.file,
        `the checkpoint taken after this event is corrupt; rebuild the checkpoints with: iorr checkpoints --rebuild ${this.file}`,
        seq,
        "checkpoint",
      );
    }
    return { seq, state: new Uint8Array(state.buffer, state.byteOffset, state.byteLength) };
  }

  /** Every stored checkpoint, checked one at a time (states are read one by one, never all at once). */
  checkpointStatus(): CheckpointStatus[] {
    const keys = this.run(() => this.st.checkpointKeys.all()) as [string, number][];
    return keys.map(([profile, seq]) => {
      const row = this.run(() => this.st.checkpointRow.get(profile, seq)) as [Buffer, Buffer, Buffer] | undefined;
      const ok = row !== undefined && this.checkpointHolds(profile, seq, row[0], row[1], row[2]);
      return { profile, seq, bytes: row?.[1]?.length ?? 0, ok };
    });
  }

  /** Its profile key and state match its sum, and its chain value is that of its event in this log. */
  private checkpointHolds(profile: unknown, seq: number, chainAt: unknown, state: unknown, sum: unknown): boolean {
    if (typeof profile !== "string") return false;
    if (!(chainAt instanceof Uint8Array && state instanceof Uint8Array && sum instanceof Uint8Array) || !Number.isInteger(seq) || seq < 0 || seq > this.n)
      return false;
    return sameHash(keyedHash64(profile, state), sum) && sameHash(chainAt, seq === 0 ? GENESIS : this.hashAt(seq));
  }

  checkpointSeqs(profileKey: string): number[] {
    return this.run(() => this.st.checkpointSeqs.all(profileKey)) as number[];
  }

  /** Checkpoints stored for one profile key, or for all of them. */
  checkpointCount(profileKey?: string): number {
    const st = this.st;
    return this.run(() => (profileKey === undefined ? st.allCheckpointCount.get() : st.checkpointCount.get(profileKey))) as number;
  }

  /** Deletes the checkpoints of one profile key, or every checkpoint. */
  deleteCheckpoints(profileKey?: string): void {
    this.writable();
    this.run(() => (profileKey === undefined ? this.st.deleteAllCheckpoints.run() : this.st.deleteCheckpoints.run(profileKey)));
  }

  // --- file lifecycle -----------------------------------------------------------------

  /**
   * Moves a file built by create() to its path (replacing any file there), complete
   * (the unfinished marker removed) and in rollback-journal mode: one self-contained
   * file, no -wal/-shm beside it once closed. The trace stays open for reading and appends.
   */
  commitFile(): void {
    const tmp = this.tmp;
    if (tmp === undefined || this.closed) throw new StoreError(this.file, "commitFile(): this trace is not being built");
    try {
      this.st.deleteMeta.run("incomplete");
      this.db.pragma("wal_checkpoint(TRUNCATE)");
      restJournal(this.db);
      this.db.close();
      // A stale WAL left next to the old target would be replayed into the new file.
      removeDbFiles(this.file, false);
      renameSync(tmp, this.file);
      removeDbFiles(tmp, false);
      fsyncDir(dirname(this.file));
    } catch (err) {
      this.closed = true;
      if (this.db.open) this.db.close();
      removeDbFiles(tmp, true);
      this.tmp = undefined;
      throw fromSqlite(this.file, err);
    }
    this.tmp = undefined;
    try {
      // Open for appends (a recording goes on appending to its committed file); close() puts it back in rollback-journal mode.
      const db = new Database(this.file);
      tunePragmas(db);
      this.attach(db);
    } catch (err) {
      this.closed = true;
      throw fromSqlite(this.file, err);
    }
  }

  /** Discards a file being built; for an opened file this is close(). */
  abandon(): void {
    if (!this.closed) {
      this.closed = true;
      if (this.tmp === undefined && !this.readonly) restJournal(this.db);
      this.db.close();
    }
    if (this.tmp !== undefined) {
      removeDbFiles(this.tmp, true);
      this.tmp = undefined;
    }
  }

  /** Closes the file; a file being built and never committed is abandoned. */
  close(): void {
    this.abandon();
  }

  // --- internals ----------------------------------------------------------------------

  private attach(db: Database.Database): void {
    this.db = db;
    this.st = prepare(db);
    this.appendTx = db.transaction((events: readonly StoredEvent[]) => this.appendRows(events));
    const { rangeInfo, rangeBytes } = this.st;
    this.readTx = db.transaction((lo: number, hi: number): [RowInfo[], Buffer | null] => [
      rangeInfo.all(lo, hi) as RowInfo[],
      rangeBytes.get(lo, hi) as Buffer | null,
    ]);
  }

  /** Reads count and head from meta and checks them against the rows present. */
  private loadState(): void {
    const version = this.getMeta("version");
    if (version !== TRACE_VERSION)
      throw new StoreError(this.file, `trace format version ${String(version)} is not supported (expected ${TRACE_VERSION})`, undefined, "version");
    const count = this.getMeta("count");
    const head = this.getMeta("head");
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0)
      throw new StoreError(this.file, "meta 'count' is not an event count", undefined, "count");
    if (!(head instanceof Uint8Array) || head.length !== 8) throw new StoreError(this.file, "meta 'head' is not an 8-byte hash", undefined, "head");
    const last = (this.st.lastSeq.get() as number | null) ?? 0;
    if (last < count) {
      throw new StoreError(
        this.file,
        `truncated log: this event and those after it are missing (meta records ${count} events, the last row is event ${last})`,
        last + 1,
      );
    }
    if (last > count) {
      throw new StoreError(this.file, `the event count in meta (${count}) does not match the events present (last row is event ${last})`, count + 1);
    }
    this.n = count;
    this.head.set(head);
    // Cheap tail check on open; verifyChain() does the whole log.
    this.checkTail(count === 0 ? GENESIS : this.hashAt(count));
  }

  private checkTail(last: Uint8Array): void {
    if (!sameHash(last, this.head)) {
      throw new StoreError(this.file, `hash chain broken (the event or an earlier one was modified)`, this.n);
    }
  }

  private appendRows(events: readonly StoredEvent[]): number {
    const work = this.work;
    work.set(this.head);
    let seq = this.n;
    for (let lo = 0; lo < events.length; lo += ENCODE_CHUNK) {
      seq = this.appendChunk(events, lo, Math.min(events.length, lo + ENCODE_CHUNK), seq);
    }
    this.saveStructures();
    this.put("count", seq);
    this.put("head", work);
    return seq;
  }

  /**
   * Appends events[lo..hi) after event `seq`, chaining in this.work. Validates and
   * encodes the whole chunk before inserting any of it (a few % faster than alternating
   * msgpackr and SQLite, and bad input fails before SQLite work). Inserts INSERT_ROWS rows
   * per statement: better-sqlite3's per-call cost was half the cost of a one-row insert.
   */
  private appendChunk(events: readonly StoredEvent[], lo: number, hi: number, seq: number): number {
    const { insert, insertMany } = this.st;
    const { codec, payloads, expects, outcomes, args, hashSlots } = this;
    let at = seq;
    let field = "payload";
    try {
      for (let i = lo; i < hi; i++) {
        const e = events[i];
        at++;
        if (e?.seq !== at) throw this.fail(`expected event ${at} (appends must continue the log without gaps)`, e?.seq, "seq");
        if (typeof e.op !== "string" || e.op === "") throw this.fail(`op must be a non-empty string`, at, "op");
        if (!isRecord(e.payload)) throw this.fail(`payload must be an object`, at, "payload");
        field = "payload";
        payloads[i - lo] = codec.encode(e.payload);
        field = "expect";
        expects[i - lo] = e.expect === undefined ? null : codec.encode(e.expect);
        field = "outcome";
        outcomes[i - lo] = e.outcome === undefined ? null : codec.encode(e.outcome);
      }
    } catch (err) {
      // StoreErrors pass through; anything else came from the encoder.
      if (err instanceof StoreError) throw err;
      throw this.fail(`${field} cannot be encoded (${(err as Error).message})`, at, field);
    }
    // Each row of a statement needs its own hash array (binding copies at run()).
    let prev = this.work;
    let row = 0;
    at = seq;
    for (let i = lo; i < hi; i++) {
      at++;
      const op = events[i]!.op;
      const payload = payloads[i - lo]!;
      const expect = expects[i - lo]!;
      const hash = hashSlots[row]!;
      this.bytesAppended += payload.length + (expect?.length ?? 0) + (outcomes[i - lo]?.length ?? 0) + 8;
      chainInto(hash, prev, at, op, payload, expect, outcomes[i - lo]!);
      prev = hash;
      const o = row * 6;
      args[o] = at;
      args[o + 1] = op;
      args[o + 2] = payload;
      args[o + 3] = expect;
      args[o + 4] = outcomes[i - lo];
      args[o + 5] = hash;
      if (++row === INSERT_ROWS) {
        insertMany.run(...args);
        row = 0;
      }
    }
    for (let r = 0; r < row; r++) {
      const o = r * 6;
      insert.run(args[o], args[o + 1], args[o + 2], args[o + 3], args[o + 4], args[o + 5]);
    }
    this.work.set(prev);
    return at;
  }

  /**
   * Verifies and decodes rows lo..hi, continuing the chain from `prev` (updated in place).
   * Stored outcomes are decoded only when asked for: replay recomputes them.
   * The packed read is the fast path; whenever it does not check out (a row missing, an
   * op it does not carry, a broken chain, a row that does not decode) the range is read
   * again row by row, which decides and names the fault.
   */
  private readRange(lo: number, hi: number, prev: Uint8Array, out: StoredEvent[], withOutcomes: boolean): void {
    const had = out.length;
    const from = prev.slice();
    try {
      if (this.readPacked(lo, hi, prev, out, withOutcomes)) return;
    } catch (err) {
      if (!(err instanceof StoreError)) throw err;
    }
    out.length = had;
    prev.set(from);
    this.readRows(lo, hi, prev, out, withOutcomes);
  }

  /**
   * readRange() from one statement returning the range packed (src/store/packed.ts).
   * False when the text is not that of every event lo..hi (readRows() decides then).
   */
  private readPacked(lo: number, hi: number, prev: Uint8Array, out: StoredEvent[], withOutcomes: boolean): boolean {
    const st = this.st.rangePacked;
    const [rows, text, body] = this.run(() => st.get(lo, hi), lo) as [number, string | null, Buffer | null];
    if (rows !== hi - lo + 1 || text === null || body === null || NOT_PRINTABLE.test(text)) return false;
    const bytes = plain(body);
    const num = this.num;
    const fields = FIELDS_PER_ROW;
    let at = 0;
    let off = 0;
    for (let seq = lo; seq <= hi; seq++) {
      at = readFields(text, at, num, fields);
      if (at < 0) return false;
      const pLen = num[0]!;
      const eLen = num[1]!;
      const oLen = num[2]!;
      const opLen = num[fields - 1]!;
      const op = this.ops.intern(text, at, opLen);
      at += opLen;
      off = this.takeRow(bytes, off, prev, seq, op, pLen, eLen, oLen, 8, withOutcomes, out);
    }
    return at === text.length && off === bytes.length;
  }

  /**
   * One row of a range's bytes at `off` (payload, expect, outcome, hash; a length < 0 is
   * an absent column): checks its chain value against `prev` (updated), decodes it into
   * `out`, and returns the offset of the next row. The outcome is always checked (it is
   * chained) but decoded only when asked.
   */
  private takeRow(
    bytes: Uint8Array,
    off: number,
    prev: Uint8Array,
    seq: number,
    op: string,
    pLen: number,
    eLen: number,
    oLen: number,
    hLen: number,
    withOutcomes: boolean,
    out: StoredEvent[],
  ): number {
    const eOff = off + pLen;
    const oOff = eOff + (eLen < 0 ? 0 : eLen);
    const hOff = oOff + (oLen < 0 ? 0 : oLen);
    const check = this.check;
    chainSlices(check, prev, seq, op, bytes, off, pLen, bytes, eOff, eLen, bytes, oOff, oLen);
    if (hLen !== 8 || !sameHashAt(check, bytes, hOff)) throw this.fail(`hash chain broken (the event or an earlier one was modified)`, seq);
    prev.set(check);
    const ev: StoredEvent = { seq, op, payload: this.decodeField(bytes, off, pLen, seq, "payload") };
    if (eLen >= 0) ev.expect = this.decodeField(bytes, eOff, eLen, seq, "expect");
    if (withOutcomes && oLen >= 0) ev.outcome = this.decodeField(bytes, oOff, oLen, seq, "outcome");
    out.push(ev);
    return hOff + hLen;
  }

  /** readRange() row by row: each row's columns, then the range's bytes, in one transaction. */
  private readRows(lo: number, hi: number, prev: Uint8Array, out: StoredEvent[], withOutcomes: boolean): void {
    const [rows, body] = this.run(() => this.readTx(lo, hi), lo);
    const bytes = body === null ? NO_BYTES : plain(body);
    let expected = lo;
    let off = 0;
    for (let i = 0; i < rows.length; i++, expected++) {
      const [seq, op, pLen, eLen, oLen, hLen] = rows[i]!;
      if (seq !== expected) throw this.fail("missing from the log", expected);
      // A damaged record can hold a column of another type, or NULL where the schema has none.
      if (typeof op !== "string" || typeof pLen !== "number" || hLen !== 8)
        throw this.fail("corrupt row: its op, payload or hash is missing or not what the schema holds", seq);
      off = this.takeRow(bytes, off, prev, seq, op, pLen, eLen ?? -1, oLen ?? -1, hLen, withOutcomes, out);
    }
    if (expected <= hi) throw this.fail("missing from the log", expected);
  }

  private decodeField(bytes: Uint8Array, start: number, length: number, seq: number, field: string): Record<string, unknown> {
    let value: unknown;
    try {
      value = this.codec.decodeRange(bytes, start, start + length);
    } catch (err) {
      throw this.fail(`${field} cannot be decoded (${(err as Error).message})`, seq, field);
    }
    if (!isRecord(value)) throw this.fail(`${field} is not an object`, seq, field);
    return value;
  }

  /** Chain value before event `seq`: genesis for 1, else the stored hash of seq-1. */
  private prevHash(seq: number): Uint8Array {
    // A copy: the caller advances it in place.
    return new Uint8Array(seq === 1 ? GENESIS : this.hashAt(seq - 1));
  }

  private hashAt(seq: number): Uint8Array {
    const h = this.run(() => this.st.hashAt.get(seq), seq) as unknown;
    if (h === undefined) throw this.fail("missing from the log", seq);
    if (!(h instanceof Uint8Array) || h.length !== 8) throw this.fail("corrupt row: its hash is not 8 bytes", seq);
    return h;
  }

  private loadStructures(): Structures {
    const bytes = this.metaBytes("msgpack_structures");
    if (bytes === undefined) return [];
    const s = decodeMeta(bytes);
    if (!Array.isArray(s)) throw new StoreError(this.file, "meta 'msgpack_structures' is corrupt", undefined, "msgpack_structures");
    return s as Structures;
  }

  /**
   * Writes structures added by this batch; call inside the batch's transaction, and
   * structuresCommitted() after it commits (after a rollback the next batch writes them).
   */
  private saveStructures(): void {
    this.unconfirmed = this.codec.pending();
    if (this.unconfirmed !== undefined) this.put("msgpack_structures", this.unconfirmed);
  }

  private structuresCommitted(): void {
    if (this.unconfirmed !== undefined) this.codec.markSaved(this.unconfirmed);
    this.unconfirmed = undefined;
  }

  private put(key: string, value: unknown): void {
    const bytes = encodeMeta(value);
    this.run(() => this.st.putMeta.run(key, bytes, metaSum(key, bytes)));
  }

  /** False for an empty range; throws for a range reaching outside the log. */
  private checkRange(fromSeq: number, toSeq: number): boolean {
    if (!Number.isInteger(toSeq) || toSeq > this.n) this.checkSeq(toSeq, 0);
    if (toSeq < fromSeq) return false;
    this.checkSeq(fromSeq, 1);
    return true;
  }

  private checkSeq(seq: number, min: number): void {
    if (!Number.isInteger(seq) || seq < min || seq > this.n) {
      throw new StoreError(this.file, `not in this trace (${this.n === 0 ? "it has no events" : `it has events 1..${this.n}`})`, seq);
    }
  }

  private writable(): void {
    if (this.readonly) throw new StoreError(this.file, "opened read-only");
  }

  private fail(message: string, seq?: number, field?: string): StoreError {
    return new StoreError(this.file, message, seq, field);
  }

  /** Runs a database call, reporting SQLite failures (corruption, I/O) as StoreError. */
  private run<T>(fn: () => T, seq?: number): T {
    try {
      return fn();
    } catch (err) {
      throw fromSqlite(this.file, err, seq);
    }
  }
}
