// A process: one VMM or userspace driver, one mm, one fd table; and which
// physical page backs a virtual address, as the process's page tables say.

import type { FileMapping } from "../framework.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "../memory/state.ts";

export interface VmRegion {
  va: bigint;
  length: bigint;
  /** Physical address of the region's first page. */
  pa: bigint;
  /** Pages between consecutive 4 KiB pages of the region: 1 = contiguous, 2 = the allocator's scattered layout. */
  stride: number;
  /** Page size the mapping was made with (4 KiB, 2 MiB or 1 GiB): what GUP and huge-page IOVA alignment see. */
  pageSize: number;
  /** MAP_SHARED: a forked child maps the same frames (dup_mmap shares them); private memory is copied. */
  shared?: boolean;
}

export interface ProcessState {
  pid: number;
  caps: string[];
  /** fd -> open file id. */
  fds: Map<number, number>;
  /** No fd below this is free (the kernel's files->next_fd), so alloc_fd starts its search here. */
  nextFd: number;
  /** Mapped regions, sorted by va, never overlapping. */
  mm: VmRegion[];
  /** vmas mapping a model file (mmap of the iommufd fd), each holding the file (absent: none ever). */
  fileMaps?: FileMapping[];
}

/** The region holding `va`, by binary search over the sorted map. */
export function regionAt(p: ProcessState, va: bigint): VmRegion | undefined {
  let lo = 0;
  let hi = p.mm.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = p.mm[mid]!;
    if (va < r.va) hi = mid - 1;
    else if (va >= r.va + r.length) lo = mid + 1;
    else return r;
  }
  return undefined;
}

/** The physical address behind a process virtual address, or undefined when unmapped. */
export function vaToPa(p: ProcessState, va: bigint): bigint | undefined {
  const r = regionAt(p, va);
  if (!r) return undefined;
  const off = va - r.va;
  const page = off >> BigInt(PAGE_SHIFT);
  return r.pa + page * BigInt(r.stride * PAGE_SIZE) + (off & BigInt(PAGE_SIZE - 1));
}
