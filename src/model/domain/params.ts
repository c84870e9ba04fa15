// The parameters of a paging domain (format, levels, page sizes, aperture)
// as the kernel's generic page-table code derives them from a format and an
// address width. Which format and width a driver asks for is the driver's
// (src/model/iommu/*.ts, each driver's pagingParams).

import { AMDV1_MAX_LEVELS } from "../../pagewalk/index.ts";
import {
  MOCK_APERTURE_LAST as APERTURE_LAST,
  MOCK_APERTURE_START as APERTURE_START,
  MOCK_HUGE_PAGE_SIZE as HUGE_PAGE_SIZE,
  MOCK_PAGE_SIZE,
} from "../../uapi/iommufd.ts";
import type { DomainFormat, IovaRange } from "./state.ts";
import { coverageBits, FORMATS } from "./formats.ts";

export interface DomainParams {
  format: DomainFormat;
  /** Input address width the driver configures (VT-d MGAW; AMDv1 hw_max_vasz_lg2). */
  awBits: number;
  levels: number;
  pgsizeBitmap: bigint;
  aperture: IovaRange;
}

/** drivers/iommu/iommufd/iommufd_test.h, as bigint. */
export const MOCK_APERTURE_START = BigInt(APERTURE_START);
export const MOCK_APERTURE_LAST = BigInt(APERTURE_LAST);
export const MOCK_IO_PAGE_SIZE = BigInt(MOCK_PAGE_SIZE);
export const MOCK_HUGE_PAGE_SIZE = BigInt(HUGE_PAGE_SIZE);
/** MOCK_IOMMUPT_HUGE: only huge pages, plus PAGE_SIZE so iommufd accepts the domain. */
export const MOCK_HUGE_PGSIZE_BITMAP = MOCK_HUGE_PAGE_SIZE | 4096n;

export const SZ_4K = 1n << 12n;
export const SZ_2M = 1n << 21n;
export const SZ_1G = 1n << 30n;
const SZ_512G = 1n << 39n;

/** vtdss_pt_iommu_fmt_init: the top level from the address width. */
export function vtdLevelsForAw(awBits: number): number {
  return awBits > 48 ? 5 : awBits > 39 ? 4 : 3;
}

/**
 * pt_iommu get_info for AMDv1: the union of pt_possible_sizes over the levels
 * (every level whose entry is narrower than the VA with DYNAMIC_TOP, else the
 * levels in use), without 512G, below 2^maxOaLg2.
 */
export function amdv1PgsizeBitmap(format: DomainFormat, vaBits: number, levels: number, maxOaLg2: number): bigint {
  const f = FORMATS[format];
  const g = f.granuleLg2;
  let bitmap = 0n;
  const last = f.dynamicTop ? AMDV1_MAX_LEVELS : levels;
  for (let level = 1; level <= last; level++) {
    const isz = g + 9 * (level - 1);
    if (f.dynamicTop && isz >= vaBits) break;
    if (level >= f.maxLevels) break; // the top level cannot hold pages
    for (let b = isz; b <= Math.min(51, isz + 8); b++) bitmap |= 1n << BigInt(b);
  }
  return bitmap & ~SZ_512G & ((1n << BigInt(maxOaLg2)) - 1n);
}

function range(bits: number): IovaRange {
  return { start: 0n, last: (1n << BigInt(bits)) - 1n };
}

/** The parameters of a format when the caller gives only the address width (domainAlloc's defaults). */
export function defaultParams(format: DomainFormat, awBits: number): DomainParams {
  switch (format) {
    case "vtd-ss": {
      const aw = Math.min(57, awBits);
      return { format, awBits: aw, levels: vtdLevelsForAw(aw), pgsizeBitmap: SZ_4K | SZ_2M | SZ_1G, aperture: range(aw) };
    }
    case "amdv1":
    case "noiommu": {
      const vasz = format === "noiommu" ? 64 : Math.min(64, awBits);
      return { format, awBits: vasz, levels: 3, pgsizeBitmap: amdv1PgsizeBitmap(format, vasz, 3, 52), aperture: range(vasz) };
    }
    case "selftest": {
      const vasz = coverageBits(FORMATS.selftest, 3); // 38: no DYNAMIC_TOP, so the starting level bounds it
      return {
        format,
        awBits: vasz,
        levels: 3,
        pgsizeBitmap: amdv1PgsizeBitmap(format, vasz, 3, 51),
        aperture: { start: MOCK_APERTURE_START, last: MOCK_APERTURE_LAST },
      };
    }
  }
}
