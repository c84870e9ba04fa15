// The io_pagetable of an IOAS (drivers/iommu/iommufd/io_pagetable.c): areas
// sorted by IOVA, the IOVA allocator, reserved and allowed ranges, map and
// unmap. Domains (attach, alignment, large pages) are in iopt_domain.ts.
//
// Every function validates completely before it changes the IOAS, except
// where the kernel itself makes partial progress (unmapRange: areas unmapped
// before an ENOENT stay unmapped, as iopt_unmap_iova_range leaves them).

import { provenance } from "../provenance.ts";
import type { State } from "../state.ts";
import { U64_MAX } from "../values.ts";
import { domainMapRuns, domainUnmap, pagingDomainOf } from "../domain/domain.ts";
import type { IovaRange, PhysRun } from "../domain/state.ts";
import { memfdPinFolios } from "../memfd/memfd.ts";
import { areaLocks, iommufdAccessNotifyUnmap } from "./access.ts";
import { PAGE, pinUser, sourceAddr, sliceRuns } from "./pages.ts";
import { holes, intersects, spans } from "../domain/spans.ts";
import type { Area, AreaSource, HwptPaging, IommufdCtx, Ioas, ReservedRange } from "./state.ts";

/** HPAGE_SIZE on x86-64 with CONFIG_TRANSPARENT_HUGEPAGE: the largest alignment iopt_alloc_iova asks for. */
const HPAGE = 2n << 20n;

/** One iopt_pages_list element: a slice of pages to become one area. */
export interface PagesElm {
  source: AreaSource;
  length: bigint;
  /** pages->writable. */
  writable: boolean;
  /** PFNs already known (dma-buf, or a copy of a pinned area), with iova counted from 0. */
  runs: PhysRun[] | null;
  revoked?: boolean;
  /** The iopt_pages the slice comes from (IOAS_COPY); absent: a new one (a MAP). */
  pages?: number;
}

/** The lowest area intersecting [start, last] (iopt_area_iter_first). */
export function firstArea(ioas: Ioas, start: bigint, last: bigint): Area | undefined {
  let lo = 0;
  let hi = ioas.areas.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ioas.areas[mid]!.last < start) lo = mid + 1;
    else hi = mid;
  }
  const a = ioas.areas[lo];
  return a && a.iova <= last ? a : undefined;
}

export function areaLength(a: Area): bigint {
  return a.last - a.iova + 1n;
}

/** area->page_offset: the offset in its first page of the area's first byte. */
export function pageOffset(a: Area): bigint {
  return sourceAddr(a.source) % PAGE;
}

/** The paging HWPTs whose domains mirror this IOAS, in iopt->domains order (index 0 is the storage domain). */
export function domainsOf(ctx: IommufdCtx, ioas: Ioas): HwptPaging[] {
  const out: HwptPaging[] = [];
  for (const id of ioas.domains) {
    const h = ctx.objects.get(id);
    if (h?.type === "hwpt_paging") out.push(h);
  }
  return out;
}

/** iopt_check_iova: a fixed IOVA must be aligned, not overflow, miss reserved ranges (EINVAL) and areas (EEXIST). */
export function checkIova(ioas: Ioas, iova: bigint, length: bigint): string | undefined {
  if (iova % ioas.iovaAlignment !== 0n) return "EINVAL";
  const last = iova + length - 1n;
  if (last > U64_MAX) return "EOVERFLOW";
  if (intersects(ioas.reserved, iova, last)) return "EINVAL";
  if (firstArea(ioas, iova, last)) return "EEXIST";
  return undefined;
}

function roundupPow2(n: bigint): bigint {
  let p = 1n;
  while (p < n) p <<= 1n;
  return p;
}

function lowBit(n: bigint): bigint {
  return n & -n;
}

/** __alloc_iova_check_range: align the start up, put the page offset in, and see that length still fits. */
function fitIn(start: bigint, last: bigint, length: bigint, align: bigint, offset: bigint): bigint | undefined {
  if (start + align - 1n > U64_MAX) return undefined;
  const aligned = ((start + align - 1n) & ~(align - 1n)) | offset;
  if (aligned >= last || last - aligned < length - 1n) return undefined;
  return aligned;
}

/**
 * iopt_alloc_iova: the lowest IOVA from PAGE_SIZE (never 0) inside an allowed
 * range (all of [PAGE_SIZE, ULONG_MAX - PAGE_SIZE] when none is set) that
 * misses reserved ranges and areas, aligned to roundup_pow_of_two(length)
 * capped by the lowest set bit of addr and by HPAGE_SIZE, with iova % PAGE_SIZE
 * == addr % PAGE_SIZE.
 */
export function allocIova(ioas: Ioas, addr: bigint, length: bigint): bigint | string {
  if (length === 0n || length >= U64_MAX / 2n) return "EOVERFLOW";
  let align = roundupPow2(length);
  if (addr !== 0n && lowBit(addr) < align) align = lowBit(addr);
  if (align >= HPAGE) align = HPAGE;
  if (align < ioas.iovaAlignment) return "EINVAL";
  const offset = addr % PAGE;
  const lo = PAGE;
  const hi = U64_MAX - PAGE;
  const allowed = ioas.allowed.length === 0 ? [{ start: lo, last: hi, used: true }] : spans(ioas.allowed, lo, hi);
  const busy: IovaRange[] = [...ioas.reserved, ...ioas.areas.map((a) => ({ start: a.iova, last: a.last }))];
  for (const a of allowed) {
    if (!a.used) continue;
    const from = fitIn(a.start, a.last, length, align, offset);
    if (from === undefined) continue;
    for (const h of holes(busy, from, a.last)) {
      const iova = fitIn(h.start, h.last, length, align, offset);
      if (iova !== undefined) return iova;
    }
  }
  return "ENOSPC";
}

/** iopt_alloc_pages: a new iopt_pages, numbered by the lowest number no area of the context uses. */
function newPagesId(ctx: IommufdCtx): number {
  const used = new Set<number>();
  for (const o of ctx.objects.values()) if (o.type === "ioas") for (const a of o.areas) used.add(a.pages);
  let id = 1;
  while (used.has(id)) id++;
  return id;
}

/** Insert keeping the list sorted by IOVA. */
function insertArea(ioas: Ioas, area: Area): void {
  let i = ioas.areas.length;
  while (i > 0 && ioas.areas[i - 1]!.iova > area.iova) i--;
  ioas.areas.splice(i, 0, area);
}

/** iopt_area_fill_domain: iommu_map of a pinned area (its runs, its IOMMU_READ / IOMMU_WRITE) into one HWPT's domain. */
export function mapAreaInto(s: State, hwpt: HwptPaging, area: Area): void {
  if (!area.runs) throw new Error(`map: area at 0x${area.iova.toString(16)} has no pinned pages`);
  domainMapRuns(s, pagingDomainOf(s, hwpt.domainId), area.runs, area.prot);
}

/** iopt_area_unmap_domain_range: iommu_unmap of [iova, last] from one HWPT's domain. */
export function unmapFrom(s: State, hwpt: HwptPaging, iova: bigint, last: bigint): void {
  domainUnmap(s, pagingDomainOf(s, hwpt.domainId), iova, last);
}

/** iopt_area_fill_domains' mapping step: the area into every domain of the IOAS. */
export function fillArea(s: State, ctx: IommufdCtx, ioas: Ioas, area: Area): void {
  if (!area.runs || area.revoked) return;
  for (const h of domainsOf(ctx, ioas)) mapAreaInto(s, h, area);
}

/** iopt_area_unfill_domains: the area out of every domain (a revoked buffer is out already). */
export function unfillArea(s: State, ctx: IommufdCtx, ioas: Ioas, area: Area): void {
  if (!area.runs || area.revoked) return;
  for (const h of domainsOf(ctx, ioas)) unmapFrom(s, h, area.iova, area.last);
}

/** The PFNs an element brings to an area at `at`: known ones, pinned ones, or none (lazy). */
function elmRuns(s: State, e: PagesElm, at: bigint, pinned: boolean): PhysRun[] | null | string {
  if (e.revoked) return []; // a revoked dma-buf has no PFNs left; no domain maps it (iopt_area_fill_domain)
  if (e.runs && (pinned || e.source.kind === "dmabuf")) return sliceRuns(e.runs, 0n, e.length - 1n, at);
  if (!pinned) return null;
  if (e.source.kind === "user") return pinUser(s, e.source.pid, e.source.va, at, e.length);
  return memfdPinFolios(s, e.source.fileId, e.source.start, at, e.length); // pin_memfd_pages: a memfd's pages, EINVAL for any other file
}

/**
 * iopt_map_pages: check the length against the IOAS alignment, allocate or
 * check the IOVA, insert one area per element (EPERM for a writable area over
 * read-only pages, EINVAL for a page offset the alignment refuses), pin when
 * the IOAS has domains (EFAULT), then map into every domain.
 */
export function mapPages(
  s: State,
  ctx: IommufdCtx,
  ioas: Ioas,
  elms: readonly PagesElm[],
  length: bigint,
  fixedIova: bigint | undefined,
  prot: number,
): { iova: bigint } | string {
  const align = ioas.iovaAlignment;
  if (length % align !== 0n || length === 0n) return "EINVAL";
  let iova: bigint;
  if (fixedIova === undefined) {
    const r = allocIova(ioas, sourceAddr(elms[0]!.source), length);
    if (typeof r === "string") return r;
    iova = r;
  } else {
    const err = checkIova(ioas, fixedIova, length);
    if (err) return err;
    iova = fixedIova;
  }
  // iopt_alloc_area_pages: every element is checked as its area is inserted...
  for (const e of elms) {
    if (prot & 2 && !e.writable) return "EPERM";
    if ((sourceAddr(e.source) % PAGE) % align !== 0n) return "EINVAL";
  }
  // ...then iopt_fill_domains_pages pins them (only when a domain needs the PFNs).
  const pinned = ioas.domains.length > 0;
  const areas: Area[] = [];
  let at = iova;
  // iopt_map_user_pages / iopt_map_file_pages: one new iopt_pages for the elements a MAP brings.
  const fresh = elms.some((e) => e.pages === undefined) ? newPagesId(ctx) : 0;
  for (const e of elms) {
    const runs = elmRuns(s, e, at, pinned);
    if (typeof runs === "string") return runs;
    const area: Area = { iova: at, last: at + e.length - 1n, prot, source: e.source, runs, accesses: 0, writable: e.writable, pages: e.pages ?? fresh };
    if (e.revoked) area.revoked = true;
    areas.push(area);
    at += e.length;
  }
  for (const a of areas) {
    insertArea(ioas, a);
    provenance()?.mark(`area:${ctx.fileId}:${ioas.id}:${a.iova}`);
    fillArea(s, ctx, ioas, a);
  }
  return { iova };
}

/**
 * iopt_unmap_iova_range: remove every area inside [start, last] in IOVA order.
 * An area locked by an internal access (a HW queue) is EBUSY and one that
 * sticks out of the range is ENOENT; areas removed before either stay removed.
 * An area a driver's access pinned asks the IOAS's accesses to unpin
 * (iommufd_access_notify_unmap) and is looked at again; still pinned, the
 * kernel gives up after 100 tries (EDEADLOCK).
 */
export function unmapRange(s: State, ctx: IommufdCtx, ioas: Ioas, start: bigint, last: bigint): { unmapped: bigint; errno?: string } {
  let unmapped = 0n;
  let from = start;
  for (;;) {
    const a = firstArea(ioas, from, last);
    if (!a) break;
    if (areaLocks(ctx, ioas, a) > 0) return { unmapped, errno: "EBUSY" };
    if (a.iova < from || a.last > last) return { unmapped, errno: "ENOENT" };
    if (a.accesses > 0) {
      iommufdAccessNotifyUnmap(s, ctx, ioas, a.iova, areaLength(a));
      if (a.accesses > 0) return { unmapped, errno: "EDEADLOCK" };
    }
    unfillArea(s, ctx, ioas, a);
    ioas.areas.splice(ioas.areas.indexOf(a), 1);
    unmapped += areaLength(a);
    if (a.last >= last) break;
    from = a.last + 1n;
  }
  return { unmapped };
}

/**
 * iopt_reserve_iova for several ranges of one owner, as
 * iopt_table_enforce_dev_resv_regions does: a range over an area or an allowed
 * range is EADDRINUSE, and then every range of that owner is dropped again.
 */
export function ioptReserve(ioas: Ioas, owner: ReservedRange["owner"], ranges: readonly IovaRange[]): string | undefined {
  for (const r of ranges)
    if (firstArea(ioas, r.start, r.last) || intersects(ioas.allowed, r.start, r.last)) {
      ioptUnreserve(ioas, owner);
      return "EADDRINUSE";
    }
  for (const r of ranges) ioas.reserved.push({ start: r.start, last: r.last, owner });
  return undefined;
}

/** iopt_remove_reserved_iova: drop every reserved range of this owner. */
export function ioptUnreserve(ioas: Ioas, owner: ReservedRange["owner"]): void {
  ioas.reserved = ioas.reserved.filter((r: ReservedRange) => r.owner !== owner);
}

/** iopt_set_allow_iova: the new list replaces the old unless one range meets a reserved range (EADDRINUSE). */
export function setAllowed(ioas: Ioas, ranges: IovaRange[]): string | undefined {
  for (const r of ranges) if (intersects(ioas.reserved, r.start, r.last)) return "EADDRINUSE";
  ioas.allowed = [...ranges].sort((a, b) => (a.start < b.start ? -1 : 1));
  return undefined;
}

/** IOMMU_IOAS_IOVA_RANGES: the holes of the reserved ranges over the whole IOVA space. */
export function iovaRanges(ioas: Ioas): IovaRange[] {
  return holes(ioas.reserved, 0n, U64_MAX);
}
