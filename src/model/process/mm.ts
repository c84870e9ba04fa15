// A process's memory map (its mm): mem.map and mem.write, and which physical
// page backs a virtual address, as the process's page tables would say.
// mem.map behaves like mmap(MAP_FIXED_NOREPLACE | MAP_POPULATE) at `va`: page
// aligned, never over an existing mapping (EEXIST), huge mappings aligned to
// their page size (EINVAL otherwise, as hugetlbfs mmap answers).

import type { Reducer } from "../framework.ts";
import { readPhys, writePhys } from "../memory/physmem.ts";
import { PAGE_SHIFT, PAGE_SIZE } from "../memory/state.ts";
import { errno, ok, type Outcome } from "../outcome.ts";
import { provenance } from "../provenance.ts";
import type { State } from "../state.ts";
import { memfdOfFd, memfdRegions } from "../memfd/memfd.ts";
import { type ProcessState, vaToPa, type VmRegion } from "./state.ts";

const HUGE_SIZES: Record<string, number> = { "2M": 2 << 20, "1G": 1 << 30 };

export const memMap: Reducer = (s: State, ev): Outcome => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const va = ev.va as bigint;
  const length = ev.length as bigint;
  const huge = ev.huge === true ? "2M" : ev.huge === false || ev.huge === undefined ? undefined : (ev.huge as string);
  const pageSize = huge ? HUGE_SIZES[huge]! : PAGE_SIZE;
  const ps = BigInt(pageSize);
  if (length === 0n || va % ps !== 0n || length % ps !== 0n) return errno("EINVAL");
  if (va + length > 1n << 57n) return errno("ENOMEM"); // beyond the largest (5-level) user address space
  const pa = ev.pa as bigint | undefined;
  if (pa !== undefined && pa % ps !== 0n) return errno("EINVAL");
  for (const r of p.mm) if (va < r.va + r.length && r.va < va + length) return errno("EEXIST");

  if (ev.fd !== undefined) return mapMemfd(s, p, va, length, ev.fd as number, (ev.offset as bigint | undefined) ?? 0n);
  const region: VmRegion = pa !== undefined ? { va, length, pa, stride: 1, pageSize } : allocRegion(s, va, length, pageSize);
  if (ev.shared === true) region.shared = true;
  const at = p.mm.findIndex((r) => r.va > va);
  if (at < 0) p.mm.push(region);
  else p.mm.splice(at, 0, region);
  provenance()?.mark(`mm:${p.pid}:${va}`);
  return ok();
};

/**
 * mmap(MAP_SHARED) of a memfd at `offset` (shmem_mmap): EBADF for an fd that is
 * not open, ENODEV for a file the model cannot map (not a memfd), EINVAL for an
 * offset not page aligned. The file's pages are mapped (the same frames as
 * every other mapping of the file and its pins); pages past its end stay
 * unmapped, as touching them faults (SIGBUS) and pinning them is EFAULT.
 */
function mapMemfd(s: State, p: ProcessState, va: bigint, length: bigint, fd: number, offset: bigint): Outcome {
  if (p.fds.get(fd) === undefined) return errno("EBADF");
  const m = memfdOfFd(s, p.pid, fd);
  if (!m) return errno("ENODEV");
  if (offset % BigInt(PAGE_SIZE) !== 0n) return errno("EINVAL");
  const pgoff = Number(offset >> BigInt(PAGE_SHIFT));
  for (const r of memfdRegions(m, pgoff, Number(length >> BigInt(PAGE_SHIFT)))) {
    const at = va + (BigInt(r.pgoff - pgoff) << BigInt(PAGE_SHIFT));
    // MAP_SHARED: a forked child maps the same file pages (dupMmap).
    const region: VmRegion = {
      va: at,
      length: BigInt(r.pages) << BigInt(PAGE_SHIFT),
      pa: BigInt(r.pfn) << BigInt(PAGE_SHIFT),
      stride: 2,
      pageSize: PAGE_SIZE,
      shared: true,
    };
    const i = p.mm.findIndex((x) => x.va > at);
    if (i < 0) p.mm.push(region);
    else p.mm.splice(i, 0, region);
  }
  provenance()?.mark(`mm:${p.pid}:${va}`);
  return ok();
}

/** Frames for a new mapping from the allocator (docs/trace-format.md): huge pages aligned and contiguous, 4 KiB pages every other frame. */
function allocRegion(s: State, va: bigint, length: bigint, pageSize: number): VmRegion {
  const pages = Number(length >> BigInt(PAGE_SHIFT));
  if (pageSize !== PAGE_SIZE) {
    const align = pageSize >> PAGE_SHIFT;
    const base = Math.ceil(s.memory.nextPfn / align) * align;
    s.memory.nextPfn = base + pages;
    return { va, length, pa: BigInt(base) << BigInt(PAGE_SHIFT), stride: 1, pageSize };
  }
  const base = s.memory.nextPfn;
  s.memory.nextPfn = base + 2 * pages;
  return { va, length, pa: BigInt(base) << BigInt(PAGE_SHIFT), stride: 2, pageSize };
}

/**
 * dup_mmap for fork: the child's mm has the parent's mappings. A MAP_SHARED
 * mapping is the same frames; private memory is copy-on-write in the kernel,
 * which the model resolves at fork: the child gets new frames (the allocator's)
 * holding the parent's bytes, the parent keeps its own, as copy_present_page
 * does for a page pinned for DMA (and as any page ends after either side writes).
 */
export function dupMmap(s: State, parent: ProcessState): VmRegion[] {
  return parent.mm.map((r) => {
    if (r.shared) return { ...r };
    const c = allocRegion(s, r.va, r.length, r.pageSize);
    const buf = new Uint8Array(PAGE_SIZE);
    for (let off = 0n; off < r.length; off += BigInt(PAGE_SIZE)) {
      readPhys(s.memory, vaToPa(parent, r.va + off)!, buf);
      if (buf.some((b) => b !== 0)) writePhys(s.memory, vaToPa({ ...parent, mm: [c] }, r.va + off)!, buf);
    }
    return c;
  });
}

/** Write process memory page by page through its mapping; EFAULT where nothing is mapped (nothing written then). */
export const memWrite: Reducer = (s: State, ev): Outcome => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const data = ev.bytes as Uint8Array;
  const va = ev.va as bigint;
  // Validate the whole range first so a fault leaves memory untouched.
  for (let done = 0; done < data.length; ) {
    const cur = va + BigInt(done);
    if (vaToPa(p, cur) === undefined) return errno("EFAULT");
    done += PAGE_SIZE - Number(cur & BigInt(PAGE_SIZE - 1));
  }
  for (let done = 0; done < data.length; ) {
    const cur = va + BigInt(done);
    const n = Math.min(PAGE_SIZE - Number(cur & BigInt(PAGE_SIZE - 1)), data.length - done);
    writePhys(s.memory, vaToPa(p, cur)!, data.subarray(done, done + n));
    done += n;
  }
  return ok();
};
