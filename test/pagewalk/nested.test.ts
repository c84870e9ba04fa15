// Nested translation over hand-built tables (VT-d spec 3.8 "Nested
// Translation": every first-stage table pointer and the output GPA go through
// the second stage; QEMU has no nested walker of its own (the host IOMMU does
// it), so the stage checks are vtd_iova_to_fspte and vtd_iova_to_sspte).
import { describe, expect, it } from "vitest";
import {
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_PRIVILEGE,
  Iotlb,
  N_GPA,
  N_S2_LEVEL,
  N_S2_STEPS,
  N_STAGE,
  NestedWalker,
  newNestedResult,
  nestedWalker,
  PERM_R,
  PERM_U,
  PERM_W,
  PERM_X,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  STAGE_FIRST,
  STAGE_NONE,
  STAGE_SECOND,
  vtdSsFaultName,
  x86FsFaultName,
  type PageTable,
} from "../../src/pagewalk/index.ts";
import { idx, WordMem } from "./helpers.ts";

const S2R = 1n;
const S2W = 2n;
const S2PS = 1n << 7n;
const FS_T = 7n; // P | RW | US
const FS_PS = 1n << 7n;

/** A guest: a 4-level second stage at HPA 0x10_0000 (tables allocated upwards), first-stage tables at GPA 0x1000.. backed at HPA 0x80_0000.. */
class Guest {
  readonly mem = new WordMem();
  readonly s2: PageTable = { root: 0x10_0000, levels: 4, vaBits: 48, oaBits: 52, granuleLg2: 12, superpages: 3 };
  readonly s1: PageTable = { root: 0x1000, levels: 4, vaBits: 48, oaBits: 52, granuleLg2: 12, superpages: 3 };
  private nextS2 = 0x10_1000;

  /** Map a second-stage page of 2^lg2 bytes at GPA → HPA. */
  mapS2(gpa: bigint, hpa: bigint, perm = S2R | S2W, lg2 = 12): void {
    const leafLevel = (lg2 - 12) / 9 + 1;
    let t = this.s2.root;
    for (let level = 4; level > leafLevel; level--) {
      const pa = t + idx(gpa, level) * 8;
      let next = this.mem.read32(pa) & ~0xfff;
      if (next === 0) {
        next = this.nextS2;
        this.nextS2 += 0x1000;
        this.mem.set(t, idx(gpa, level), BigInt(next) | S2R | S2W);
      }
      t = next;
    }
    this.mem.set(t, idx(gpa, leafLevel), hpa | perm | (leafLevel > 1 ? S2PS : 0n));
  }

  /** HPA backing a first-stage table at a GPA (identity offset 0x80_0000). */
  backing(gpa: number): number {
    return 0x80_0000 + gpa;
  }

  /** First-stage chain for `iova`: tables at GPA 0x1000, 0x2000, ..., leaf at `leafLevel`; every table page mapped in the second stage unless in `unmapped`. */
  chainS1(iova: bigint, leafLevel: number, leaf: bigint, unmapped: number[] = []): void {
    let t = this.s1.root;
    for (let level = 4; level >= leafLevel; level--) {
      if (!unmapped.includes(t)) this.mapS2(BigInt(t), BigInt(this.backing(t)));
      const next = t + 0x1000;
      this.mem.set(this.backing(t), idx(iova, level), level === leafLevel ? leaf : BigInt(next) | FS_T);
      t = next;
    }
  }
}

describe("nested: a translation goes through both stages (VT-d 3.8)", () => {
  it("first-stage 4 KiB page at GPA, second stage to HPA: output HPA, permissions ANDed, stage none", () => {
    const g = new Guest();
    const iova = 0x7f12_3456_7abcn;
    g.chainS1(iova, 1, 0x4000_0000n | FS_T);
    g.mapS2(0x4000_0000n, 0x9_0000_0000n, S2R);
    const out = newNestedResult();
    const f = new NestedWalker().walk(g.mem, g.s1, g.s2, Number(iova >> 32n), Number(iova & 0xffff_ffffn), ACCESS_READ, out);
    expect(f).toBe(FAULT_NONE);
    expect(out[N_STAGE]).toBe(STAGE_NONE);
    expect(out[R_PA]).toBe(0x9_0000_0abc);
    expect(out[R_PAGE_LG2]).toBe(12);
    expect(out[R_PERM]).toBe(PERM_R | PERM_U | PERM_X); // second stage read-only takes W away
    expect(out[N_GPA]).toBe(0x4000_0abc);
    expect(out[R_STEPS]).toBe(4); // first-stage entries, by GPA
    expect(out[N_S2_STEPS]).toBe(5 * 4); // 4 table pages + the output, a 4-level second-stage walk each
  });

  it("the page size is the smaller of the two stages' pages", () => {
    const iova = 0x1234_5678n;
    for (const [s1lg2, s2lg2, want] of [
      [21, 12, 12],
      [12, 21, 12],
      [30, 21, 21],
      [21, 30, 21],
    ] as const) {
      const g = new Guest();
      const leafLevel = (s1lg2 - 12) / 9 + 1;
      const gpaBase = 0x1_0000_0000n; // 1 GiB aligned
      g.chainS1(iova, leafLevel, gpaBase | FS_T | (leafLevel > 1 ? FS_PS : 0n));
      const gpa = gpaBase + (iova & ((1n << BigInt(s1lg2)) - 1n));
      const s2base = gpa & ~((1n << BigInt(s2lg2)) - 1n);
      g.mapS2(s2base, 0x80_0000_0000n, S2R | S2W, s2lg2);
      const out = newNestedResult();
      expect(new NestedWalker().walk(g.mem, g.s1, g.s2, 0, Number(iova), ACCESS_WRITE, out)).toBe(FAULT_NONE);
      expect(out[R_PAGE_LG2]).toBe(want);
      expect(out[R_PA]).toBe(0x80_0000_0000 + Number(gpa - s2base));
    }
  });
});

describe("nested: which stage faulted", () => {
  it("the first-stage root (FSPTPTR) not mapped in the second stage: a second-stage fault at the root's GPA", () => {
    const g = new Guest();
    const iova = 0x5000n;
    g.chainS1(iova, 1, 0x4000_0000n | FS_T, [0x1000]);
    g.mapS2(0x4000_0000n, 0x9000_0000n);
    const out = newNestedResult();
    const f = new NestedWalker().walk(g.mem, g.s1, g.s2, 0, 0x5000, ACCESS_READ, out);
    expect(f).toBe(FAULT_NOT_PRESENT);
    expect(out[N_STAGE]).toBe(STAGE_SECOND);
    expect(vtdSsFaultName(f, false)).toBe("VTD_FR_READ");
    expect(out[N_GPA]).toBe(0x1000 + idx(iova, 4) * 8);
    expect(out[R_STEPS]).toBe(1);
    expect(out[R_LEVEL]).toBe(4); // the first-stage level whose table could not be read
  });

  it("a lower first-stage table (the PD at GPA 0x3000) not mapped: second-stage fault after two first-stage steps", () => {
    const g = new Guest();
    g.chainS1(0x5000n, 1, 0x4000_0000n | FS_T, [0x3000]);
    g.mapS2(0x4000_0000n, 0x9000_0000n);
    const out = newNestedResult();
    const f = new NestedWalker().walk(g.mem, g.s1, g.s2, 0, 0x5000, ACCESS_READ, out);
    expect([f, out[N_STAGE], out[R_STEPS], out[R_LEVEL]]).toEqual([FAULT_NOT_PRESENT, STAGE_SECOND, 3, 2]);
    expect(Math.floor(out[N_GPA]! / 4096) * 4096).toBe(0x3000);
    expect(out[N_S2_LEVEL]).toBe(1); // the second-stage PT holding GPA 0x1000/0x2000 has no entry for 0x3000
  });

  it("a first-stage fault (no U/S on the leaf) is reported as first stage with its VT-d first-stage reason", () => {
    const g = new Guest();
    g.chainS1(0x5000n, 1, 0x4000_0000n | 3n);
    g.mapS2(0x4000_0000n, 0x9000_0000n);
    const out = newNestedResult();
    const f = new NestedWalker().walk(g.mem, g.s1, g.s2, 0, 0x5000, ACCESS_READ, out);
    expect([f, out[N_STAGE], out[R_LEVEL]]).toEqual([FAULT_PRIVILEGE, STAGE_FIRST, 1]);
    expect(x86FsFaultName(f)).toBe("VTD_FR_FS_PAGING_ENTRY_US");
  });

  it("the output GPA: unmapped, or read-only in the second stage for a write, is a second-stage fault", () => {
    const g = new Guest();
    g.chainS1(0x5000n, 1, 0x4000_0000n | FS_T);
    const out = newNestedResult();
    const w = new NestedWalker();
    expect(w.walk(g.mem, g.s1, g.s2, 0, 0x5123, ACCESS_READ, out)).toBe(FAULT_NOT_PRESENT);
    expect([out[N_STAGE], out[N_GPA]]).toEqual([STAGE_SECOND, 0x4000_0123]);
    g.mapS2(0x4000_0000n, 0x9000_0000n, S2R);
    const f = w.walk(g.mem, g.s1, g.s2, 0, 0x5123, ACCESS_WRITE, out);
    expect([f, out[N_STAGE]]).toEqual([FAULT_PERMISSION, STAGE_SECOND]);
    expect(vtdSsFaultName(f, true)).toBe("VTD_FR_WRITE");
    expect(w.walk(g.mem, g.s1, g.s2, 0, 0x5123, ACCESS_READ, out)).toBe(FAULT_NONE);
    expect(out[R_PA]).toBe(0x9000_0123);
  });

  it("nestedWalker puts a nested walk behind the Walker signature, so the IOTLB caches the combined translation", () => {
    const g = new Guest();
    g.chainS1(0x5000n, 1, 0x4000_0000n | FS_T);
    g.mapS2(0x4000_0000n, 0x9000_0000n);
    const tlb = new Iotlb();
    const walk = nestedWalker(g.s2);
    const out = newNestedResult();
    expect(tlb.translate(walk, g.mem, g.s1, 1, 0, 0, 0x5010, ACCESS_WRITE, out)).toBe(FAULT_NONE);
    expect(tlb.translate(walk, g.mem, g.s1, 1, 0, 0, 0x5020, ACCESS_WRITE, out)).toBe(FAULT_NONE);
    expect([out[R_PA], out[R_PERM], out[R_STEPS], tlb.size]).toEqual([0x9000_0020, PERM_R | PERM_W | PERM_U | PERM_X, 0, 1]); // a hit reads no entry
  });
});
