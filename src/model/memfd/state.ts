// memfds (mm/memfd.c, mm/shmem.c): a shmem file made by memfd_create, with its
// own pages. A file's pages are runs of frames from the allocator of mem.map
// (every other frame, as anonymous memory), added when the file grows
// (ftruncate, fallocate) and dropped past its new end when it shrinks
// (shmem_truncate_range). A MAP_SHARED mapping of the file maps these frames.

/** A run of the file's pages: page index `pgoff` on, `pages` pages at frames pfn, pfn + 2, ... */
export interface MemfdExtent {
  pgoff: number;
  pfn: number;
  pages: number;
}

export interface Memfd {
  fileId: number;
  /** The name given to memfd_create ("memfd:" + name in /proc). */
  name: string;
  /** i_size. */
  size: bigint;
  /** Sorted by pgoff, never overlapping, covering [0, ceil(size / PAGE)). */
  extents: MemfdExtent[];
}
