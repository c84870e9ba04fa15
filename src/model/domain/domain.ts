// The iommu core's domain API for the rest of the model: allocating and
// freeing domains (iommu_paging_domain_alloc, the driver's
// domain_alloc_nested, iommu_domain_free), mapping and unmapping runs of
// pinned memory (iommu_map / iommu_unmap), and walking a paging domain's
// table (iommu_iova_to_phys, the hardware's walk for DMA).

import { newWalkResult, R_PA, R_PAGE_LG2, R_PERM, WALKERS, type PageTable, type PhysReader } from "../../pagewalk/index.ts";
import type { State } from "../state.ts";
import { coverageBits, FORMATS } from "./formats.ts";
import type { DomainParams } from "./params.ts";
import type { IommuDomain, NestedDomain, PagingDomain, PhysRun } from "./state.ts";
import { freeTables, mapRange, unmapRange } from "./table.ts";
import { TableMem } from "./tablemem.ts";
import { provenance } from "../provenance.ts";

/**
 * Allocate a paging domain as the driver configured it (params.ts): the
 * top-level table from the kernel page-table allocator, its levels, page
 * sizes and aperture; `dirtyOps` for IOMMU_HWPT_ALLOC_DIRTY_TRACKING.
 */
export function domainAllocPaging(s: State, p: DomainParams, dirtyOps = false): PagingDomain {
  const root = new TableMem(s.memory).allocTable();
  const d: PagingDomain = {
    id: s.domains.nextId++,
    type: "paging",
    format: p.format,
    root: BigInt(root),
    levels: p.levels,
    pgsizeBitmap: p.pgsizeBitmap,
    aperture: p.aperture,
    dirtyOps,
    dirtyTracking: false,
  };
  s.domains.table.set(d.id, d);
  provenance()?.mark(`domain:${d.id}`);
  return d;
}

/** A nested domain over the paging domain `parent` (the driver's domain_alloc_nested, once it accepted the data). */
export function domainAllocNested(s: State, parent: PagingDomain, dataType: number, data: Record<string, bigint | number>): NestedDomain {
  const d: NestedDomain = { id: s.domains.nextId++, type: "nested", parentId: parent.id, dataType, data };
  s.domains.table.set(d.id, d);
  provenance()?.mark(`domain:${d.id}`);
  return d;
}

/** iommu_domain_free: a paging domain's tables go back to the allocator (pt_iommu_deinit). */
export function domainFree(s: State, d: IommuDomain): void {
  if (d.type === "paging") freeTables(new TableMem(s.memory), d, FORMATS[d.format]);
  s.domains.table.delete(d.id);
}

/** The domain with this id; a missing one is a simulator bug (ids are only held while the domain lives). */
export function domainOf(s: State, id: number): IommuDomain {
  const d = s.domains.table.get(id);
  if (!d) throw new Error(`IOMMU domain ${id} does not exist`);
  return d;
}

/** The paging domain with this id. */
export function pagingDomainOf(s: State, id: number): PagingDomain {
  const d = domainOf(s, id);
  if (d.type !== "paging") throw new Error(`IOMMU domain ${id} is not a paging domain`);
  return d;
}

/** iommu_map of pinned runs with IOMMU_READ (1) / IOMMU_WRITE (2). */
export function domainMapRuns(s: State, d: PagingDomain, runs: readonly PhysRun[], prot: number): void {
  const tm = new TableMem(s.memory);
  const f = FORMATS[d.format];
  for (const run of runs) mapRange(tm, d, f, run.iova, run.pa, run.length, prot);
}

/** iommu_unmap of [iova, last]. */
export function domainUnmap(s: State, d: PagingDomain, iova: bigint, last: bigint): void {
  unmapRange(new TableMem(s.memory), d, FORMATS[d.format], iova, last);
}

/** The table as the hardware context (DTE, context or PASID entry) hands it to the walker. */
export function pageTableOf(d: PagingDomain): PageTable {
  const f = FORMATS[d.format];
  const cover = coverageBits(f, d.levels);
  return {
    root: Number(d.root),
    levels: d.levels,
    // VT-d also stops at the address width (MGAW), which the aperture is.
    vaBits: f.pt === "vtd-ss" ? Math.min(cover, d.aperture.last.toString(2).length) : cover,
    oaBits: 52,
    granuleLg2: f.granuleLg2,
    superpages: (d.pgsizeBitmap & (1n << 21n) ? 1 : 0) | (d.pgsizeBitmap & (1n << 30n) ? 2 : 0),
  };
}

/** Walk the domain's table for `access` (pagewalk ACCESS_* bits); the fault code, results in `out`. */
export function translate(mem: PhysReader, d: PagingDomain, iova: bigint, access: number, out: Float64Array): number {
  const hi = Number(iova >> 32n);
  const lo = Number(iova & 0xffffffffn);
  return WALKERS[FORMATS[d.format].pt](mem, pageTableOf(d), hi, lo, access, out);
}

export function permString(perm: number): string {
  return (perm & 1 ? "r" : "") + (perm & 2 ? "w" : "") + (perm & 4 ? "x" : "");
}

const scratch = newWalkResult();

/** iommu_iova_to_phys: the physical address behind an IOVA, with its page; undefined when nothing is mapped there. */
export function domainIovaToPhys(s: State, d: PagingDomain, iova: bigint): { pa: bigint; pageSize: bigint; perm: string } | undefined {
  if (translate(new TableMem(s.memory), d, iova, 0, scratch) !== 0) return undefined;
  return { pa: BigInt(scratch[R_PA]!), pageSize: 1n << BigInt(scratch[R_PAGE_LG2]!), perm: permString(scratch[R_PERM]!) };
}
