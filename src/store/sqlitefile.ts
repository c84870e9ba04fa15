// The SQLite side of a trace file that is not about its contents: connection pragmas,
// journal mode at rest, recognising a trace file, and file housekeeping for the
// build-then-rename of TraceDb.create()/commitFile().

import type Database from "better-sqlite3";
import { closeSync, fsyncSync, openSync, readSync, rmSync } from "node:fs";
import { extname } from "node:path";

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/**
 * Pragmas for every writable connection. WAL + synchronous=NORMAL: a commit is one
 * sequential append to the WAL with no fsync. A killed process loses no committed
 * transaction; a power loss may lose the last few; neither corrupts the file. The rest
 * only trade memory for speed.
 */
export function tunePragmas(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("temp_store = MEMORY");
  db.pragma("cache_size = -65536");
}

/** Extra pragmas for a file being built, before anything is written to it. */
export function tuneNewFile(db: Database.Database): void {
  db.pragma("page_size = 8192");
  tunePragmas(db);
  // Fewer, larger checkpoints while bulk-appending; nobody else reads the temp file.
  db.pragma("wal_autocheckpoint = 8192");
}

/**
 * Leaves a closed trace in rollback-journal mode: a single self-contained file, which
 * read-only opens do not litter with -wal/-shm files. Writers switch back to WAL on open.
 * Best effort: another connection still using the file keeps it in WAL mode.
 */
export function restJournal(db: Database.Database): void {
  try {
    db.pragma("busy_timeout = 0"); // never make close() wait for other readers
    db.pragma("journal_mode = DELETE");
  } catch {
    // SQLITE_BUSY: someone else has it open; WAL is as safe, just not as tidy.
  }
}

/** A trace file path: by its `.db` extension, or by the SQLite magic in its first bytes. */
export function isTraceDbPath(path: string): boolean {
  if (extname(path).toLowerCase() === ".db") return true;
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Deletes a database's -wal and -shm files, and the database itself when withMain. */
export function removeDbFiles(path: string, withMain: boolean): void {
  if (withMain) rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
}

/** Makes a rename in `dir` durable. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Not every platform can fsync a directory; the rename itself has happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
