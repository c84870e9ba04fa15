// Schema migrations: migrations/NNNN_name.sql, applied in order, each in its own
// transaction together with the PRAGMA user_version that records it. user_version is
// the file's schema number; a file from a newer iorr is refused rather than misread.
// A migration whose data change SQL cannot express (re-hashing, say) has a step in code,
// passed by the caller and run in the same transaction after the SQL.

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type BetterSqlite3 from "better-sqlite3";
import { StoreError } from "./errors.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

// Resolved from this source file, so the CLI works from any working directory.
const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));
const FILE_NAME = /^(\d{4})_[A-Za-z0-9_-]+\.sql$/;

let cached: readonly Migration[] | undefined;

/** The shipped migrations, numbered 1..N without gaps (anything else is a build defect). */
export function migrations(dir: string = MIGRATIONS_DIR): readonly Migration[] {
  if (dir === MIGRATIONS_DIR && cached) return cached;
  const list = readdirSync(dir)
    .filter((f) => FILE_NAME.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f, sql: readFileSync(`${dir}/${f}`, "utf8") }));
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${dir}: migration ${m.name} should be numbered ${i + 1}`);
  });
  if (dir === MIGRATIONS_DIR) cached = list;
  return list;
}

export function latestSchema(list: readonly Migration[] = migrations()): number {
  return list.length === 0 ? 0 : list[list.length - 1]!.version;
}

export function schemaVersion(db: BetterSqlite3.Database): number {
  return db.pragma("user_version", { simple: true }) as number;
}

/** Refuses a file written by a newer schema than `list` knows. */
export function checkNotNewer(db: BetterSqlite3.Database, file: string, list: readonly Migration[] = migrations()): number {
  const have = schemaVersion(db);
  const known = latestSchema(list);
  if (have > known) {
    throw new StoreError(file, `written by a newer iorr (schema ${have}, this build knows up to ${known})`);
  }
  return have;
}

/** The code step of a migration: runs after its SQL, inside its transaction; throwing rolls both back. */
export type MigrationStep = (db: BetterSqlite3.Database, version: number) => void;

/** Applies the migrations above the file's user_version; returns the resulting version. */
export function migrate(db: BetterSqlite3.Database, file: string, list: readonly Migration[] = migrations(), step?: MigrationStep): number {
  let have = checkNotNewer(db, file, list);
  for (const m of list) {
    if (m.version <= have) continue;
    // IMMEDIATE: take the write lock before reading, so two openers cannot both apply it.
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      step?.(db, m.version);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
    have = m.version;
  }
  return have;
}
