// A process: one VMM or userspace driver, one mm, one fd table.

export interface VmRegion {
  va: bigint;
  length: bigint;
  /** Physical address of the region's first page. */
  pa: bigint;
  /** Pages between consecutive 4 KiB pages of the region: 1 = contiguous, 2 = the allocator's scattered layout. */
  stride: number;
  /** Page size the mapping was made with (4 KiB, 2 MiB or 1 GiB): what GUP and huge-page IOVA alignment see. */
  pageSize: number;
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
}

/** RLIMIT_NOFILE's default soft limit: fds 0..1023. */
export const NOFILE_LIMIT = 1024;
