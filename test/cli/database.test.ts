// The trace database from the command line (docs/trace-format.md "The trace database"):
// corrupt parts are bad input (exit 2) naming what is corrupt, a corrupt checkpoint is
// never used and `iorr checkpoints --rebuild` replaces them, and nothing is left beside
// the database after import and read-only commands.

import Database from "better-sqlite3";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iorr as run } from "./run.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventToJson } from "../../src/trace/jsonl.ts";
import { simpleEvents } from "../../tools/gen/simple.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-db-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const iorr = (...args: string[]) => run(args);

const jsonl = join(dir, "t.jsonl");
const header = { format: "iorr-trace", version: 1, profile: "linux-6.19", title: "database cli" };

beforeAll(() => {
  // Past one checkpoint interval (4096), so the file stores one checkpoint.
  writeFileSync(
    jsonl,
    `${JSON.stringify(header)}\n${simpleEvents(5000)
      .map((e) => JSON.stringify(eventToJson(e)))
      .join("\n")}\n`,
  );
});

function fresh(name: string): string {
  const db = join(dir, name);
  const r = iorr("import", jsonl, "-o", db);
  expect(r.status).toBe(0);
  return db;
}

function edit(path: string, sql: string, ...params: unknown[]): void {
  const db = new Database(path);
  db.prepare(sql).run(...params);
  db.close();
}

describe("trace databases on the command line", () => {
  it("import and read-only commands leave the database alone on disk, without -wal/-shm", () => {
    const db = fresh("clean.db");
    for (const args of [
      ["info", db],
      ["replay", "--verify", db],
      ["state", db, "--at", "4500"],
      ["export", db],
    ])
      expect(iorr(...args).status).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith("clean.db"))).toEqual(["clean.db"]);
  });

  it("a corrupt checkpoint: info reports it (exit 2), a seek refuses it, --rebuild replaces it", () => {
    const db = fresh("cp.db");
    edit(db, "UPDATE checkpoints SET state = CAST(zeroblob(length(state)) AS BLOB)");
    const info = iorr("info", db);
    expect(info.status).toBe(2);
    expect(info.stderr).toContain(`1 of 1 checkpoints are corrupt (after event 4096); rebuild them with: iorr checkpoints --rebuild ${db}`);
    // Commands that read the whole file check every checkpoint, though a replay does not use them.
    for (const cmd of [["replay", "--verify"], ["export"]]) expect(iorr(...cmd, db).status).toBe(2);
    const seek = iorr("state", db, "--at", "4500");
    expect(seek.status).toBe(2);
    expect(seek.stderr).toContain(`${db}: event 4096: field checkpoint: the checkpoint taken after this event is corrupt; rebuild the checkpoints with`);
    const check = iorr("checkpoints", db);
    expect(check.status).toBe(2);
    expect(check.stdout).toMatch(/after event +4096 +CORRUPT/);
    const rebuild = iorr("checkpoints", "--rebuild", db);
    expect(rebuild.status).toBe(0);
    expect(rebuild.stdout).toContain("1 checkpoint(s) rebuilt under linux-6.19");
    expect(iorr("info", db).status).toBe(0);
    expect(iorr("state", db, "--at", "4500").status).toBe(0);
  });

  it("a changed header is exit 2 naming the header, for every command, never a divergence", () => {
    const db = fresh("hdr.db");
    const raw = new Database(db);
    const v = Buffer.from(raw.prepare("SELECT value FROM meta WHERE key = 'header'").pluck().get() as Buffer);
    v[v.indexOf("linux-6.19") + 6]! ^= 1;
    raw.prepare("UPDATE meta SET value = ? WHERE key = 'header'").run(v);
    raw.close();
    for (const cmd of ["info", "replay", "export"]) {
      const r = iorr(cmd, db);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("the trace header (profile, title, ...) (meta 'header') is corrupt");
    }
  });

  it("a changed stored outcome is exit 2 at its event for replay", () => {
    const db = fresh("out.db");
    edit(db, "UPDATE events SET outcome = x'81a372657401' WHERE seq = 77");
    const r = iorr("replay", "--verify", db);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/event 77: .*hash chain broken/);
  });
});

describe("output paths (docs/architecture.md Bad input: the target unchanged or not created)", () => {
  it("import and export refuse to write over their own input, and name -o", () => {
    const copy = join(dir, "self.jsonl");
    writeFileSync(copy, `${JSON.stringify(header)}\n{"op":"process","pid":1}\n`);
    for (const args of [
      ["import", copy, "-o", copy],
      ["export", copy, "-o", copy],
    ]) {
      const r = iorr(...args, "--json");
      expect(r.status).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({ kind: "bad-input", field: "-o", message: `${copy} is the input trace; it would be replaced` });
    }
  });

  it("import -o to a directory or into a missing directory: exit 2, a plain message, nothing written", () => {
    for (const [target, message] of [
      [dir, `is a directory; give the path of the file to write`],
      [join(dir, "missing", "t.db"), `cannot write here: directory ${join(dir, "missing")} does not exist`],
    ] as const) {
      const r = iorr("import", jsonl, "-o", target, "--json");
      expect(r.status).toBe(2);
      expect(JSON.parse(r.stdout).error).toEqual({ kind: "bad-input", file: target, message });
    }
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});
