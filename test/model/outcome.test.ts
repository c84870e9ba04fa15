// expect vs outcome (docs/trace-format.md "Outcomes and expect"): only listed fields, numeric comparison, `true` = present.
import { describe, expect, it } from "vitest";
import { firstMismatch } from "../../src/model/outcome.ts";

describe("firstMismatch", () => {
  it("compares integers numerically whatever their spelling", () => {
    expect(firstMismatch({ pa: "0x40000010" }, { pa: 0x40000010 })).toBeUndefined();
    expect(firstMismatch({ ret: 0, out: { length: "4096" } }, { ret: 0, out: { length: "0x1000", iova: 5 } })).toBeUndefined();
    expect(firstMismatch({ out: { iova: "0xffffffffffffffff" } }, { out: { iova: (1n << 64n) - 1n } })).toBeUndefined();
  });

  it("checks only the fields expect lists, and reports the first that differs", () => {
    expect(firstMismatch({ fd: 3 }, { fd: 3 })).toBeUndefined();
    expect(firstMismatch({ ret: 0 }, { errno: "EINVAL" })).toBe("ret");
    // A divergence names the out member that differs (out.num_iovas), or "out" when the outcome has none.
    expect(firstMismatch({ ret: 0, out: { num_iovas: 2 } }, { ret: 0, out: { num_iovas: 1 } })).toBe("out.num_iovas");
    expect(firstMismatch({ ret: 0, out: { num_iovas: 2 } }, { errno: "EINVAL" })).toBe("ret");
    expect(firstMismatch({ out: { num_iovas: 2 } }, { errno: "EINVAL" })).toBe("out");
  });

  it("`true` asks only that the field be present", () => {
    expect(firstMismatch({ abort: true }, { abort: "hw/vfio/pci.c: assertion failed" })).toBeUndefined();
    expect(firstMismatch({ error: true }, { ok: true })).toBe("error");
  });

  it("compares inline arrays element by element", () => {
    const ranges = [{ start: 0, last: "0xfedfffff" }];
    expect(firstMismatch({ out: { allowed_iovas: ranges } }, { out: { allowed_iovas: [{ start: 0n, last: 0xfedfffffn }] } })).toBeUndefined();
    expect(firstMismatch({ out: { allowed_iovas: ranges } }, { out: { allowed_iovas: [] } })).toBe("out.allowed_iovas");
  });

  it("names an out member of a nested struct or union by its dotted path or its own name", () => {
    expect(firstMismatch({ ret: 0, out: { "alloc_pasid.result": 5 } }, { ret: 0, out: { result: 5 } })).toBeUndefined();
    expect(firstMismatch({ ret: 0, out: { result: 5 } }, { ret: 0, out: { "alloc_pasid.result": 5 } })).toBeUndefined();
    expect(firstMismatch({ ret: 0, out: { "alloc_pasid.result": 6 } }, { ret: 0, out: { result: 5 } })).toBe("out.alloc_pasid.result");
  });

  it("accepts the member spelling of any modelled version: V4's out_length is the merged length", () => {
    expect(firstMismatch({ ret: 0, out: { out_length: 4096 } }, { ret: 0, out: { length: 4096 } })).toBeUndefined();
    expect(firstMismatch({ ret: 0, out: { length: 4096 } }, { ret: 0, out: { out_length: 4096 } })).toBeUndefined();
  });
});
