// x86 first-stage paging as VT-d uses it (VT-d spec 3.6 "First-Stage
// Translation", 9.7 "First-Stage Paging Entries"; QEMU hw/i386/intel_iommu.c
// vtd_iova_to_fspte (formerly vtd_iova_to_flpte), vtd_fspte_nonzero_rsvd
// (formerly vtd_flpte_nonzero_rsvd), vtd_iova_fl_check_canonical; masks
// VTD_FS_* / VTD_FPTE_PAGE_L*_RSVD_MASK in intel_iommu_internal.h).
//
// Entry: P bit 0, R/W 1, U/S 2, A 5, D 6, PS 7 (PDE: 2 MiB page, PDPE: 1 GiB
// page), address 51:12, bits 63:52 ignored by QEMU (VTD_FS_UPPER_IGNORED) but
// bit 63 is XD: an XD entry on the path takes away execute (PERM_X); only an
// ACCESS_EXEC request faults on it. 4 levels (48-bit, PML4) or 5 (57-bit, PML5).
//
// Reserved bits (QEMU, HAW = oaBits): bits 51:HAW in every entry; PS in a
// PML4E / PML5E; bits 20:13 of a 2 MiB leaf, 29:13 of a 1 GiB leaf (bit 12 is
// PAT there). PS in a PDPE is also reserved when PageTable.superpages lacks
// bit 1 (CAP.FS1GP = 0; QEMU checks that when the PASID entry is set up).
//
// Check order at each level, as QEMU: P (VTD_FR_FS_PAGING_ENTRY_P), U/S for a
// user-mode request (VTD_FR_FS_PAGING_ENTRY_US), R/W for a write
// (VTD_FR_SM_WRITE), reserved bits (VTD_FR_FS_PAGING_ENTRY_RSVD), then A (and
// D on a write leaf) are set, then leaf or descend. walkX86Fs never writes;
// walkX86FsSetAD does the A/D updates (hardware does; a caller replaying a
// trace decides whether it wants them).

import { field51to12, index9, offsetIn } from "./bits.ts";
import {
  ACCESS_EXEC,
  ACCESS_PRIV,
  ACCESS_WRITE,
  FAULT_NON_CANONICAL,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_PRIVILEGE,
  FAULT_RESERVED,
  MAX_STEPS,
  PERM_R,
  PERM_U,
  PERM_W,
  PERM_X,
  R_ENTRY,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  type PageTable,
  type PhysReader,
} from "./types.ts";

export const X86FS_P = 1 << 0;
export const X86FS_RW = 1 << 1;
export const X86FS_US = 1 << 2;
export const X86FS_A = 1 << 5;
export const X86FS_D = 1 << 6;
export const X86FS_PS = 1 << 7;
/** XD is bit 63: bit 31 of the high word. */
export const X86FS_XD_HI = 1 << 31;

/** PageTable.superpages for first stage: 2 MiB always; bit 1 = CAP.FS1GP (1 GiB). */
export const X86FS_SP_1G = 2;

/** Physical memory that can also be written (for the A/D updates). */
export interface PhysMemory extends PhysReader {
  write32(pa: number, value: number): void;
}

/**
 * vtd_iova_fl_check_canonical: bits 63:(vaBits - 1) must all equal bit
 * vaBits - 1 (vaBits = min(48 or 57, aw), the PASID entry's FSPM and the
 * unit's address width).
 */
export function x86Canonical(hi: number, lo: number, vaBits: number): boolean {
  const top = vaBits - 1;
  if (top >= 32) {
    const s = hi >> (top - 32); // arithmetic: 0 or -1 when canonical
    return s === 0 || s === -1;
  }
  const s = lo >> top;
  if (hi === 0) return s === 0;
  return (hi | 0) === -1 && s === -1;
}

/** The first-stage walk without A/D updates: reads only. */
export function walkX86Fs(mem: PhysReader, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  return walkFs(mem, null, pt, iovaHi, iovaLo, access, out);
}

/** The first-stage walk with the hardware's A/D updates written to `mem` (QEMU vtd_set_flag_in_pte). */
export function walkX86FsSetAD(mem: PhysMemory, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  return walkFs(mem, mem, pt, iovaHi, iovaLo, access, out);
}

function walkFs(mem: PhysReader, writer: PhysMemory | null, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  out[R_STEPS] = 0;
  out[R_LEVEL] = pt.levels;
  if (!x86Canonical(iovaHi, iovaLo, pt.vaBits)) return FAULT_NON_CANONICAL;
  const oaBits = Math.max(32, pt.oaBits);
  const rsvdHi = oaBits >= 52 ? 0 : ((1 << (52 - oaBits)) - 1) << (oaBits - 32);
  const write = (access & ACCESS_WRITE) !== 0;
  const user = (access & ACCESS_PRIV) === 0;
  let table = pt.root;
  let rw = X86FS_RW;
  let us = X86FS_US;
  let xd = 0;
  for (let level = pt.levels, step = 0; level >= 1 && step < MAX_STEPS; level--, step++) {
    const pa = table + index9(iovaHi, iovaLo, 12 + 9 * (level - 1)) * 8;
    const lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    out[R_ENTRY + step] = pa;
    out[R_STEPS] = step + 1;
    out[R_LEVEL] = level;
    if ((lo & X86FS_P) === 0) return FAULT_NOT_PRESENT;
    if (user && (lo & X86FS_US) === 0) return FAULT_PRIVILEGE;
    if (write && (lo & X86FS_RW) === 0) return FAULT_PERMISSION;
    if ((hi & rsvdHi) !== 0) return FAULT_RESERVED;
    rw &= lo;
    us &= lo;
    xd |= hi;
    let leafLg2 = 0;
    if (level === 1) leafLg2 = 12;
    else if (lo & X86FS_PS) {
      if (level === 2) {
        if (lo & 0x1fe000) return FAULT_RESERVED;
        leafLg2 = 21;
      } else if (level === 3 && pt.superpages & X86FS_SP_1G) {
        if (lo & 0x3fffe000) return FAULT_RESERVED;
        leafLg2 = 30;
      } else return FAULT_RESERVED; // PS in a PML4E / PML5E (VTD_FPTE_PAGE_L4_RSVD_MASK), or no FS1GP
    }
    if (writer !== null) {
      const set = X86FS_A | (leafLg2 !== 0 && write ? X86FS_D : 0);
      if ((lo & set) !== set) writer.write32(pa, (lo | set) >>> 0);
    }
    if (leafLg2 !== 0) {
      if (access & ACCESS_EXEC && xd & X86FS_XD_HI) return FAULT_PERMISSION;
      // The page base: address bits 51:leafLg2 (bit 12, PAT, is below a superpage's base).
      const f = field51to12(hi, lo);
      const base = (f - (f % (1 << (leafLg2 - 12)))) * 4096;
      out[R_PA] = base + offsetIn(iovaHi, iovaLo, leafLg2);
      out[R_PAGE_LG2] = leafLg2;
      out[R_PERM] = PERM_R | (rw ? PERM_W : 0) | (us ? PERM_U : 0) | (xd & X86FS_XD_HI ? 0 : PERM_X);
      return FAULT_NONE;
    }
    table = field51to12(hi, lo) * 4096;
  }
  return FAULT_RESERVED; // more levels than first stage can have
}

/**
 * The fault a VT-d unit records for a first-stage walk, by QEMU's
 * VTDFaultReason name (intel_iommu_internal.h). QEMU's only first-stage
 * permission fault is the write one; an XD fault on an ACCESS_EXEC request
 * (not modelled by QEMU) is also FAULT_PERMISSION and gets the same name.
 */
export function x86FsFaultName(fault: number): string {
  switch (fault) {
    case FAULT_NOT_PRESENT:
      return "VTD_FR_FS_PAGING_ENTRY_P";
    case FAULT_PRIVILEGE:
      return "VTD_FR_FS_PAGING_ENTRY_US";
    case FAULT_PERMISSION:
      return "VTD_FR_SM_WRITE";
    case FAULT_RESERVED:
      return "VTD_FR_FS_PAGING_ENTRY_RSVD";
    case FAULT_NON_CANONICAL:
      return "VTD_FR_FS_NON_CANONICAL";
    default:
      throw new Error(`no VT-d first-stage fault reason for walk fault ${fault}`);
  }
}
