// IOAS commands (drivers/iommu/iommufd/ioas.c, io_pagetable.c) against the
// kernel selftest tools/testing/selftests/iommu/iommufd.c, no-domain cases.
import { describe, expect, it } from "vitest";
import { readPhys } from "../../src/model/memory/physmem.ts";
import { vaToPa } from "../../src/model/process/state.ts";
import type { Ioas } from "../../src/model/iommufd/state.ts";
import type { State } from "../../src/model/state.ts";
import { h, io, last, run } from "../helpers.ts";

const P = 0x1000;
const BUF = 0x7f0000200000n;
const U64_MAX = "0xffffffffffffffff";
const FIXED = ["FIXED_IOVA", "READABLE", "WRITEABLE"];
const map = (iova: number | bigint, length: number, va: bigint = BUF, ioas = 1) =>
  io("IOMMU_IOAS_MAP", { flags: FIXED, ioas_id: ioas, user_va: h(va), length: h(length), iova: h(iova) });
const amap = (length: number, va: bigint = BUF) => io("IOMMU_IOAS_MAP", { flags: ["READABLE", "WRITEABLE"], ioas_id: 1, user_va: h(va), length: h(length) });
const unmap = (iova: number | string, length: number | string, ioas = 1) =>
  io("IOMMU_IOAS_UNMAP", { ioas_id: ioas, iova: typeof iova === "string" ? iova : h(iova), length: typeof length === "string" ? length : h(length) });

/** FIXTURE_SETUP(iommufd_ioas), no_domain: a root-like process, `buffer`, /dev/iommu as fd 3, IOAS 1. */
function fixture(caps: string[] = ["CAP_SYS_RESOURCE"]): Record<string, unknown>[] {
  return [
    { op: "process", pid: 1, caps },
    { op: "mem.map", pid: 1, va: h(BUF), length: h(16 * P) },
    { op: "open", pid: 1, path: "/dev/iommu" },
    io("IOMMU_IOAS_ALLOC"),
  ];
}

function ioasOf(s: State, id = 1): Ioas {
  const ctx = [...s.iommufd.values()][0]!;
  return ctx.objects.get(id) as Ioas;
}

describe("IOMMU_IOAS_MAP / IOMMU_IOAS_UNMAP", () => {
  it("iommufd.c TEST_F(iommufd_ioas, area): unmap of nothing ENOENT, split ENOENT, over-map EEXIST, unmap-all twice", () => {
    const r = run([
      ...fixture(),
      unmap(0, P),
      map(16 * P, 2 * P),
      unmap(16 * P, P),
      unmap(17 * P, P),
      map(16 * P, 2 * P),
      map(17 * P, P),
      map(15 * P, 3 * P),
      map(18 * P, P),
      unmap(0, U64_MAX),
      unmap(0, U64_MAX),
    ]).outcomes.slice(4);
    expect(r).toEqual([
      { errno: "ENOENT" },
      { ret: 0, out: { size: 40, flags: 7, ioas_id: 1, __reserved: 0, user_va: BUF, length: 2n * BigInt(P), iova: 16n * BigInt(P) } },
      { errno: "ENOENT" },
      { errno: "ENOENT" },
      { errno: "EEXIST" },
      { errno: "EEXIST" },
      { errno: "EEXIST" },
      expect.objectContaining({ ret: 0 }),
      { ret: 0, out: { size: 24, ioas_id: 1, iova: 0n, length: 3n * BigInt(P) } },
      { ret: 0, out: { size: 24, ioas_id: 1, iova: 0n, length: 0n } },
    ]);
  });

  it("iommufd.c TEST_F(iommufd_ioas, unmap_fully_contained_areas): only ranges holding whole areas unmap", () => {
    const base = 4 * P;
    const maps = [0, 1, 2, 3].map((i) => map(base + i * 16 * P, 8 * P));
    const r = run([...fixture(), ...maps, unmap(0, 8 * P), unmap(base + 52 * P, 8 * P), unmap(0, 60 * P)]).outcomes.slice(8);
    expect(r.map((o) => o.errno ?? o.out?.length)).toEqual(["ENOENT", "ENOENT", BigInt(32 * P)]);
  });

  it("iopt_unmap_iova_range: areas before the one that sticks out stay unmapped (the kernel is not atomic here)", () => {
    const r = run([...fixture(), map(P, P), map(3 * P, 2 * P), unmap(P, 3 * P), unmap(0, U64_MAX)]);
    expect(r.outcomes[6]).toEqual({ errno: "ENOENT" });
    expect(r.outcomes[7]!.out!.length).toBe(2n * BigInt(P));
  });

  it("iommufd_ioas_map: argument checks in the kernel's order", () => {
    const base = { ioas_id: 1, user_va: h(BUF), length: h(P), iova: h(P) };
    const m = (arg: Record<string, unknown>) => last([...fixture(), io("IOMMU_IOAS_MAP", { flags: FIXED, ...base, ...arg })]);
    expect(m({ flags: 8 })).toEqual({ errno: "EOPNOTSUPP" });
    expect(m({ __reserved: 1, iova: U64_MAX })).toEqual({ errno: "EOPNOTSUPP" });
    expect(m({ iova: U64_MAX, flags: 0 })).toEqual({ errno: "EOVERFLOW" });
    expect(m({ flags: ["FIXED_IOVA"], ioas_id: 9 })).toEqual({ errno: "EINVAL" });
    expect(m({ ioas_id: 9 })).toEqual({ errno: "ENOENT" });
    // iopt_alloc_user_pages: uptr + length overflowing; then iopt_alloc_pages: length 0.
    expect(m({ user_va: "0xfffffffffffff000", length: h(2 * P) })).toEqual({ errno: "EOVERFLOW" });
    expect(m({ length: 0 })).toEqual({ errno: "EINVAL" });
    // iopt_alloc_iova refuses length >= ULONG_MAX / 2 before looking for room.
    expect(m({ flags: ["READABLE"], user_va: 0, length: "0x8000000000000000" })).toEqual({ errno: "EOVERFLOW" });
    // iopt_check_iova: a fixed range ending past 2^64.
    expect(m({ iova: "0xfffffffffffff000", length: h(2 * P) })).toEqual({ errno: "EOVERFLOW" });
  });

  it("iommufd.c TEST_F(iommufd_ioas, area_auto_iova): IOVA 0 is never given, alignment roundup_pow_of_two(length) capped by the user_va", () => {
    const lens = [1, 2, 3, 4, 5].map((n) => n * P);
    const r = run([...fixture(), ...lens.map((l) => amap(l, 1n << 31n))]).outcomes.slice(4);
    expect(r.map((o) => o.out!.iova)).toEqual([0x1000n, 0x2000n, 0x4000n, 0x8000n, 0x10000n]);
    // A user_va aligned only to 8 KiB caps a 16 KiB length at 8 KiB alignment; the page offset is kept.
    const off = last([...fixture(), amap(P, BUF + 0x800n)]);
    expect(off.out!.iova).toBe(0x1800n);
    const capped = last([...fixture(), map(0x1000, P), amap(4 * P, 0x7f0000002000n)]);
    expect(capped.out!.iova).toBe(0x2000n);
  });

  it("IOMMU_IOAS_ALLOW_IOVAS bounds automatic IOVAs only: a fixed IOVA outside is still accepted (iopt_check_iova ignores it)", () => {
    const allow = io("IOMMU_IOAS_ALLOW_IOVAS", { ioas_id: 1, allowed_iovas: [{ start: h(200 * P), last: h(203 * P - 1) }] });
    const r = run([...fixture(), allow, amap(2 * P), amap(2 * P), map(0x1000, P)]).outcomes.slice(4);
    expect(r[0]).toEqual({ ret: 0 });
    expect(r[1]!.out!.iova).toBe(BigInt(200 * P));
    expect(r[2]).toEqual({ errno: "ENOSPC" });
    expect(r[3]).toMatchObject({ ret: 0 });
  });
});

describe("IOMMU_IOAS_IOVA_RANGES", () => {
  it("iommufd.c TEST_F(iommufd_ioas, iova_ranges): [0, SIZE_MAX] copied to the user's array, alignment 1; EMSGSIZE when it does not fit", () => {
    const r = run([
      ...fixture(),
      io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 1, num_iovas: 4096, allowed_iovas: h(BUF + 0x100n) }),
      io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 1, allowed_iovas: h(BUF) }),
    ]);
    expect(r.outcomes[4]!.out).toMatchObject({ num_iovas: 1, allowed_iovas: [{ start: 0n, last: (1n << 64n) - 1n }], out_iova_alignment: 1n });
    expect(r.outcomes[5]).toMatchObject({ errno: "EMSGSIZE", out: { num_iovas: 1, allowed_iovas: [] } });
    // copy_to_user wrote the range into the process's memory.
    const mem = new Uint8Array(16);
    readPhys(r.result.state.memory, vaToPa(r.result.state.processes.get(1)!, BUF + 0x100n)!, mem);
    expect(Buffer.from(mem).toString("hex")).toBe("0000000000000000ffffffffffffffff");
  });

  it("__reserved is EOPNOTSUPP, a bad id ENOENT, an unmapped array EFAULT", () => {
    expect(last([...fixture(), io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 9, __reserved: 1 })])).toEqual({ errno: "EOPNOTSUPP" });
    expect(last([...fixture(), io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 9 })])).toEqual({ errno: "ENOENT" });
    expect(last([...fixture(), io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 1, num_iovas: 1, allowed_iovas: "0x1000" })])).toEqual({ errno: "EFAULT" });
  });
});

describe("IOMMU_IOAS_ALLOW_IOVAS", () => {
  const allow = (ranges: unknown, extra: Record<string, unknown> = {}) => io("IOMMU_IOAS_ALLOW_IOVAS", { ioas_id: 1, allowed_iovas: ranges, ...extra });
  it("iommufd_ioas_load_iovas: start >= last and overlapping ranges are EINVAL; nothing changes", () => {
    expect(last([...fixture(), allow([{ start: P, last: P }])])).toEqual({ errno: "EINVAL" });
    const r = run([
      ...fixture(),
      allow([{ start: 0, last: 10 * P }]),
      allow([
        { start: 20 * P, last: 30 * P },
        { start: 25 * P, last: 40 * P },
      ]),
    ]);
    expect(r.outcomes[5]).toEqual({ errno: "EINVAL" });
    expect(ioasOf(r.result.state).allowed).toEqual([{ start: 0n, last: BigInt(10 * P) }]);
  });

  it("reads the array from the process's memory (EFAULT when unmapped); num_iovas 0 clears the list", () => {
    const write = { op: "mem.write", pid: 1, va: h(BUF), u64: [h(200 * P), h(300 * P), h(400 * P), h(500 * P)] };
    const r = run([...fixture(), write, allow(h(BUF), { num_iovas: 2 })]);
    expect(r.outcomes[5]).toEqual({ ret: 0 });
    expect(ioasOf(r.result.state).allowed.map((x) => x.start)).toEqual([BigInt(200 * P), BigInt(400 * P)]);
    expect(last([...fixture(), allow("0x1000", { num_iovas: 1 })])).toEqual({ errno: "EFAULT" });
    const cleared = run([...fixture(), write, allow(h(BUF), { num_iovas: 2 }), allow(0, { num_iovas: 0 })]);
    expect(ioasOf(cleared.result.state).allowed).toEqual([]);
  });
});

describe("IOMMU_IOAS_COPY", () => {
  const copy = (arg: Record<string, unknown>) =>
    io("IOMMU_IOAS_COPY", { flags: ["FIXED_IOVA", "WRITEABLE"], dst_ioas_id: 1, src_ioas_id: 1, length: h(P), ...arg });
  it("iommufd.c TEST_F(iommufd_ioas, copy_area): inside one IOAS and into another", () => {
    const r = run([...fixture(), map(0, P), copy({ src_iova: 0, dst_iova: h(P) }), io("IOMMU_IOAS_ALLOC"), copy({ dst_ioas_id: 2, src_iova: 0, dst_iova: 0 })]);
    expect(r.outcomes.slice(5).map((o) => o.ret ?? o.errno)).toEqual([0, 0, 0]);
    expect(ioasOf(r.result.state, 2).areas[0]).toMatchObject({ iova: 0n, last: BigInt(P - 1), source: { kind: "user", va: BUF } });
  });

  it("iopt_get_pages: a source range not covered by contiguous areas is ENOENT; the check order is the kernel's", () => {
    expect(last([...fixture(), map(0, P), copy({ src_iova: 0, length: h(2 * P), dst_iova: h(4 * P) })])).toEqual({ errno: "ENOENT" });
    expect(last([...fixture(), copy({ flags: ["FIXED_IOVA"], src_ioas_id: 9 })])).toEqual({ errno: "EINVAL" });
    expect(last([...fixture(), copy({ flags: 16 })])).toEqual({ errno: "EOPNOTSUPP" });
    expect(last([...fixture(), copy({ src_ioas_id: 9 })])).toEqual({ errno: "ENOENT" });
    expect(last([...fixture(), map(0, P), copy({ src_iova: 0, dst_ioas_id: 9 })])).toEqual({ errno: "ENOENT" });
  });

  it("one area per source area; a WRITEABLE copy of read-only pages is EPERM (iopt_insert_area)", () => {
    const r = run([...fixture(), map(0, P), map(P, P, BUF + 0x1000n), copy({ src_iova: 0, length: h(2 * P), dst_iova: h(8 * P) }), unmap(8 * P, P)]);
    expect(r.outcomes[6]).toMatchObject({ ret: 0 });
    expect(r.outcomes[7]).toMatchObject({ ret: 0, out: { length: BigInt(P) } });
    const ro = io("IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE"], ioas_id: 1, user_va: h(BUF), length: h(P), iova: 0 });
    expect(last([...fixture(), ro, copy({ src_iova: 0, dst_iova: h(P) })])).toEqual({ errno: "EPERM" });
    expect(last([...fixture(), ro, copy({ flags: ["FIXED_IOVA", "READABLE"], src_iova: 0, dst_iova: h(P) })])).toMatchObject({ ret: 0 });
  });
});

describe("IOMMU_OPTION", () => {
  const opt = (arg: Record<string, unknown>) => io("IOMMU_OPTION", arg);
  const pre = (caps: string[]) => [
    { op: "process", pid: 1, caps },
    { op: "open", pid: 1, path: "/dev/iommu" },
  ];
  it("iommufd.c TEST_F(iommufd, global_options): RLIMIT_MODE SET needs CAP_SYS_RESOURCE (EPERM) and an empty table (EBUSY)", () => {
    const set1 = opt({ option_id: "IOMMU_OPTION_RLIMIT_MODE", op: "IOMMU_OPTION_OP_SET", val64: 1 });
    const get = opt({ option_id: "IOMMU_OPTION_RLIMIT_MODE", op: "IOMMU_OPTION_OP_GET" });
    expect(last([...pre([]), set1])).toEqual({ errno: "EPERM" });
    expect(run([...pre(["CAP_SYS_RESOURCE"]), set1, get]).outcomes.slice(2)).toEqual([
      { ret: 0, out: { val64: 1n } },
      { ret: 0, out: { val64: 1n } },
    ]);
    expect(last([...pre(["CAP_SYS_RESOURCE"]), io("IOMMU_IOAS_ALLOC"), set1])).toEqual({ errno: "EBUSY" });
    expect(last([...pre(["CAP_SYS_RESOURCE"]), opt({ option_id: "IOMMU_OPTION_RLIMIT_MODE", op: "IOMMU_OPTION_OP_GET", object_id: 1 })])).toEqual({
      errno: "EOPNOTSUPP",
    });
    expect(last([...pre([]), opt({ option_id: 7, op: 1 })])).toEqual({ errno: "EOPNOTSUPP" });
    expect(last([...pre([]), opt({ option_id: 0, op: 1, __reserved: 1 })])).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("iommufd.c TEST_F(iommufd_ioas, ioas_option_huge_pages) and ioas_align_change: only val64 goes back; SET 0 with a misaligned area is EADDRINUSE", () => {
    const hp = (op: number, val64: number, object_id = 1) => opt({ option_id: "IOMMU_OPTION_HUGE_PAGES", op, val64, object_id });
    expect(last([...fixture(), hp(1, 3)])).toEqual({ ret: 0, out: { val64: 1n } });
    expect(last([...fixture(), hp(0, 2)])).toEqual({ errno: "EINVAL" });
    expect(last([...fixture(), hp(5, 0)])).toEqual({ errno: "EOPNOTSUPP" });
    expect(last([...fixture(), hp(1, 0, 0)])).toEqual({ errno: "ENOENT" });
    const r = run([
      ...fixture(),
      hp(0, 0),
      map(P, P, BUF + 0x800n),
      hp(0, 1),
      map(P, P, BUF + 0x800n),
      hp(0, 0),
      io("IOMMU_IOAS_IOVA_RANGES", { ioas_id: 1, allowed_iovas: [] }),
    ]);
    expect(r.outcomes.slice(4, 9).map((o) => o.ret ?? o.errno)).toEqual([0, "EINVAL", 0, 0, "EADDRINUSE"]);
    expect(r.outcomes[9]).toMatchObject({ errno: "EMSGSIZE", out: { out_iova_alignment: 1n } });
  });
});

describe("IOMMU_VFIO_IOAS and IOMMU_IOAS_CHANGE_PROCESS", () => {
  const vio = (op: number, ioas_id = 0, extra: Record<string, unknown> = {}) => io("IOMMU_VFIO_IOAS", { op, ioas_id, ...extra });
  it("vfio_compat.c iommufd_vfio_ioas: GET ENODEV until SET, CLEAR, destroy of the IOAS clears it", () => {
    const r = run([
      ...fixture(),
      vio(0),
      vio(1, 9),
      vio(1, 1),
      vio(0),
      vio(2),
      vio(0),
      vio(1, 1),
      io("IOMMU_DESTROY", { id: 1 }),
      vio(0),
      vio(3),
      vio(0, 0, { __reserved: 1 }),
    ]);
    expect(r.outcomes.slice(4).map((o) => o.errno ?? o.out?.ioas_id ?? o.ret)).toEqual([
      "ENODEV",
      "ENOENT",
      0,
      1,
      0,
      "ENODEV",
      0,
      0,
      "ENODEV",
      "EOPNOTSUPP",
      "EOPNOTSUPP",
    ]);
  });

  it("iommufd_ioas_change_process: any area of user memory is EINVAL; no areas is 0", () => {
    const cp = io("IOMMU_IOAS_CHANGE_PROCESS", {});
    expect(last([...fixture(), cp])).toEqual({ ret: 0 });
    expect(last([...fixture(), map(0, P), cp])).toEqual({ errno: "EINVAL" });
    expect(last([...fixture(), io("IOMMU_IOAS_CHANGE_PROCESS", { __reserved: 1 })])).toEqual({ errno: "EOPNOTSUPP" });
  });
});

describe("IOMMU_IOAS_MAP_FILE", () => {
  const mf = (arg: Record<string, unknown>) => io("IOMMU_IOAS_MAP_FILE", { flags: FIXED, ioas_id: 1, fd: 3, start: 0, length: h(P), iova: h(P), ...arg });
  it("iopt_map_file_pages: length 0 EINVAL, start + length overflowing EOVERFLOW, an fd not open EBADF", () => {
    expect(last([...fixture(), mf({ length: 0 })])).toEqual({ errno: "EINVAL" });
    expect(last([...fixture(), mf({ start: "0xfffffffffffff001" })])).toEqual({ errno: "EOVERFLOW" });
    expect(last([...fixture(), mf({ fd: 9 })])).toEqual({ errno: "EBADF" });
    expect(last([...fixture(), mf({ fd: 9, ioas_id: 7 })])).toEqual({ errno: "ENOENT" });
  });

  it("a file that is neither a dma-buf nor shmem still maps lazily without a domain (only pinning refuses it)", () => {
    const r = run([...fixture(), mf({}), io("IOMMU_IOAS_CHANGE_PROCESS", {})]);
    expect(r.outcomes[4]).toMatchObject({ ret: 0, out: { iova: BigInt(P) } });
    expect(ioasOf(r.result.state).areas[0]!.source).toEqual({ kind: "file", fileId: 1, start: 0n });
    expect(r.outcomes[5]).toEqual({ ret: 0 });
  });
});

describe("iommufd.c TEST_F(iommufd, cmd_length) for the IOAS structs", () => {
  const rows: [string, number, number, Record<string, unknown>][] = [
    ["IOMMU_IOAS_IOVA_RANGES", 32, 32, { errno: "ENOENT" }],
    ["IOMMU_IOAS_ALLOW_IOVAS", 24, 24, { errno: "ENOENT" }],
    ["IOMMU_IOAS_MAP", 40, 40, { errno: "EINVAL" }],
    ["IOMMU_IOAS_COPY", 40, 40, { errno: "EINVAL" }],
    ["IOMMU_IOAS_UNMAP", 24, 24, { errno: "ENOENT" }],
    ["IOMMU_OPTION", 24, 24, { errno: "EPERM" }],
    ["IOMMU_VFIO_IOAS", 12, 12, { errno: "ENODEV" }],
    ["IOMMU_IOAS_MAP_FILE", 40, 40, { errno: "EINVAL" }],
    ["IOMMU_IOAS_CHANGE_PROCESS", 8, 8, { ret: 0 }],
  ];
  for (const [cmd, min, size, answer] of rows)
    it(`${cmd}: size ${min - 1} EINVAL, a non-zero byte past ${size} E2BIG, a zero one as size ${size}`, () => {
      const pre = [
        { op: "process", pid: 1 },
        { op: "open", pid: 1, path: "/dev/iommu" },
      ];
      const bytes = (extra: string) => `${(size + 1).toString(16).padStart(2, "0")}000000${"00".repeat(size - 4)}${extra}`;
      expect(last([...pre, io(cmd, { size: min - 1 })])).toEqual({ errno: "EINVAL" });
      expect(last([...pre, io(cmd, undefined, { argHex: bytes("ff") })])).toEqual({ errno: "E2BIG" });
      expect(last([...pre, io(cmd, { size })])).toMatchObject(answer);
      expect(last([...pre, io(cmd, undefined, { argHex: bytes("00") })])).toMatchObject(answer);
    });
});
