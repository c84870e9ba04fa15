// Shared fixtures for the store tests: a scratch directory per test and small traces.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect } from "vitest";
import type Database from "better-sqlite3";
import { encodeMeta } from "../../src/store/codec.ts";
import { metaSum } from "../../src/store/meta.ts";
import { StoreError, TraceDb, type StoredEvent } from "../../src/store/tracedb.ts";

const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function scratchDir(): string {
  const d = mkdtempSync(join(tmpdir(), "iorr-store-test-"));
  dirs.push(d);
  return d;
}

export const HEADER = { format: "iorr-trace", version: 1, profile: "linux-6.19", title: "store test" };

/** n events in the shape of the noiommu cdev lifecycle trace (open / ioctl / close). */
export function sampleEvents(n: number, from = 1): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let seq = from; seq < from + n; seq++) {
    switch (seq % 3) {
      case 1:
        out.push({ seq, op: "open", payload: { pid: 100, path: "/dev/iommu" }, expect: { fd: 3 } });
        break;
      case 2:
        out.push({ seq, op: "ioctl", payload: { pid: 100, fd: 3, cmd: "IOMMU_IOAS_ALLOC", iova: 0x7f00_0000_0000n }, expect: { ret: 0 } });
        break;
      default:
        out.push({ seq, op: "close", payload: { pid: 100, fd: 3 } });
    }
  }
  return out;
}

/** A committed trace of n sample events at dir/name. */
export function makeTrace(dir: string, n: number, name = "t.db"): string {
  const path = join(dir, name);
  const db = TraceDb.create(path, HEADER);
  db.append(sampleEvents(n));
  db.commitFile();
  db.close();
  return path;
}

/** Run fn and return the StoreError it throws (failing the test if it throws anything else or nothing). */
export function storeError(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error("expected a StoreError");
}

/** Writes a meta value with a valid checksum, as a tool rewriting the file consistently would. */
export function writeMeta(db: Database.Database, key: string, value: unknown): void {
  const bytes = encodeMeta(value);
  db.prepare("INSERT INTO meta (key, value, sum) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, sum = excluded.sum").run(
    key,
    bytes,
    metaSum(key, bytes),
  );
}
