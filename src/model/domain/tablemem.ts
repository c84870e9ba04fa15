// Page-table memory for one operation (a map, an unmap, a DMA): reads and
// writes of 64-bit entries in simulated physical memory, and page-table frames
// from the kernel allocator.
//
// Copy-on-write as writePhys does it, but once per frame per operation: the
// first write to a frame stores a copy, later writes in the same operation
// change that copy in place. The copy belongs to no earlier state, so this is
// safe, and mapping a large area costs one copy per table, not one per entry.
// It also serves as the walkers' PhysReader (the last frame read is cached).

import type { PhysReader } from "../../pagewalk/index.ts";
import { allocKernelFrame, freeKernelFrame } from "../memory/kernel_frames.ts";
import { copyFrame } from "../memory/physmem.ts";
import { provenance } from "../provenance.ts";
import { CHUNK_SHIFT, PAGE_SIZE, type MemoryState } from "../memory/state.ts";

const CHUNK_FRAMES = 1 << CHUNK_SHIFT;
const LO32 = 0xffffffffn;

export class TableMem implements PhysReader {
  /** Frames this operation copied: safe to change in place. */
  private readonly owned = new Map<number, Uint8Array>();
  private cachedPfn = -1;
  private cachedFrame: Uint8Array | undefined = undefined;

  constructor(readonly mem: MemoryState) {}

  private frame(pfn: number): Uint8Array | undefined {
    if (pfn !== this.cachedPfn) {
      const mine = this.owned.size > 0 ? this.owned.get(pfn) : undefined;
      // Integer keys (pfn < 2^40): pfn / 512 fits an int32, and & keeps the low bits of any integer.
      this.cachedFrame = mine ?? this.mem.frames.get((pfn / CHUNK_FRAMES) | 0)?.get(pfn & (CHUNK_FRAMES - 1));
      this.cachedPfn = pfn;
    }
    return this.cachedFrame;
  }

  read32(pa: number): number {
    const f = this.frame(Math.floor(pa / PAGE_SIZE));
    if (!f) return 0;
    const o = pa & (PAGE_SIZE - 1);
    return (f[o]! | (f[o + 1]! << 8) | (f[o + 2]! << 16) | (f[o + 3]! << 24)) >>> 0;
  }

  read64(pa: number): bigint {
    return (BigInt(this.read32(pa + 4)) << 32n) | BigInt(this.read32(pa));
  }

  private writable(pfn: number): Uint8Array {
    let f = this.owned.get(pfn);
    if (!f) {
      f = copyFrame(this.mem, pfn);
      this.owned.set(pfn, f);
      if (pfn === this.cachedPfn) this.cachedFrame = f;
    }
    return f;
  }

  /** A write by the kernel or the guest: recorded as the bytes' last writer when provenance is on. */
  write32(pa: number, v: number): void {
    const rec = provenance();
    if (rec !== null) rec.wrote(pa, 4);
    this.hwWrite32(pa, v);
  }

  /** A write by the IOMMU itself (A/D bits, a wait descriptor's status): not an establishing write, not recorded. */
  hwWrite32(pa: number, v: number): void {
    const f = this.writable(Math.floor(pa / PAGE_SIZE));
    const o = pa % PAGE_SIZE;
    f[o] = v & 0xff;
    f[o + 1] = (v >>> 8) & 0xff;
    f[o + 2] = (v >>> 16) & 0xff;
    f[o + 3] = (v >>> 24) & 0xff;
  }

  write64(pa: number, v: bigint): void {
    this.write32(pa, Number(v & LO32));
    this.write32(pa + 4, Number((v >> 32n) & LO32));
  }

  /** Set bits of an entry's low word, writing only when something changes (the IOMMU's A/D updates). */
  setLoBits(pa: number, bits: number): void {
    const lo = this.read32(pa);
    if ((lo & bits) !== bits) this.hwWrite32(pa, lo | bits);
  }

  /** Clear bits of an entry's low word, writing only when something changes. */
  clearLoBits(pa: number, bits: number): void {
    const lo = this.read32(pa);
    if ((lo & bits) !== 0) this.hwWrite32(pa, lo & ~bits);
  }

  /** A zeroed page-table frame from the kernel allocator; returns its physical address. */
  allocTable(): number {
    const pfn = allocKernelFrame(this.mem);
    this.owned.delete(pfn);
    if (pfn === this.cachedPfn) this.cachedPfn = -1;
    return pfn * PAGE_SIZE;
  }

  freeTable(pa: number): void {
    freeKernelFrame(this.mem, pa / PAGE_SIZE);
  }
}
