// AMD I/O page tables for host translation, "v1" (AMD IOMMU spec 2.2.3; kernel
// drivers/iommu/generic_pt/fmt/amdv1.h). Also the format of the no-IOMMU
// software domain (seed 003, hwpt_noiommu.c) and, with a 2 KiB granule, of the
// iommufd selftest's mock domain (generic_pt/fmt/iommu_mock.c,
// AMDV1_IOMMUFD_SELFTEST: PT_GRANULE_LG2SZ = 11, tables still 4 KiB).
//
// Entry: PR bit 0, A bit 5, D bit 6 (PTE; both written by the IOMMU when the
// DTE's HAD field enables it), NextLevel 11:9, address 51:12 (the address
// divided by the granule), bits 58:52 reserved, FC 60, IR 61, IW 62.
// NextLevel 1..(level-1) points to a table of that level (the levels between
// are skipped: their IOVA bits must be zero); 0 is a page of the level's size;
// 7 is a page whose size is encoded in the address: it is 2^(granule + 1 + n)
// where n is the number of one bits at the bottom of the address field, and it
// is written into each of the 2^k entries it covers. IR / IW are ANDed over the
// walk. Levels are the DTE's Mode: 1..6, level 6 translating bits 63:57 only.

import { field51to12, fitsBits, index9, offsetIn, pow2, trailingOnes40 } from "./bits.ts";
import {
  FAULT_ADDRESS,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_RESERVED,
  MAX_STEPS,
  R_ENTRY,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  type PageTable,
  type PhysReader,
} from "./types.ts";

export const AMDV1_PR = 1 << 0;
export const AMDV1_A = 1 << 5;
export const AMDV1_D = 1 << 6;
export const AMDV1_NL_SHIFT = 9;
/** NextLevel 7: the page size is encoded in the address (AMDV1PT_FMT_NL_SIZE). */
export const AMDV1_NL_SIZE = 7;
/** Bits of the high word: FC 60, IR 61, IW 62. */
export const AMDV1_FC_HI = 1 << 28;
export const AMDV1_IR_HI = 1 << 29;
export const AMDV1_IW_HI = 1 << 30;
/** The deepest table: Mode 6 (PT_MAX_TOP_LEVEL 5 counted from 0); it cannot hold pages. */
export const AMDV1_MAX_LEVELS = 6;

const RSVD_HI = 0x7f << 20; // bits 58:52

/** The input width a Mode of `levels` covers: granule + 9 bits a level, at most 64. */
export function amdv1VaBits(granuleLg2: number, levels: number): number {
  return Math.min(64, granuleLg2 + 9 * levels);
}

export function walkAmdv1(mem: PhysReader, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  const g = pt.granuleLg2;
  out[R_STEPS] = 0;
  out[R_LEVEL] = pt.levels;
  // Address bits above what the Mode covers must be zero.
  if (!fitsBits(iovaHi, iovaLo, pt.vaBits)) return FAULT_ADDRESS;
  const oaBits = Math.max(32, pt.oaBits);
  const rsvdHi = RSVD_HI | (oaBits >= 52 ? 0 : ((1 << (52 - oaBits)) - 1) << (oaBits - 32));
  let table = pt.root;
  let level = pt.levels;
  let perm = 3; // IR | IW, as PERM_R | PERM_W
  for (let step = 0; step < MAX_STEPS; step++) {
    const shift = g + 9 * (level - 1);
    const pa = table + index9(iovaHi, iovaLo, shift) * 8;
    const lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    out[R_ENTRY + step] = pa;
    out[R_STEPS] = step + 1;
    out[R_LEVEL] = level;
    if ((lo & AMDV1_PR) === 0) return FAULT_NOT_PRESENT;
    perm &= hi >>> 29;
    if ((hi & rsvdHi) !== 0) return FAULT_RESERVED;
    const nl = (lo >>> AMDV1_NL_SHIFT) & 7;
    const f = field51to12(hi, lo);
    if (nl === 0 || nl === AMDV1_NL_SIZE) {
      if (level === AMDV1_MAX_LEVELS) return FAULT_RESERVED;
      let lg2 = shift;
      if (nl === AMDV1_NL_SIZE) {
        // A size page spans 2..256 entries of this level (amdv1pt_possible_sizes).
        lg2 = g + 1 + trailingOnes40(f);
        if (lg2 <= shift || lg2 > shift + 8) return FAULT_RESERVED;
      }
      if ((perm & access) !== access) return FAULT_PERMISSION;
      const addr = f * pow2(g);
      out[R_PA] = addr - (addr % pow2(lg2)) + offsetIn(iovaHi, iovaLo, lg2);
      out[R_PAGE_LG2] = lg2;
      out[R_PERM] = perm;
      return FAULT_NONE;
    }
    if (nl >= level) return FAULT_RESERVED;
    // Level skipping: the index bits of the skipped levels must be zero.
    for (let l = level - 1; l > nl; l--) if (index9(iovaHi, iovaLo, g + 9 * (l - 1)) !== 0) return FAULT_NOT_PRESENT;
    table = f * pow2(g);
    level = nl;
  }
  return FAULT_RESERVED;
}

/**
 * The fault an AMD IOMMU logs: an IO_PAGE_FAULT event, named here with the
 * flag that sets it apart: PE (a permission the walk does not grant), RZ (a
 * reserved bit or an invalid NextLevel); plain IO_PAGE_FAULT when an entry is
 * not present or the IOVA is beyond what the table translates.
 */
export function amdv1FaultName(fault: number): string {
  switch (fault) {
    case FAULT_NOT_PRESENT:
    case FAULT_ADDRESS:
      return "IO_PAGE_FAULT";
    case FAULT_PERMISSION:
      return "IO_PAGE_FAULT_PE";
    case FAULT_RESERVED:
      return "IO_PAGE_FAULT_RZ";
    default:
      throw new Error(`no AMD fault name for walk fault ${fault}`);
  }
}
