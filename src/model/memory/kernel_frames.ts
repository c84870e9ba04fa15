// The kernel's page-table frames (docs/trace-format.md, "The frame allocator"):
// what iommu_alloc_pages_node_sz / iommu_free_pages give an IOMMU page table.
// Deterministic: upward from 64 GiB, freed frames reused lowest first. A frame
// is handed out zeroed (__GFP_ZERO); a freed frame keeps its bytes until then,
// as freed memory does.

import { provenance } from "../provenance.ts";
import { CHUNK_SHIFT, type MemoryState } from "./state.ts";

const CHUNK_FRAMES = 1 << CHUNK_SHIFT;

/** Allocate one zeroed 4 KiB frame for a page table; returns its pfn. */
export function allocKernelFrame(mem: MemoryState): number {
  const pfn = mem.kernelFree.length > 0 ? mem.kernelFree.shift()! : mem.kernelNextPfn++;
  // Zeroed: a frame that is not stored reads as zeros.
  mem.frames.get(Math.floor(pfn / CHUNK_FRAMES))?.delete(pfn % CHUNK_FRAMES);
  provenance()?.wrote(pfn * 4096, 4096);
  return pfn;
}

/** Give a page-table frame back; the next allocation takes the lowest free one. */
export function freeKernelFrame(mem: MemoryState, pfn: number): void {
  const free = mem.kernelFree;
  let at = free.length;
  while (at > 0 && free[at - 1]! > pfn) at--;
  if (free[at - 1] === pfn) throw new Error(`kernel frame 0x${pfn.toString(16)} freed twice`);
  free.splice(at, 0, pfn);
}
