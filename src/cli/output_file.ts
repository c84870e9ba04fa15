// Files the commands write (export -o, audit --html): checked before any work
// (a directory, a missing or unwritable directory: bad input), then written
// completely or not at all (a temp file beside the target, renamed into place),
// with file-system failures said in plain words.

import type { Effect } from "effect";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import type { BadInput } from "../model/framework.ts";
import { storeCall } from "../replay/source.ts";
import { checkOutputPath, fsMessage, StoreError } from "../store/tracedb.ts";
import type { Progress } from "./progress.ts";

/** Bad input when `path` cannot take a new file (checked before the work that makes its contents). */
export function checkOutput(path: string): Effect.Effect<void, BadInput> {
  return storeCall(() => checkOutputPath(path));
}

/** Writes `chunks` to `path` atomically; the bytes written. A file-system failure is bad input naming the path. */
export function writeOutput(path: string, chunks: Iterable<string>, progress?: { bar: Progress; total: number }): Effect.Effect<number, BadInput> {
  return storeCall(() => {
    checkOutputPath(path);
    try {
      return writeAtomically(path, chunks, progress);
    } catch (e) {
      // Anything but a file-system failure is a defect of iorr.
      if (typeof (e as NodeJS.ErrnoException).code === "string") throw new StoreError(path, fsMessage(e));
      throw e;
    }
  });
}

function writeAtomically(path: string, chunks: Iterable<string>, progress?: { bar: Progress; total: number }): number {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, "w");
  let bytes = 0;
  let n = 0;
  try {
    for (const c of chunks) {
      bytes += writeSync(fd, c);
      if (progress && ++n % 10_000 === 0) progress.bar.update(n, progress.total);
    }
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    return bytes;
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    progress?.bar.done();
  }
}
