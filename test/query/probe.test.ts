// docs/architecture.md "Queries": a probe is an event of the trace format asked of the
// state at a point without changing it, answering what that event would answer there;
// a path reaches any part of any state.

import { Effect, Either } from "effect";
import { describe, expect, it } from "vitest";
import { ProfileService } from "../../src/model/framework.ts";
import { stateHash } from "../../src/model/hash.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { parseProbe, probeAt } from "../../src/query/probe.ts";
import { selectPath } from "../../src/query/path.ts";
import { Timeline } from "../../src/replay/timeline.ts";
import { memorySource } from "../../src/replay/source.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";

const FILE = "traces/05-map-and-dma.jsonl";
const trace = Effect.runSync(readJsonlTrace(FILE));
const profile = resolveProfile(["linux-6.19"]);
const stateAt = (n: number) =>
  Effect.runSync(new Timeline(memorySource(FILE, trace.header, trace.events)).stateAt(n).pipe(Effect.provideService(ProfileService, profile)));
const dmaEvents = trace.events.filter((e) => e.op === "dma" && e.expect);

describe("probes (src/query/probe.ts)", () => {
  it("a DMA probe at the point of a recorded DMA answers the recorded outcome, and leaves the state as it was", () => {
    const ev = dmaEvents[0]!;
    const s = stateAt(ev.seq - 1);
    const before = stateHash(s);
    const { seq: _seq, expect: _expect, ...raw } = ev;
    const probe = Either.getOrThrow(parseProbe(JSON.stringify({ ...raw, iova: `0x${(raw.iova as bigint).toString(16)}` }), "--probe"));
    const out = Effect.runSync(probeAt(s, ev.seq - 1, probe).pipe(Effect.provideService(ProfileService, profile)));
    expect(out).toMatchObject(ev.expect!);
    expect(stateHash(s)).toBe(before);
  });

  it("before the map, the same probe faults (what a DMA there would do)", () => {
    const ev = dmaEvents[0]!;
    const { seq: _seq, expect: _expect, ...raw } = ev;
    const probe = Either.getOrThrow(parseProbe(JSON.stringify({ ...raw, iova: `0x${(raw.iova as bigint).toString(16)}` }), "--probe"));
    const out = Effect.runSync(probeAt(stateAt(5), 5, probe).pipe(Effect.provideService(ProfileService, profile)));
    expect(out.pa).toBeUndefined();
  });

  it("bad probes are bad input naming the flag and the field", () => {
    const bad = (json: string) => Either.getLeft(parseProbe(json, "--probe")).pipe((o) => (o._tag === "Some" ? o.value.describe() : "accepted"));
    expect(bad("{")).toMatch(/^--probe: not valid JSON/);
    expect(bad('{"op":"dma","bdf":"0000:01:00.0","iova":1,"access":"sideways"}')).toMatch(/^--probe: field access: expected one of read, write/);
    expect(bad('{"op":"process","pid":1,"seq":4}')).toBe("--probe: field seq: a probe has no seq: it is asked of the state at a point (--at)");
  });
});

describe("paths (src/query/path.ts)", () => {
  it("reach Map entries by their key as text, object members and array items; a miss says where and what was there", () => {
    const s = stateAt(10);
    expect(selectPath(s, "processes.100.pid")).toEqual({ found: true, value: 100 });
    expect(selectPath(s, "")).toEqual({ found: true, value: s });
    const miss = selectPath(s, "processes.7.pid");
    expect(miss).toMatchObject({ found: false, at: "processes", missing: "7" });
  });
});

describe("paths through keys with dots", () => {
  it("a PCI address key (0000:01:00.0) is reached by the segments it spans", () => {
    const s = stateAt(10);
    expect(selectPath(s, "host.devices.0000:01:00.0.bdf")).toEqual({ found: true, value: "0000:01:00.0" });
    expect(selectPath(s, "host.devices.0000:01:00.1")).toMatchObject({ found: false, at: "host.devices", missing: "0000:01:00" });
  });
});
