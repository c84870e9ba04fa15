// Access objects (drivers/iommu/iommufd/device.c): a driver's way to read and
// write an IOAS's memory without DMA (iommufd_access_rw) or to pin its pages
// (iommufd_access_pin_pages). An access is attached to one IOAS at a time; an
// IOAS_UNMAP over pages it pinned asks it to let go (iommufd_access_notify_unmap
// calls its ops->unmap) before the area goes. The only driver with access ops in
// the model is the selftest's (selftest_access.ts); the kernel's internal
// accesses (a HW queue's pin) are viommu.ts's.

import { fileGet, filePut } from "../files/lifecycle.ts";
import type { ReduceEnv } from "../framework.ts";
import { readPhys, writePhys } from "../memory/physmem.ts";
import type { State } from "../state.ts";
import { copyFromUser, copyToUser } from "../uaccess/copy.ts";
import { U64_MAX } from "../values.ts";
import { firstArea, pageOffset } from "./io_pagetable.ts";
import { accessAlignment, checkAlignment, recalcAlignment } from "./iopt_domain.ts";
import { addObject, getObject } from "./objects.ts";
import { appendRun, PAGE, pinArea, sliceRuns } from "./pages.ts";
import { iommufdTestAccessUnmap } from "./selftest_access.ts";
import type { Access, Area, IommufdCtx, Ioas, PhysRun } from "./state.ts";

/** IOMMUFD_ACCESS_RW_WRITE and __IOMMUFD_ACCESS_RW_SLOW_PATH (the selftest's MOCK_ACCESS_RW_* are the same bits). */
export const ACCESS_RW_WRITE = 1 << 0;
export const ACCESS_RW_SLOW_PATH = 1 << 2;

/**
 * iommufd_access_create: the object (users 2: the table's and the driver's until
 * iommufd_access_destroy), its alignment from ops->needs_pin_pages, and a
 * reference on the context's file (iommufd_ctx_get).
 */
export function iommufdAccessCreate(s: State, ctx: IommufdCtx, needsPinPages: boolean): Access {
  const access = addObject(ctx, (id): Access => ({ id, type: "access", users: 2, ioasId: null, iovaAlignment: needsPinPages ? PAGE : 1n }));
  fileGet(s, ctx.fileId);
  return access;
}

/**
 * iommufd_access_change_ioas: to the same IOAS a no-op; the new IOAS takes the
 * access (iopt_add_access: a raised alignment the areas do not fit is
 * EADDRINUSE) and a user; the old one first sees the driver's unmap of
 * everything (ops->unmap(0, ULONG_MAX)), then loses the access (its alignment
 * recomputed) and the user.
 */
export function iommufdAccessChangeIoas(s: State, ctx: IommufdCtx, access: Access, next: Ioas | null): string | undefined {
  const cur = access.ioasId === null ? null : (getObject(ctx, access.ioasId, "ioas") ?? null);
  if (cur?.id === next?.id) return undefined;
  if (next) {
    const align = accessAlignment(access);
    if (align > next.iovaAlignment) {
      const err = checkAlignment(next, align);
      if (err) return err;
      next.iovaAlignment = align;
    }
    next.users++;
  }
  if (cur) {
    if (!access.internal) accessOpsUnmap(s, ctx, access, 0n, U64_MAX);
    access.ioasId = next?.id ?? null;
    recalcAlignment(s, ctx, cur);
    cur.users--;
  }
  access.ioasId = next?.id ?? null;
  return undefined;
}

/** iommufd_access_change_ioas_id: the IOAS by id in the access's context (ENOENT). */
export function iommufdAccessChangeIoasId(s: State, ctx: IommufdCtx, access: Access, ioasId: number): string | undefined {
  const ioas = getObject(ctx, ioasId, "ioas");
  if (!ioas) return "ENOENT";
  return iommufdAccessChangeIoas(s, ctx, access, ioas);
}

/** iommufd_access_replace: ENOENT when the access is not attached. */
export function iommufdAccessReplace(s: State, ctx: IommufdCtx, access: Access, ioasId: number): string | undefined {
  if (access.ioasId === null) return "ENOENT";
  return iommufdAccessChangeIoasId(s, ctx, access, ioasId);
}

/** iommufd_access_destroy_object: detached from its IOAS; a driver's access gives back its context reference (iommufd_ctx_put). */
export function iommufdAccessDestroyObject(s: State, ctx: IommufdCtx, access: Access, env: ReduceEnv): void {
  if (access.ioasId !== null) iommufdAccessChangeIoas(s, ctx, access, null);
  if (!access.internal) filePut(s, ctx.fileId, env);
}

/** access->ops->unmap: the selftest's access ops are the only driver ops the model has. */
function accessOpsUnmap(s: State, ctx: IommufdCtx, access: Access, iova: bigint, length: bigint): void {
  if (access.staccess) iommufdTestAccessUnmap(s, ctx, access, iova, length);
}

/**
 * iommufd_access_notify_unmap: every driver access attached to the IOAS (not the
 * internal ones) is told to stop using [iova, iova + length); the selftest's
 * unpins its items there.
 */
export function iommufdAccessNotifyUnmap(s: State, ctx: IommufdCtx, ioas: Ioas, iova: bigint, length: bigint): void {
  for (const o of [...ctx.objects.values()]) if (o.type === "access" && o.ioasId === ioas.id && !o.internal) accessOpsUnmap(s, ctx, o, iova, length);
}

/** The area holding `cur` when it starts there or earlier (iopt_for_each_contig_area's next step), else undefined: a hole. */
function areaAt(ioas: Ioas, cur: bigint): Area | undefined {
  const a = firstArea(ioas, cur, cur);
  return a && a.iova <= cur ? a : undefined;
}

/** iopt_area_start_byte % PAGE_SIZE: where `iova` falls in its page of the area's source. */
function startByteOffset(a: Area, iova: bigint): bigint {
  return (pageOffset(a) + (iova - a.iova)) % PAGE;
}

/** check_area_prot: a write needs IOMMU_WRITE, a read IOMMU_READ. */
function checkAreaProt(a: Area, write: boolean): boolean {
  return (a.prot & (write ? 2 : 1)) !== 0;
}

/** pages->writable (a COPY keeps its source's). */
function writable(a: Area): boolean {
  return a.writable ?? (a.prot & 2) !== 0;
}

/**
 * iommufd_access_pin_pages: [iova, iova + length) of the attached IOAS (ENOENT:
 * none), area by area without a hole (ENOENT): each area page aligned where the
 * range crosses it (EINVAL), with the prot the flags ask (EPERM), then
 * iopt_area_add_access (a write into pages that are not writable: EPERM; a
 * dma-buf: EINVAL; pinning the pages: EFAULT). Every area gains an access, so
 * IOAS_UNMAP must first ask this access to unpin. Returns the PFN runs.
 */
export function iommufdAccessPinPages(s: State, ctx: IommufdCtx, access: Access, iova: bigint, length: bigint, write: boolean): PhysRun[] | string {
  if (length === 0n) return "EINVAL";
  const last = iova + length - 1n;
  if (last > U64_MAX) return "EOVERFLOW";
  const ioas = access.ioasId === null ? undefined : getObject(ctx, access.ioasId, "ioas");
  if (!ioas) return "ENOENT";
  const areas: Area[] = [];
  const pins: (PhysRun[] | null)[] = [];
  for (let cur = iova; ; ) {
    const a = areaAt(ioas, cur);
    if (!a) return "ENOENT";
    const done = a.last >= last;
    // iopt_area_contig_is_aligned
    if (startByteOffset(a, cur) !== 0n || (!done && startByteOffset(a, a.last) !== PAGE - 1n)) return "EINVAL";
    if (!checkAreaProt(a, write)) return "EPERM";
    if (write && !writable(a)) return "EPERM";
    if (a.source.kind === "dmabuf") return "EINVAL";
    const r = a.runs ? null : pinArea(s, a);
    if (typeof r === "string") return r;
    areas.push(a);
    pins.push(r);
    if (done) break;
    cur = a.last + 1n;
  }
  const runs: PhysRun[] = [];
  areas.forEach((a, i) => {
    if (pins[i]) a.runs = pins[i]!;
    a.accesses++;
    const from = iova > a.iova ? iova : a.iova;
    for (const r of sliceRuns(a.runs!, from, last < a.last ? last : a.last, from)) appendRun(runs, r.iova, r.pa, r.length);
  });
  return runs;
}

/**
 * iommufd_access_unpin_pages: each area of the range (in access->ioas_unpin)
 * drops the access; with no domain and no access left its pins go.
 */
export function iommufdAccessUnpinPages(ctx: IommufdCtx, access: Access, iova: bigint, length: bigint): void {
  const ioas = access.ioasId === null ? undefined : getObject(ctx, access.ioasId, "ioas");
  if (!ioas || length === 0n) return; // WARN_ON in the kernel
  const last = iova + length - 1n;
  for (const a of ioas.areas) {
    if (a.last < iova || a.iova > last || a.accesses === 0) continue;
    a.accesses--;
    if (a.accesses === 0 && ioas.domains.length === 0 && a.source.kind !== "dmabuf") a.runs = null;
  }
}

/**
 * iopt_pages_rw_access for one area's slice: the caller's own mm and no slow
 * path copies through the process's mapping of the source (copy_to_user /
 * copy_from_user: EFAULT); another mm (or the slow path) pins one page there
 * (iopt_pages_rw_page) or reads the pages' PFNs (iopt_pages_rw_slow: the pinned
 * ones, else pinned now). A file's pages are read through their PFNs.
 */
function rwArea(s: State, pid: number, a: Area, from: bigint, data: Uint8Array, flags: number): string | undefined {
  const write = (flags & ACCESS_RW_WRITE) !== 0;
  if (write && !writable(a)) return "EPERM";
  if (a.source.kind === "dmabuf") return "EINVAL";
  const src = a.source;
  const changeMm = src.kind !== "user" || src.pid !== pid || (flags & ACCESS_RW_SLOW_PATH) !== 0;
  const singlePage = (startByteOffset(a, from) + BigInt(data.length) - 1n) / PAGE === 0n;
  const owner = src.kind === "user" ? s.processes.get(src.pid) : undefined;
  if (src.kind === "user" && owner && (!changeMm || singlePage)) {
    const va = src.va + (from - a.iova);
    if (write) return copyToUser(s, owner, va, data) ? undefined : "EFAULT";
    const got = copyFromUser(s, owner, va, data.length);
    if (!got) return "EFAULT";
    data.set(got);
    return undefined;
  }
  // iopt_pages_rw_slow: the pfn_reader, over the pinned PFNs or pinning now.
  const runs = a.runs ?? pinArea(s, a);
  if (typeof runs === "string") return runs;
  const end = from + BigInt(data.length);
  for (const r of sliceRuns(runs, from, end - 1n, 0n)) {
    const piece = data.subarray(Number(r.iova), Number(r.iova + r.length));
    if (write) writePhys(s.memory, r.pa, piece);
    else readPhys(s.memory, r.pa, piece);
  }
  return undefined;
}

/**
 * iommufd_access_rw: length 0 (EINVAL), overflow (EOVERFLOW), no IOAS (ENOENT);
 * area by area without a hole (ENOENT, after the areas before it were copied),
 * each with the prot the flags ask (EPERM), copied by iopt_pages_rw_access.
 * `data` is the kernel buffer: read into, or written from.
 */
export function iommufdAccessRw(s: State, ctx: IommufdCtx, access: Access, pid: number, iova: bigint, data: Uint8Array, flags: number): string | undefined {
  if (data.length === 0) return "EINVAL";
  const last = iova + BigInt(data.length) - 1n;
  if (last > U64_MAX) return "EOVERFLOW";
  const ioas = access.ioasId === null ? undefined : getObject(ctx, access.ioasId, "ioas");
  if (!ioas) return "ENOENT";
  for (let cur = iova; ; ) {
    const a = areaAt(ioas, cur);
    if (!a) return "ENOENT";
    const stop = last < a.last ? last : a.last;
    if (!checkAreaProt(a, (flags & ACCESS_RW_WRITE) !== 0)) return "EPERM";
    const err = rwArea(s, pid, a, cur, data.subarray(Number(cur - iova), Number(stop - iova) + 1), flags);
    if (err) return err;
    if (stop === last) return undefined;
    cur = a.last + 1n;
  }
}

/**
 * The caller's memory iommufd_access_rw would touch for [iova, iova + length):
 * the source user ranges of the areas there (IOVA -> area -> process and
 * address), for a live server to read before the call and write back after.
 */
export function accessRwUserRanges(
  ctx: IommufdCtx,
  access: Access,
  iova: bigint,
  length: bigint,
): { pid: number; va: bigint; len: bigint; iova: bigint; runs: readonly PhysRun[] | null }[] {
  const ioas = access.ioasId === null ? undefined : getObject(ctx, access.ioasId, "ioas");
  if (!ioas || length === 0n || iova + length - 1n > U64_MAX) return [];
  const last = iova + length - 1n;
  const out: { pid: number; va: bigint; len: bigint; iova: bigint; runs: readonly PhysRun[] | null }[] = [];
  for (let cur = iova; ; ) {
    const a = areaAt(ioas, cur);
    if (!a) return out;
    const stop = last < a.last ? last : a.last;
    if (a.source.kind === "user") out.push({ pid: a.source.pid, va: a.source.va + (cur - a.iova), len: stop - cur + 1n, iova: cur, runs: a.runs });
    if (stop === last) return out;
    cur = a.last + 1n;
  }
}

/**
 * area->num_locks: the pins of internal accesses (iommufd_access_pin_pages with
 * lock_area, a HW queue's), which IOAS_UNMAP cannot ask to go (EBUSY).
 */
export function areaLocks(ctx: IommufdCtx, ioas: Ioas, a: Area): number {
  let n = 0;
  for (const o of ctx.objects.values()) {
    if (o.type !== "hw_queue") continue;
    const acc = ctx.objects.get(o.accessId);
    if (acc?.type === "access" && acc.ioasId === ioas.id && o.pinned.start <= a.last && a.iova <= o.pinned.last) n++;
  }
  return n;
}
