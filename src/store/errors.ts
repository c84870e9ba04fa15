// Every problem with a trace file surfaces as a StoreError, so the CLI can print one line
// naming the file (and the event and field when known) and exit with status 2.

export class StoreError extends Error {
  override readonly name = "StoreError";
  /** The message without the file prefix; it already names the event where there is one. */
  readonly detail: string;
  constructor(
    readonly file: string,
    message: string,
    readonly seq?: number,
    readonly field?: string,
  ) {
    super(`${file}: ${message}`);
    this.detail = message;
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
  else message = detail;
  return new StoreError(file, message, seq);
}
