// Simulated physical memory and process mappings (docs/architecture.md "Memory"; the allocator of docs/trace-format.md).
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { foldBatch } from "../../src/model/fold.ts";
import { ProfileService } from "../../src/model/framework.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { initialState, type State } from "../../src/model/state.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { readPhys } from "../../src/model/memory/physmem.ts";
import { vaToPa } from "../../src/model/process/state.ts";
import { last, run } from "../helpers.ts";

const proc = { op: "process", pid: 1 };

describe("mem.map", () => {
  it("backs a range with contiguous frames from pa", () => {
    const s = run([proc, { op: "mem.map", pid: 1, va: "0x10000", length: "0x3000", pa: "0x40000000" }]).result.state;
    expect(vaToPa(s.processes.get(1)!, 0x12345n)).toBe(0x40002345n);
  });

  it("the allocator hands out every other 4 KiB frame from 4 GiB, so pages are never contiguous", () => {
    const s = run([proc, { op: "mem.map", pid: 1, va: "0x10000", length: "0x3000" }, { op: "mem.map", pid: 1, va: "0x20000", length: "0x1000" }]).result.state;
    const p = s.processes.get(1)!;
    expect([vaToPa(p, 0x10000n), vaToPa(p, 0x11000n), vaToPa(p, 0x12008n), vaToPa(p, 0x20000n)]).toEqual([
      0x100000000n,
      0x100002000n,
      0x100004008n,
      0x100006000n,
    ]);
  });

  it("a huge mapping starts at the next boundary of its page size and is contiguous", () => {
    const s = run([
      proc,
      { op: "mem.map", pid: 1, va: "0x10000", length: "0x1000" },
      { op: "mem.map", pid: 1, va: "0x40000000", length: "0x400000", huge: true },
      { op: "mem.map", pid: 1, va: "0x80000000", length: "0x40000000", huge: "1G" },
    ]).result.state;
    const p = s.processes.get(1)!;
    expect(vaToPa(p, 0x40000000n)).toBe(0x100200000n);
    expect(vaToPa(p, 0x403ff000n)).toBe(0x1005ff000n);
    expect(vaToPa(p, 0x80000000n)).toBe(0x140000000n);
  });

  it("refuses overlap (EEXIST), misalignment and zero length (EINVAL), like mmap(MAP_FIXED_NOREPLACE)", () => {
    const m = { op: "mem.map", pid: 1, va: "0x10000", length: "0x2000" };
    expect(last([proc, m, { ...m, va: "0x11000" }])).toEqual({ errno: "EEXIST" });
    expect(last([proc, { ...m, va: "0x10800" }])).toEqual({ errno: "EINVAL" });
    expect(last([proc, { ...m, length: 0 }])).toEqual({ errno: "EINVAL" });
    expect(last([proc, { ...m, va: "0x100000", huge: true }])).toEqual({ errno: "EINVAL" });
  });
});

describe("mem.write", () => {
  it("writes through the mapping, across pages, little-endian words", () => {
    const s = run([proc, { op: "mem.map", pid: 1, va: "0x10000", length: "0x2000" }, { op: "mem.write", pid: 1, va: "0x10ffc", u64: ["0x1122334455667788"] }])
      .result.state;
    const lo = new Uint8Array(4);
    const hi = new Uint8Array(4);
    readPhys(s.memory, 0x100000ffcn, lo);
    readPhys(s.memory, 0x100002000n, hi); // the next page is two frames further on
    expect([...lo]).toEqual([0x88, 0x77, 0x66, 0x55]);
    expect([...hi]).toEqual([0x44, 0x33, 0x22, 0x11]);
  });

  it("faults with EFAULT on an unmapped address and writes nothing", () => {
    const r = run([proc, { op: "mem.map", pid: 1, va: "0x10000", length: "0x1000" }, { op: "mem.write", pid: 1, va: "0x10ffe", hex: "01020304" }]);
    expect(r.outcomes[2]).toEqual({ errno: "EFAULT" });
    expect(r.result.state.memory.frames.size).toBe(0);
  });

  it("is copy-on-write per frame: the state before a write keeps its bytes", () => {
    const profile = resolveProfile(["linux-mainline"]);
    const fold = (st: State, raw: Record<string, unknown>[], first: number) =>
      Effect.runSync(
        foldBatch(
          st,
          raw.map((r, i) => parseTraceEvent(r, first + i)),
        ).pipe(Effect.provideService(ProfileService, profile)),
      ).state;
    const before = fold(
      initialState(),
      [proc, { op: "mem.map", pid: 1, va: "0x10000", length: "0x1000", pa: "0x1000" }, { op: "mem.write", pid: 1, va: "0x10000", hex: "aa" }],
      1,
    );
    const after = fold(before, [{ op: "mem.write", pid: 1, va: "0x10000", hex: "bb" }], 4);
    expect(after.memory.frames.get(0)!.get(1)![0]).toBe(0xbb);
    expect(before.memory.frames.get(0)!.get(1)![0]).toBe(0xaa);
    // Untouched subtrees are shared, not copied.
    expect(after.host).toBe(before.host);
  });
});

describe("fork (process with parent): dup_mmap", () => {
  it("a MAP_SHARED mapping is the parent's frames; private memory is new frames holding the parent's bytes, and later writes stay apart", () => {
    const s = run([
      proc,
      { op: "mem.map", pid: 1, va: "0x10000", length: "0x2000", shared: true },
      { op: "mem.map", pid: 1, va: "0x20000", length: "0x1000" },
      { op: "mem.write", pid: 1, va: "0x20010", hex: "a5a5" },
      { op: "process", pid: 2, parent: 1 },
      { op: "mem.write", pid: 2, va: "0x20010", hex: "5a" },
      { op: "mem.write", pid: 2, va: "0x10000", hex: "77" },
    ]).result.state;
    const [p, c] = [s.processes.get(1)!, s.processes.get(2)!];
    expect(vaToPa(c, 0x11000n)).toBe(vaToPa(p, 0x11000n));
    expect(vaToPa(c, 0x20000n)).not.toBe(vaToPa(p, 0x20000n));
    const byte = (q: typeof p, va: bigint, n: number) => {
      const b = new Uint8Array(n);
      readPhys(s.memory, vaToPa(q, va)!, b);
      return [...b];
    };
    expect(byte(p, 0x20010n, 2)).toEqual([0xa5, 0xa5]);
    expect(byte(c, 0x20010n, 2)).toEqual([0x5a, 0xa5]);
    expect(byte(p, 0x10000n, 1)).toEqual([0x77]);
  });
});
