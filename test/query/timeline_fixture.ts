// States of a trace at any event, for query tests: a committed trace file, or events
// given inline (parsed as a trace's lines are).
import { Effect } from "effect";
import { ProfileService } from "../../src/model/framework.ts";
import type { State } from "../../src/model/state.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { memorySource, type TraceSource } from "../../src/replay/source.ts";
import { Timeline } from "../../src/replay/timeline.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";

export const PROFILE = resolveProfile(["linux-6.19"]);

export function fileSource(file: string): TraceSource {
  const t = Effect.runSync(readJsonlTrace(file));
  return memorySource(file, t.header, t.events);
}

export function inlineSource(events: Record<string, unknown>[]): TraceSource {
  return memorySource(
    "inline.jsonl",
    { format: "iorr-trace", version: 1 },
    events.map((e, i) => parseTraceEvent({ ...e }, i + 1)),
  );
}

export function states(src: TraceSource): (n: number) => State {
  const t = new Timeline(src);
  return (n) => Effect.runSync(t.stateAt(n).pipe(Effect.provideService(ProfileService, PROFILE)));
}
