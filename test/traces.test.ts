// Conformance traces: every trace under test/traces (kernel selftest cases and
// seed behaviours transcribed into the trace format, each naming its source in
// its title) replays with every expectation holding, as `iorr replay --verify`.
import { Effect, Exit } from "effect";
import { describe, expect, it } from "vitest";
import { readJsonlTrace } from "../src/trace/jsonl.ts";
import { ProfileService } from "../src/model/framework.ts";
import { toJsonValue } from "../src/model/outcome.ts";
import { resolveProfile } from "../src/profiles/profile.ts";
import { replay } from "../src/replay/engine.ts";
import { memorySource, Trace } from "../src/replay/source.ts";
import { traceFiles } from "../tools/fuzz/traces.ts";

describe("conformance traces", () => {
  for (const file of traceFiles(["test/traces"])) {
    const t = Effect.runSync(readJsonlTrace(file));
    it(`${file}: ${t.header.title ?? ""}`, () => {
      const profile = resolveProfile(t.header.profile === undefined ? undefined : typeof t.header.profile === "string" ? [t.header.profile] : t.header.profile);
      const exit = Effect.runSyncExit(
        replay({ verify: true }).pipe(Effect.provideService(Trace, memorySource(file, t.header, t.events)), Effect.provideService(ProfileService, profile)),
      );
      if (Exit.isFailure(exit)) throw new Error(`${file}: ${JSON.stringify(exit.cause)}`);
      const r = exit.value;
      expect(r.divergence && { ...r.divergence, actual: toJsonValue(r.divergence.actual) }, file).toBeNull();
      expect(r.verified).toBe(t.events.filter((e) => e.expect).length);
    });
  }
});
