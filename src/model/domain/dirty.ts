// IOMMU dirty tracking on a domain's page table (IOMMU_HWPT_SET_DIRTY_TRACKING,
// IOMMU_HWPT_GET_DIRTY_BITMAP): the D bits the IOMMU writes on DMA and that
// read_and_clear_dirty (generic_pt iommu_pt.h) reads and clears.

import { R_ENTRY, R_STEPS } from "../../pagewalk/index.ts";
import type { PagingDomain as Domain } from "./state.ts";
import type { State } from "../state.ts";
import { FORMATS, itemLg2 } from "./formats.ts";
import { forEachLeaf, type Leaf } from "./table.ts";
import { TableMem } from "./tablemem.ts";

/**
 * read_and_clear_dirty over [iova, iova + length): one entry per pageSize
 * unit. A leaf counts as dirty when any entry of it has the D bit
 * (amdv1pt_entry_is_write_dirty); what it marks is record_dirty's length (iommu_pt.h):
 * a single entry marks its whole item, a contiguous page marks from the entry the walk
 * reached (the range's start or the page's first entry) up to its last entry, that one
 * excluded (end_index = log2_set_mod_max, clamped to the walk's end_index), so a 4 KiB
 * page of the 2 KiB-granule mock marks only its first 2 KiB. With clear, every entry of
 * the leaf loses its D bit (pt_entry_make_write_clean); without, IOMMU_DIRTY_NO_CLEAR.
 */
export function domainReadDirty(s: State, domain: Domain, iova: bigint, length: bigint, pageSize: bigint, clear: boolean): boolean[] {
  const bits: boolean[] = new Array<boolean>(Number((length + pageSize - 1n) / pageSize)).fill(false);
  if (length === 0n) return bits;
  const f = FORMATS[domain.format];
  const tm = new TableMem(s.memory);
  const last = iova + length - 1n;
  forEachLeaf(tm, domain, f, iova, last, (leaf) => {
    let dirty = false;
    for (let i = 0; i < leaf.entries && !dirty; i++) dirty = (tm.read32(leaf.entry + i * 8) & f.dirtyLo) !== 0;
    if (!dirty) return;
    const [from, len] = recordDirtySpan(leaf, itemLg2(f, leaf.level), iova, last);
    const to = from + len - 1n < last ? from + len - 1n : last;
    if (len > 0n) for (let u = Number((from - iova) / pageSize); u <= Number((to - iova) / pageSize); u++) bits[u] = true;
    if (clear) cleanLeaf(tm, leaf, f.dirtyLo);
  });
  return bits;
}

/**
 * record_dirty (generic_pt iommu_pt.h): the IOVA (pts->range->va: the walk's start or the
 * entry's start) and the length iova_bitmap_set gets for a dirty leaf met in [iova, last].
 */
export function recordDirtySpan(leaf: Leaf, isz: number, iova: bigint, last: bigint): [bigint, bigint] {
  const from = leaf.start > iova ? leaf.start : iova;
  if (leaf.entries === 1) return [from, 1n << BigInt(isz)];
  const index = (from - leaf.start) >> BigInt(isz);
  const walkEnd = ((last - leaf.start) >> BigInt(isz)) + 1n; // pts->end_index, relative to the page
  const runLast = BigInt(leaf.entries - 1);
  const end = runLast < walkEnd ? runLast : walkEnd;
  return [from, (end - index) << BigInt(isz)];
}

function cleanLeaf(tm: TableMem, leaf: Leaf, dirtyLo: number): void {
  for (let i = 0; i < leaf.entries; i++) tm.clearLoBits(leaf.entry + i * 8, dirtyLo);
}

/**
 * iopt_set_dirty_tracking + the driver's set_dirty_tracking: enabling first
 * clears every D bit for a clean snapshot (iopt_clear_dirty_data), then the
 * IOMMU starts writing A/D (VT-d PASID entry SSADE, AMD DTE HAD, the mock's
 * MOCK_DIRTY_TRACK flag).
 */
export function domainSetDirtyTracking(s: State, domain: Domain, enable: boolean): void {
  if (enable) {
    const f = FORMATS[domain.format];
    const tm = new TableMem(s.memory);
    forEachLeaf(tm, domain, f, 0n, (1n << 64n) - 1n, (leaf) => cleanLeaf(tm, leaf, f.dirtyLo));
  }
  domain.dirtyTracking = enable;
}

/**
 * What the IOMMU writes back after a successful walk while dirty tracking is
 * on: the accessed bit in every entry it read (VT-d second stage, AMDv1; the
 * mock has none), and the dirty bit of the leaf for a write.
 */
export function markAccess(tm: TableMem, domain: Domain, out: Float64Array, write: boolean): void {
  if (!domain.dirtyTracking) return;
  const f = FORMATS[domain.format];
  const steps = out[R_STEPS]!;
  if (f.accessedLo !== 0) for (let i = 0; i < steps; i++) tm.setLoBits(out[R_ENTRY + i]!, f.accessedLo);
  if (write) tm.setLoBits(out[R_ENTRY + steps - 1]!, f.dirtyLo);
}

/**
 * The generic_pt set_dirty op the selftest's mock domain has (IOMMU_TEST_OP_DIRTY,
 * __set_dirty): the one entry that holds iova gets its D bit (amdv1pt_entry_make_write_dirty
 * writes pts->index only, not the other entries of a contiguous page); nothing mapped
 * there is a no-op (the caller ignores the error).
 */
export function domainSetDirty(s: State, domain: Domain, iova: bigint): void {
  const f = FORMATS[domain.format];
  const tm = new TableMem(s.memory);
  forEachLeaf(tm, domain, f, iova, iova, (leaf) => {
    const index = Number((iova - leaf.start) >> BigInt(itemLg2(f, leaf.level)));
    tm.setLoBits(leaf.entry + index * 8, f.dirtyLo);
  });
}
