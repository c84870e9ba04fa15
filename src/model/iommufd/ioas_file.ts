// IOAS commands whose pages do not come straight from user memory
// (drivers/iommu/iommufd/ioas.c, io_pagetable.c): IOMMU_IOAS_MAP_FILE,
// IOMMU_IOAS_COPY, IOMMU_IOAS_CHANGE_PROCESS, and the revoke of a dma-buf.

import { dmabufOfFile, vfioPciDmaBufIommufdMap } from "../dmabuf/dmabuf.ts";
import { errno, ret0 } from "../outcome.ts";
import type { State } from "../state.ts";
import { U64_MAX } from "../values.ts";
import {
  IOMMU_IOAS_MAP_FIXED_IOVA as MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE as MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE as MAP_WRITEABLE,
} from "../../uapi/iommufd.ts";
import { protOf } from "./ioas.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { areaLength, firstArea, mapPages, unmapFrom, type PagesElm } from "./io_pagetable.ts";
import { advance, dmabufRuns, PAGE, sliceRuns } from "./pages.ts";
import { ctxOf, getObject } from "./objects.ts";
import type { Ioas } from "./state.ts";

const ALL_FLAGS = MAP_FIXED_IOVA | MAP_WRITEABLE | MAP_READABLE;

/** MAX_NPFNS: a pfn_batch counts pages in a u32, so a dma-buf slice must stay below it. */
const MAX_NPFNS = 0xffffffffn;

/**
 * The pages of IOMMU_IOAS_MAP_FILE (iopt_map_file_pages): a zero length is
 * EINVAL and start + length - 1 overflowing EOVERFLOW; a dma-buf must hold the
 * whole slice (EINVAL) and its exporter must hand its ranges over (ENODEV once
 * revoked); an fd that is not open is EBADF; any other file gives lazy pages
 * that only fail when a domain pins them (memfd_pin_folios: EINVAL).
 */
function filePages(s: State, pid: number, fd: number, start: bigint, length: bigint, writable: boolean): PagesElm | string {
  if (length === 0n) return "EINVAL";
  if (start + length - 1n > U64_MAX) return "EOVERFLOW";
  const id = s.processes.get(pid)?.fds.get(fd);
  const file = id === undefined ? undefined : s.files.get(id);
  if (!file) return "EBADF";
  const buf = dmabufOfFile(s, file.id);
  if (buf) {
    if (buf.size <= start + length - 1n || length / PAGE >= MAX_NPFNS) return "EINVAL";
    const phys = vfioPciDmaBufIommufdMap(buf);
    if (typeof phys === "string") return phys;
    const runs = dmabufRuns(phys, start, 0n, length);
    if (typeof runs === "string") return runs;
    return { source: { kind: "dmabuf", fileId: file.id, start }, length, writable, runs };
  }
  if (length > U64_MAX - PAGE) return "EINVAL"; // iopt_alloc_pages
  return { source: { kind: "file", fileId: file.id, start }, length, writable, runs: null };
}

/** iommufd_ioas_map_file: flags (EOPNOTSUPP), 64-bit overflow (EOVERFLOW), no READABLE/WRITEABLE (EINVAL), the IOAS (ENOENT), then the file. */
export function iommufdIoasMapFile(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const flags = cmd.flags as number;
  if (flags & ~ALL_FLAGS) return errno("EOPNOTSUPP");
  if ((cmd.iova as bigint) >= U64_MAX || (cmd.length as bigint) >= U64_MAX) return errno("EOVERFLOW");
  if (!(flags & (MAP_WRITEABLE | MAP_READABLE))) return errno("EINVAL");
  const ctx = ctxOf(s, call);
  const ioas = getObject(ctx, cmd.ioas_id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  const length = cmd.length as bigint;
  const elm = filePages(s, call.process.pid, cmd.fd as number, cmd.start as bigint, length, (flags & MAP_WRITEABLE) !== 0);
  if (typeof elm === "string") return errno(elm);
  const r = mapPages(s, ctx, ioas, [elm], length, flags & MAP_FIXED_IOVA ? (cmd.iova as bigint) : undefined, protOf(flags));
  if (typeof r === "string") return errno(r);
  cmd.iova = r.iova;
  return respond(call, cmd);
}

/**
 * iopt_get_pages: the source range must be covered by areas that follow each
 * other without a gap (ENOENT otherwise); one element per area touched, with
 * the source's pages (the same iopt_pages, kref'd) and their PFNs when pinned.
 */
function getPages(ioas: Ioas, iova: bigint, length: bigint): PagesElm[] | string {
  if (length === 0n) return "EINVAL";
  const last = iova + length - 1n;
  if (last > U64_MAX) return "EOVERFLOW";
  const elms: PagesElm[] = [];
  for (let cur = iova; ; ) {
    const a = firstArea(ioas, cur, cur);
    if (!a || a.iova > cur) return "ENOENT";
    const end = a.last < last ? a.last : last;
    const e: PagesElm = {
      source: advance(a.source, cur - a.iova),
      length: end - cur + 1n,
      writable: a.writable ?? (a.prot & 2) !== 0,
      runs: a.runs && !a.revoked ? sliceRuns(a.runs, cur, end, 0n) : null,
      pages: a.pages,
    };
    if (a.revoked) e.revoked = true;
    elms.push(e);
    if (end === last) return elms;
    cur = end + 1n;
  }
}

/**
 * iommufd_ioas_copy: flags (EOPNOTSUPP), 64-bit overflow (EOVERFLOW), no
 * READABLE/WRITEABLE (EINVAL), the source IOAS (ENOENT), its pages
 * (iopt_get_pages), the destination IOAS (ENOENT), then iopt_map_pages there.
 */
export function iommufdIoasCopy(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const flags = cmd.flags as number;
  if (flags & ~ALL_FLAGS) return errno("EOPNOTSUPP");
  const length = cmd.length as bigint;
  if (length >= U64_MAX || (cmd.src_iova as bigint) >= U64_MAX || (cmd.dst_iova as bigint) >= U64_MAX) return errno("EOVERFLOW");
  if (!(flags & (MAP_WRITEABLE | MAP_READABLE))) return errno("EINVAL");
  const ctx = ctxOf(s, call);
  const src = getObject(ctx, cmd.src_ioas_id as number, "ioas");
  if (!src) return errno("ENOENT");
  const elms = getPages(src, cmd.src_iova as bigint, length);
  if (typeof elms === "string") return errno(elms);
  const dst = getObject(ctx, cmd.dst_ioas_id as number, "ioas");
  if (!dst) return errno("ENOENT");
  const r = mapPages(s, ctx, dst, elms, length, flags & MAP_FIXED_IOVA ? (cmd.dst_iova as bigint) : undefined, protOf(flags));
  if (typeof r === "string") return errno(r);
  cmd.dst_iova = r.iova;
  return respond(call, cmd);
}

/**
 * iommufd_ioas_change_process: only file-backed areas can move to the
 * caller's accounting; any area of user memory or a dma-buf in any IOAS of the
 * context is EINVAL. Pinned-page accounting is not modelled, so success
 * changes nothing else.
 */
export function iommufdIoasChangeProcess(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  if (cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  for (const obj of ctxOf(s, call).objects.values()) if (obj.type === "ioas" && obj.areas.some((a) => a.source.kind !== "file")) return errno("EINVAL");
  return ret0();
}

/**
 * iopt_revoke_notify, for the exporter's model: every area over the dma-buf
 * `fileId` leaves every domain of its IOAS and stays revoked (no domain will
 * map it again; GET_PA answers EINVAL).
 */
export function ioptRevokeFile(s: State, fileId: number): void {
  for (const ctx of s.iommufd.values())
    for (const obj of ctx.objects.values()) {
      if (obj.type !== "ioas") continue;
      for (const a of obj.areas) {
        if (a.source.kind !== "dmabuf" || a.source.fileId !== fileId || a.revoked) continue;
        for (const id of obj.domains) {
          const h = ctx.objects.get(id);
          if (h?.type === "hwpt_paging") unmapFrom(s, h, a.iova, a.iova + areaLength(a) - 1n);
        }
        a.revoked = true;
      }
    }
}
