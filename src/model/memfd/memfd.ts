// memfd_create, ftruncate/fallocate of a memfd, a shared mapping of it, and
// memfd_pin_folios (mm/memfd.c, mm/shmem.c, mm/gup.c).

import type { PhysRun } from "../domain/state.ts";
import type { FileOps, Reducer } from "../framework.ts";
import { installFile, unusedFd } from "../files/fd.ts";
import { PAGE_SIZE } from "../memory/state.ts";
import { errno, ret0, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { Memfd, MemfdExtent } from "./state.ts";

const PAGE = BigInt(PAGE_SIZE);
/** MFD_NAME_MAX_LEN: NAME_MAX less the "memfd:" prefix. */
const MFD_NAME_MAX_LEN = 255 - 6;
/** MAX_LFS_FILESIZE on 64-bit: shmem_setattr refuses more (inode_newsize_ok: EFBIG). */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

/** The memfd behind a process's fd, or undefined. */
export function memfdOfFd(s: State, pid: number, fd: number): Memfd | undefined {
  const id = s.processes.get(pid)?.fds.get(fd);
  return id === undefined ? undefined : s.memfds.get(id);
}

/**
 * shmem_file_operations: nothing on release the model tracks. The inode (its
 * pages) lives on while a mapping or an IOAS area holds the file (an area of
 * IOMMU_IOAS_MAP_FILE keeps pages->file), so the memfd stays in s.memfds.
 */
export const MEMFD_FOPS: Omit<FileOps, "ioctl"> = {};

/** memfd_create(name, flags): a name longer than MFD_NAME_MAX_LEN is EINVAL; an empty file at the lowest free fd. */
export const memfdCreate: Reducer = (s: State, ev): Outcome => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const name = (ev.name as string | undefined) ?? "";
  if (Buffer.byteLength(name) > MFD_NAME_MAX_LEN) return errno("EINVAL");
  const fd = unusedFd(p);
  if (fd === "EMFILE") return errno("EMFILE");
  const file = installFile(s, p, fd, { path: `/memfd:${name}`, kind: "memfd" });
  s.memfds.set(file.id, { fileId: file.id, name, size: 0n, extents: [] });
  return { fd };
};

/**
 * shmem_setattr's size change (ftruncate; fallocate without KEEP_SIZE grows it
 * the same way): EBADF for an fd that is not open, EINVAL for a file that is
 * not a memfd, EFBIG past MAX_LFS_FILESIZE. Growing adds frames for the new
 * pages; shrinking drops the pages past the new end (shmem_truncate_range).
 */
export const memfdSize: Reducer = (s: State, ev): Outcome => {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  if (s.processes.get(pid)!.fds.get(ev.fd as number) === undefined) return errno("EBADF");
  const m = memfdOfFd(s, pid, ev.fd as number);
  if (!m) return errno("EINVAL");
  const size = ev.size as bigint;
  if (size > MAX_LFS_FILESIZE) return errno("EFBIG");
  const pages = Number((size + PAGE - 1n) / PAGE);
  const have = m.extents.reduce((n, e) => n + e.pages, 0);
  if (pages < have) {
    const kept: MemfdExtent[] = [];
    for (const e of m.extents) if (e.pgoff < pages) kept.push({ ...e, pages: Math.min(e.pages, pages - e.pgoff) });
    m.extents = kept;
  } else if (pages > have) {
    // The allocator's 4 KiB layout (src/model/memory/state.ts): every other frame.
    m.extents.push({ pgoff: have, pfn: s.memory.nextPfn, pages: pages - have });
    s.memory.nextPfn += 2 * (pages - have);
  }
  m.size = size;
  return ret0();
};

/** The frame of page `pgoff` of the file, or undefined past its end. */
export function memfdPfn(m: Memfd, pgoff: number): number | undefined {
  for (const e of m.extents) if (pgoff >= e.pgoff && pgoff < e.pgoff + e.pages) return e.pfn + 2 * (pgoff - e.pgoff);
  return undefined;
}

/** The file's pages of [pgoff, pgoff + pages) as runs of frames (a stride-2 region each), stopping at the end of the file. */
export function memfdRegions(m: Memfd, pgoff: number, pages: number): { pgoff: number; pfn: number; pages: number }[] {
  const out: { pgoff: number; pfn: number; pages: number }[] = [];
  for (const e of m.extents) {
    const lo = Math.max(e.pgoff, pgoff);
    const hi = Math.min(e.pgoff + e.pages, pgoff + pages);
    if (lo < hi) out.push({ pgoff: lo, pfn: e.pfn + 2 * (lo - e.pgoff), pages: hi - lo });
  }
  return out;
}

/**
 * memfd_pin_folios(file, start, end) as pfn_reader_user_pin asks it for an
 * area's pages: a file that is not shmem (not a memfd) is EINVAL, and so is
 * an `end` at or past i_size; the pages are the file's. `start` is the file
 * offset of the area's first byte (its page offset included); runs from `iova`.
 */
export function memfdPinFolios(s: State, fileId: number, start: bigint, iova: bigint, length: bigint): PhysRun[] | "EINVAL" {
  const m = s.memfds.get(fileId);
  if (!m) return "EINVAL";
  const first = start - (start % PAGE);
  const end = ((start + length + PAGE - 1n) / PAGE) * PAGE - 1n;
  if (end >= m.size) return "EINVAL";
  const runs: PhysRun[] = [];
  for (let off = first; off <= end; off += PAGE) {
    const pfn = memfdPfn(m, Number(off / PAGE));
    if (pfn === undefined) return "EINVAL";
    const lo = off > start ? off : start;
    const hi = off + PAGE < start + length ? off + PAGE : start + length;
    const pa = BigInt(pfn) * PAGE + (lo - off);
    const at = iova + (lo - start);
    const prev = runs[runs.length - 1];
    if (prev && prev.iova + prev.length === at && prev.pa + prev.length === pa) prev.length += hi - lo;
    else runs.push({ iova: at, pa, length: hi - lo });
  }
  return runs;
}
