// why_ms: `iorr why` of a DMA probe at the end of a 100,000-event guest trace
// (tools/gen/vtd-long.ts): the replay from the first event with provenance
// recorded, then the probe; one run (the trace generated and parsed beforehand, not timed).
//
// Run alone: node --expose-gc --import tsx tools/bench/why.ts [events]

import { Effect, Either } from "effect";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ProfileService } from "../../src/model/framework.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { parseProbe } from "../../src/query/probe.ts";
import { why } from "../../src/query/why.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
import { vtdLongTrace } from "../gen/vtd-long.ts";

export interface WhyBench {
  why_ms: number;
  why_events: number;
  /** Dependencies reported (a sanity figure: the same trace gives the same answer). */
  why_dependencies: number;
}

export function benchWhy(events = 100_000): WhyBench {
  const gen = vtdLongTrace(events);
  const file = join(tmpdir(), `iorr-bench-why-${process.pid}.jsonl`);
  writeFileSync(file, `${gen.lines.join("\n")}\n`);
  try {
    const t = Effect.runSync(readJsonlTrace(file));
    const src = memorySource(file, t.header, t.events);
    const profile = resolveProfile(["linux-mainline", "qemu-flts-final"]);
    const probe = Either.getOrThrow(
      parseProbe(JSON.stringify({ op: "dma", pid: 1, guest_bdf: "00:03.0", iova: `0x${gen.lastIova.toString(16)}`, access: "read" }), "bench"),
    );
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const r = Effect.runSync(why(probe, src.count).pipe(Effect.provideService(ProfileService, profile), Effect.provideService(Trace, src)));
    const ms = performance.now() - t0;
    if (r.outcome.pa !== `0x${(gen.lastGpa + (gen.lastIova & 0xfffn)).toString(16)}`)
      throw new Error(`why bench: unexpected outcome ${JSON.stringify(r.outcome)}`);
    return { why_ms: Math.round(ms * 10) / 10, why_events: src.count, why_dependencies: r.events.length };
  } finally {
    rmSync(file, { force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${JSON.stringify(benchWhy(process.argv[2] ? Number(process.argv[2]) : undefined))}\n`);
}
