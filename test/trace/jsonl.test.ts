// The JSONL reader and writer (docs/trace-format.md "File"): what a trace file may
// contain, and that export writes back the same events.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Effect, Either } from "effect";
import { afterAll, describe, expect, it } from "vitest";
import { BadInput } from "../../src/model/framework.ts";
import { eventToJson, readJsonlTrace } from "../../src/trace/jsonl.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-jsonl-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("readJsonlTrace", () => {
  it("accepts a byte order mark, CRLF line ends, blank lines and // comments", () => {
    const p = write("ok.jsonl", '\uFEFF{"format":"iorr-trace","version":1}\r\n\r\n// a comment\r\n{"op":"process","pid":1,"seq":1}\r\n');
    const t = Effect.runSync(readJsonlTrace(p));
    expect(t.events).toEqual([{ seq: 1, op: "process", pid: 1 }]);
  });

  it("numbers events from 1 in file order and rejects a seq that disagrees", () => {
    const p = write("seq.jsonl", '{"format":"iorr-trace","version":1}\n{"op":"process","pid":1}\n{"op":"process","pid":2,"seq":3}\n');
    const r = Effect.runSync(Effect.either(readJsonlTrace(p)));
    expect(Either.isLeft(r) && r.left).toBeInstanceOf(BadInput);
    expect(Either.isLeft(r) && r.left.describe()).toBe(`${p}:3: event 2: field seq: is number 3 but this is event 2`);
  });

  it("rejects an unknown preset in the header's profile, naming the field", () => {
    const p = write("profile.jsonl", '{"format":"iorr-trace","version":1,"profile":["linux-6.19","no-such-switch"]}\n');
    const r = Effect.runSync(Effect.either(readJsonlTrace(p)));
    expect(Either.isLeft(r) && r.left.field).toBe("profile");
  });
});

describe("eventToJson", () => {
  it("writes events that read back as the same events (bytes as hex, 64-bit values exact)", () => {
    const raw = [
      { op: "mem.write", pid: 1, va: "0xffffffffffff0000", u64: ["0xffffffffffffffff"] },
      { op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_MAP", arg: { flags: ["FIXED_IOVA"], iova: "0x100000" }, expect: { ret: 0 } },
      { op: "host.device", bdf: "0000:01:00.0", regions: [{ index: 0, size: "0x100000000" }] },
    ];
    for (const [i, r] of raw.entries()) {
      const ev = parseTraceEvent(r, i + 1);
      const again = parseTraceEvent(JSON.parse(JSON.stringify(eventToJson(ev))), i + 1);
      expect(again).toEqual(ev);
    }
  });

  it('writes the flag fields of ops by their full names, whatever spelling the trace used (docs/trace-format.md "Flag fields")', () => {
    const proc = eventToJson(parseTraceEvent({ op: "process", pid: 1, caps: 1 << 17 }, 1));
    expect(proc.caps).toEqual(["CAP_SYS_RAWIO"]);
    const dev = eventToJson(parseTraceEvent({ op: "host.device", bdf: "0000:01:00.0", regions: [{ index: 0, flags: ["READ", "MMAP"] }] }, 1));
    expect(dev.regions).toEqual([{ index: 0, flags: ["VFIO_REGION_INFO_FLAG_READ", "VFIO_REGION_INFO_FLAG_MMAP"] }]);
    const iommu = eventToJson(parseTraceEvent({ op: "host.iommu", type: "selftest_mock", hw_caps: "0x1" }, 1));
    expect(iommu.hw_caps).toEqual(["IOMMU_HW_CAP_DIRTY_TRACKING"]);
  });
});
