// docs/trace-format.md "The trace database": a byte changed anywhere in a trace database is
// either refused (bad input, exit 2) or harmless (everything read back is what was written),
// never read as other content and never a failure of another kind (tools/fuzz/db.ts).

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TraceDb } from "../../src/store/tracedb.ts";
import { simpleEvents } from "../../tools/gen/simple.ts";
import { fuzzDb } from "../../tools/fuzz/db.ts";
import { eventToStored } from "../../src/replay/source.ts";
import { HEADER, scratchDir } from "./helpers.ts";

describe("byte flips in a trace database (tools/fuzz/db.ts)", () => {
  it("500 flips in a trace with outcomes and a checkpoint: each refused or harmless", () => {
    const path = join(scratchDir(), "f.db");
    const db = TraceDb.create(path, { ...HEADER, title: "fuzz" });
    db.append(simpleEvents(600).map((e) => ({ ...eventToStored(e), outcome: { ret: e.seq % 7 } })));
    db.setMeta("checkpoint_profile", ["linux-6.19"]);
    db.putCheckpoint(
      "k",
      512,
      Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
    );
    db.commitFile();
    db.close();
    const r = fuzzDb(path, 500, 20261201);
    expect(r.findings).toEqual([]);
    expect(r.refused + r.harmless).toBe(500);
    // The flips reach the content, not only free space.
    expect(r.refused).toBeGreaterThan(250);
  }, 60_000);
});
