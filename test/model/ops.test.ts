// The op table (src/model/ops.ts) covers the trace format: every op of
// version 1 (the event schema, src/model/events.ts) has a reducer, or is
// listed as not modelled yet and answers with that simulator fault.
import { Effect, Exit } from "effect";
import { describe, expect, it } from "vitest";
import { OPS } from "../../src/model/events.ts";
import { NOT_MODELLED_OPS, parseTraceEvent, REDUCERS } from "../../src/model/ops.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { ProfileService } from "../../src/model/framework.ts";

describe("the op table", () => {
  it("has a reducer for every op of the trace format but those listed as not modelled, and none for an op the format lacks", () => {
    for (const op of Object.keys(OPS)) expect(op in REDUCERS !== op in NOT_MODELLED_OPS, op).toBe(true);
    for (const op of [...Object.keys(REDUCERS), ...Object.keys(NOT_MODELLED_OPS)]) expect(OPS[op], op).toBeDefined();
  });

  it("answers a path the model does not cover with a not-modelled simulator fault naming it (a guest config read of an emulated device's config space)", () => {
    const evs = [
      { op: "process", pid: 1 },
      { op: "qemu.device", pid: 1, guest_bdf: "00:03.0", model: "e1000e" },
      { op: "guest.cfg.read", pid: 1, bdf: "00:03.0", off: 0, size: 4 },
    ].map((e, i) => parseTraceEvent(e, i + 1));
    const exit = Effect.runSyncExit(
      replay().pipe(
        Effect.provideService(Trace, memorySource("t", { format: "iorr-trace", version: 1 }, evs)),
        Effect.provideService(ProfileService, resolveProfile(undefined)),
      ),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    expect(JSON.stringify(exit)).toContain("config space of the emulated device e1000e at 00:03.0 is not modelled yet");
  });
});
