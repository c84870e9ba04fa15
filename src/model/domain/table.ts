// Building and tearing down a domain's page table, as generic_pt's iommu_pt.h
// does it for the kernel's formats: map_pages (with increase_top for
// PT_FEAT_DYNAMIC_TOP and clear_contig under a new large page), unmap_pages
// (__unmap_range: whole leaves, tables freed when the range covers them),
// deinit (__collect_tables), and a leaf iterator for dirty reads.

import type { PagingDomain as Domain } from "./state.ts";
import { coverageBits, ENTRY_EMPTY, ENTRY_LEAF, ENTRY_TABLE, itemLg2, type FormatInfo } from "./formats.ts";
import type { TableMem } from "./tablemem.ts";
import { hex } from "../values.ts";

/** A kernel-side failure that iommufd never provokes (it validates first): a simulator bug. */
function tableError(code: string, what: string): Error {
  return new Error(`page table: ${code}: ${what}`);
}

function indexAt(f: FormatInfo, iova: bigint, level: number): number {
  return Number((iova >> BigInt(itemLg2(f, level))) & 511n);
}

/** The level a page of 2^lg2 bytes is installed at (pt_pgsz_lg2_to_level). */
function leafLevel(f: FormatInfo, lg2: number): number {
  return Math.floor((lg2 - f.granuleLg2) / 9) + 1;
}

/**
 * iommu_pgsize: the largest page size in the bitmap that fits the remaining
 * length and to which both iova and pa are aligned; -1 when none.
 */
export function bestPageLg2(bitmap: bigint, iova: bigint, pa: bigint, len: bigint): number {
  const merged = iova | pa;
  for (const [b, size] of pageSizes(bitmap)) if (size <= len && (merged & (size - 1n)) === 0n) return b;
  return -1;
}

/**
 * The bitmap's page sizes, largest first, as [log2, size]: a map of N separate 4 KiB
 * frames asks for them N times (mapRange per run), so they are worked out once per bitmap.
 */
const PAGE_SIZES = new Map<bigint, readonly (readonly [number, bigint])[]>();
function pageSizes(bitmap: bigint): readonly (readonly [number, bigint])[] {
  let sizes = PAGE_SIZES.get(bitmap);
  if (sizes === undefined) {
    const list: [number, bigint][] = [];
    for (let b = 63; b >= 0; b--) if ((bitmap >> BigInt(b)) & 1n) list.push([b, 1n << BigInt(b)]);
    sizes = list;
    if (PAGE_SIZES.size < 64) PAGE_SIZES.set(bitmap, sizes); // a handful of drivers' bitmaps; bounded all the same
  }
  return sizes;
}

/** increase_top: add levels on top until the table covers `last` and has the leaf's level. */
function growTop(tm: TableMem, d: Domain, f: FormatInfo, last: bigint, level: number): void {
  const maxVaBits = d.aperture.last.toString(2).length;
  while (last >> BigInt(coverageBits(f, d.levels)) !== 0n || level > d.levels) {
    const up = d.levels + 1;
    if (up > f.maxLevels || itemLg2(f, up) >= maxVaBits) throw tableError("ERANGE", `no level above ${d.levels} for ${hex(last)}`);
    const top = tm.allocTable();
    tm.write64(top, f.makeTable(Number(d.root), d.levels)); // the old top is entry 0 of the new one
    d.root = BigInt(top);
    d.levels = up;
  }
}

/** Free every table below `table` (a table of `level`); with mustBeEmpty, a page below is EADDRINUSE (clear_contig). */
function freeBelow(tm: TableMem, f: FormatInfo, table: number, level: number, mustBeEmpty: boolean): void {
  if (level === 1 && !mustBeEmpty) return; // a last-level table holds no tables
  for (let i = 0; i < 512; i++) {
    const e = tm.read64(table + i * 8);
    const k = f.kind(e, level);
    if (k === ENTRY_TABLE) {
      const child = f.tableAddr(e);
      freeBelow(tm, f, child, level - 1, mustBeEmpty);
      tm.freeTable(child);
    } else if (k === ENTRY_LEAF && mustBeEmpty) throw tableError("EADDRINUSE", "a page under a new large page");
  }
}

/** Install one page of 2^lg2 bytes (the level's entry size, or contiguous entries of it). */
function installLeaf(tm: TableMem, d: Domain, f: FormatInfo, iova: bigint, pa: bigint, lg2: number, level: number, prot: number): void {
  let table = Number(d.root);
  for (let l = d.levels; l > level; l--) {
    const at = table + indexAt(f, iova, l) * 8;
    const e = tm.read64(at);
    const k = f.kind(e, l);
    if (k === ENTRY_LEAF) throw tableError("EADDRINUSE", `${hex(iova)} is inside a mapped page`);
    if (k === ENTRY_TABLE) table = f.tableAddr(e);
    else {
      const child = tm.allocTable();
      tm.write64(at, f.makeTable(child, l - 1));
      table = child;
    }
  }
  const first = indexAt(f, iova, level);
  const n = 1 << (lg2 - itemLg2(f, level));
  const leaf = f.makeLeaf(pa, lg2, level, prot);
  for (let i = 0; i < n; i++) {
    const at = table + (first + i) * 8;
    const e = tm.read64(at);
    const k = f.kind(e, level);
    if (k === ENTRY_LEAF) throw tableError("EADDRINUSE", `${hex(iova)} is already mapped`);
    if (k === ENTRY_TABLE) {
      const child = f.tableAddr(e);
      freeBelow(tm, f, child, level - 1, true);
      tm.freeTable(child);
    }
    tm.write64(at, leaf);
  }
}

/** iommu_map of one physically contiguous run: the largest page sizes alignment allows. */
export function mapRange(tm: TableMem, d: Domain, f: FormatInfo, iova: bigint, pa: bigint, length: bigint, prot: number): void {
  while (length > 0n) {
    const lg2 = bestPageLg2(d.pgsizeBitmap, iova, pa, length);
    if (lg2 < 0) throw tableError("EINVAL", `no page size for iova ${hex(iova)} pa ${hex(pa)} length ${hex(length)}`);
    const size = 1n << BigInt(lg2);
    const level = leafLevel(f, lg2);
    if (!f.holds(level, lg2)) throw tableError("ENXIO", `page size ${hex(size)} has no level`);
    if (f.dynamicTop) growTop(tm, d, f, iova + size - 1n, level);
    else if ((iova + size - 1n) >> BigInt(coverageBits(f, d.levels)) !== 0n || level > d.levels) throw tableError("ERANGE", `${hex(iova)} is beyond the table`);
    installLeaf(tm, d, f, iova, pa, lg2, level, prot);
    iova += size;
    pa += size;
    length -= size;
  }
}

function unmapLevel(tm: TableMem, f: FormatInfo, table: number, level: number, base: bigint, iova: bigint, last: bigint): void {
  const isz = BigInt(itemLg2(f, level));
  const end = Number((last - base) >> isz);
  for (let i = Number((iova - base) >> isz); i <= end; i++) {
    const at = table + i * 8;
    const e = tm.read64(at);
    const k = f.kind(e, level);
    if (k === ENTRY_EMPTY) continue;
    if (k === ENTRY_LEAF) {
      // The whole leaf goes, with every entry of a contiguous page.
      const n = 1 << (f.leafLg2(e, level) - Number(isz));
      const first = i - (i % n);
      for (let j = 0; j < n; j++) tm.write64(table + (first + j) * 8, 0n);
      i = first + n - 1;
      continue;
    }
    const start = base + (BigInt(i) << isz);
    const stop = start + (1n << isz) - 1n;
    const child = f.tableAddr(e);
    unmapLevel(tm, f, child, level - 1, start, iova > start ? iova : start, last < stop ? last : stop);
    if (iova <= start && last >= stop) {
      tm.write64(at, 0n);
      tm.freeTable(child);
    }
  }
}

/**
 * unmap_pages over [iova, last]: every leaf the range touches is removed
 * whole; a table is freed when the range covers all of it (a table left empty
 * by a partial unmap stays, as in the kernel, until the domain is freed).
 */
export function unmapRange(tm: TableMem, d: Domain, f: FormatInfo, iova: bigint, last: bigint): void {
  const top = (1n << BigInt(coverageBits(f, d.levels))) - 1n;
  if (iova > top || last < iova) return;
  unmapLevel(tm, f, Number(d.root), d.levels, 0n, iova, last < top ? last : top);
}

/** pt_iommu_deinit: free every table, the top included. */
export function freeTables(tm: TableMem, d: Domain, f: FormatInfo): void {
  freeBelow(tm, f, Number(d.root), d.levels, false);
  tm.freeTable(Number(d.root));
}

/** A leaf found by forEachLeaf: its IOVA span, and its entries (more than one for a contiguous page). */
export interface Leaf {
  start: bigint;
  lg2: number;
  /** Physical address of the first entry, and how many entries hold it. */
  entry: number;
  entries: number;
  level: number;
}

function leavesLevel(tm: TableMem, f: FormatInfo, table: number, level: number, base: bigint, iova: bigint, last: bigint, visit: (leaf: Leaf) => void): void {
  const isz = BigInt(itemLg2(f, level));
  const end = Number((last - base) >> isz);
  for (let i = Number((iova - base) >> isz); i <= end; i++) {
    const e = tm.read64(table + i * 8);
    const k = f.kind(e, level);
    if (k === ENTRY_EMPTY) continue;
    const start = base + (BigInt(i) << isz);
    if (k === ENTRY_TABLE) {
      const stop = start + (1n << isz) - 1n;
      leavesLevel(tm, f, f.tableAddr(e), level - 1, start, iova > start ? iova : start, last < stop ? last : stop, visit);
      continue;
    }
    const lg2 = f.leafLg2(e, level);
    const n = 1 << (lg2 - Number(isz));
    const first = i - (i % n);
    visit({ start: base + (BigInt(first) << isz), lg2, entry: table + first * 8, entries: n, level });
    i = first + n - 1;
  }
}

/** Every leaf that maps part of [iova, last], in IOVA order (the walk of read_and_clear_dirty). */
export function forEachLeaf(tm: TableMem, d: Domain, f: FormatInfo, iova: bigint, last: bigint, visit: (leaf: Leaf) => void): void {
  const top = (1n << BigInt(coverageBits(f, d.levels))) - 1n;
  if (iova > top || last < iova) return;
  leavesLevel(tm, f, Number(d.root), d.levels, 0n, iova, last < top ? last : top, visit);
}
