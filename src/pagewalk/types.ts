// The page-walk core's vocabulary: the memory a walker reads, the table it
// walks, the request, and the result slots. Plain numbers and typed arrays
// only, so that a walk allocates nothing (docs/architecture.md "Page walk core").
//
// 64-bit quantities are split: an IOVA is passed as two unsigned 32-bit halves
// (any 64-bit value works), an entry is read as two halves. Physical addresses
// are plain numbers: every format here has at most 52 output bits, exact in a
// double.

/** Read-only physical memory: the little-endian 32-bit word at `pa` (4-byte aligned, pa < 2^53); zero where nothing was written. */
export interface PhysReader {
  read32(pa: number): number;
}

/** The table a walker starts from, as the hardware's context (DTE, context or PASID entry) describes it. */
export interface PageTable {
  /** Physical address of the top-level table. */
  root: number;
  /** Levels in use, counted as the specifications do: level 1 is the last-level table. */
  levels: number;
  /** Input address width: an IOVA at or above 2^vaBits is out of range (VT-d MGAW/AGAW; AMDv1: what the mode covers). */
  vaBits: number;
  /** Output address width: address bits at or above it are reserved (52 when the table may use every bit). */
  oaBits: number;
  /** log2 of the smallest page: 12, or 11 for the iommufd selftest's AMDv1 variant. */
  granuleLg2: number;
  /** VT-d CAP.SLLPS as a mask: bit 0 = 2 MiB, bit 1 = 1 GiB superpages (other formats ignore it). */
  superpages: number;
  /**
   * VT-d second stage: bits reserved beyond the address width, as 32-bit
   * masks of the entry's low and high words, for leaf and for table entries
   * (QEMU's vtd_spte_rsvd: SNP bit 11 and TM bit 62 depend on the unit's
   * configuration). Absent: none (hardware with snoop control, as the host
   * driver's tables assume).
   */
  ssRsvd?: { leafLo: number; leafHi: number; tableLo: number; tableHi: number };
}

/** What the request needs: a DMA read needs R, a write needs W. 0 asks only for the translation (iommu_iova_to_phys). */
export const ACCESS_READ = 1;
export const ACCESS_WRITE = 2;
export const ACCESS_EXEC = 4;
/**
 * A supervisor-mode request (x86 first stage: U/S is not required). Without it
 * a request is user-mode, as every request QEMU's VT-d model makes
 * (vtd_iova_to_fspte: "supervisor requests are not supported").
 */
export const ACCESS_PRIV = 8;

/** Permission bits of a translation, ANDed over the walk as the hardware does. */
export const PERM_R = 1;
export const PERM_W = 2;
export const PERM_X = 4;
/** x86 first stage: U/S set at every level (user-mode accessible). */
export const PERM_U = 8;

/**
 * Why a walk failed, independent of the format; each format names them in its
 * own terms (vtd_ss.ts, amdv1.ts).
 */
export const FAULT_NONE = 0;
/** An entry on the path is not present. */
export const FAULT_NOT_PRESENT = 1;
/** Present, but the permissions along the path do not allow the access. */
export const FAULT_PERMISSION = 2;
/** A reserved bit or an invalid encoding in an entry. */
export const FAULT_RESERVED = 3;
/** The IOVA is outside what the table can translate. */
export const FAULT_ADDRESS = 4;
/** x86 first stage: the IOVA is not canonical (bits above the width are not copies of its top bit). */
export const FAULT_NON_CANONICAL = 5;
/** x86 first stage: a user-mode request met an entry with U/S = 0. */
export const FAULT_PRIVILEGE = 6;

/** Result slots of a walk, in a Float64Array of RESULT_SLOTS (see newWalkResult). */
export const R_PA = 0; // output address of the IOVA (page base + offset)
export const R_PAGE_LG2 = 1; // log2 of the page size
export const R_PERM = 2; // PERM_* bits
export const R_LEVEL = 3; // level of the leaf, or of the entry that faulted
export const R_STEPS = 4; // entries read
export const R_ENTRY = 5; // R_ENTRY + i: physical address of the entry read at step i
export const MAX_STEPS = 6;
export const RESULT_SLOTS = R_ENTRY + MAX_STEPS;

export function newWalkResult(): Float64Array {
  return new Float64Array(RESULT_SLOTS);
}

/**
 * A walker: translate the IOVA (iovaHi:iovaLo) through `pt` for `access`,
 * fill `out`, return a FAULT_* code (FAULT_NONE on success). Every format has
 * this signature, so a nested walk or an IOTLB can sit in front of any of them.
 */
export type Walker = (mem: PhysReader, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array) => number;
