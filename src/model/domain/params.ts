// The paging domain a host IOMMU driver allocates: its format, levels, page
// sizes and aperture, as each driver configures its table.
//
// - intel_vtd: the VT-d second stage (intel/iommu.c through generic_pt vtdss):
//   levels from the address width (vtdss_pt_iommu_fmt_init: up to 39 bits 3,
//   up to 48 bits 4, else 5), pages 4K plus 2M / 1G as CAP.SLLPS (bits 34, 35)
//   offers, aperture [0, 2^aw - 1].
// - amd (and a host with no declared IOMMU type): AMDv1 (amd/iommu.c
//   do_iommu_domain_alloc): starting_level 2 (3 levels), PT_FEAT_DYNAMIC_TOP,
//   hw_max_vasz_lg2 = the address width (at most 64), max OA 52; the page sizes
//   are pt_iommu's get_info over every level that fits (all powers of two from
//   4K, 512G excepted) and the aperture is [0, 2^vasz - 1].
// - selftest_mock: the mock domain (iommufd/selftest.c
//   mock_domain_alloc_pgtable, MOCK_IOMMUPT_DEFAULT): AMDv1 with a 2 KiB page,
//   starting_level 2 without DYNAMIC_TOP (3 levels, 38 bits), every size from
//   2 KiB to 128 GiB, the aperture overridden to [MOCK_APERTURE_START,
//   MOCK_APERTURE_LAST]. MOCK_IOMMUPT_HUGE is the same table with page sizes
//   MOCK_HUGE_PAGE_SIZE | PAGE_SIZE (MOCK_HUGE_PGSIZE_BITMAP, for HWPT_ALLOC).
// - no-IOMMU (seed 003, hwpt_noiommu.c): AMDv1, hw_max_vasz_lg2 64,
//   hw_max_oasz_lg2 52, starting_level 2, DYNAMIC_TOP.
// - arm_smmuv3: the ARM LPAE formats are not modelled yet.

import { AMDV1_MAX_LEVELS } from "../../pagewalk/index.ts";
import type { HostIommu } from "../host/state.ts";
import type { DomainFormat, IovaRange } from "../iommufd/state.ts";
import { coverageBits, FORMATS } from "./formats.ts";

export interface DomainParams {
  format: DomainFormat;
  /** Input address width the driver configures (VT-d MGAW; AMDv1 hw_max_vasz_lg2). */
  awBits: number;
  levels: number;
  pgsizeBitmap: bigint;
  aperture: IovaRange;
}

/** drivers/iommu/iommufd/iommufd_test.h. */
export const MOCK_APERTURE_START = 1n << 24n;
export const MOCK_APERTURE_LAST = (1n << 31n) - 1n;
export const MOCK_IO_PAGE_SIZE = 2048n;
export const MOCK_HUGE_PAGE_SIZE = 512n * MOCK_IO_PAGE_SIZE;
/** MOCK_IOMMUPT_HUGE: only huge pages, plus PAGE_SIZE so iommufd accepts the domain. */
export const MOCK_HUGE_PGSIZE_BITMAP = MOCK_HUGE_PAGE_SIZE | 4096n;

const SZ_4K = 1n << 12n;
const SZ_2M = 1n << 21n;
const SZ_1G = 1n << 30n;
const SZ_512G = 1n << 39n;

/** VT-d CAP.SLLPS: bit 34 2 MiB, bit 35 1 GiB second-stage pages. */
const CAP_SLLPS_2M = 1n << 34n;
const CAP_SLLPS_1G = 1n << 35n;

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

/**
 * The format and parameters the host IOMMU driver would give a paging domain
 * for a device (a no-IOMMU device gets the SW-only AMDv1 domain). undefined:
 * a host IOMMU whose formats are not modelled yet (arm_smmuv3).
 */
export function domainParamsFor(host: HostIommu | null, noiommu: boolean): DomainParams | undefined {
  if (noiommu) return defaultParams("noiommu", 64);
  switch (host?.type ?? "none") {
    case "intel_vtd": {
      const p = defaultParams("vtd-ss", host!.awBits);
      const cap = host!.capReg;
      if (cap !== 0n) p.pgsizeBitmap = SZ_4K | (cap & CAP_SLLPS_2M ? SZ_2M : 0n) | (cap & CAP_SLLPS_1G ? SZ_1G : 0n);
      return p;
    }
    case "amd":
    case "none":
      return defaultParams("amdv1", host?.awBits ?? 48);
    case "selftest_mock":
      return defaultParams("selftest", 0);
    case "arm_smmuv3":
      return undefined;
  }
}
