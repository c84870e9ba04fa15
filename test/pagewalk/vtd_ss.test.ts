// VT-d second-stage walks over hand-built tables (VT-d spec 3.7 / 9.8; QEMU
// vtd_iova_to_sspte for the checks and their VTD_FR_* fault reasons).
import { describe, expect, it } from "vitest";
import {
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_ADDRESS,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_RESERVED,
  PERM_R,
  PERM_W,
  vtdSsFaultName,
  walkVtdSs,
  type PageTable,
} from "../../src/pagewalk/index.ts";
import { chain as buildChain, idx, walkOf, WordMem } from "./helpers.ts";

const R = 1n;
const W = 2n;
const PS = 1n << 7n;

function table(levels: number, aw: number, superpages = 3): PageTable {
  return { root: 0x1000, levels, vaBits: aw, oaBits: 52, granuleLg2: 12, superpages };
}

/** The shared table builder, with this format's non-leaf bits by default. */
function chain(mem: WordMem, pt: PageTable, iova: bigint, leafLevel: number, leaf: bigint, tableBits = R | W): void {
  buildChain(mem, pt, iova, leafLevel, leaf, tableBits);
}

describe("VT-d second stage: levels (CAP.SAGAW: 3, 4 and 5 levels)", () => {
  for (const [levels, aw, iova] of [
    [3, 39, 0x7f_1234_5678n],
    [4, 48, 0xfedc_ba98_7654n],
    [5, 57, 0x1ff_edcb_a987_6543n],
  ] as const) {
    it(`${levels} levels (aw ${aw}): a 4 KiB SS-PTE translates, offset kept, every entry of the walk recorded`, () => {
      const mem = new WordMem();
      const pt = table(levels, aw);
      chain(mem, pt, iova, 1, 0x8_7654_3000n | R | W);
      const r = walkOf(walkVtdSs, mem, pt, iova, ACCESS_WRITE);
      expect(r.fault).toBe(FAULT_NONE);
      expect(r.pa).toBe(0x8_7654_3000n | (iova & 0xfffn));
      expect(r.pageSize).toBe(0x1000n);
      expect(r.perm).toBe(PERM_R | PERM_W);
      expect(r.level).toBe(1);
      expect(r.entries).toHaveLength(levels);
      expect(r.entries[0]).toBe(0x1000 + idx(iova, levels) * 8);
    });
  }

  it("an IOVA at or above 2^aw is VTD_FR_ADDR_BEYOND_MGAW (vtd_iova_to_sspte IOVA overflow)", () => {
    const r = walkOf(walkVtdSs, new WordMem(), table(4, 48), 1n << 48n, ACCESS_READ);
    expect(r.fault).toBe(FAULT_ADDRESS);
    expect(vtdSsFaultName(r.fault, false)).toBe("VTD_FR_ADDR_BEYOND_MGAW");
    // 64-bit IOVAs far above 2^53 are handled exactly.
    expect(walkOf(walkVtdSs, new WordMem(), table(5, 57), 0xffff_ffff_ffff_f000n, ACCESS_READ).fault).toBe(FAULT_ADDRESS);
  });
});

describe("VT-d second stage: superpages (PS bit 7, CAP.SLLPS)", () => {
  it("PS in an SS-PDE maps 2 MiB, in an SS-PDPE 1 GiB", () => {
    const mem = new WordMem();
    const pt = table(4, 48);
    const a = 0x12_3456_7890n;
    chain(mem, pt, a, 2, 0x4000_0000n | PS | R);
    const r = walkOf(walkVtdSs, mem, pt, a, ACCESS_READ);
    expect([r.fault, r.pa, r.pageSize, r.level, r.perm]).toEqual([FAULT_NONE, 0x4000_0000n | (a & 0x1f_ffffn), 0x20_0000n, 2, PERM_R]);

    const mem2 = new WordMem();
    chain(mem2, pt, a, 3, 0x1_8000_0000n | PS | R | W);
    const g = walkOf(walkVtdSs, mem2, pt, a, ACCESS_WRITE);
    expect([g.fault, g.pa, g.pageSize, g.level]).toEqual([FAULT_NONE, 0x1_8000_0000n | (a & 0x3fff_ffffn), 0x4000_0000n, 3]);
  });

  it("PS is reserved where CAP.SLLPS lacks the size and in an SS-PML4E: VTD_FR_PAGING_ENTRY_RSVD", () => {
    const a = 0x12_3456_7890n;
    const mem = new WordMem();
    chain(mem, table(4, 48), a, 3, 0x1_8000_0000n | PS | R);
    expect(walkOf(walkVtdSs, mem, table(4, 48, 1), a, ACCESS_READ).fault).toBe(FAULT_RESERVED);
    const mem2 = new WordMem();
    chain(mem2, table(4, 48), a, 4, PS | R);
    const r = walkOf(walkVtdSs, mem2, table(4, 48), a, ACCESS_READ);
    expect(r.fault).toBe(FAULT_RESERVED);
    expect(vtdSsFaultName(r.fault, false)).toBe("VTD_FR_PAGING_ENTRY_RSVD");
  });

  it("address bits below a superpage are reserved (bits 20:12 of a 2 MiB page)", () => {
    const mem = new WordMem();
    chain(mem, table(3, 39), 0x20_0000n, 2, 0x4000_1000n | PS | R);
    expect(walkOf(walkVtdSs, mem, table(3, 39), 0x20_0000n, ACCESS_READ).fault).toBe(FAULT_RESERVED);
  });

  it("address bits at or above the output width are reserved", () => {
    const mem = new WordMem();
    chain(mem, table(3, 39), 0x5000n, 1, (1n << 46n) | R);
    expect(walkOf(walkVtdSs, mem, { ...table(3, 39), oaBits: 46 }, 0x5000n, ACCESS_READ).fault).toBe(FAULT_RESERVED);
    expect(walkOf(walkVtdSs, mem, table(3, 39), 0x5000n, ACCESS_READ).pa).toBe(1n << 46n);
  });
});

describe("VT-d second stage: permissions (R bit 0, W bit 1, checked at every level)", () => {
  it("a read-only page faults a write with VTD_FR_WRITE and translates a read", () => {
    const mem = new WordMem();
    chain(mem, table(3, 39), 0x3000n, 1, 0x9000n | R);
    const w = walkOf(walkVtdSs, mem, table(3, 39), 0x3000n, ACCESS_WRITE);
    expect(w.fault).toBe(FAULT_PERMISSION);
    expect(vtdSsFaultName(w.fault, true)).toBe("VTD_FR_WRITE");
    expect(walkOf(walkVtdSs, mem, table(3, 39), 0x3000n, ACCESS_READ).perm).toBe(PERM_R);
  });

  it("rights are ANDed over the levels: a write-only table entry makes the page write-only", () => {
    const mem = new WordMem();
    chain(mem, table(3, 39), 0x3000n, 1, 0x9000n | R | W, W);
    const r = walkOf(walkVtdSs, mem, table(3, 39), 0x3000n, ACCESS_READ);
    expect(r.fault).toBe(FAULT_PERMISSION);
    expect(r.level).toBe(3); // stops at the first entry lacking R
    expect(vtdSsFaultName(r.fault, false)).toBe("VTD_FR_READ");
    expect(walkOf(walkVtdSs, mem, table(3, 39), 0x3000n, ACCESS_WRITE).perm).toBe(PERM_W);
  });

  it("an entry with R = W = 0 is not present; QEMU reports the missing right (VTD_FR_READ / VTD_FR_WRITE)", () => {
    const mem = new WordMem();
    chain(mem, table(4, 48), 0x3000n, 1, 0n);
    const r = walkOf(walkVtdSs, mem, table(4, 48), 0x3000n, ACCESS_READ);
    expect([r.fault, r.level]).toEqual([FAULT_NOT_PRESENT, 1]);
    expect(vtdSsFaultName(r.fault, false)).toBe("VTD_FR_READ");
    expect(vtdSsFaultName(r.fault, true)).toBe("VTD_FR_WRITE");
    expect(walkOf(walkVtdSs, new WordMem(), table(4, 48), 0x3000n, ACCESS_READ)).toMatchObject({ fault: FAULT_NOT_PRESENT, level: 4 });
  });

  it("access 0 (iommu_iova_to_phys) asks only for presence", () => {
    const mem = new WordMem();
    chain(mem, table(3, 39), 0x3000n, 1, 0x9000n | W);
    expect(walkOf(walkVtdSs, mem, table(3, 39), 0x3000n, 0)).toMatchObject({ fault: FAULT_NONE, pa: 0x9000n, perm: PERM_W });
  });
});
