// The SQLite side of a trace file that is not about its contents: connection pragmas,
// journal mode at rest, recognising a trace file, and file housekeeping for the
// build-then-rename of TraceDb.create()/commitFile().

import Database from "better-sqlite3";
import { accessSync, closeSync, constants, fsyncSync, openSync, readdirSync, readSync, rmSync, statSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { StoreError, fsMessage } from "./errors.ts";

const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");
// The SQLite file header; a database file is at least this long (one page, in fact).
const SQLITE_HEADER_BYTES = 100;
// Header bytes 18 and 19: file format write/read version, 2 in WAL mode.
const WAL_VERSION_OFFSET = 18;
// `${target}.tmp-${pid}`: a trace being built (TraceDb.create) by process pid.
const TEMP_SUFFIX = /\.tmp-(\d+)$/;

export function tempPathFor(target: string): string {
  return `${target}.tmp-${process.pid}`;
}

/** The first bytes of a file (fewer when it is shorter). */
function head(path: string, n: number): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses, in the user's terms, a path that cannot be a trace database before SQLite
 * sees it: missing, a directory, unreadable, empty or cut short, or a temporary file
 * left by an interrupted import.
 */
export function checkTraceFile(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new StoreError(path, "is a directory, not a trace");
    size = st.size;
    accessSync(path, constants.R_OK);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(path, fsMessage(err));
  }
  if (TEMP_SUFFIX.test(path)) throw new StoreError(path, "a temporary file of an import that did not finish, not a trace; import the trace again");
  if (size === 0) throw new StoreError(path, "empty file, not an iorr trace");
  if (size < SQLITE_HEADER_BYTES) {
    const bytes = head(path, size);
    if (extname(path).toLowerCase() === ".db" || SQLITE_MAGIC.subarray(0, bytes.length).equals(bytes.subarray(0, SQLITE_MAGIC.length)))
      throw new StoreError(
        path,
        `truncated: ${size} byte${size === 1 ? "" : "s"}, shorter than the ${SQLITE_HEADER_BYTES}-byte header every trace database starts with`,
      );
  }
}

/** Refuses an output path that cannot take a new trace: a directory, a missing or unwritable directory. */
export function checkOutputPath(path: string): void {
  const dir = dirname(path);
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = statSync(path);
  } catch {
    // Absent: the usual case.
  }
  if (st?.isDirectory()) throw new StoreError(path, "is a directory; give the path of the file to write");
  try {
    if (!statSync(dir).isDirectory()) throw new StoreError(path, `cannot write here: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new StoreError(path, code === "ENOENT" ? `cannot write here: directory ${dir} does not exist` : `cannot write in ${dir}: ${fsMessage(err)}`);
  }
}

/**
 * Removes what interrupted builds of `target` left beside it (the temporary database and
 * its -wal/-shm files), when the process that was writing them is gone.
 */
export function removeStaleTemps(target: string): void {
  const dir = dirname(target);
  const base = basename(target);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(`${base}.tmp-`)) continue;
    // The database itself, or its -wal/-shm/-journal beside it.
    const db = name.replace(/-(wal|shm|journal)$/, "");
    const m = TEMP_SUFFIX.exec(db);
    if (!m || db !== `${base}${m[0]}`) continue;
    if (processAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return false; // a leftover of this very process (an earlier failed build)
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A trace left in WAL mode (by an older iorr, or a writer that did not close) is put
 * back in rollback-journal mode before a read-only open, which would otherwise create
 * -wal/-shm files beside it. Best effort: an unwritable file is read as it is.
 */
export function leaveWal(path: string): void {
  let bytes: Buffer;
  try {
    bytes = head(path, SQLITE_HEADER_BYTES);
  } catch {
    return;
  }
  if (bytes.length < SQLITE_HEADER_BYTES || !bytes.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC) || bytes[WAL_VERSION_OFFSET] !== 2) return;
  try {
    const db = new Database(path, { fileMustExist: true });
    try {
      restJournal(db);
    } finally {
      db.close();
    }
  } catch {
    // Read-only file or directory, or a writer holds it: read it in WAL mode.
  }
}

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

/**
 * A trace file path: by its `.db` extension, or by the SQLite magic in its first bytes (a
 * file holding only the start of the magic is a database cut short, and said so).
 */
export function isTraceDbPath(path: string): boolean {
  if (extname(path).toLowerCase() === ".db") return true;
  try {
    const bytes = head(path, SQLITE_MAGIC.length);
    return bytes.length > 0 && bytes.equals(SQLITE_MAGIC.subarray(0, bytes.length));
  } catch {
    return false;
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
