// The selftest's access objects (selftest.c iommufd_test_access_rw /
// iommufd_test_access_pages over device.c iommufd_access_rw /
// iommufd_access_pin_pages): what ACCESS_RW reads and writes in the caller's
// memory, which a trace cannot show (no event reads memory back), and the unmap
// notification with a mock domain attached.
import { describe, expect, it } from "vitest";
import { accessRwTouched } from "../../src/model/iommufd/selftest_access.ts";
import type { State } from "../../src/model/state.ts";
import { copyFromUser } from "../../src/model/uaccess/copy.ts";
import { h, io, run } from "../helpers.ts";

const P = 0x1000;
const BUF = 0x7f0000000000n; // the selftest's buffer, 16 pages
const TMP = 0x7f1000000000n; // check_access_rw's tmp (on the selftest's stack)
const IOVA = 0x1000000n; // MOCK_APERTURE_START

const test = (arg: Record<string, unknown>) => io("IOMMU_TEST_CMD", arg);
const bytes = (s: State, va: bigint, n: number) => Buffer.from(copyFromUser(s, s.processes.get(1)!, va, n)!).toString("hex");
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff)).toString("hex");

function fixture(domain: boolean, mapFlags = ["FIXED_IOVA", "READABLE", "WRITEABLE"], accessFlags = 0): Record<string, unknown>[] {
  return [
    { op: "host.iommu", type: "selftest_mock" },
    { op: "param", name: "kconfig.IOMMUFD_TEST", value: true },
    { op: "process", pid: 1 },
    { op: "mem.map", pid: 1, va: h(BUF), length: h(16 * P) },
    { op: "mem.map", pid: 1, va: h(TMP), length: h(P) },
    { op: "mem.write", pid: 1, va: h(BUF), hex: pattern(16 * P, 1) },
    { op: "open", pid: 1, path: "/dev/iommu" },
    io("IOMMU_IOAS_ALLOC"),
    ...(domain ? [test({ op: "MOCK_DOMAIN", id: 1 })] : []),
    io("IOMMU_IOAS_MAP", { flags: mapFlags, ioas_id: 1, user_va: h(BUF), length: h(16 * P), iova: h(IOVA) }),
    test({ op: "CREATE_ACCESS", id: 1, "create_access.flags": accessFlags }),
  ];
}

const rw = (iova: bigint, length: number, flags: number, uptr = TMP) =>
  test({ op: "ACCESS_RW", id: 4, "access_rw.iova": h(iova), "access_rw.length": length, "access_rw.uptr": h(uptr), "access_rw.flags": flags });

describe("IOMMU_TEST_OP_ACCESS_RW (TEST_F(iommufd_ioas, access_rw): iommufd_access_rw -> iopt_pages_rw_access)", () => {
  for (const domain of [false, true])
    for (const [path, slow] of [
      ["copy_from_user fast path", 0],
      ["MOCK_ACCESS_RW_SLOW_PATH (iopt_pages_rw_page / iopt_pages_rw_slow)", 4],
    ] as const)
      it(`reads the IOAS's bytes into the caller's buffer and writes them back, across a page, ${domain ? "with a mock domain" : "no domain"}, ${path}`, () => {
        const iova = IOVA + BigInt(P) - 50n;
        const read = run([...fixture(domain), rw(iova, 63, slow)]);
        expect(read.outcomes.at(-1)).toEqual({ ret: 0 });
        expect(bytes(read.result.state, TMP, 63)).toBe(pattern(16 * P, 1).slice(2 * (P - 50), 2 * (P + 13)));
        const write = run([...fixture(domain), { op: "mem.write", pid: 1, va: h(TMP), hex: pattern(63, 9) }, rw(iova, 63, slow | 1)]);
        expect(write.outcomes.at(-1)).toEqual({ ret: 0 });
        expect(bytes(write.result.state, BUF + BigInt(P) - 50n, 63)).toBe(pattern(63, 9));
        expect(bytes(write.result.state, BUF + BigInt(P) - 51n, 1)).toBe(pattern(16 * P, 1).slice(2 * (P - 51), 2 * (P - 50)));
        // A multi-page read of the whole buffer (check_access_rw's last step, into a malloc'd tmp2).
        const big = run([...fixture(domain), { op: "mem.map", pid: 1, va: h(TMP + 0x100000n), length: h(16 * P) }, rw(IOVA, 16 * P, slow, TMP + 0x100000n)]);
        expect(big.outcomes.at(-1)).toEqual({ ret: 0 });
        expect(bytes(big.result.state, TMP + 0x100000n, 16 * P)).toBe(pattern(16 * P, 1));
      });

  it("an unaligned area (access_rw_unaligned: iova at MOCK_PAGE_SIZE past the base) is read at its own offset", () => {
    const events = fixture(false).filter((e) => e.cmd !== "IOMMU_IOAS_MAP");
    events.splice(
      events.length - 1,
      0,
      io("IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 1, user_va: h(BUF), length: h(16 * P), iova: h(IOVA + 0x800n) }),
    );
    const s = run([...events, rw(IOVA + 0x800n + 10n, 20, 0)]).result.state;
    expect(bytes(s, TMP, 20)).toBe(pattern(16 * P, 1).slice(20, 60));
  });

  it("checks the area's prot (EPERM: a write to a read-only map), a hole (ENOENT), length 0 (EINVAL), unknown flags (EOPNOTSUPP), a non-access fd (EBADFD)", () => {
    const r = run([
      ...fixture(false, ["FIXED_IOVA", "READABLE"]),
      rw(IOVA, 8, 1),
      rw(IOVA + BigInt(16 * P) - 4n, 8, 0),
      rw(IOVA, 0, 0),
      rw(IOVA, 8, 2),
      { ...rw(IOVA, 8, 0), arg: { ...(rw(IOVA, 8, 0).arg as object), id: 3 } },
    ]);
    expect(r.outcomes.slice(-5).map((o) => o.errno)).toEqual(["EPERM", "ENOENT", "EINVAL", "EOPNOTSUPP", "EBADFD"]);
  });

  it("declares the caller memory it reaches through the IOAS (the area's source range), for a live server to re-read", () => {
    const s = run(fixture(false)).result.state;
    expect(accessRwTouched(s, 1, 4, IOVA + 0x10n, 0x20n, 1)).toEqual([{ pid: 1, va: BUF + 0x10n, len: 0x20n, write: true, iova: IOVA + 0x10n, runs: null }]);
    expect(accessRwTouched(s, 1, 3, IOVA, 0x20n, 0)).toEqual([]);
  });
});

describe("IOAS_UNMAP over an access's pin with a mock domain (iopt_unmap_iova_range -> iommufd_access_notify_unmap)", () => {
  it("unpins the item, unmaps the area, and the item is gone (access_pin_unmap, variant mock_domain)", () => {
    const pin = test({ op: "ACCESS_PAGES", id: 4, "access_pages.iova": h(IOVA), "access_pages.length": h(16 * P), "access_pages.uptr": h(BUF) });
    const r = run([
      ...fixture(true, undefined, 1),
      pin,
      io("IOMMU_IOAS_UNMAP", { ioas_id: 1, iova: h(IOVA), length: h(16 * P) }),
      test({ op: "DESTROY_ACCESS_PAGES", id: 4, "destroy_access_pages.access_pages_id": 0 }),
    ]);
    expect(r.outcomes.slice(-3)).toMatchObject([
      { ret: 0, out: { "access_pages.out_access_pages_id": 0 } },
      { ret: 0, out: { length: BigInt(16 * P) } },
      { errno: "ENOENT" },
    ]);
  });
});
