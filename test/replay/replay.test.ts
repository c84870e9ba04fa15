// The replay engine: determinism, verification, checkpoints and seek
// (docs/architecture.md "The one rule", "Replay and time travel").
import { Effect } from "effect";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readJsonlTrace, type TraceHeader } from "../../src/trace/jsonl.ts";
import type { TraceEvent } from "../../src/model/events.ts";
import { ProfileService } from "../../src/model/framework.ts";
import { stateHash } from "../../src/model/hash.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { CHECKPOINT_INTERVAL, decodeState, encodeState, hashOf, replay, type ReplayOptions } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { Timeline } from "../../src/replay/timeline.ts";
import { simpleEvents } from "../../tools/gen/simple.ts";

const header = { format: "iorr-trace", version: 1 } as TraceHeader;
const profile = resolveProfile(["linux-6.19"]);

function replayEvents(events: TraceEvent[], opts: ReplayOptions = { verify: true }) {
  return Effect.runSync(replay(opts).pipe(Effect.provideService(Trace, memorySource("t", header, events)), Effect.provideService(ProfileService, profile)));
}

describe("replay", () => {
  it("is deterministic: the same events and profile give the same state hash every run", () => {
    const events = simpleEvents(3000);
    expect(hashOf(replayEvents(events).state)).toBe(hashOf(replayEvents(events).state));
  });

  it("hashes states canonically, whatever order keys were inserted in", () => {
    expect(stateHash({ a: 1, b: { c: 2n, d: new Uint8Array([1]) } })).toBe(stateHash({ b: { d: new Uint8Array([1]), c: 2n }, a: 1 }));
    expect(stateHash({ a: 1 })).not.toBe(stateHash({ a: 2 }));
    expect(stateHash({ a: 1n })).not.toBe(stateHash({ a: 1 }));
  });

  it("verifies every expectation and stops at the first divergence", () => {
    const events = simpleEvents(100);
    expect(replayEvents(events)).toMatchObject({ events: 100, verified: 100, divergence: null });
    events[41]!.expect = { fd: 7 };
    const r = replayEvents(events);
    expect(r.divergence).toMatchObject({ seq: 42, op: events[41]!.op, field: "fd", actual: { fd: 3 } });
    expect(r.verified).toBe(41);
    expect(r.events).toBe(42);
  });

  it("--until stops after that event", () => {
    expect(replayEvents(simpleEvents(100), { verify: true, until: 10 })).toMatchObject({ events: 10, verified: 10 });
  });

  it("replays every bundled sample trace with all its expectations holding", () => {
    const files = readdirSync("traces").filter((f) => f.endsWith(".jsonl"));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const t = Effect.runSync(readJsonlTrace(`traces/${f}`));
      const p = resolveProfile(typeof t.header.profile === "string" ? [t.header.profile] : t.header.profile);
      const r = Effect.runSync(replay({ verify: true }).pipe(Effect.provideService(Trace, memorySource(f, t.header, t.events)), Effect.provideService(ProfileService, p)));
      expect(r.divergence, f).toBeNull();
      expect(r.verified, f).toBe(t.events.filter((e) => e.expect).length);
    }
  });
});

describe("checkpoints and seek", () => {
  const events = simpleEvents(2 * CHECKPOINT_INTERVAL + 500);

  it("seek to any event gives the state a linear replay reaches there", () => {
    const timeline = new Timeline(memorySource("t", header, events));
    for (const n of [0, 1, CHECKPOINT_INTERVAL - 1, CHECKPOINT_INTERVAL, CHECKPOINT_INTERVAL + 1, 2 * CHECKPOINT_INTERVAL + 500, 77]) {
      const seek = Effect.runSync(timeline.stateAt(n).pipe(Effect.provideService(ProfileService, profile)));
      const linear = replayEvents(events, { until: n }).state;
      expect(hashOf(seek), `event ${n}`).toBe(hashOf(linear));
    }
  });

  it("hands checkpoints out at every multiple of the interval, and they survive encoding", () => {
    const seen: number[] = [];
    const hashes: string[] = [];
    replayEvents(events, {
      onCheckpoint: (seq, st) => {
        seen.push(seq);
        hashes.push(hashOf(decodeState(encodeState(st))));
        expect(hashes.at(-1)).toBe(hashOf(st));
      },
    });
    expect(seen).toEqual([CHECKPOINT_INTERVAL, 2 * CHECKPOINT_INTERVAL]);
  });
});
