// VT-d second-stage paging (VT-d spec 3.7 "Second-Stage Translation", 9.8
// "Second-Stage Paging Entries"; kernel drivers/iommu/generic_pt/fmt/vtdss.h;
// QEMU hw/i386/intel_iommu.c vtd_iova_to_sspte for the order of the checks).
//
// Entry: R bit 0, W bit 1, PS bit 7 (SS-PDE / SS-PDPE: a 2 MiB / 1 GiB page),
// A bit 8 and D bit 9 (written by the IOMMU when the PASID entry's SSADE is
// set, which the kernel does for dirty tracking), SNP bit 11, address 51:12,
// bits 63:52 ignored but for TM (bit 62), which with SNP may be reserved
// (PageTable.ssRsvd). There is no present bit: an
// entry with R = W = 0 is not present. No execute permission in second stage.
// 3, 4 or 5 levels (CAP.SAGAW, context/PASID entry AW).

import { field51to12, fitsBits, index9, offsetIn } from "./bits.ts";
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

export const VTDSS_R = 1 << 0;
export const VTDSS_W = 1 << 1;
export const VTDSS_PS = 1 << 7;
export const VTDSS_A = 1 << 8;
export const VTDSS_D = 1 << 9;
export const VTDSS_SNP = 1 << 11;

/** CAP.SLLPS bits as PageTable.superpages. */
export const VTDSS_SP_2M = 1;
export const VTDSS_SP_1G = 2;

/**
 * Translate through a second-stage table. In QEMU's order, at each level:
 * the access right must be set (R for a read, W for a write; a not-present
 * entry fails here too), then reserved bits, then leaf or descend.
 */
export function walkVtdSs(mem: PhysReader, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  out[R_STEPS] = 0;
  out[R_LEVEL] = pt.levels;
  // vtd_iova_to_sspte: "detected IOVA overflow" -> VTD_FR_ADDR_BEYOND_MGAW.
  if (!fitsBits(iovaHi, iovaLo, pt.vaBits)) return FAULT_ADDRESS;
  // Address bits at or above the output width are reserved (VTD_SL_PT_BASE_ADDR_MASK(aw)).
  const oaBits = Math.max(32, pt.oaBits);
  const rsvdHi = oaBits >= 52 ? 0 : ((1 << (52 - oaBits)) - 1) << (oaBits - 32);
  let table = pt.root;
  let perm = VTDSS_R | VTDSS_W;
  for (let level = pt.levels, step = 0; level >= 1 && step < MAX_STEPS; level--, step++) {
    const shift = 12 + 9 * (level - 1);
    const pa = table + index9(iovaHi, iovaLo, shift) * 8;
    const lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    out[R_ENTRY + step] = pa;
    out[R_STEPS] = step + 1;
    out[R_LEVEL] = level;
    if ((lo & 3) === 0) return FAULT_NOT_PRESENT;
    perm &= lo;
    if ((perm & access) !== access) return FAULT_PERMISSION;
    if ((hi & rsvdHi) !== 0) return FAULT_RESERVED;
    const extra = pt.ssRsvd;
    if (extra !== undefined) {
      const isLeaf = level === 1 || (lo & VTDSS_PS) !== 0;
      if (isLeaf ? (lo & extra.leafLo) | (hi & extra.leafHi) : (lo & extra.tableLo) | (hi & extra.tableHi)) return FAULT_RESERVED;
    }
    let leafLg2 = 0;
    if (level === 1) leafLg2 = 12;
    else if (lo & VTDSS_PS) {
      // PS is reserved above the SS-PDPE, and where CAP.SLLPS lacks the size.
      if (level === 2 && pt.superpages & VTDSS_SP_2M) leafLg2 = 21;
      else if (level === 3 && pt.superpages & VTDSS_SP_1G) leafLg2 = 30;
      else return FAULT_RESERVED;
      // Address bits below the superpage size are reserved (20:12 for 2 MiB, 29:12 for 1 GiB).
      if ((lo >>> 12) & ((1 << (leafLg2 - 12)) - 1)) return FAULT_RESERVED;
    }
    const addr = field51to12(hi, lo) * 4096;
    if (leafLg2 !== 0) {
      out[R_PA] = addr + offsetIn(iovaHi, iovaLo, leafLg2);
      out[R_PAGE_LG2] = leafLg2;
      out[R_PERM] = perm & 3; // PERM_R / PERM_W share the R / W bit positions
      return FAULT_NONE;
    }
    table = addr;
  }
  return FAULT_RESERVED; // more levels than a VT-d table can have
}

/**
 * The fault a VT-d unit records, by QEMU's VTDFaultReason name
 * (hw/i386/intel_iommu_internal.h): a missing right (not present included)
 * is VTD_FR_READ / VTD_FR_WRITE by the access, as vtd_iova_to_sspte reports it.
 */
export function vtdSsFaultName(fault: number, write: boolean): string {
  switch (fault) {
    case FAULT_NOT_PRESENT:
    case FAULT_PERMISSION:
      return write ? "VTD_FR_WRITE" : "VTD_FR_READ";
    case FAULT_RESERVED:
      return "VTD_FR_PAGING_ENTRY_RSVD";
    case FAULT_ADDRESS:
      return "VTD_FR_ADDR_BEYOND_MGAW";
    default:
      throw new Error(`no VT-d fault reason for walk fault ${fault}`);
  }
}
