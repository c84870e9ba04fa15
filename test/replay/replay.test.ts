// The replay engine: determinism, verification, checkpoints and seek
// (docs/architecture.md "The one rule", "Replay and time travel").
import { Effect } from "effect";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readJsonlTrace, type TraceHeader } from "../../src/trace/jsonl.ts";
import type { TraceEvent } from "../../src/model/events.ts";
import { foldBatch } from "../../src/model/fold.ts";
import { ProfileService, SimulatorFault } from "../../src/model/framework.ts";
import { stateHash } from "../../src/model/hash.ts";
import type { State } from "../../src/model/state.ts";
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
      const r = Effect.runSync(
        replay({ verify: true }).pipe(Effect.provideService(Trace, memorySource(f, t.header, t.events)), Effect.provideService(ProfileService, p)),
      );
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

describe("copy-on-write between states (each batch folds into a working copy)", () => {
  // simpleEvents: event 1 starts process 100; then each 5 events open fds 3 and 4, close 3,
  // write a parameter, close 4.
  const events = simpleEvents(16);
  const fold = (state: State, evs: TraceEvent[]) => Effect.runSync(foldBatch(state, evs).pipe(Effect.provideService(ProfileService, profile))).state;
  const stateAfter = (n: number) => replayEvents(events.slice(0, n)).state;

  it("a later fold leaves the earlier state as it was", () => {
    const earlier = stateAfter(3); // fds 3 and 4 open
    const hash = hashOf(earlier);
    const later = fold(earlier, events.slice(3, 6)); // close 3, param, close 4
    expect([...later.processes.get(100)!.fds.keys()]).toEqual([]);
    expect([...earlier.processes.get(100)!.fds.keys()]).toEqual([3, 4]);
    expect(earlier.files.size).toBe(2);
    expect(hashOf(earlier)).toBe(hash);
  });

  it("the new state shares every subtree the batch did not change, down to the leaves", () => {
    const earlier = stateAfter(3);
    const later = fold(earlier, events.slice(3, 4)); // close fd 3
    expect(later.host).toBe(earlier.host); // not reached
    expect(later.processes).not.toBe(earlier.processes);
    expect(later.processes.get(100)!.caps).toBe(earlier.processes.get(100)!.caps); // reached, unchanged
    expect(later.files.get(later.processes.get(100)!.fds.get(4)!)).toBe(earlier.files.get(earlier.processes.get(100)!.fds.get(4)!));
    // A whole cycle (open 3, open 4, close 3, param, close 4) ends where it started: the fd
    // table and the file table are the earlier state's own again; the parameter and the
    // file id counter moved on.
    const start = stateAfter(6);
    const end = fold(start, events.slice(6, 11));
    expect(end.processes).toBe(start.processes);
    expect(end.files).toBe(start.files);
    expect(end.params).not.toBe(start.params);
    expect(end.nextFileId).toBe(start.nextFileId + 2);
  });

  it("a simulator fault folds the batch into nothing: the caller keeps the previous state", () => {
    const earlier = stateAfter(3);
    const hash = hashOf(earlier);
    const bad = { seq: 5, op: "no.such.op" } as TraceEvent;
    const fault = Effect.runSync(Effect.flip(foldBatch(earlier, [events[3]!, bad])).pipe(Effect.provideService(ProfileService, profile)));
    expect(fault).toBeInstanceOf(SimulatorFault);
    expect(fault).toMatchObject({ seq: 5, op: "no.such.op", kind: "not-modelled" });
    expect([...earlier.processes.get(100)!.fds.keys()]).toEqual([3, 4]);
    expect(hashOf(earlier)).toBe(hash);
  });
});
