// read, write, poll, mmap and munmap of a model fd: the VFS side of each
// (fs/read_write.c vfs_read/vfs_write, fs/select.c vfs_poll, mm/mmap.c
// do_mmap/mmap_region, mm/vma.c do_vmi_munmap), then the file kind's own
// ->read/->write/->poll/->mmap (src/model/fops.ts).

import { notModelled, SimulatorFault, type FileMapping, type Reducer, type ReduceEnv } from "../framework.ts";
import { errno } from "../outcome.ts";
import type { State } from "../state.ts";
import type { ProcessState, VmRegion } from "../process/state.ts";
import { fileGet, filePut } from "./lifecycle.ts";

const PAGE = 4096n;
/** MAX_RW_COUNT: INT_MAX & PAGE_MASK, the most one read or write moves. */
const MAX_RW_COUNT = 0x7ffff000n;
/** DEFAULT_POLLMASK: a file without ->poll is always readable and writable. */
const DEFAULT_POLLMASK = 0x1 | 0x4 | 0x40 | 0x100;
const MAP_TYPE = 0x0f;
const MAP_SHARED = 0x01;
const MAP_PRIVATE = 0x02;
const MAP_SHARED_VALIDATE = 0x03;

function fileOf(s: State, pid: number, fd: number) {
  const p = s.processes.get(pid);
  const id = p?.fds.get(fd);
  const file = id === undefined ? undefined : s.files.get(id);
  return p && file ? { p, file } : undefined;
}

/**
 * vfs_read / vfs_write: EBADF without the fd, EINVAL without the file's ->read or
 * ->write (FMODE_CAN_READ / FMODE_CAN_WRITE); count clamped to MAX_RW_COUNT.
 */
function vfsRw(which: "read" | "write"): Reducer {
  return (s, ev, env) => {
    const f = fileOf(s, ev.pid as number, ev.fd as number);
    if (!f) return s.processes.has(ev.pid as number) ? errno("EBADF") : errno("ESRCH");
    const op = env.fops[f.file.kind][which];
    if (!op) return errno("EINVAL");
    const count = ev.count as bigint;
    return op(s, f.p, f.file, ev.va as bigint, count > MAX_RW_COUNT ? MAX_RW_COUNT : count, ev);
  };
}

export const read: Reducer = vfsRw("read");
export const write: Reducer = vfsRw("write");

/** vfs_poll: the file's ->poll mask as `ret`, DEFAULT_POLLMASK without one (do_pollfd filters it by the events asked). */
export const poll: Reducer = (s, ev, env) => {
  const f = fileOf(s, ev.pid as number, ev.fd as number);
  if (!f) return s.processes.has(ev.pid as number) ? errno("EBADF") : errno("ESRCH");
  const op = env.fops[f.file.kind].poll;
  return op ? op(s, f.file, ev) : { ret: DEFAULT_POLLMASK };
};

/**
 * mmap(2) of a model fd at `va` (the address the kernel chose, or MAP_FIXED's): an offset
 * not page aligned or a zero length (EINVAL), a mapping type other than shared or private
 * (EINVAL), a file without ->mmap (ENODEV), then ->mmap; the vma holds the file (get_file)
 * until munmap or exit. `ret` is the address.
 */
export const mmap: Reducer = (s, ev, env) => {
  const f = fileOf(s, ev.pid as number, ev.fd as number);
  const offset = (ev.offset as bigint | undefined) ?? 0n;
  const flags = (ev.flags as number | undefined) ?? MAP_SHARED;
  const length = ev.length as bigint;
  if (offset % PAGE || length === 0n) return errno("EINVAL");
  if (!f) return s.processes.has(ev.pid as number) ? errno("EBADF") : errno("ESRCH");
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return errno("EINVAL");
  const op = env.fops[f.file.kind].mmap;
  if (!op) return errno("ENODEV");
  const va = ev.va as bigint;
  const vma: FileMapping = { va, length: (length + PAGE - 1n) & ~(PAGE - 1n), offset, prot: (ev.prot as number | undefined) ?? 0x3, flags, fileId: f.file.id };
  const out = op(s, f.p, f.file, vma, ev);
  if (out instanceof SimulatorFault || out.errno) return out;
  fileGet(s, f.file.id);
  if (!f.p.fileMaps) f.p.fileMaps = [];
  f.p.fileMaps.push(vma);
  return { ret: Number(va) };
};

/** remove_vma: iommufd_fops_vma_close (the owner loses the vma's user), then the file's reference. */
function closeVma(s: State, p: ProcessState, vma: FileMapping, env: ReduceEnv): void {
  const file = s.files.get(vma.fileId);
  const ctx = file && s.iommufd.get(file.id);
  const owner = ctx && vma.ownerId !== undefined ? ctx.objects.get(vma.ownerId) : undefined;
  if (owner) owner.users--;
  p.fileMaps = p.fileMaps?.filter((m) => m !== vma);
  filePut(s, vma.fileId, env);
}

/**
 * munmap(2): EINVAL for an address not page aligned or a zero length; every file vma
 * inside the range is closed (a vma the range cuts, a split, is not modelled), and the
 * process's memory in the range is gone (do_vmi_munmap: a region the range cuts keeps
 * its other parts). Pages pinned from it stay pinned: the pin holds the frame.
 */
export const munmap: Reducer = (s, ev, env) => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const va = ev.va as bigint;
  const end = va + (((ev.length as bigint) + PAGE - 1n) & ~(PAGE - 1n));
  if (va % PAGE || end === va) return errno("EINVAL");
  const hit = (p.fileMaps ?? []).filter((m) => m.va < end && va < m.va + m.length);
  for (const m of hit) if (m.va < va || m.va + m.length > end) return notModelled(ev, "munmap of part of a file mapping (a vma split)");
  for (const m of hit) closeVma(s, p, m, env);
  unmapRange(p, va, end);
  return { ret: 0 };
};

/** [va, end) leaves the process's memory map; a region it cuts keeps the parts outside (their frames unchanged). */
function unmapRange(p: ProcessState, va: bigint, end: bigint): void {
  if (!p.mm.some((r) => r.va < end && va < r.va + r.length)) return;
  const out: VmRegion[] = [];
  for (const r of p.mm) {
    const rEnd = r.va + r.length;
    if (rEnd <= va || end <= r.va) {
      out.push(r);
      continue;
    }
    // Whole pages of the region's size: a huge region is cut at its page boundaries (the caller's munmap is aligned so).
    const frameAt = (at: bigint) => r.pa + ((at - r.va) / PAGE) * BigInt(r.stride) * PAGE;
    if (r.va < va) out.push({ ...r, length: va - r.va });
    if (end < rEnd) out.push({ ...r, va: end, length: rEnd - end, pa: r.stride === 1 ? r.pa + (end - r.va) : frameAt(end) });
  }
  p.mm = out;
}

/** exit_mmap: the process's file vmas go before its fds (do_exit: exit_mm, then exit_files). */
export function exitFileMaps(s: State, p: ProcessState, env: ReduceEnv): void {
  for (const m of [...(p.fileMaps ?? [])]) closeVma(s, p, m, env);
}
