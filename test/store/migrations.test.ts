// docs/architecture.md "Store": migrations/ holds numbered .sql files applied in order, and
// opening a file written by a newer schema is a clear error.

import Database from "better-sqlite3";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StoreError } from "../../src/store/errors.ts";
import { latestSchema, migrate, migrations, schemaVersion } from "../../src/store/migrations.ts";
import { TraceDb } from "../../src/store/tracedb.ts";
import { makeTrace, scratchDir } from "./helpers.ts";

function tables(db: Database.Database): string[] {
  return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
}

describe("migrations (docs/architecture.md Store: numbered .sql files applied in order)", () => {
  it("ships 0001_initial with a comment header and the three tables", () => {
    const list = migrations();
    expect(list[0]!.name).toBe("0001_initial.sql");
    for (const m of list) expect(m.sql.trimStart().startsWith("--")).toBe(true);
    const db = new Database(":memory:");
    expect(migrate(db, "mem")).toBe(latestSchema());
    expect(tables(db)).toEqual(["checkpoints", "events", "meta"]);
  });

  it("applies each migration once and records it in user_version", () => {
    const path = join(scratchDir(), "m.db");
    const db = new Database(path);
    expect(schemaVersion(db)).toBe(0);
    migrate(db, path);
    expect(schemaVersion(db)).toBe(latestSchema());
    // A second run must not re-execute CREATE TABLE (which would fail).
    expect(() => migrate(db, path)).not.toThrow();
    db.close();
    const again = new Database(path);
    expect(migrate(again, path)).toBe(latestSchema());
    again.close();
    // And a trace reports it.
    const trace = TraceDb.open(makeTrace(scratchDir(), 1));
    expect(trace.schemaVersion()).toBe(latestSchema());
    trace.close();
  });

  it("applies pending migrations in number order, each atomically with its version", () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "0002_second.sql"), "-- second\nCREATE TABLE b (x);\n");
    writeFileSync(join(dir, "0001_first.sql"), "-- first\nCREATE TABLE a (x);\n");
    writeFileSync(join(dir, "0003_broken.sql"), "-- broken\nCREATE TABLE c (x);\nCREATE TABLE a (x);\n");
    writeFileSync(join(dir, "README.txt"), "not a migration");
    const list = migrations(dir);
    expect(list.map((m) => m.version)).toEqual([1, 2, 3]);
    const db = new Database(":memory:");
    expect(() => migrate(db, "mem", list)).toThrow(/already exists/);
    // 1 and 2 committed; 3 rolled back as a whole, table c included.
    expect(schemaVersion(db)).toBe(2);
    expect(tables(db)).toEqual(["a", "b"]);
  });

  it("rejects gaps in the numbering (a build defect, not a user error)", () => {
    const dir = scratchDir();
    writeFileSync(join(dir, "0001_a.sql"), "-- a\n");
    writeFileSync(join(dir, "0003_c.sql"), "-- c\n");
    expect(() => migrations(dir)).toThrow(/0003_c.sql should be numbered 2/);
  });

  it("refuses a file whose user_version is newer than this build", () => {
    const db = new Database(":memory:");
    db.pragma(`user_version = ${latestSchema() + 1}`);
    const err = (() => {
      try {
        migrate(db, "/x/newer.db");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toBe(`/x/newer.db: written by a newer iorr (schema ${latestSchema() + 1}, this build knows up to ${latestSchema()})`);
  });
});
