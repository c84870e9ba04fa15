// Trace format version 1 parsing: bad input names the field (docs/trace-format.md "Events").
import { describe, expect, it } from "vitest";
import { EventError } from "../../src/model/events.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";

function fieldOf(raw: Record<string, unknown>): string {
  try {
    parseTraceEvent(raw, 1);
  } catch (e) {
    if (e instanceof EventError) return e.field;
    throw e;
  }
  throw new Error("accepted");
}

describe("event validation", () => {
  it("names the field at fault", () => {
    expect(fieldOf({ op: "nope" })).toBe("op");
    expect(fieldOf({ pid: 1 })).toBe("op");
    expect(fieldOf({ op: "open", pid: 1 })).toBe("path");
    expect(fieldOf({ op: "open", pid: "one", path: "/dev/iommu" })).toBe("pid");
    expect(fieldOf({ op: "mem.map", pid: 1, va: "0xzz", length: 1 })).toBe("va");
    expect(fieldOf({ op: "mem.map", pid: 1, va: "0x10000000000000000", length: 1 })).toBe("va");
    expect(fieldOf({ op: "dma", iova: 0, access: "read" })).toBe("bdf");
    expect(fieldOf({ op: "dma", bdf: "01:00.0", iova: 0, access: "read" })).toBe("bdf");
    expect(fieldOf({ op: "host.device", bdf: "0000:01:00.0", regions: [{ index: 0, bogus: 1 }] })).toBe("regions[0].bogus");
    expect(fieldOf({ op: "process", pid: 1, expect: { errno: "EWHATEVER" } })).toBe("expect.errno");
    expect(fieldOf({ op: "process", pid: 1, expect: { fdd: 3 } })).toBe("expect.fdd");
    expect(fieldOf({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_NOPE" })).toBe("cmd");
    expect(fieldOf({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_MAP", arg: { nope: 1 } })).toBe("arg.nope");
    expect(fieldOf({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_MAP", arg: { flags: ["FIXED"] } })).toBe("arg.flags");
    expect(fieldOf({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_DESTROY", argHex: "123" })).toBe("argHex");
    expect(fieldOf({ op: "process", pid: 1, seq: 5 })).toBe("seq");
  });

  it("a fork (process with parent, kernel_clone) inherits the parent's capabilities: caps with parent, a negative parent or the pid itself are bad input", () => {
    expect(fieldOf({ op: "process", pid: 2, parent: 1, caps: ["CAP_SYS_RAWIO"] })).toBe("caps");
    expect(fieldOf({ op: "process", pid: 2, parent: -1 })).toBe("parent");
    expect(fieldOf({ op: "process", pid: 2, parent: 2 })).toBe("parent");
    expect(fieldOf({ op: "process", pid: 2, parent: "one" })).toBe("parent");
    expect(fieldOf({ op: "mem.map", pid: 1, va: 0, length: 4096, shared: "yes" })).toBe("shared");
    expect(parseTraceEvent({ op: "process", pid: 2, parent: 1 }, 1).parent).toBe(1);
  });

  it("reads 64-bit values from numbers, hex and decimal strings exactly", () => {
    const ev = parseTraceEvent({ op: "mem.map", pid: 1, va: "18446744073709551615", length: "0x1000", pa: 4096 }, 1);
    expect([ev.va, ev.length, ev.pa]).toEqual([(1n << 64n) - 1n, 0x1000n, 4096n]);
  });

  it("accepts every spelling of a modelled command and flags without their prefix", () => {
    const a = parseTraceEvent({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_GET_PA", arg: { out_length: 1 } }, 1);
    const b = parseTraceEvent({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_MAP", arg: { flags: ["FIXED_IOVA", "IOMMU_IOAS_MAP_READABLE"] } }, 1);
    expect(a.cmd).toBe("IOMMU_IOAS_GET_PA");
    expect(b.arg).toEqual({ flags: ["FIXED_IOVA", "IOMMU_IOAS_MAP_READABLE"] });
  });

  it("refuses a field version 1 does not define, naming the known field it is closest to", () => {
    expect(() => parseTraceEvent({ op: "process", pid: 1, comment: "vmm" }, 1)).toThrow(
      /unknown field for op "process" \(known: op, seq, pid, caps, parent, expect\)/,
    );
    expect(fieldOf({ op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_ALLOC", ARG: {} })).toBe("ARG");
  });
});
