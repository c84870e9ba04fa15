// Domains of an io_pagetable (io_pagetable.c: iopt_table_add_domain,
// iopt_table_remove_domain, iopt_calculate_iova_alignment, the large-page
// option, iopt_cut_iova). The domains' page tables are src/model/domain's.

import { pagingDomainOf } from "../domain/domain.ts";
import type { PhysRun } from "../domain/state.ts";
import type { State } from "../state.ts";
import { U64_MAX } from "../values.ts";
import { areaLength, domainsOf, firstArea, mapAreaInto, pageOffset, unfillArea, unmapFrom } from "./io_pagetable.ts";
import { advance, PAGE, pinArea, sliceRuns } from "./pages.ts";
import { intersects } from "../domain/spans.ts";
import type { Access, Area, HwptPaging, IommufdCtx, Ioas, ReservedRange } from "./state.ts";

/** 1UL << __ffs(pgsize_bitmap): the domain's smallest page. */
function minPage(s: State, h: HwptPaging): bigint {
  const b = pagingDomainOf(s, h.domainId).pgsizeBitmap;
  return b === 0n ? 1n : b & -b;
}

/** iopt_check_iova_alignment: every area's IOVA, length and page offset fit the new alignment, else EADDRINUSE. */
export function checkAlignment(ioas: Ioas, align: bigint): string | undefined {
  for (const a of ioas.areas) if (a.iova % align || areaLength(a) % align || pageOffset(a) % align) return "EADDRINUSE";
  return undefined;
}

/** access->iova_alignment (iommufd_access_create: PAGE_SIZE with ops->needs_pin_pages, else 1; internal: PAGE_SIZE). */
export function accessAlignment(a: Access): bigint {
  return a.iovaAlignment ?? (a.internal ? PAGE : 1n);
}

/**
 * iopt_calculate_iova_alignment without the check: PAGE_SIZE without large pages, else 1,
 * raised to each domain's smallest page and to each attached access's alignment.
 */
function wantedAlignment(s: State, ctx: IommufdCtx, ioas: Ioas, hugePages: boolean): bigint {
  let align = hugePages ? 1n : PAGE;
  for (const h of domainsOf(ctx, ioas)) if (minPage(s, h) > align) align = minPage(s, h);
  for (const o of ctx.objects.values()) if (o.type === "access" && o.ioasId === ioas.id && accessAlignment(o) > align) align = accessAlignment(o);
  return align;
}

/** iopt_remove_access's iopt_calculate_iova_alignment: the alignment can only drop. */
export function recalcAlignment(s: State, ctx: IommufdCtx, ioas: Ioas): void {
  ioas.iovaAlignment = wantedAlignment(s, ctx, ioas, ioas.hugePages);
}

/**
 * iopt_table_add_domain: the domain must not be attached twice (EEXIST), its
 * smallest page may not exceed PAGE_SIZE (EINVAL), existing areas must fit the
 * raised alignment and lie inside the aperture, and no allowed range may reach
 * outside it (EADDRINUSE: the outside is reserved for the domain); then every
 * area without PFNs is pinned (EFAULT for memory the process no longer maps)
 * and every area is mapped into the domain. Returns an errno; on an errno
 * nothing has changed.
 */
export function ioptAddDomain(s: State, ioas: Ioas, hwpt: HwptPaging): string | undefined {
  if (ioas.domains.includes(hwpt.id)) return "EEXIST";
  const align = minPage(s, hwpt) > ioas.iovaAlignment ? minPage(s, hwpt) : ioas.iovaAlignment;
  if (align > PAGE) return "EINVAL";
  if (align !== ioas.iovaAlignment) {
    const err = checkAlignment(ioas, align);
    if (err) return err;
  }
  const { start, last } = pagingDomainOf(s, hwpt.domainId).aperture;
  const outside: ReservedRange[] = [];
  if (start !== 0n) outside.push({ start: 0n, last: start - 1n, owner: hwpt.id });
  if (last !== U64_MAX) outside.push({ start: last + 1n, last: U64_MAX, owner: hwpt.id });
  for (const r of outside) if (firstArea(ioas, r.start, r.last) || intersects(ioas.allowed, r.start, r.last)) return "EADDRINUSE";
  // iopt_fill_domain: areas pinned lazily (mapped while nothing needed their PFNs) are pinned now.
  const pins: (PhysRun[] | null)[] = [];
  for (const a of ioas.areas) {
    if (a.runs) {
      pins.push(null);
      continue;
    }
    const r = pinArea(s, a);
    if (typeof r === "string") return r;
    pins.push(r);
  }
  ioas.areas.forEach((a, i) => {
    if (pins[i]) a.runs = pins[i]!;
  });
  ioas.reserved.push(...outside);
  ioas.iovaAlignment = align;
  ioas.domains.push(hwpt.id);
  for (const a of ioas.areas) if (!a.revoked) mapAreaInto(s, hwpt, a);
  return undefined;
}

/**
 * iopt_table_remove_domain: every area out of the domain, the domain out of
 * the list (the last entry takes its index, as the kernel compacts its
 * xarray), its aperture reservations dropped, the alignment recomputed; with
 * no domain left the pins are released unless an access holds the area
 * (a dma-buf keeps the exporter's ranges).
 */
export function ioptRemoveDomain(s: State, ctx: IommufdCtx, ioas: Ioas, hwpt: HwptPaging): void {
  const i = ioas.domains.indexOf(hwpt.id);
  if (i < 0) return; // WARN_ON in the kernel
  const tail = ioas.domains.pop()!;
  if (i < ioas.domains.length) ioas.domains[i] = tail;
  for (const a of ioas.areas) if (a.runs && !a.revoked) unmapFrom(s, hwpt, a.iova, a.last);
  ioas.reserved = ioas.reserved.filter((r) => r.owner !== hwpt.id);
  ioas.iovaAlignment = wantedAlignment(s, ctx, ioas, ioas.hugePages);
  if (ioas.domains.length === 0) for (const a of ioas.areas) if (a.accesses === 0 && a.source.kind !== "dmabuf") a.runs = null;
}

/**
 * iopt_disable_large_pages (IOMMU_OPTION_HUGE_PAGES = 0): a no-op when already
 * off; EINVAL while a domain has areas mapped; EADDRINUSE when an area does
 * not fit the PAGE_SIZE alignment it brings.
 */
export function disableLargePages(s: State, ctx: IommufdCtx, ioas: Ioas): string | undefined {
  if (!ioas.hugePages) return undefined;
  if (ioas.domains.length > 0 && ioas.areas.length > 0) return "EINVAL";
  const align = wantedAlignment(s, ctx, ioas, false);
  if (align > ioas.iovaAlignment) {
    const err = checkAlignment(ioas, align);
    if (err) return err;
  }
  ioas.hugePages = false;
  ioas.iovaAlignment = align;
  return undefined;
}

/** iopt_enable_large_pages: the alignment can only drop. */
export function enableLargePages(s: State, ctx: IommufdCtx, ioas: Ioas): void {
  ioas.hugePages = true;
  ioas.iovaAlignment = wantedAlignment(s, ctx, ioas, true);
}

/** iopt_area_split: cut an area after `iova` (VFIO type1 v1 compat pokes holes this way). */
function splitArea(ioas: Ioas, a: Area, iova: bigint): string | undefined {
  if (iova === a.iova || iova === a.last) return undefined;
  if (a.source.kind === "dmabuf") return "EOPNOTSUPP";
  const at = iova + 1n;
  if (at % ioas.iovaAlignment || (pageOffset(a) + (at - a.iova)) % ioas.iovaAlignment) return "EINVAL";
  if (a.accesses > 0) return "EINVAL";
  // A domain may have used a large page over the cut.
  if (a.runs && ioas.domains.length > 0 && ioas.hugePages) return "EINVAL";
  // Fresh objects (not copies of the draft) for the two halves.
  const half = (first: bigint, last: bigint): Area => {
    const h: Area = {
      iova: first,
      last,
      prot: a.prot,
      source: advance(a.source, first - a.iova),
      runs: a.runs && sliceRuns(a.runs, first, last, first),
      accesses: 0,
      pages: a.pages, // iopt_area_split: both halves keep the area's iopt_pages
    };
    if (a.writable !== undefined) h.writable = a.writable;
    return h;
  };
  const lhs = half(a.iova, iova);
  const rhs = half(at, a.last);
  ioas.areas.splice(ioas.areas.indexOf(a), 1, lhs, rhs);
  return undefined;
}

/** iopt_cut_iova: split the areas holding each IOVA so it becomes an area's last byte; stops at the first errno. */
export function ioptCutIova(ioas: Ioas, iovas: readonly bigint[]): string | undefined {
  for (const iova of iovas) {
    const a = firstArea(ioas, iova, iova);
    if (!a) continue;
    const err = splitArea(ioas, a, iova);
    if (err) return err;
  }
  return undefined;
}

/** Let go of every area of an IOAS that is being destroyed (iommufd_ioas_destroy: iopt_unmap_all). */
export function releaseAreas(s: State, ctx: IommufdCtx, ioas: Ioas): void {
  for (const a of ioas.areas) unfillArea(s, ctx, ioas, a);
  ioas.areas = [];
}
