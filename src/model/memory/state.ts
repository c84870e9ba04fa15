// Simulated host physical memory: 4 KiB frames, copy-on-write per frame.
//
// Frames are grouped in chunks of 512 (one 2 MiB range) so that a write copies
// one small chunk table under immer, not a table of every frame. A frame that
// was never written reads as zeros and takes no space.
//
// The allocator (used by `mem.map` without `pa`) is part of the trace format's
// meaning, so it is documented in docs/trace-format.md: frames are handed out
// upward from 4 GiB; a 4 KiB mapping takes every other frame (so neighbouring
// pages are never physically contiguous); a huge mapping starts at the next
// boundary of its page size and is contiguous.
//
// Kernel page-table frames (IOMMU domains' tables) come from a second
// allocator (kernel_frames.ts): upward from 64 GiB, freed frames reused
// lowest first, each handed out zeroed as iommu_alloc_pages does.

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const CHUNK_SHIFT = 9; // 512 frames per chunk
export const ALLOC_BASE_PFN = 0x100000; // 4 GiB
export const KERNEL_BASE_PFN = 0x1000000; // 64 GiB

export interface MemoryState {
  /** chunk number (pfn >> 9) -> frame index in chunk -> bytes. */
  frames: Map<number, Map<number, Uint8Array>>;
  /** Next free frame of the allocator. */
  nextPfn: number;
  /** Next never-used kernel page-table frame. */
  kernelNextPfn: number;
  /** Freed kernel page-table frames, ascending: reused lowest first. */
  kernelFree: number[];
}

export function initialMemory(): MemoryState {
  return { frames: new Map(), nextPfn: ALLOC_BASE_PFN, kernelNextPfn: KERNEL_BASE_PFN, kernelFree: [] };
}
