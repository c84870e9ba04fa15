// Guest-physical memory as the intel-iommu model reads and writes it (QEMU's
// dma_memory_read / dma_memory_write on the vIOMMU's address space): root,
// context and PASID tables, page tables, invalidation descriptors, the wait
// descriptor's status. Accesses go through the machine's RAM layout:
// gpa -> process va -> host physical memory. A gpa outside guest RAM is a DMA
// read error (QEMU's dma_memory_read failing: MEMTX_DECODE_ERROR).

import type { PhysReader } from "../../../pagewalk/index.ts";
import { TableMem } from "../../domain/tablemem.ts";
import { vaToPa } from "../../process/state.ts";
import type { MemoryState } from "../../memory/state.ts";
import type { ProcessState } from "../../process/state.ts";

/** A range of guest RAM: QEMU's memory-backend at a guest physical address, backed by the VMM process's memory. */
export interface GuestRam {
  gpa: bigint;
  size: bigint;
  /** Where the range lives in the QEMU process's memory. */
  va: bigint;
}

/** Guest-physical memory through the machine's RAM layout; reads outside RAM set `bad` and read zero. */
export class GuestMem implements PhysReader {
  readonly tm: TableMem;
  bad = false;
  constructor(
    mem: MemoryState,
    private readonly proc: ProcessState | undefined,
    private readonly ram: readonly GuestRam[],
  ) {
    this.tm = new TableMem(mem);
  }
  /** The host physical address of a gpa, or undefined outside guest RAM (or where the process has nothing mapped). */
  hostPa(gpa: bigint): bigint | undefined {
    for (const r of this.ram) if (gpa >= r.gpa && gpa < r.gpa + r.size) return this.proc ? vaToPa(this.proc, r.va + (gpa - r.gpa)) : undefined;
    return undefined;
  }
  read32(gpa: number): number {
    const pa = this.hostPa(BigInt(gpa));
    if (pa === undefined) {
      this.bad = true;
      return 0;
    }
    return this.tm.read32(Number(pa));
  }
  write32(gpa: number, v: number): void {
    const pa = this.hostPa(BigInt(gpa));
    if (pa === undefined) {
      this.bad = true;
      return;
    }
    // The vIOMMU's own writes (A/D bits, wait status): not establishing writes (src/model/provenance.ts).
    this.tm.hwWrite32(Number(pa), v);
  }
  /** A 64-bit read; undefined on a read error. */
  read64(gpa: bigint): bigint | undefined {
    const lo = this.hostPa(gpa);
    const hi = this.hostPa(gpa + 4n);
    if (lo === undefined || hi === undefined) return undefined;
    return (BigInt(this.tm.read32(Number(hi))) << 32n) | BigInt(this.tm.read32(Number(lo)));
  }
}
