// Run events through the real parser, reducers and fold, in memory.

import { Effect } from "effect";
import type { TraceHeader } from "../src/trace/jsonl.ts";
import { EventError, type TraceEvent } from "../src/model/events.ts";
import { ProfileService } from "../src/model/framework.ts";
import type { Outcome } from "../src/model/outcome.ts";
import type { State } from "../src/model/state.ts";
import { parseTraceEvent } from "../src/model/ops.ts";
import { resolveProfile } from "../src/profiles/profile.ts";
import { replay, type ReplayResult } from "../src/replay/engine.ts";
import { memorySource, Trace } from "../src/replay/source.ts";

export function parseAll(raw: Record<string, unknown>[]): TraceEvent[] {
  return raw.map((r, i) => parseTraceEvent(r, i + 1));
}

export interface Run {
  outcomes: Outcome[];
  result: ReplayResult;
}

/** Replay raw event objects under a profile; outcomes[i] belongs to raw[i]. */
export function run(
  raw: Record<string, unknown>[],
  profile: string | string[] = "linux-mainline",
  visit?: (ev: TraceEvent, out: Outcome, state: State) => void,
): Run {
  const events = parseAll(raw);
  const outcomes: Outcome[] = [];
  const header: TraceHeader = { format: "iorr-trace", version: 1 };
  const result = Effect.runSync(
    replay({
      verify: true,
      onOutcome: (ev, out, state) => {
        outcomes.push(out);
        visit?.(ev, out, state);
      },
    }).pipe(
      Effect.provideService(Trace, memorySource("test", header, events)),
      Effect.provideService(ProfileService, resolveProfile(typeof profile === "string" ? [profile] : profile)),
    ),
  );
  return { outcomes, result };
}

/** The outcome of the last event. */
export function last(raw: Record<string, unknown>[], profile?: string | string[]): Outcome {
  const r = run(raw, profile);
  return r.outcomes[r.outcomes.length - 1]!;
}

/** A number as the trace format's hex string. */
export const h = (n: number | bigint) => `0x${BigInt(n).toString(16)}`;

/** An ioctl event of process 1 on fd 3 (the first /dev/iommu the kernel selftests open). */
export const io = (cmd: string, arg?: unknown, extra: Record<string, unknown> = {}) => ({
  op: "ioctl",
  pid: 1,
  fd: 3,
  cmd,
  ...(arg === undefined ? {} : { arg }),
  ...extra,
});

/** How the trace reader refuses one raw event: "field: message" (the test fails if it is accepted). */
export function refusal(raw: Record<string, unknown>): string {
  try {
    parseTraceEvent(raw, 1);
  } catch (e) {
    if (e instanceof EventError) return `${e.field}: ${e.message}`;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}
