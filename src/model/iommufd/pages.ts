// Where an area's PFNs come from (drivers/iommu/iommufd/pages.c): user memory
// pinned through the process's mm (pin_user_pages), dma-buf ranges the
// exporter hands over at map time, or a file that is not shmem (memfd pinning
// refuses it). The PFNs are recorded as PhysRuns when pinned, so a later change
// of the process's mappings does not move them, as real pins do not move.

import type { PhysRun } from "../domain/state.ts";
import { regionAt, vaToPa } from "../process/state.ts";
import { PAGE_SIZE } from "../memory/state.ts";
import type { State } from "../state.ts";
import { memfdPinFolios } from "../memfd/memfd.ts";
import type { Area, AreaSource } from "./state.ts";

export const PAGE = BigInt(PAGE_SIZE);

/** Append [iova, iova+length) -> pa, merging with the previous run when physically contiguous. */
export function appendRun(runs: PhysRun[], iova: bigint, pa: bigint, length: bigint): void {
  const prev = runs[runs.length - 1];
  if (prev && prev.iova + prev.length === iova && prev.pa + prev.length === pa) prev.length += length;
  else runs.push({ iova, pa, length });
}

/**
 * pin_user_pages of [va, va + length) in the process's mm, as runs starting at
 * `iova`. A page that is not mapped, or a process that is gone (its mm can no
 * longer be pinned, selftest fork_gone), is EFAULT.
 */
export function pinUser(s: State, pid: number, va: bigint, iova: bigint, length: bigint): PhysRun[] | "EFAULT" {
  const p = s.processes.get(pid);
  if (!p) return "EFAULT";
  const runs: PhysRun[] = [];
  const end = va + length;
  for (let cur = va; cur < end; ) {
    const r = regionAt(p, cur);
    if (!r) return "EFAULT";
    // A contiguous region is one run to its end; the scattered layout is one run per page.
    const stop = r.stride === 1 ? r.va + r.length : cur - (cur % PAGE) + PAGE;
    const n = (stop < end ? stop : end) - cur;
    appendRun(runs, iova + (cur - va), vaToPa(p, cur)!, n);
    cur += n;
  }
  return runs;
}

/** The dma-buf's ranges for [start, start + length) as runs from `iova`; EINVAL past the end. */
export function dmabufRuns(ranges: readonly { pa: bigint; length: bigint }[], start: bigint, iova: bigint, length: bigint): PhysRun[] | "EINVAL" {
  const runs: PhysRun[] = [];
  let base = 0n;
  let need = length;
  let at = start;
  for (const r of ranges) {
    if (need === 0n) break;
    if (at < base + r.length) {
      const n = base + r.length - at < need ? base + r.length - at : need;
      appendRun(runs, iova + (length - need), r.pa + (at - base), n);
      at += n;
      need -= n;
    }
    base += r.length;
  }
  return need === 0n ? runs : "EINVAL";
}

/**
 * The PFNs of an area that has none yet (iopt_area_fill_domain's pfn_reader):
 * user memory is pinned now; a file through memfd_pin_folios (a memfd's pages, or EINVAL);
 * a dma-buf area always has its runs from map time.
 */
export function pinArea(s: State, area: Area): PhysRun[] | string {
  const src = area.source;
  if (src.kind === "user") return pinUser(s, src.pid, src.va, area.iova, area.last - area.iova + 1n);
  if (src.kind === "file") return memfdPinFolios(s, src.fileId, src.start, area.iova, area.last - area.iova + 1n); // pin_memfd_pages
  return area.runs ?? [];
}

/** The runs of [first, last] of `runs`, moved so that `first` lands at `to`. */
export function sliceRuns(runs: readonly PhysRun[], first: bigint, last: bigint, to: bigint): PhysRun[] {
  const out: PhysRun[] = [];
  for (const r of runs) {
    const s0 = r.iova > first ? r.iova : first;
    const e0 = r.iova + r.length - 1n < last ? r.iova + r.length - 1n : last;
    if (s0 > e0) continue;
    appendRun(out, to + (s0 - first), r.pa + (s0 - r.iova), e0 - s0 + 1n);
  }
  return out;
}

/** The address in the source at the area's first byte (uptr, or the file offset): its page offset is area->page_offset. */
export function sourceAddr(src: AreaSource): bigint {
  return src.kind === "user" ? src.va : src.start;
}

/** The same source moved `delta` bytes on. */
export function advance(src: AreaSource, delta: bigint): AreaSource {
  return src.kind === "user" ? { ...src, va: src.va + delta } : { ...src, start: src.start + delta };
}

/** The PA an area maps at iova, or undefined (an area without PFNs, a revoked buffer). */
export function areaPhys(area: Area, iova: bigint): bigint | undefined {
  if (!area.runs || area.revoked) return undefined;
  for (const r of area.runs) if (iova >= r.iova && iova < r.iova + r.length) return r.pa + (iova - r.iova);
  return undefined;
}
