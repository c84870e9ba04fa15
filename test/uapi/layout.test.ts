// The struct layout engine (src/uapi/layout.ts) against gcc's x86_64 rules as
// the uAPI headers rely on them: natural alignment, __aligned_u64, unions by
// explicit offset, copy_struct_from_user zero extension.
import { describe, expect, it } from "vitest";
import { decodeStruct, defineStruct, encodeStruct, fieldToBigInt, flagTable, LayoutError, offsetofend, writeField } from "../../src/uapi/layout.ts";

const FLAGS = flagTable("TEST_FLAG_", { A: 1 << 0, B: 1 << 1, C: 1 << 4 });

const t = defineStruct("test", [
  ["u32", "size"],
  ["u64", "addr"], // padded to 8, as __aligned_u64
  ["u16", "op", { values: { OP_GET: 0, OP_SET: 1 } }],
  ["u8", "bytes", { count: 3 }],
  ["u32", "flags", { flags: FLAGS }],
  ["s32", "fd"],
]);

describe("defineStruct (gcc x86_64 layout)", () => {
  it("aligns each member to its size and rounds sizeof to the largest alignment", () => {
    const offs = Object.fromEntries(t.fields.map((f) => [f.name, f.offset]));
    expect(offs).toEqual({ size: 0, addr: 8, op: 16, bytes: 18, flags: 24, fd: 28 });
    expect(t.size).toBe(32);
    expect(t.align).toBe(8);
  });

  it("lays a union out by explicit offsets and names nested members by their last component", () => {
    const u = defineStruct("u", [
      ["u32", "argsz"],
      ["u32", "a.x", { at: 4 }],
      ["u32", "a.y", { at: 8 }],
      ["u32", "b", { at: 4 }],
    ]);
    expect(u.size).toBe(12);
    expect(u.byName.get("x")).toBe(u.byName.get("a.x"));
    expect(u.byName.get("b")!.offset).toBe(4);
    expect(offsetofend(u, "y")).toBe(12);
  });

  it("does not give a short name to a last component shared by two members", () => {
    const u = defineStruct("u", [
      ["u32", "p.id"],
      ["u32", "q.id"],
    ]);
    expect(u.byName.has("id")).toBe(false);
    expect(u.byName.get("q.id")!.offset).toBe(4);
  });

  it("refuses a misaligned explicit offset and a declared size below the layout", () => {
    expect(() => defineStruct("bad", [["u64", "x", { at: 4 }]])).toThrow(/aligned/);
    expect(() => defineStruct("bad", [["u64", "x"]], { size: 4 })).toThrow(/size/);
    expect(defineStruct("big", [["u32", "x"]], { size: 16 }).size).toBe(16);
  });

  it("refuses an alias that names another member", () => {
    expect(() =>
      defineStruct("bad", [
        ["u32", "a"],
        ["u32", "b", { aliases: ["a"] }],
      ]),
    ).toThrow(/ambiguous/);
  });
});

describe("encodeStruct / decodeStruct", () => {
  it("writes little-endian bytes and reads them back, with u64 above 2^53 as bigint", () => {
    const big = 0xfedc_ba98_7654_3210n;
    const bytes = encodeStruct(t, { size: 32, addr: big, op: "OP_SET", bytes: [1, 2, 3], flags: ["A", "C"], fd: -1 });
    expect(bytes.length).toBe(32);
    expect(Array.from(bytes.slice(8, 16))).toEqual([0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe]);
    expect(Array.from(bytes.slice(24, 32))).toEqual([0x11, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    const d = decodeStruct(t, bytes);
    expect(d).toEqual({ size: 32, addr: big, op: 1, bytes: [1, 2, 3], flags: 0x11, fd: -1 });
  });

  it("accepts flags by short name, full name, number, and hex/decimal strings", () => {
    const f = t.byName.get("flags")!;
    expect(fieldToBigInt(f, ["TEST_FLAG_A", "B"])).toBe(3n);
    expect(fieldToBigInt(f, ["A", 0x10])).toBe(0x11n);
    expect(fieldToBigInt(f, "0x10")).toBe(16n);
    expect(fieldToBigInt(t.byName.get("addr")!, "18446744073709551615")).toBe(0xffff_ffff_ffff_ffffn);
  });

  it("rejects unknown names, lists on scalar fields and out-of-range values", () => {
    expect(() => encodeStruct(t, { flags: ["D"] })).toThrow(LayoutError);
    expect(() => encodeStruct(t, { nosuch: 1 })).toThrow(LayoutError);
    expect(() => encodeStruct(t, { size: [1, 2] })).toThrow(LayoutError);
    expect(() => encodeStruct(t, { op: 0x10000 })).toThrow(LayoutError);
    expect(() => encodeStruct(t, { bytes: [1, 2, 3, 4] })).toThrow(LayoutError);
    expect(() => encodeStruct(t, { addr: 1n << 64n })).toThrow(LayoutError);
  });

  it("encodes into a caller length shorter or longer than sizeof", () => {
    const short = encodeStruct(t, { size: 16, addr: 5, flags: 1 }, 16);
    expect(short.length).toBe(16); // flags at 24 lies past the caller's struct
    expect(decodeStruct(t, short).flags).toBe(0); // zero-extended like copy_struct_from_user
    const long = encodeStruct(t, { size: 40 }, 40);
    expect(long.length).toBe(40);
    expect(Array.from(long.slice(32))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it("writeField never writes past the caller's length (copy_to_user of an out field)", () => {
    const bytes = new Uint8Array(16);
    writeField(t, bytes, "fd", -2); // fd is at 28: past the end, ignored
    expect(Array.from(bytes)).toEqual(new Array(16).fill(0));
    writeField(t, bytes, "addr", 0x0102n);
    expect(bytes[8]).toBe(2);
    expect(bytes[9]).toBe(1);
  });
});

describe("short names of flags and enum values (docs/trace-format.md: flags without their common prefix)", () => {
  it("accepts any unambiguous tail of a uAPI name", async () => {
    const { structByName } = await import("../../src/uapi/index.ts");
    const { encodeStruct, decodeStruct } = await import("../../src/uapi/layout.ts");
    const hwpt = structByName("iommu_hwpt_alloc")!;
    const d = decodeStruct(hwpt, encodeStruct(hwpt, { flags: ["NEST_PARENT", "IOMMU_HWPT_ALLOC_DIRTY_TRACKING"], data_type: "VTD_S1" }));
    expect(d.flags).toBe(3);
    expect(d.data_type).toBe(1);
    // A tail that names no value is refused.
    expect(() => encodeStruct(hwpt, { data_type: "NOPE" })).toThrow();
    expect(() => encodeStruct(hwpt, { flags: ["NEST"] })).toThrow();
  });
});
