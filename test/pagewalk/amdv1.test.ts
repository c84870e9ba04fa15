// AMDv1 host page-table walks over hand-built tables (AMD IOMMU spec 2.2.3;
// kernel generic_pt/fmt/amdv1.h for the encodings, including the selftest mock's
// 2 KiB-granule variant).
import { describe, expect, it } from "vitest";
import {
  ACCESS_READ,
  ACCESS_WRITE,
  amdv1FaultName,
  amdv1VaBits,
  FAULT_ADDRESS,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_RESERVED,
  PERM_R,
  PERM_W,
  walkAmdv1,
  type PageTable,
} from "../../src/pagewalk/index.ts";
import { idx, walkOf, WordMem } from "./helpers.ts";

const PR = 1n;
const IR = 1n << 61n;
const IW = 1n << 62n;
const FC = 1n << 60n;
const nl = (n: number) => BigInt(n) << 9n;

function table(levels: number, granuleLg2 = 12): PageTable {
  return { root: 0x1000, levels, vaBits: amdv1VaBits(granuleLg2, levels), oaBits: 52, granuleLg2, superpages: 0 };
}

/** A PDE as amdv1pt_install_table writes it: PR, NextLevel, the table's address / granule at bit 12, IR | IW. */
function pde(next: number, nextLevel: number, granuleLg2 = 12, perms = IR | IW): bigint {
  return PR | nl(nextLevel) | ((BigInt(next) >> BigInt(granuleLg2)) << 12n) | perms;
}

function chain(mem: WordMem, pt: PageTable, iova: bigint, leafLevel: number, leaf: bigint, perms = IR | IW): number {
  let t = pt.root;
  for (let level = pt.levels; level > leafLevel; level--) {
    const next = t + 0x1000;
    mem.set(t, idx(iova, level, pt.granuleLg2), pde(next, level - 1, pt.granuleLg2, perms));
    t = next;
  }
  mem.set(t, idx(iova, leafLevel, pt.granuleLg2), leaf);
  return t;
}

describe("AMDv1: levels (DTE Mode 1..6)", () => {
  it("mode 3 (the kernel's starting_level 2): a 4 KiB PTE translates", () => {
    const mem = new WordMem();
    const iova = 0x7f_1234_5678n;
    chain(mem, table(3), iova, 1, PR | FC | IR | IW | 0x5_5555_5000n);
    const r = walkOf(walkAmdv1, mem, table(3), iova, ACCESS_WRITE);
    expect([r.fault, r.pa, r.pageSize, r.perm, r.level, r.entries.length]).toEqual([FAULT_NONE, 0x5_5555_5678n, 0x1000n, PERM_R | PERM_W, 1, 3]);
  });

  it("mode 6 covers all 64 bits: an IOVA far above 2^53 translates exactly (top level indexes bits 63:57)", () => {
    const mem = new WordMem();
    const iova = 0xfedc_ba98_7654_3210n;
    chain(mem, table(6), iova, 1, PR | IR | 0xa_bcde_f000n);
    expect(idx(iova, 6)).toBe(0x7f); // 7 bits
    const r = walkOf(walkAmdv1, mem, table(6), iova, ACCESS_READ);
    expect([r.fault, r.pa, r.entries.length]).toEqual([FAULT_NONE, 0xa_bcde_f210n, 6]);
  });

  it("an IOVA above what the mode covers is an IO_PAGE_FAULT", () => {
    const r = walkOf(walkAmdv1, new WordMem(), table(3), 1n << 39n, ACCESS_READ);
    expect(r.fault).toBe(FAULT_ADDRESS);
    expect(amdv1FaultName(r.fault)).toBe("IO_PAGE_FAULT");
  });

  it("level skipping: NextLevel below level-1 skips tables; the skipped IOVA bits must be zero", () => {
    const mem = new WordMem();
    const pt = table(3);
    const iova = 0x40_0000_5000n; // level-2 index 0
    mem.set(0x1000, idx(iova, 3), pde(0x2000, 1)); // skips level 2
    mem.set(0x2000, idx(iova, 1), PR | IR | 0x7000n);
    expect(walkOf(walkAmdv1, mem, pt, iova, ACCESS_READ)).toMatchObject({
      fault: FAULT_NONE,
      pa: 0x7000n,
      entries: [0x1000 + idx(iova, 3) * 8, 0x2000 + 5 * 8],
    });
    expect(walkOf(walkAmdv1, mem, pt, iova | 0x20_0000n, ACCESS_READ).fault).toBe(FAULT_NOT_PRESENT);
  });
});

describe("AMDv1: page sizes (NextLevel 0 and 7)", () => {
  it("NextLevel 0 in a level-2 PDE is a 2 MiB page", () => {
    const mem = new WordMem();
    chain(mem, table(3), 0x1234_5678n, 2, PR | IR | IW | 0x8000_0000n);
    expect(walkOf(walkAmdv1, mem, table(3), 0x1234_5678n, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, pa: 0x8014_5678n, pageSize: 0x20_0000n, level: 2 });
  });

  it("NextLevel 7: the size is the run of one bits at the bottom of the address, replicated over its entries (16 KiB at level 1)", () => {
    const mem = new WordMem();
    const pt = table(3);
    const base = 0x10_0000n;
    const entry = PR | nl(7) | IR | IW | (((0x20_0000n >> 12n) | 1n) << 12n); // 16K: 2^(12+1+1)
    const t = chain(mem, pt, base, 1, entry);
    for (let i = 1; i < 4; i++) mem.set(t, idx(base, 1) + i, entry);
    const r = walkOf(walkAmdv1, mem, pt, base + 0x2abcn, ACCESS_WRITE);
    expect([r.fault, r.pa, r.pageSize]).toEqual([FAULT_NONE, 0x20_2abcn, 0x4000n]);
  });

  it("NextLevel 7 in a level-2 PDE: an 8 MiB page", () => {
    const mem = new WordMem();
    const entry = PR | nl(7) | IR | (((0x4000_0000n >> 12n) | 0x3ffn) << 12n); // ten ones: 2^(12+1+10) = 8M
    const t = chain(mem, table(3), 0x80_0000n, 2, entry);
    for (let i = 1; i < 4; i++) mem.set(t, idx(0x80_0000n, 2) + i, entry);
    expect(walkOf(walkAmdv1, mem, table(3), 0xff_fff0n, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, pa: 0x407f_fff0n, pageSize: 0x80_0000n });
  });

  it("a NextLevel 7 size outside its level, or a NextLevel not below the level, is reserved (IO_PAGE_FAULT_RZ)", () => {
    const mem = new WordMem();
    chain(mem, table(3), 0x5000n, 1, PR | nl(7) | IR | (((0x40_0000n >> 12n) | 0x1ffn) << 12n)); // 2 MiB at level 1
    const r = walkOf(walkAmdv1, mem, table(3), 0x5000n, ACCESS_READ);
    expect(r.fault).toBe(FAULT_RESERVED);
    expect(amdv1FaultName(r.fault)).toBe("IO_PAGE_FAULT_RZ");
    const mem2 = new WordMem();
    mem2.set(0x1000, 0, pde(0x2000, 3));
    expect(walkOf(walkAmdv1, mem2, table(3), 0x5000n, ACCESS_READ).fault).toBe(FAULT_RESERVED);
  });

  it("bits 58:52 are reserved", () => {
    const mem = new WordMem();
    chain(mem, table(3), 0x5000n, 1, PR | IR | (1n << 55n) | 0x9000n);
    expect(walkOf(walkAmdv1, mem, table(3), 0x5000n, ACCESS_READ).fault).toBe(FAULT_RESERVED);
  });
});

describe("AMDv1: present and permissions (PR bit 0; IR 61 / IW 62 ANDed over the walk)", () => {
  it("PR = 0 anywhere on the walk is an IO_PAGE_FAULT", () => {
    const mem = new WordMem();
    chain(mem, table(3), 0x5000n, 1, IR | IW | 0x9000n);
    const r = walkOf(walkAmdv1, mem, table(3), 0x5000n, ACCESS_READ);
    expect([r.fault, r.level]).toEqual([FAULT_NOT_PRESENT, 1]);
    expect(amdv1FaultName(r.fault)).toBe("IO_PAGE_FAULT");
  });

  it("a PDE without IW makes the page read-only: a write is IO_PAGE_FAULT_PE", () => {
    const mem = new WordMem();
    chain(mem, table(3), 0x5000n, 1, PR | IR | IW | 0x9000n, IR);
    const w = walkOf(walkAmdv1, mem, table(3), 0x5000n, ACCESS_WRITE);
    expect(w.fault).toBe(FAULT_PERMISSION);
    expect(amdv1FaultName(w.fault)).toBe("IO_PAGE_FAULT_PE");
    expect(walkOf(walkAmdv1, mem, table(3), 0x5000n, ACCESS_READ).perm).toBe(PERM_R);
  });
});

describe("AMDv1 with a 2 KiB granule (iommufd selftest mock, AMDV1_IOMMUFD_SELFTEST)", () => {
  it("entries hold the address divided by 2 KiB; a 2 KiB page, and a 4 KiB page as two NextLevel-7 entries", () => {
    const mem = new WordMem();
    const pt = table(3, 11);
    expect(pt.vaBits).toBe(38);
    const iova = 0x100_0800n; // 16 MiB + 2 KiB
    const t = chain(mem, pt, iova, 1, PR | IR | IW | ((0x4_0000_0800n >> 11n) << 12n));
    expect(walkOf(walkAmdv1, mem, pt, iova + 0x10n, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, pa: 0x4_0000_0810n, pageSize: 0x800n });
    const four = PR | nl(7) | IR | ((0x4_0000_2000n >> 11n) << 12n); // no one bits: 2^(11+1)
    mem.set(t, idx(iova, 1, 11) + 1, four);
    mem.set(t, idx(iova, 1, 11) + 2, four);
    const r = walkOf(walkAmdv1, mem, pt, iova + 0x1000n, ACCESS_READ); // the second 2 KiB of the 4 KiB page
    expect([r.fault, r.pa, r.pageSize]).toEqual([FAULT_NONE, 0x4_0000_2800n, 0x1000n]);
  });
});
