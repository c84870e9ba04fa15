// A tiny physical memory for hand-built page tables: 32-bit words by address.

import type { PageTable, PhysReader } from "../../src/pagewalk/index.ts";
import { newWalkResult, R_ENTRY, R_LEVEL, R_PA, R_PAGE_LG2, R_PERM, R_STEPS, type Walker } from "../../src/pagewalk/index.ts";

export class WordMem implements PhysReader {
  readonly words = new Map<number, number>();
  read32(pa: number): number {
    return this.words.get(pa) ?? 0;
  }
  /** PhysMemory: the A/D updates of walkX86FsSetAD. */
  write32(pa: number, value: number): void {
    this.words.set(pa, value >>> 0);
  }
  /** Write a 64-bit entry at a table's index. */
  set(table: number, index: number, entry: bigint): void {
    const pa = table + index * 8;
    this.words.set(pa, Number(entry & 0xffffffffn));
    this.words.set(pa + 4, Number(entry >> 32n));
  }
}

export interface Walked {
  fault: number;
  pa: bigint;
  pageSize: bigint;
  perm: number;
  level: number;
  entries: number[];
}

/** Run a walker on a 64-bit IOVA and read the result slots back. */
export function walkOf(walker: Walker, mem: PhysReader, pt: PageTable, iova: bigint, access: number): Walked {
  const out = newWalkResult();
  const fault = walker(mem, pt, Number(iova >> 32n), Number(iova & 0xffffffffn), access, out);
  const entries: number[] = [];
  for (let i = 0; i < out[R_STEPS]!; i++) entries.push(out[R_ENTRY + i]!);
  return {
    fault,
    pa: fault ? 0n : BigInt(out[R_PA]!),
    pageSize: fault ? 0n : 1n << BigInt(out[R_PAGE_LG2]!),
    perm: fault ? 0 : out[R_PERM]!,
    level: out[R_LEVEL]!,
    entries,
  };
}

/** The 9-bit index of `iova` at a level (level 1 = last-level table). */
export function idx(iova: bigint, level: number, granuleLg2 = 12): number {
  return Number((iova >> BigInt(granuleLg2 + 9 * (level - 1))) & 511n);
}

/**
 * Tables at root, root + 0x1000, ... down to `leafLevel`, whose entry for `iova`
 * is `leaf`; every table entry on the way carries `tableBits` (the format's
 * present/permission bits for a non-leaf entry).
 */
export function chain(mem: WordMem, pt: PageTable, iova: bigint, leafLevel: number, leaf: bigint, tableBits: bigint): void {
  let t = pt.root;
  for (let level = pt.levels; level > leafLevel; level--) {
    const next = t + 0x1000;
    mem.set(t, idx(iova, level), BigInt(next) | tableBits);
    t = next;
  }
  mem.set(t, idx(iova, leafLevel), leaf);
}
