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

// Speed (tools/bench/walk.ts walk4_per_s). V8 does not constant-fold module
// constants: every use of an imported or exported `const` (R_ENTRY,
// FAULT_NONE, X86FS_P, ...) in optimised code is a cell load plus a hole and
// Smi check, which made up much of a walk step. walkFs therefore writes them
// as literals, named in a comment, and LITERALS_OK below checks at load time
// that they still agree with types.ts. R_STEPS and R_LEVEL are written once,
// at the exit (`stop`), with the values writing them at every step would have
// left. Addresses are built from the entry halves without field51to12's
// float multiply, and the leaf without a `%` on doubles (a runtime call).
const LITERALS_OK =
  R_PA === 0 &&
  R_PAGE_LG2 === 1 &&
  R_PERM === 2 &&
  R_LEVEL === 3 &&
  R_STEPS === 4 &&
  R_ENTRY === 5 &&
  MAX_STEPS === 6 &&
  FAULT_NONE === 0 &&
  FAULT_NOT_PRESENT === 1 &&
  FAULT_PERMISSION === 2 &&
  FAULT_RESERVED === 3 &&
  FAULT_NON_CANONICAL === 5 &&
  FAULT_PRIVILEGE === 6 &&
  ACCESS_WRITE === 2 &&
  ACCESS_EXEC === 4 &&
  ACCESS_PRIV === 8 &&
  PERM_R === 1 &&
  PERM_W === 2 &&
  PERM_X === 4 &&
  PERM_U === 8;
if (!LITERALS_OK) throw new Error("x86fs.ts: walkFs's literal constants disagree with types.ts");

/** Record the entries read and the level of the last one (or pt.levels when none), and return `fault`. */
function stop(out: Float64Array, steps: number, level: number, fault: number): number {
  out[4 /* R_STEPS */] = steps;
  out[3 /* R_LEVEL */] = level;
  return fault;
}

/**
 * One entry through every check, in QEMU's order (P, U/S, R/W, reserved, PS),
 * then the A/D update when `writer` is given. Returns the log2 page size of a
 * leaf (12, 21, 30), 0 for a table entry to descend through, or -FAULT_*.
 * walkFs calls it only for an entry its one-test fast path did not pass.
 */
function fsEntry(
  writer: PhysMemory | null,
  pa: number,
  lo: number,
  hi: number,
  level: number,
  user: boolean,
  write: boolean,
  rsvdHi: number,
  sp1g: boolean,
): number {
  if ((lo & 1) /* P */ === 0) return -1 /* FAULT_NOT_PRESENT */;
  if (user && (lo & 4) /* U/S */ === 0) return -6 /* FAULT_PRIVILEGE */;
  if (write && (lo & 2) /* R/W */ === 0) return -2 /* FAULT_PERMISSION */;
  if ((hi & rsvdHi) !== 0) return -3 /* FAULT_RESERVED */;
  let leafLg2 = 0;
  if (level === 1) leafLg2 = 12;
  else if (lo & 0x80 /* PS */) {
    if (level === 2) {
      if (lo & 0x1fe000) return -3 /* FAULT_RESERVED */;
      leafLg2 = 21;
    } else if (level === 3 && sp1g) {
      if (lo & 0x3fffe000) return -3 /* FAULT_RESERVED */;
      leafLg2 = 30;
    } else return -3 /* FAULT_RESERVED */; // PS in a PML4E / PML5E (VTD_FPTE_PAGE_L4_RSVD_MASK), or no FS1GP
  }
  if (writer !== null) {
    const set = 0x20 /* A */ | (leafLg2 !== 0 && write ? 0x40 /* D */ : 0);
    if ((lo & set) !== set) writer.write32(pa, (lo | set) >>> 0);
  }
  return leafLg2;
}

/**
 * field51to12(hi, lo) * 4096: the table an entry points to. The int path for
 * a table below 4 GiB comes first so that, until a table above it is met,
 * V8 compiles the walk with int32 addresses (the other branch has no type
 * feedback and deoptimises to the float code the first time it runs).
 */
function tableAt(hi: number, lo: number): number {
  const h = hi & 0xfffff;
  return h === 0 ? (lo & ~0xfff) >>> 0 : h * 4294967296 + ((lo & ~0xfff) >>> 0);
}

/** Fill `out` for a leaf at `level` (the entry hi:lo, the andLo/orHi of the path, log2 page size lg2) and return the fault code. */
function leaf(
  out: Float64Array,
  access: number,
  vLo: number,
  hi: number,
  lo: number,
  andLo: number,
  orHi: number,
  lg2: number,
  steps: number,
  level: number,
): number {
  if (access & 4 /* ACCESS_EXEC */ && orHi < 0 /* XD */) return stop(out, steps, level, 2 /* FAULT_PERMISSION */);
  // Page base (address bits 51:lg2; bit 12, PAT, is below a superpage's base) plus
  // the offset (IOVA bits lg2-1:0); lg2 <= 30, so both fit the low word.
  const mask = (1 << lg2) - 1;
  out[0 /* R_PA */] = (hi & 0xfffff) * 4294967296 + (((lo & ~mask) | (vLo & mask)) >>> 0);
  out[1 /* R_PAGE_LG2 */] = lg2;
  out[2 /* R_PERM */] = 1 /* PERM_R */ | (andLo & 2 ? 2 /* PERM_W */ : 0) | (andLo & 4 ? 8 /* PERM_U */ : 0) | (orHi < 0 ? 0 : 4) /* PERM_X */;
  return stop(out, steps, level, 0 /* FAULT_NONE */);
}

function walkFs(mem: PhysReader, writer: PhysMemory | null, pt: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
  const levels = pt.levels;
  if (!x86Canonical(iovaHi, iovaLo, pt.vaBits)) return stop(out, 0, levels, 5 /* FAULT_NON_CANONICAL */);
  // int32 copies of the halves (a uint32 above 2^31 arrives as a heap number; convert it once, not per step).
  const vHi = iovaHi | 0;
  const vLo = iovaLo | 0;
  const oaBits = pt.oaBits;
  // Bits 51:max(32, oaBits) of an entry, in its high word.
  const rsvdHi = oaBits >= 52 ? 0 : oaBits <= 32 ? 0xfffff : ((1 << (52 - oaBits)) - 1) << (oaBits - 32);
  const write = (access & 2) /* ACCESS_WRITE */ !== 0;
  const user = (access & 8) /* ACCESS_PRIV */ === 0;
  // An entry with all of `need` set, PS clear and no reserved bit passes
  // every check and needs no A update (a last-level one with needLeaf: nor a
  // D update), whatever the order of the checks.
  const need = 1 /* P */ | (user ? 4 /* U/S */ : 0) | (write ? 2 /* R/W */ : 0) | (writer !== null ? 0x20 /* A */ : 0);
  const needPs = need | 0x80; /* PS */
  const needLeaf = need | (writer !== null && write ? 0x40 /* D */ : 0);
  let table = pt.root;
  // R/W and U/S of the entries passed, ANDed; XD (bit 31 of the high word), ORed.
  let andLo = -1;
  let orHi = 0;
  let level = levels;
  let step = 0;
  let pa = 0;
  let lo = 0;
  let hi = 0;
  // The fast path for the two first-stage depths (4 and 5 levels), unrolled
  // with constant index shifts (measured: the general loop below is about
  // half as fast, most of it loop bookkeeping and register pressure). It
  // takes only entries that pass the test above, down to a 4 KiB leaf. Any
  // other entry leaves it with `break fast`, read (in pa, lo, hi, counted in
  // step) but not yet checked, and the general loop takes over from there.
  // biome-ignore lint/suspicious/noConfusingLabels: a labelled block is the cheapest exit from the unrolled path (measured above).
  fast: {
    if (levels !== 4 && levels !== 5) break fast;
    if (levels === 5) {
      // Level 5.
      pa = table + ((vHi >>> 16) & 511) * 8;
      lo = mem.read32(pa);
      hi = mem.read32(pa + 4);
      out[5 /* R_ENTRY */ + step++] = pa;
      if ((hi & rsvdHi) !== 0 || (lo & needPs) !== need) break fast;
      andLo &= lo;
      orHi |= hi;
      table = tableAt(hi, lo);
      level = 4;
    }
    // Level 4.
    pa = table + ((vHi >>> 7) & 511) * 8;
    lo = mem.read32(pa);
    hi = mem.read32(pa + 4);
    out[5 /* R_ENTRY */ + step++] = pa;
    if ((hi & rsvdHi) !== 0 || (lo & needPs) !== need) break fast;
    andLo &= lo;
    orHi |= hi;
    table = tableAt(hi, lo);
    level = 3;
    // Level 3.
    pa = table + (((vLo >>> 30) | (vHi << 2)) & 511) * 8;
    lo = mem.read32(pa);
    hi = mem.read32(pa + 4);
    out[5 /* R_ENTRY */ + step++] = pa;
    if ((hi & rsvdHi) !== 0 || (lo & needPs) !== need) break fast;
    andLo &= lo;
    orHi |= hi;
    table = tableAt(hi, lo);
    level = 2;
    // Level 2.
    pa = table + ((vLo >>> 21) & 511) * 8;
    lo = mem.read32(pa);
    hi = mem.read32(pa + 4);
    out[5 /* R_ENTRY */ + step++] = pa;
    if ((hi & rsvdHi) !== 0 || (lo & needPs) !== need) break fast;
    andLo &= lo;
    orHi |= hi;
    table = tableAt(hi, lo);
    level = 1;
    // Level 1: a 4 KiB leaf.
    pa = table + ((vLo >>> 12) & 511) * 8;
    lo = mem.read32(pa);
    hi = mem.read32(pa + 4);
    out[5 /* R_ENTRY */ + step++] = pa;
    if ((hi & rsvdHi) !== 0 || (lo & needLeaf) !== needLeaf) break fast;
    return leaf(out, access, vLo, hi, lo, andLo & lo, orHi | hi, 12, step, 1);
  }
  // The general walk: every check in order (fsEntry), A/D updates, superpages,
  // and table depths the fast path does not take. On entry, step > 0 means
  // the entry at `level` has been read and waits for its checks.
  const sp1g = (pt.superpages & 2) /* X86FS_SP_1G */ !== 0;
  for (let pending = step > 0; ; pending = false) {
    if (!pending) {
      if (level < 1 || step >= 6 /* MAX_STEPS */) return stop(out, step, step === 0 ? levels : level + 1, 3 /* FAULT_RESERVED */); // more levels than first stage can have
      // index9(vHi, vLo, 12 + 9 * (level - 1)), inline.
      const shift = 3 + 9 * level;
      pa = table + (shift >= 32 ? (vHi >>> (shift - 32)) & 511 : shift <= 23 ? (vLo >>> shift) & 511 : ((vLo >>> shift) | (vHi << (32 - shift))) & 511) * 8;
      lo = mem.read32(pa);
      hi = mem.read32(pa + 4);
      out[5 /* R_ENTRY */ + step++] = pa;
    }
    const lg2 = fsEntry(writer, pa, lo, hi, level, user, write, rsvdHi, sp1g);
    if (lg2 < 0) return stop(out, step, level, -lg2);
    andLo &= lo;
    orHi |= hi;
    if (lg2 !== 0) return leaf(out, access, vLo, hi, lo, andLo, orHi, lg2, step, level);
    table = tableAt(hi, lo);
    level--;
  }
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
