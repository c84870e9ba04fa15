// VT-d first-stage (x86-style) walks over hand-built tables (VT-d spec 3.6 /
// 9.7; QEMU vtd_iova_to_fspte, vtd_fspte_nonzero_rsvd with the
// VTD_FPTE_PAGE_L*_RSVD_MASK(aw) masks, vtd_iova_fl_check_canonical,
// vtd_set_flag_in_pte).
import { describe, expect, it } from "vitest";
import {
  ACCESS_EXEC,
  ACCESS_PRIV,
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NON_CANONICAL,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_PRIVILEGE,
  FAULT_RESERVED,
  PERM_R,
  PERM_U,
  PERM_W,
  PERM_X,
  WALKERS,
  walkX86Fs,
  walkX86FsSetAD,
  x86FsFaultName,
  type PageTable,
  type Walker,
} from "../../src/pagewalk/index.ts";
import { chain as buildChain, idx, walkOf, WordMem } from "./helpers.ts";

const P = 1n;
const RW = 2n;
const US = 4n;
const A = 1n << 5n;
const D = 1n << 6n;
const PS = 1n << 7n;
const XD = 1n << 63n;
const T = P | RW | US; // a table entry granting everything

function table(levels: number, aw = levels === 5 ? 57 : 48, oaBits = 52, superpages = 3): PageTable {
  return { root: 0x1000, levels, vaBits: aw, oaBits, granuleLg2: 12, superpages };
}

/** The shared table builder, with this format's non-leaf bits by default. */
function chain(mem: WordMem, pt: PageTable, iova: bigint, leafLevel: number, leaf: bigint, tableBits = T): void {
  buildChain(mem, pt, iova, leafLevel, leaf, tableBits);
}

/** A 64-bit IOVA made canonical for `bits`: bit bits-1 copied upwards. */
function canon(iova: bigint, bits: number): bigint {
  return iova & (1n << BigInt(bits - 1)) ? iova | (~((1n << BigInt(bits)) - 1n) & 0xffff_ffff_ffff_ffffn) : iova;
}

describe("x86 first stage: levels (PASID entry FSPM: 4-level 48-bit, 5-level 57-bit)", () => {
  for (const [levels, iova] of [
    [4, 0x7edc_ba98_7654n],
    [5, 0xff_edcb_a987_6543n],
  ] as const) {
    it(`${levels} levels: a 4 KiB PTE translates, offset kept, one entry per level read (vtd_iova_to_fspte)`, () => {
      const mem = new WordMem();
      const pt = table(levels);
      chain(mem, pt, iova, 1, 0x8_7654_3000n | T);
      const r = walkOf(walkX86Fs, mem, pt, iova, ACCESS_WRITE);
      expect(r.fault).toBe(FAULT_NONE);
      expect(r.pa).toBe(0x8_7654_3000n | (iova & 0xfffn));
      expect(r.pageSize).toBe(0x1000n);
      expect(r.perm).toBe(PERM_R | PERM_W | PERM_U | PERM_X);
      expect(r.level).toBe(1);
      expect(r.entries).toHaveLength(levels);
      expect(r.entries[0]).toBe(0x1000 + idx(iova, levels) * 8);
    });
  }

  it("upper-half canonical IOVAs above 2^53 walk exactly (bits 63:47 set, 4-level; 63:56, 5-level)", () => {
    for (const [levels, bits] of [
      [4, 48],
      [5, 57],
    ] as const) {
      const iova = canon((1n << BigInt(bits - 1)) | 0x1234_5678_9000n | 0xabcn, bits);
      expect(iova > 1n << 53n).toBe(true);
      const mem = new WordMem();
      const pt = table(levels);
      chain(mem, pt, iova, 1, 0x4_0000_0000n | T);
      expect(walkOf(walkX86Fs, mem, pt, iova, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, pa: 0x4_0000_0abcn });
    }
  });

  it("WALKERS names the format x86-fs", () => {
    expect(WALKERS["x86-fs"]).toBe(walkX86Fs);
  });
});

describe("x86 first stage: canonical addresses (vtd_iova_fl_check_canonical, VTD_FR_FS_NON_CANONICAL)", () => {
  it("4-level: bits 63:48 must copy bit 47", () => {
    const mem = new WordMem();
    for (const iova of [1n << 48n, 1n << 47n, 0x8000_0000_0000_0000n, 0xffff_0000_0000_0000n | (0n << 47n)]) {
      const r = walkOf(walkX86Fs, mem, table(4), iova, ACCESS_READ);
      expect(r.fault).toBe(FAULT_NON_CANONICAL);
      expect(r.entries).toHaveLength(0);
      expect(x86FsFaultName(r.fault)).toBe("VTD_FR_FS_NON_CANONICAL");
    }
    // Canonical ones get past the check (and fault on the empty table instead).
    for (const iova of [0n, (1n << 47n) - 1n, 0xffff_8000_0000_0000n, 0xffff_ffff_ffff_f000n]) {
      expect(walkOf(walkX86Fs, mem, table(4), iova, ACCESS_READ).fault).toBe(FAULT_NOT_PRESENT);
    }
  });

  it("5-level: bits 63:57 must copy bit 56; a 4-level-non-canonical address is fine", () => {
    const mem = new WordMem();
    expect(walkOf(walkX86Fs, mem, table(5), 1n << 48n, ACCESS_READ).fault).toBe(FAULT_NOT_PRESENT);
    expect(walkOf(walkX86Fs, mem, table(5), 1n << 57n, ACCESS_READ).fault).toBe(FAULT_NON_CANONICAL);
    expect(walkOf(walkX86Fs, mem, table(5), 1n << 56n, ACCESS_READ).fault).toBe(FAULT_NON_CANONICAL);
    expect(walkOf(walkX86Fs, mem, table(5), 0xff00_0000_0000_0000n, ACCESS_READ).fault).toBe(FAULT_NOT_PRESENT);
  });

  it("the width is min(FSPM width, aw): aw 39 makes bit 38 the sign bit (vtd_iova_limit)", () => {
    const mem = new WordMem();
    expect(walkOf(walkX86Fs, mem, table(4, 39), 1n << 39n, ACCESS_READ).fault).toBe(FAULT_NON_CANONICAL);
    expect(walkOf(walkX86Fs, mem, table(4, 39), 0xffff_ffc0_0000_0000n, ACCESS_READ).fault).toBe(FAULT_NOT_PRESENT);
  });
});

describe("x86 first stage: superpages (PS bit 7)", () => {
  const a = 0x12_3456_7890n;
  it("PS in a PDE maps 2 MiB, in a PDPE 1 GiB (vtd_is_last_pte)", () => {
    const mem = new WordMem();
    chain(mem, table(4), a, 2, 0x4000_0000n | PS | T);
    const r = walkOf(walkX86Fs, mem, table(4), a, ACCESS_READ);
    expect([r.fault, r.pa, r.pageSize, r.level, r.entries.length]).toEqual([FAULT_NONE, 0x4000_0000n | (a & 0x1f_ffffn), 0x20_0000n, 2, 3]);
    const mem2 = new WordMem();
    chain(mem2, table(5), a, 3, 0x1_8000_0000n | PS | T);
    const g = walkOf(walkX86Fs, mem2, table(5), a, ACCESS_WRITE);
    expect([g.fault, g.pa, g.pageSize, g.level]).toEqual([FAULT_NONE, 0x1_8000_0000n | (a & 0x3fff_ffffn), 0x4000_0000n, 3]);
  });

  it("bit 12 (PAT) of a superpage is not reserved and not part of the address", () => {
    const mem = new WordMem();
    chain(mem, table(4), a, 2, 0x4000_1000n | PS | T);
    expect(walkOf(walkX86Fs, mem, table(4), a, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, pa: 0x4000_0000n | (a & 0x1f_ffffn) });
  });

  it("bits 20:13 of a 2 MiB leaf and 29:13 of a 1 GiB leaf are reserved (VTD_FPTE_PAGE_L2_FS2MP / L3_FS1GP_RSVD_MASK)", () => {
    const mem = new WordMem();
    chain(mem, table(4), a, 2, 0x4000_2000n | PS | T);
    const r = walkOf(walkX86Fs, mem, table(4), a, ACCESS_READ);
    expect([r.fault, r.level]).toEqual([FAULT_RESERVED, 2]);
    expect(x86FsFaultName(r.fault)).toBe("VTD_FR_FS_PAGING_ENTRY_RSVD");
    const mem2 = new WordMem();
    chain(mem2, table(4), a, 3, 0x4020_0000n | PS | T);
    expect(walkOf(walkX86Fs, mem2, table(4), a, ACCESS_READ)).toMatchObject({ fault: FAULT_RESERVED, level: 3 });
  });

  it("PS is reserved in a PML4E and a PML5E (VTD_FPTE_PAGE_L4_RSVD_MASK 0x80), and in a PDPE without FS1GP", () => {
    const mem = new WordMem();
    chain(mem, table(4), a, 4, PS | T);
    expect(walkOf(walkX86Fs, mem, table(4), a, ACCESS_READ)).toMatchObject({ fault: FAULT_RESERVED, level: 4 });
    const mem5 = new WordMem();
    chain(mem5, table(5), a, 5, PS | T);
    expect(walkOf(walkX86Fs, mem5, table(5), a, ACCESS_READ)).toMatchObject({ fault: FAULT_RESERVED, level: 5 });
    const mem3 = new WordMem();
    chain(mem3, table(4), a, 3, 0x4000_0000n | PS | T);
    expect(walkOf(walkX86Fs, mem3, table(4, 48, 52, 0), a, ACCESS_READ)).toMatchObject({ fault: FAULT_RESERVED, level: 3 });
  });
});

describe("x86 first stage: reserved address bits (VTD_HAW_MASK(aw) | VTD_FS_UPPER_IGNORED)", () => {
  it("bits 51:HAW are reserved at every level; bits 62:52 are ignored", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x5000n, 1, (1n << 46n) | T);
    const r = walkOf(walkX86Fs, mem, table(4, 48, 46), 0x5000n, ACCESS_READ);
    expect([r.fault, r.level]).toEqual([FAULT_RESERVED, 1]);
    expect(walkOf(walkX86Fs, mem, table(4, 48, 52), 0x5000n, ACCESS_READ).pa).toBe(1n << 46n);

    const mem2 = new WordMem();
    chain(mem2, table(4), 0x5000n, 1, 0x9000n | T, T | (1n << 47n));
    expect(walkOf(walkX86Fs, mem2, table(4, 48, 46), 0x5000n, ACCESS_READ)).toMatchObject({ fault: FAULT_RESERVED, level: 4 });

    const mem3 = new WordMem();
    chain(mem3, table(4), 0x5000n, 1, 0x9000n | T | (0x7ffn << 52n), T | (0x7ffn << 52n));
    expect(walkOf(walkX86Fs, mem3, table(4, 48, 46), 0x5000n, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, pa: 0x9000n });
  });
});

describe("x86 first stage: permissions (P, R/W, U/S at every level; XD)", () => {
  it("P = 0 is VTD_FR_FS_PAGING_ENTRY_P at the level where it is found", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x3000n, 2, 0x20_0000n | PS | RW | US); // leaf without P
    const r = walkOf(walkX86Fs, mem, table(4), 0x3000n, ACCESS_READ);
    expect([r.fault, r.level]).toEqual([FAULT_NOT_PRESENT, 2]);
    expect(x86FsFaultName(r.fault)).toBe("VTD_FR_FS_PAGING_ENTRY_P");
    expect(walkOf(walkX86Fs, new WordMem(), table(5), 0x3000n, ACCESS_READ)).toMatchObject({ fault: FAULT_NOT_PRESENT, level: 5 });
  });

  it("a write needs R/W at every level: VTD_FR_SM_WRITE; a read goes through", () => {
    for (let level = 4; level >= 1; level--) {
      const mem = new WordMem();
      // R/W cleared on exactly one entry of the path, at `level`.
      let t = 0x1000;
      for (let l = 4; l >= 1; l--) {
        const bits = l === level ? P | US : T;
        const next = t + 0x1000;
        mem.set(t, idx(0x7000n, l), (l === 1 ? 0x9000n : BigInt(next)) | bits);
        t = next;
      }
      const w = walkOf(walkX86Fs, mem, table(4), 0x7000n, ACCESS_WRITE);
      expect([w.fault, w.level]).toEqual([FAULT_PERMISSION, level]);
      expect(x86FsFaultName(w.fault)).toBe("VTD_FR_SM_WRITE");
      expect(walkOf(walkX86Fs, mem, table(4), 0x7000n, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, perm: PERM_R | PERM_U | PERM_X });
    }
  });

  it("a user-mode request needs U/S at every level: VTD_FR_FS_PAGING_ENTRY_US; a supervisor one (ACCESS_PRIV) does not", () => {
    for (let level = 4; level >= 1; level--) {
      const mem = new WordMem();
      let t = 0x1000;
      for (let l = 4; l >= 1; l--) {
        const bits = l === level ? P | RW : T;
        const next = t + 0x1000;
        mem.set(t, idx(0x7000n, l), (l === 1 ? 0x9000n : BigInt(next)) | bits);
        t = next;
      }
      const u = walkOf(walkX86Fs, mem, table(4), 0x7000n, ACCESS_READ);
      expect([u.fault, u.level]).toEqual([FAULT_PRIVILEGE, level]);
      expect(x86FsFaultName(u.fault)).toBe("VTD_FR_FS_PAGING_ENTRY_US");
      expect(walkOf(walkX86Fs, mem, table(4), 0x7000n, ACCESS_WRITE | ACCESS_PRIV)).toMatchObject({ fault: FAULT_NONE, perm: PERM_R | PERM_W | PERM_X });
    }
  });

  it("QEMU's order: P, then U/S, then R/W, then reserved bits", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x3000n, 1, 0x9000n | P | (1n << 50n)); // no U/S, no R/W, a reserved bit under oaBits 46
    expect(walkOf(walkX86Fs, mem, table(4, 48, 46), 0x3000n, ACCESS_WRITE).fault).toBe(FAULT_PRIVILEGE);
    expect(walkOf(walkX86Fs, mem, table(4, 48, 46), 0x3000n, ACCESS_WRITE | ACCESS_PRIV).fault).toBe(FAULT_PERMISSION);
    expect(walkOf(walkX86Fs, mem, table(4, 48, 46), 0x3000n, ACCESS_READ | ACCESS_PRIV).fault).toBe(FAULT_RESERVED);
  });

  it("XD (bit 63) on any level takes PERM_X away and faults only an execute request", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x3000n, 1, 0x9000n | T, T | XD);
    expect(walkOf(walkX86Fs, mem, table(4), 0x3000n, ACCESS_READ)).toMatchObject({ fault: FAULT_NONE, perm: PERM_R | PERM_W | PERM_U });
    expect(walkOf(walkX86Fs, mem, table(4), 0x3000n, ACCESS_EXEC | ACCESS_READ).fault).toBe(FAULT_PERMISSION);
    const mem2 = new WordMem();
    chain(mem2, table(4), 0x3000n, 1, 0x9000n | T);
    expect(walkOf(walkX86Fs, mem2, table(4), 0x3000n, ACCESS_EXEC | ACCESS_READ).fault).toBe(FAULT_NONE);
  });
});

describe("x86 first stage: A/D updates only by walkX86FsSetAD (vtd_set_flag_in_pte)", () => {
  const walkAD: Walker = (m, pt, hi, lo, access, out) => walkX86FsSetAD(m as WordMem, pt, hi, lo, access, out);
  const entryAt = (mem: WordMem, pa: number) => BigInt(mem.read32(pa)) | (BigInt(mem.read32(pa + 4)) << 32n);

  it("walkX86Fs leaves the tables untouched", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x3000n, 1, 0x9000n | T);
    const before = new Map(mem.words);
    const r = walkOf(walkX86Fs, mem, table(4), 0x3000n, ACCESS_WRITE);
    expect(r.fault).toBe(FAULT_NONE);
    expect(mem.words).toEqual(before);
  });

  it("a read sets A on every level; a write also sets D on the leaf only", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x3000n, 1, 0x9000n | T | (1n << 60n));
    const r = walkOf(walkAD, mem, table(4), 0x3000n, ACCESS_READ);
    expect(r.fault).toBe(FAULT_NONE);
    for (const pa of r.entries) expect(entryAt(mem, pa) & (A | D)).toBe(A);
    expect(entryAt(mem, r.entries[3]!) >> 60n).toBe(1n); // the high word is kept
    const w = walkOf(walkAD, mem, table(4), 0x3000n, ACCESS_WRITE);
    expect(w.entries.map((pa) => entryAt(mem, pa) & (A | D))).toEqual([A, A, A, A | D]);
  });

  it("a fault after some levels leaves A on the levels passed, not on the faulting one (QEMU sets A after the checks)", () => {
    const mem = new WordMem();
    chain(mem, table(4), 0x3000n, 1, 0x9000n | P | US); // read-only leaf
    const w = walkOf(walkAD, mem, table(4), 0x3000n, ACCESS_WRITE);
    expect(w.fault).toBe(FAULT_PERMISSION);
    expect(w.entries.map((pa) => entryAt(mem, pa) & (A | D))).toEqual([A, A, A, 0n]);
  });
});
