// Every problem with a trace file surfaces as a StoreError, so the CLI can print one line
// naming the file (and the event and field when known) and exit with status 2.

export class StoreError extends Error {
  override readonly name = "StoreError";
  /** The message without the file prefix: "event 5: hash chain broken (...)". */
  readonly detail: string;
  constructor(
    readonly file: string,
    /** What is wrong, without the file or the event (both are added). */
    readonly problem: string,
    readonly seq?: number,
    readonly field?: string,
  ) {
    const detail = seq === undefined ? problem : `event ${seq}: ${problem}`;
    super(`${file}: ${detail}`);
    this.detail = detail;
  }
}

interface CodedError {
  code?: unknown;
  message?: unknown;
}

/**
 * Turns a better-sqlite3 or file-system failure (an error with a string `code`) into a
 * StoreError that says what is wrong with the file. Anything else is a bug in the caller
 * (a TypeError, say) and is returned unchanged, so it is not mistaken for bad input.
 */
export function fromSqlite(file: string, err: unknown, seq?: number): unknown {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as CodedError;
  const code = typeof e.code === "string" ? e.code : "";
  if (code === "") return err;
  const detail = typeof e.message === "string" ? e.message : String(err);
  let message: string;
  if (code === "SQLITE_NOTADB") message = "not an SQLite database (and so not an iorr trace)";
  else if (code.startsWith("SQLITE_CORRUPT")) message = `file is corrupt or truncated (sqlite: ${detail})`;
  else if (code.startsWith("SQLITE_CANTOPEN")) message = `cannot open the file (sqlite: ${detail})`;
  else if (code.startsWith("SQLITE_IOERR")) message = `I/O error reading the file (sqlite: ${detail})`;
  else if (code.startsWith("SQLITE_")) message = `sqlite error ${code}: ${detail}`;
  else message = fsMessage(err);
  return new StoreError(file, message, seq);
}

/**
 * A file-system error in the user's terms: "permission denied", not
 * "EACCES: permission denied, open '/x'".
 */
export function fsMessage(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    case "ENOSPC":
      return "no space left on the device";
    case "EROFS":
      return "read-only file system";
    default:
      return (err as Error)?.message ?? String(err);
  }
}
