// The page-table formats of the domains, as data: how the kernel's table code
// writes entries (generic_pt/fmt/vtdss.h and amdv1.h), which page sizes each
// level can hold, and which walker and fault names go with it. Entries are
// built as bigint here (table building is not the hot path); walks read them
// as two 32-bit halves through src/pagewalk.

import {
  AMDV1_A,
  AMDV1_D,
  AMDV1_MAX_LEVELS,
  AMDV1_NL_SIZE,
  AMDV1_PR,
  amdv1FaultName,
  amdv1VaBits,
  vtdSsFaultName,
  VTDSS_A,
  VTDSS_D,
  VTDSS_PS,
  VTDSS_R,
  VTDSS_W,
  type PtFormat,
} from "../../pagewalk/index.ts";
import type { DomainFormat } from "./state.ts";

export const ENTRY_EMPTY = 0;
export const ENTRY_TABLE = 1;
export const ENTRY_LEAF = 2;

/** IOMMU_READ / IOMMU_WRITE (include/linux/iommu.h), as Area.prot carries them. */
export const IOMMU_READ = 1;
export const IOMMU_WRITE = 2;

export interface FormatInfo {
  /** The walker. */
  pt: PtFormat;
  /** log2 of the smallest page (PT_GRANULE_LG2SZ). */
  granuleLg2: number;
  /** The deepest table the format allows (PT_MAX_TOP_LEVEL + 1). */
  maxLevels: number;
  /** PT_FEAT_DYNAMIC_TOP: the kernel adds levels on top as mappings need them (increase_top). */
  dynamicTop: boolean;
  /** Can a page of 2^lg2 bytes sit at `level` (pt_possible_sizes)? */
  holds(level: number, lg2: number): boolean;
  /** Empty, table or leaf (pt_load_entry_raw). */
  kind(e: bigint, level: number): number;
  /** The next table's physical address (pt_table_pa). */
  tableAddr(e: bigint): number;
  /** log2 of the page a leaf maps. */
  leafLg2(e: bigint, level: number): number;
  /** A table entry pointing to `child`, a table of `childLevel` (pt_install_table). */
  makeTable(child: number, childLevel: number): bigint;
  /** A leaf mapping 2^lg2 bytes at pa (pt_install_leaf_entry); written into each entry it covers. */
  makeLeaf(pa: bigint, lg2: number, level: number, prot: number): bigint;
  /** The D bit of a leaf and the A bit of every entry on a walk, in the low word (0: none). */
  dirtyLo: number;
  accessedLo: number;
  /** The fault name a DMA gets (docs/trace-format.md "Device", `dma`). */
  faultName(fault: number, write: boolean): string;
}

const M40 = (1n << 40n) - 1n;

/** The size of one entry's span at `level` (pt_table_item_lg2sz). */
export function itemLg2(f: FormatInfo, level: number): number {
  return f.granuleLg2 + 9 * (level - 1);
}

/** The input width a table of `levels` covers (64 at most). */
export function coverageBits(f: FormatInfo, levels: number): number {
  return f.pt === "amdv1" ? amdv1VaBits(f.granuleLg2, levels) : 12 + 9 * levels;
}

/** VT-d second stage (vtdss.h): R|W on tables, PS on 2M/1G leaves, no contiguous pages. */
const VTD_SS: FormatInfo = {
  pt: "vtd-ss",
  granuleLg2: 12,
  maxLevels: 5,
  dynamicTop: false,
  holds: (level, lg2) => level <= 3 && lg2 === 12 + 9 * (level - 1),
  kind: (e, level) => (e === 0n ? ENTRY_EMPTY : level === 1 || e & BigInt(VTDSS_PS) ? ENTRY_LEAF : ENTRY_TABLE),
  tableAddr: (e) => Number(((e >> 12n) & M40) << 12n),
  leafLg2: (_e, level) => 12 + 9 * (level - 1),
  makeTable: (child) => BigInt(child) | BigInt(VTDSS_R | VTDSS_W),
  makeLeaf: (pa, _lg2, level, prot) =>
    pa | (prot & IOMMU_READ ? BigInt(VTDSS_R) : 0n) | (prot & IOMMU_WRITE ? BigInt(VTDSS_W) : 0n) | (level > 1 ? BigInt(VTDSS_PS) : 0n),
  dirtyLo: VTDSS_D,
  accessedLo: VTDSS_A,
  faultName: vtdSsFaultName,
};

/**
 * AMDv1 (amdv1.h) with a granule: tables get IR|IW (permissions come from
 * the leaf), leaves larger than the level's entry use NextLevel 7 and are
 * written into every entry they cover; FC when PT_FEAT_AMDV1_FORCE_COHERENCE.
 */
function amdv1(granuleLg2: number, maxLevels: number, forceCoherence: boolean, accessed: boolean): Omit<FormatInfo, "dynamicTop"> {
  const g = BigInt(granuleLg2);
  const PERMS = (1n << 61n) | (1n << 62n);
  const leafBits = (prot: number) =>
    BigInt(AMDV1_PR) | (forceCoherence ? 1n << 60n : 0n) | (prot & IOMMU_READ ? 1n << 61n : 0n) | (prot & IOMMU_WRITE ? 1n << 62n : 0n);
  const item = (level: number) => granuleLg2 + 9 * (level - 1);
  return {
    pt: "amdv1",
    granuleLg2,
    maxLevels,
    holds: (level, lg2) => level < maxLevels && lg2 >= item(level) && lg2 <= Math.min(51, item(level) + 8) && lg2 !== 39,
    kind: (e, level) => {
      if (!(e & BigInt(AMDV1_PR))) return ENTRY_EMPTY;
      const nl = Number((e >> 9n) & 7n);
      return level === 1 || nl === 0 || nl === AMDV1_NL_SIZE ? ENTRY_LEAF : ENTRY_TABLE;
    },
    tableAddr: (e) => Number(((e >> 12n) & M40) << g),
    leafLg2: (e, level) => {
      if (Number((e >> 9n) & 7n) !== AMDV1_NL_SIZE) return item(level);
      let f = (e >> 12n) & M40;
      let ones = 0;
      for (; f & 1n; f >>= 1n) ones++;
      return granuleLg2 + 1 + ones;
    },
    makeTable: (child, childLevel) => BigInt(AMDV1_PR) | (BigInt(childLevel) << 9n) | ((BigInt(child) >> g) << 12n) | PERMS,
    makeLeaf: (pa, lg2, level, prot) => {
      const oa = pa >> g;
      if (lg2 === item(level)) return leafBits(prot) | (oa << 12n);
      const size = (1n << BigInt(lg2 - granuleLg2 - 1)) - 1n;
      return leafBits(prot) | (BigInt(AMDV1_NL_SIZE) << 9n) | ((oa | size) << 12n);
    },
    dirtyLo: AMDV1_D,
    accessedLo: accessed ? AMDV1_A : 0,
    faultName: (fault) => amdv1FaultName(fault),
  };
}

/** Per domain format. The mock is AMDv1 built with AMDV1_IOMMUFD_SELFTEST (2 KiB granule, PT_MAX_TOP_LEVEL 4, no features). */
export const FORMATS: Readonly<Record<DomainFormat, FormatInfo>> = {
  "vtd-ss": VTD_SS,
  amdv1: { ...amdv1(12, AMDV1_MAX_LEVELS, true, true), dynamicTop: true },
  noiommu: { ...amdv1(12, AMDV1_MAX_LEVELS, true, true), dynamicTop: true },
  selftest: { ...amdv1(11, 5, false, false), dynamicTop: false },
};
