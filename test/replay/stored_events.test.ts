// docs/trace-format.md "The trace database": an event read back from a database is
// validated as a JSONL line is (src/replay/source.ts storedToEvent). Validation must take
// its own output: every event of every committed trace, stored and read back, is the
// event parsed from the JSONL line, and a replay from the database matches one from JSONL.

import { Effect } from "effect";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ProfileService } from "../../src/model/framework.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { hashOf, replay } from "../../src/replay/engine.ts";
import { dbSource, eventToStored, memorySource, storedToEvent, Trace } from "../../src/replay/source.ts";
import { TraceDb } from "../../src/store/tracedb.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
import { traceFiles } from "../../tools/fuzz/traces.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-stored-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stored events read back as they were parsed", () => {
  const files = traceFiles(["traces", "test/traces"]);
  it(`every event of the ${files.length} committed traces, and their replays`, () => {
    for (const [i, file] of files.entries()) {
      const t = Effect.runSync(readJsonlTrace(file));
      const path = join(dir, `${i}.db`);
      const db = TraceDb.create(path, t.header);
      db.append(t.events.map(eventToStored));
      db.commitFile();
      const back = db.read(1, db.count()).map((e) => storedToEvent(e, path));
      expect(back, file).toEqual(t.events);
      const p = t.header.profile;
      const profile = resolveProfile(p === undefined ? undefined : typeof p === "string" ? [p] : p);
      const run = (src: Effect.Effect.Success<ReturnType<typeof dbSource>> | ReturnType<typeof memorySource>) =>
        Effect.runSync(
          replay({ verify: true }).pipe(
            Effect.map((r) => ({ events: r.events, verified: r.verified, divergence: r.divergence?.seq ?? null, hash: hashOf(r.state) })),
            Effect.catchTag("ReplayFault", (f) => Effect.succeed({ fault: f.fault.seq })),
            Effect.provideService(Trace, src),
            Effect.provideService(ProfileService, profile),
          ),
        );
      expect(run(Effect.runSync(dbSource(db, path))), file).toEqual(run(memorySource(file, t.header, t.events)));
      db.close();
    }
  }, 120_000);
});
