// The code step of migration 0002_integrity: a schema 1 file's chain is checked as
// schema 1 computed it, then every event is re-chained over its outcome too (hash.ts
// step 6), meta 'head' and the checkpoints' chain values follow, and every meta row
// gets its checksum. It runs inside the migration's transaction: a broken schema 1
// chain refuses the upgrade and leaves the file as it was.

import type Database from "better-sqlite3";
import { decodeMeta, encodeMeta } from "./codec.ts";
import { StoreError } from "./errors.ts";
import { GENESIS, SCHEMA1_NO_OUTCOME, chainSlices, hash64, keyedHash64, sameHash } from "./hash.ts";
import { metaSum } from "./meta.ts";
import type { MigrationStep } from "./migrations.ts";

const CHUNK = 10_000;
type Row = [seq: number, op: string, payload: Buffer, expect: Buffer | null, outcome: Buffer | null, hash: Buffer];

export function upgradeStep(file: string): MigrationStep {
  return (db, version) => {
    if (version === 2) upgradeTo2(db, file);
  };
}

function upgradeTo2(db: Database.Database, file: string): void {
  const select = db.prepare("SELECT seq, op, payload, expect, outcome, hash FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq").raw(true);
  const update = db.prepare("UPDATE events SET hash = ? WHERE seq = ?");
  const last = (db.prepare("SELECT max(seq) FROM events").pluck().get() as number | null) ?? 0;
  const wanted = new Set(db.prepare("SELECT DISTINCT seq FROM checkpoints").pluck().all() as number[]);
  const rechained = new Map<number, [old: Uint8Array, now: Uint8Array]>([[0, [GENESIS, GENESIS]]]);
  const old = GENESIS.slice();
  const now = GENESIS.slice();
  const check = new Uint8Array(8);
  let expected = 1;
  for (let lo = 1; lo <= last; lo += CHUNK) {
    for (const [seq, op, p, e, o, hash] of select.all(lo, lo + CHUNK - 1) as Row[]) {
      if (seq !== expected) throw new StoreError(file, `cannot upgrade: missing from the log`, expected);
      const eb = e ?? p;
      const ob = o ?? p;
      chainSlices(check, old, seq, op, p, 0, p.length, eb, 0, e ? e.length : -1, ob, 0, SCHEMA1_NO_OUTCOME);
      if (!sameHash(check, hash)) throw new StoreError(file, `cannot upgrade: hash chain broken (the event or an earlier one was modified)`, seq);
      old.set(check);
      chainSlices(now, now, seq, op, p, 0, p.length, eb, 0, e ? e.length : -1, ob, 0, o ? o.length : -1);
      update.run(now, seq);
      if (wanted.has(seq)) rechained.set(seq, [old.slice(), now.slice()]);
      expected++;
    }
  }
  const getMeta = db.prepare("SELECT value FROM meta WHERE key = ?").pluck();
  const head = decodeMeta(getMeta.get("head") as Buffer);
  if (!(head instanceof Uint8Array) || !sameHash(old, head)) throw new StoreError(file, `cannot upgrade: hash chain broken (meta 'head' does not match)`, last);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'head'").run(encodeMeta(now.slice()));
  // A checkpoint follows its event's new chain value only if it matched the old one; else it stays corrupt.
  // A checkpoint that held under schema 1 (its state's plain hash64, its event's old chain value)
  // gets its event's new chain value and a sum over its profile key too; any other stays corrupt.
  const cps = db.prepare("SELECT profile, seq, chain, sum FROM checkpoints").raw(true).all() as [string, number, Buffer, Buffer][];
  const getState = db.prepare("SELECT state FROM checkpoints WHERE profile = ? AND seq = ?").pluck(true);
  const setChain = db.prepare("UPDATE checkpoints SET chain = ?, sum = ? WHERE profile = ? AND seq = ?");
  for (const [profile, seq, chain, sum] of cps) {
    const pair = rechained.get(seq);
    const state = getState.get(profile, seq) as Buffer | null;
    if (pair && state instanceof Uint8Array && sameHash(pair[0], chain) && sameHash(hash64(state), sum))
      setChain.run(pair[1], keyedHash64(profile, state), profile, seq);
  }
  const setSum = db.prepare("UPDATE meta SET sum = ? WHERE key = ?");
  for (const [key, value] of db.prepare("SELECT key, value FROM meta").raw(true).all() as [string, Buffer | null][])
    if (value !== null) setSum.run(metaSum(key, value), key);
}
