// Paging domains whose tables live in simulated memory: the parameters each
// host driver gives them, iommu_map's page-size choice, generic_pt's unmap and
// deinit, DYNAMIC_TOP growth, and the kernel page-table frame allocator.
import { produce } from "immer";
import { describe, expect, it } from "vitest";
import { domainAllocPaging, domainFree, domainIovaToPhys, domainUnmap } from "../../src/model/domain/domain.ts";
import { defaultParams, MOCK_HUGE_PGSIZE_BITMAP, type DomainParams } from "../../src/model/domain/params.ts";
import { DRIVERS, NOIOMMU_DRIVER } from "../../src/model/iommu/index.ts";
import { Unmodelled } from "../../src/model/iommu/driver.ts";
import type { HostIommu } from "../../src/model/host/state.ts";
import { mapAreaInto, unmapFrom } from "../../src/model/iommufd/io_pagetable.ts";
import { initialState } from "../../src/model/state.ts";
import { area, attached, entryAt, hostState, mapArea, VTD_SM } from "./domainfix.ts";

/** Every power of two from 2^lo to 2^hi, less the listed ones. */
function sizes(lo: number, hi: number, except: number[] = []): bigint {
  let b = 0n;
  for (let i = lo; i <= hi; i++) if (!except.includes(i)) b |= 1n << BigInt(i);
  return b;
}

const KERNEL_BASE = 64n << 30n;

/** The paging domain a host's driver allocates (its pagingParams). */
const domainParamsFor = (host: HostIommu | null, noiommu: boolean) =>
  (noiommu ? NOIOMMU_DRIVER : DRIVERS[host?.type ?? "none"]).pagingParams(host) as DomainParams;

describe("pagingParams: what each host IOMMU driver allocates", () => {
  it("intel_vtd: second stage, levels from the address width (vtdss_pt_iommu_fmt_init), pages per CAP.SLLPS", () => {
    const s = hostState(VTD_SM);
    expect(domainParamsFor(s.host.iommu, false)).toEqual({
      format: "vtd-ss",
      awBits: 48,
      levels: 4,
      pgsizeBitmap: (1n << 12n) | (1n << 21n) | (1n << 30n),
      aperture: { start: 0n, last: (1n << 48n) - 1n },
    });
    const only2M = hostState({ ...VTD_SM, cap_reg: "0x80d20004222f0606" });
    expect(domainParamsFor(only2M.host.iommu, false)!.pgsizeBitmap).toBe((1n << 12n) | (1n << 21n));
    const noCap = hostState({ op: "host.iommu", type: "intel_vtd", aw_bits: 39 });
    expect(domainParamsFor(noCap.host.iommu, false)).toMatchObject({ levels: 3, pgsizeBitmap: (1n << 12n) | (1n << 21n) | (1n << 30n) });
    expect(domainParamsFor(hostState({ op: "host.iommu", type: "intel_vtd", aw_bits: 57 }).host.iommu, false)!.levels).toBe(5);
  });

  it("amd: AMDv1 from starting_level 2, every page size get_info reports below the 48-bit VA, 512G excepted", () => {
    const p = domainParamsFor(hostState({ op: "host.iommu", type: "amd" }).host.iommu, false);
    expect(p).toEqual({ format: "amdv1", awBits: 48, levels: 3, pgsizeBitmap: sizes(12, 47, [39]), aperture: { start: 0n, last: (1n << 48n) - 1n } });
  });

  it("selftest_mock: AMDv1 with a 2 KiB page, 3 fixed levels, MOCK_APERTURE_START..MOCK_APERTURE_LAST (mock_domain_alloc_pgtable)", () => {
    const p = domainParamsFor(hostState({ op: "host.iommu", type: "selftest_mock" }).host.iommu, false);
    expect(p).toEqual({ format: "selftest", awBits: 38, levels: 3, pgsizeBitmap: sizes(11, 37), aperture: { start: 1n << 24n, last: (1n << 31n) - 1n } });
  });

  it("no-IOMMU (seed 003 hwpt_noiommu.c): AMDv1, 64-bit VA, 52-bit OA, starting_level 2", () => {
    expect(domainParamsFor(null, true)).toEqual({
      format: "noiommu",
      awBits: 64,
      levels: 3,
      pgsizeBitmap: sizes(12, 51, [39]),
      aperture: { start: 0n, last: (1n << 64n) - 1n },
    });
  });

  it("arm_smmuv3 formats are not modelled yet: not modelled, said so", () => {
    expect(domainParamsFor(hostState({ op: "host.iommu", type: "arm_smmuv3" }).host.iommu, false)).toBeInstanceOf(Unmodelled);
  });
});

describe("domain page tables in simulated memory", () => {
  it("table frames come from the kernel allocator at 64 GiB, in order; a 4 KiB map builds one table per level", () => {
    const x = attached(hostState(VTD_SM));
    expect(x.domain.root).toBe(KERNEL_BASE);
    mapArea(x, area([[0x1000n, 0x4000_0000n, 0x1000n]]));
    expect(x.s.memory.kernelNextPfn).toBe(Number(KERNEL_BASE >> 12n) + 4);
    // The SS-PML4E points to the next frame, with R|W (vtdss_pt_install_table).
    expect(entryAt(x.s, KERNEL_BASE)).toBe(KERNEL_BASE + 0x1000n + 3n);
    expect(entryAt(x.s, KERNEL_BASE + 0x3000n + 8n)).toBe(0x4000_0000n + 3n);
  });

  it("iommu_map picks the largest page size alignment allows (iommu_pgsize), per physical run", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x4000_0000n, 0x8000_0000n, 0x20_1000n]])); // 2M + 4K, both sides 1G-aligned
    mapArea(x, area([[0x8000_0000n, 0x9000_1000n, 0x20_0000n]])); // pa only 4K-aligned
    const d = x.domain;
    expect(domainIovaToPhys(x.s, d, 0x401f_f123n)).toEqual({ pa: 0x801f_f123n, pageSize: 0x20_0000n, perm: "rw" });
    expect(domainIovaToPhys(x.s, d, 0x4020_0123n)).toEqual({ pa: 0x8020_0123n, pageSize: 0x1000n, perm: "rw" });
    expect(domainIovaToPhys(x.s, d, 0x801f_f000n)).toEqual({ pa: 0x9020_0000n, pageSize: 0x1000n, perm: "rw" });
    expect(domainIovaToPhys(x.s, d, 0x4020_1000n)).toBeUndefined();
  });

  it("IOMMU_READ-only areas map without W", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x1000n, 0x5000n, 0x1000n]], 1));
    expect(domainIovaToPhys(x.s, x.domain, 0x1000n)!.perm).toBe("r");
  });

  it("unmap removes whole leaves and frees the tables the range covers; a partly covered table stays (generic_pt __unmap_range)", () => {
    const x = attached(hostState(VTD_SM));
    const d = x.domain;
    mapArea(x, area([[0x20_0000n, 0x1_0000_0000n, 0x2000n]])); // tables: L3, L2, L1 at +1..+3
    mapArea(x, area([[0x40_0000n, 0x1_0010_0000n, 0x1000n]])); // another L1 table at +4
    unmapFrom(x.s, x.hwpt, 0x20_0000n, 0x20_1fffn);
    expect(domainIovaToPhys(x.s, d, 0x20_0000n)).toBeUndefined();
    expect(x.s.memory.kernelFree).toEqual([]); // the L1 table is only partly covered: kept
    domainUnmap(x.s, d, 0x20_0000n, 0x3f_ffffn); // covers the first L1 table's 2 MiB span
    expect(x.s.memory.kernelFree).toEqual([Number(KERNEL_BASE >> 12n) + 3]);
    expect(domainIovaToPhys(x.s, d, 0x40_0000n)!.pa).toBe(0x1_0010_0000n);
    domainUnmap(x.s, d, 0n, (1n << 48n) - 1n);
    expect(x.s.memory.kernelFree).toHaveLength(4); // everything but the top
    domainFree(x.s, d);
    expect(x.s.memory.kernelFree).toHaveLength(5);
    // The next table reuses the lowest free frame, zeroed.
    const again = domainAllocPaging(x.s, defaultParams("vtd-ss", 48));
    expect(again.root).toBe(KERNEL_BASE);
    expect(entryAt(x.s, KERNEL_BASE)).toBe(0n);
  });

  it("a large page over an emptied table frees that table (clear_contig)", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x20_0000n, 0x1_0000_0000n, 0x1000n]]));
    domainUnmap(x.s, x.domain, 0x20_0000n, 0x20_0fffn);
    mapArea(x, area([[0x20_0000n, 0x1_0020_0000n, 0x20_0000n]]));
    expect(domainIovaToPhys(x.s, x.domain, 0x20_0000n)).toMatchObject({ pageSize: 0x20_0000n });
    expect(x.s.memory.kernelFree).toEqual([Number(KERNEL_BASE >> 12n) + 3]);
  });

  it("AMDv1 grows its top as mappings need it (PT_FEAT_DYNAMIC_TOP, increase_top); the old top is entry 0 of the new", () => {
    const x = attached(hostState({ op: "host.iommu", type: "amd" }));
    const d = x.domain;
    const oldRoot = d.root;
    mapArea(x, area([[0x1000n, 0x7000n, 0x1000n]]));
    mapArea(x, area([[0x100_0000_0000n, 0x8000n, 0x1000n]])); // bit 40: needs 4 levels
    expect(d.levels).toBe(4);
    expect(d.root).not.toBe(oldRoot);
    // PR | NextLevel 3 | the old top | IR | IW
    expect(entryAt(x.s, d.root)).toBe(1n | (3n << 9n) | oldRoot | (3n << 61n));
    expect(domainIovaToPhys(x.s, d, 0x1234n)!.pa).toBe(0x7234n);
    expect(domainIovaToPhys(x.s, d, 0x100_0000_0010n)!.pa).toBe(0x8010n);
  });

  it("the no-IOMMU domain translates any 64-bit IOVA: the top grows to 6 levels", () => {
    const s = initialState();
    const d = domainAllocPaging(s, defaultParams("noiommu", 64));
    const x = attached(s, [], d);
    mapArea(x, area([[0xffff_ffff_ffe0_0000n, 0x2_0000_0000n, 0x20_0000n]]));
    expect(d.levels).toBe(6);
    expect(domainIovaToPhys(s, d, 0xffff_ffff_ffff_fff8n)).toEqual({ pa: 0x2_001f_fff8n, pageSize: 0x20_0000n, perm: "rw" });
  });

  it("AMDv1 writes pages larger than an entry as NextLevel 7 into every entry they cover (amdv1pt_install_leaf_entry)", () => {
    const x = attached(hostState({ op: "host.iommu", type: "amd" }));
    mapArea(x, area([[0x1_0000n, 0x20_0000n, 0x4000n]])); // one 16 KiB page
    const t = KERNEL_BASE + 0x2000n; // L3 top, L2 at +1, L1 at +2
    const e = entryAt(x.s, t + 16n * 8n);
    expect(e).toBe(1n | (7n << 9n) | (((0x20_0000n >> 12n) | 1n) << 12n) | (1n << 60n) | (3n << 61n));
    for (let i = 17n; i < 20n; i++) expect(entryAt(x.s, t + i * 8n)).toBe(e);
    expect(domainIovaToPhys(x.s, x.domain, 0x1_3fffn)).toMatchObject({ pa: 0x20_3fffn, pageSize: 0x4000n });
    domainUnmap(x.s, x.domain, 0x1_0000n, 0x1_0fffn); // the whole contiguous page goes
    expect(entryAt(x.s, t + 19n * 8n)).toBe(0n);
  });

  it("the selftest mock stores address / 2 KiB; MOCK_IOMMUPT_HUGE maps 1 MiB pages", () => {
    const x = attached(hostState({ op: "host.iommu", type: "selftest_mock" }));
    mapArea(x, area([[0x100_0000n, 0x4000_0000n, 0x2000n]]));
    expect(domainIovaToPhys(x.s, x.domain, 0x100_1810n)).toEqual({ pa: 0x4000_1810n, pageSize: 0x2000n, perm: "rw" });
    const s = hostState({ op: "host.iommu", type: "selftest_mock" });
    const huge = domainAllocPaging(s, { ...defaultParams("selftest", 0), pgsizeBitmap: MOCK_HUGE_PGSIZE_BITMAP });
    const y = attached(s, undefined, huge);
    mapArea(y, area([[0x100_0000n, 0x4000_0000n, 0x20_0000n]]));
    expect(domainIovaToPhys(s, huge, 0x110_0000n)).toMatchObject({ pa: 0x4010_0000n, pageSize: 0x10_0000n });
  });

  it("tables are copy-on-write: a map inside produce leaves the earlier state's frames untouched", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x1000n, 0x5000n, 0x1000n]]));
    const before = x.s;
    const after = produce(before, (draft) => {
      mapAreaInto(draft, draft.iommufd.get(1)!.objects.get(2) as typeof x.hwpt, area([[0x2000n, 0x6000n, 0x1000n]]));
    });
    expect(domainIovaToPhys(after, x.domain, 0x2000n)!.pa).toBe(0x6000n);
    expect(domainIovaToPhys(before, x.domain, 0x2000n)).toBeUndefined();
    expect(domainIovaToPhys(before, x.domain, 0x1000n)!.pa).toBe(0x5000n);
  });
});
