// IOMMU paging domains whose page tables are bytes in simulated memory: the
// domain API the HWPT code calls (iommu_paging_domain_alloc, iommu_domain_free,
// iommu_iova_to_phys) and the io_pagetable's DOMAIN_HOOKS (iommu_map /
// iommu_unmap of an area), installed when this module loads.

import { newWalkResult, R_PA, R_PAGE_LG2, R_PERM, WALKERS, type PageTable, type PhysReader } from "../../pagewalk/index.ts";
import { DOMAIN_HOOKS } from "../iommufd/domain_hooks.ts";
import type { Area, Domain, DomainFormat, IovaRange } from "../iommufd/state.ts";
import type { State } from "../state.ts";
import { coverageBits, FORMATS } from "./formats.ts";
import { defaultParams } from "./params.ts";
import { freeTables, mapRange, unmapRange } from "./table.ts";
import { TableMem } from "./tablemem.ts";

export interface DomainAllocOpts {
  /** Input address width (VT-d MGAW, AMDv1 hw_max_vasz_lg2); the selftest and no-IOMMU formats fix their own. */
  awBits: number;
  levels?: number;
  pgsizeBitmap?: bigint;
  aperture?: IovaRange;
}

/**
 * Allocate a paging domain: the top-level table from the kernel page-table
 * allocator, and the format's levels, page sizes and aperture (defaults as
 * the driver would set them, see params.ts; domainParamsFor gives all of them).
 */
export function domainAlloc(s: State, format: DomainFormat, opts: DomainAllocOpts): Domain {
  const p = defaultParams(format, opts.awBits);
  const root = new TableMem(s.memory).allocTable();
  return {
    format,
    root: BigInt(root),
    levels: opts.levels ?? p.levels,
    pgsizeBitmap: opts.pgsizeBitmap ?? p.pgsizeBitmap,
    aperture: opts.aperture ?? p.aperture,
    dirtyTracking: false,
  };
}

/** Free every table page of the domain (pt_iommu_deinit). */
export function domainFree(s: State, domain: Domain): void {
  freeTables(new TableMem(s.memory), domain, FORMATS[domain.format]);
}

/** iommu_map of an area: each of its physical runs, with the area's IOMMU_READ / IOMMU_WRITE. */
export function domainMapArea(s: State, domain: Domain, area: Area): void {
  if (!area.runs) throw new Error(`domain map: area at 0x${area.iova.toString(16)} has no pinned pages`);
  const tm = new TableMem(s.memory);
  const f = FORMATS[domain.format];
  for (const run of area.runs) mapRange(tm, domain, f, run.iova, run.pa, run.length, area.prot);
}

/** iommu_unmap of [iova, last]. */
export function domainUnmap(s: State, domain: Domain, iova: bigint, last: bigint): void {
  unmapRange(new TableMem(s.memory), domain, FORMATS[domain.format], iova, last);
}

DOMAIN_HOOKS.map = (s, _ctx, hwpt, area) => domainMapArea(s, hwpt.domain, area);
DOMAIN_HOOKS.unmap = (s, _ctx, hwpt, iova, last) => domainUnmap(s, hwpt.domain, iova, last);

/** The table as the hardware context (DTE, context or PASID entry) hands it to the walker. */
export function pageTableOf(domain: Domain): PageTable {
  const f = FORMATS[domain.format];
  const cover = coverageBits(f, domain.levels);
  return {
    root: Number(domain.root),
    levels: domain.levels,
    // VT-d also stops at the address width (MGAW), which the aperture is.
    vaBits: f.pt === "vtd-ss" ? Math.min(cover, domain.aperture.last.toString(2).length) : cover,
    oaBits: 52,
    granuleLg2: f.granuleLg2,
    superpages: (domain.pgsizeBitmap & (1n << 21n) ? 1 : 0) | (domain.pgsizeBitmap & (1n << 30n) ? 2 : 0),
  };
}

/** Walk the domain's table for `access` (pagewalk ACCESS_* bits); the fault code, results in `out`. */
export function translate(mem: PhysReader, domain: Domain, iova: bigint, access: number, out: Float64Array): number {
  const hi = Number(iova >> 32n);
  const lo = Number(iova & 0xffffffffn);
  return WALKERS[FORMATS[domain.format].pt](mem, pageTableOf(domain), hi, lo, access, out);
}

export function permString(perm: number): string {
  return (perm & 1 ? "r" : "") + (perm & 2 ? "w" : "") + (perm & 4 ? "x" : "");
}

const scratch = newWalkResult();

/** iommu_iova_to_phys: the physical address behind an IOVA, with its page; undefined when nothing is mapped there. */
export function domainIovaToPhys(s: State, domain: Domain, iova: bigint): { pa: bigint; pageSize: bigint; perm: string } | undefined {
  if (translate(new TableMem(s.memory), domain, iova, 0, scratch) !== 0) return undefined;
  return { pa: BigInt(scratch[R_PA]!), pageSize: 1n << BigInt(scratch[R_PAGE_LG2]!), perm: permString(scratch[R_PERM]!) };
}
