// Nested translation (VT-d spec 3.8 "Nested Translation"; the PASID entry's
// PGTT = 011b; kernel iommufd IOMMU_HWPT_DATA_VTD_S1 on a NEST_PARENT hwpt).
// The first-stage table lives in guest-physical memory: the first-stage root
// (FSPTPTR) and every table pointer read from a first-stage entry is a GPA
// that goes through the second stage before the entry can be read, and so
// does the GPA the first stage produces. A second-stage fault on either is
// reported as a second-stage fault (with the VT-d second-stage reason); a
// first-stage fault as a first-stage one. The out slots past RESULT_SLOTS say
// which (N_STAGE) and where (N_GPA).
//
// Not modelled: the A/D updates of first-stage entries through the second
// stage (they would need W in the second stage), and the paging-structure
// caches (every table GPA is translated once per walk and table page).

import {
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NONE,
  PERM_R,
  PERM_W,
  PERM_X,
  PERM_U,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  RESULT_SLOTS,
  type PageTable,
  type PhysReader,
  type Walker,
} from "./types.ts";
import { walkVtdSs } from "./vtd_ss.ts";
import { walkX86Fs } from "./x86fs.ts";

/** Which stage faulted: 0 none, 1 first stage, 2 second stage. */
export const N_STAGE = RESULT_SLOTS;
/** The GPA the second stage was asked to translate when it faulted (a table page or the output), else the output GPA. */
export const N_GPA = RESULT_SLOTS + 1;
/** Second-stage entries read in all. */
export const N_S2_STEPS = RESULT_SLOTS + 2;
/** Level of the second-stage entry that faulted (or of the output's second-stage leaf). */
export const N_S2_LEVEL = RESULT_SLOTS + 3;
export const NESTED_RESULT_SLOTS = RESULT_SLOTS + 4;

export const STAGE_NONE = 0;
export const STAGE_FIRST = 1;
export const STAGE_SECOND = 2;

export function newNestedResult(): Float64Array {
  return new Float64Array(NESTED_RESULT_SLOTS);
}

const TWO32 = 4294967296;

/**
 * Guest-physical memory seen through a second-stage table: reads of a GPA
 * translate its 4 KiB page once per walk; on a second-stage fault it records
 * it and reads zero (a not-present first-stage entry), so the first-stage
 * walker stops at that step.
 */
class GpaReader implements PhysReader {
  mem: PhysReader = { read32: () => 0 };
  s2: PageTable = { root: 0, levels: 4, vaBits: 48, oaBits: 52, granuleLg2: 12, superpages: 0 };
  readonly scratch = new Float64Array(RESULT_SLOTS);
  page = -1;
  hpa = 0;
  fault = FAULT_NONE;
  faultGpa = 0;
  faultLevel = 0;
  steps = 0;

  reset(mem: PhysReader, s2: PageTable): void {
    this.mem = mem;
    this.s2 = s2;
    this.page = -1;
    this.fault = FAULT_NONE;
    this.steps = 0;
  }

  read32(gpa: number): number {
    const off = gpa % 4096;
    const page = gpa - off;
    if (page !== this.page) {
      if (this.fault !== FAULT_NONE) return 0;
      const s = this.scratch;
      const f = walkVtdSs(this.mem, this.s2, Math.floor(page / TWO32), page >>> 0, ACCESS_READ, s);
      this.steps += s[R_STEPS]!;
      if (f !== FAULT_NONE) {
        this.fault = f;
        this.faultGpa = gpa;
        this.faultLevel = s[R_LEVEL]!;
        return 0;
      }
      this.page = page;
      this.hpa = s[R_PA]!;
    }
    return this.mem.read32(this.hpa + off);
  }
}

/**
 * A nested walker. One instance holds the scratch state of a walk (no
 * allocation per walk); `stage1` is the first-stage format (x86 first stage).
 */
export class NestedWalker {
  private readonly gpa = new GpaReader();
  private readonly s2out = new Float64Array(RESULT_SLOTS);
  constructor(private readonly stage1: Walker = walkX86Fs) {}

  /**
   * Translate iovaHi:iovaLo through `s1` (in GPA space) then `s2`; `out` needs
   * NESTED_RESULT_SLOTS. R_ENTRY slots hold the GPAs of the first-stage
   * entries read. Returns the fault code of the stage named in out[N_STAGE].
   */
  walk(mem: PhysReader, s1: PageTable, s2: PageTable, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
    const g = this.gpa;
    g.reset(mem, s2);
    const f1 = this.stage1(g, s1, iovaHi, iovaLo, access, out);
    out[N_S2_STEPS] = g.steps;
    if (g.fault !== FAULT_NONE) {
      out[N_STAGE] = STAGE_SECOND;
      out[N_GPA] = g.faultGpa;
      out[N_S2_LEVEL] = g.faultLevel;
      return g.fault;
    }
    if (f1 !== FAULT_NONE) {
      out[N_STAGE] = STAGE_FIRST;
      return f1;
    }
    const gpa = out[R_PA]!;
    const s = this.s2out;
    const f2 = walkVtdSs(mem, s2, Math.floor(gpa / TWO32), gpa >>> 0, access & (ACCESS_READ | ACCESS_WRITE), s);
    out[N_S2_STEPS] = g.steps + s[R_STEPS]!;
    out[N_GPA] = gpa;
    out[N_S2_LEVEL] = s[R_LEVEL]!;
    if (f2 !== FAULT_NONE) {
      out[N_STAGE] = STAGE_SECOND;
      return f2;
    }
    out[N_STAGE] = STAGE_NONE;
    const p1 = out[R_PERM]!;
    out[R_PA] = s[R_PA]!;
    out[R_PAGE_LG2] = Math.min(out[R_PAGE_LG2]!, s[R_PAGE_LG2]!);
    out[R_PERM] = (p1 & (PERM_X | PERM_U)) | (p1 & s[R_PERM]! & (PERM_R | PERM_W));
    return FAULT_NONE;
  }
}

/** A nested walk behind the common Walker signature (for the IOTLB): the table given to it is the first stage. `out` needs NESTED_RESULT_SLOTS. */
export function nestedWalker(s2: PageTable, stage1: Walker = walkX86Fs): Walker {
  const w = new NestedWalker(stage1);
  return (mem, s1, iovaHi, iovaLo, access, out) => w.walk(mem, s1, s2, iovaHi, iovaLo, access, out);
}
