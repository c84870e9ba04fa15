// The VFIO type1 IOMMU driver (drivers/vfio/vfio_iommu_type1.c): a
// container's private map of DMA ranges (struct vfio_dma), pinned through the
// mapping process's mm once an IOMMU-backed group is attached, the IOVA ranges
// the attached groups allow, and VFIO_IOMMU_GET_INFO / MAP_DMA / UNMAP_DMA.
//
// Every IOMMU group of one host IOMMU gets compatible domains, which type1
// merges into one (same iommu_ops, same cache coherency): the model keeps one
// domain per container, shared by every IOMMU-backed group, with its page
// tables in simulated memory; its groups' devices are attached to it
// (src/model/domain/attach.ts), so their DMA walks it.

import { VFIO_DMA_CC_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1_NESTING_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_UPDATE_VADDR } from "../../uapi/vfio.ts";
import { iommuAttach, iommuDetach } from "../domain/attach.ts";
import { domainAllocPaging, domainFree, domainMapRuns, domainUnmap, pagingDomainOf } from "../domain/domain.ts";
import { NO_PASID, type IovaRange, type PhysRun } from "../domain/state.ts";
import type { TraceEvent } from "../events.ts";
import { notModelled, type ReduceEnv, type SimulatorFault } from "../framework.ts";
import { paramOf } from "../host/params.ts";
import { hostDriver, isErr, MOCK_DRIVER, refusal } from "../iommu/index.ts";
import { pinUser } from "../iommufd/pages.ts";
import { holes } from "../domain/spans.ts";
import { errno, type Outcome, type OutValue } from "../outcome.ts";
import { provenance } from "../provenance.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copiedOut, userBytes, userStruct } from "../uaccess/vfio_arg.ts";
import { U64_MAX } from "../values.ts";
import { groupDevices } from "./core.ts";
import type { Type1, VfioContainer, VfioDma } from "./state.ts";

const PAGE_SIZE = 4096n;
const PAGE_MASK = U64_MAX & ~(PAGE_SIZE - 1n);
/** DIRTY_BITMAP_SIZE_MAX: DIRTY_BITMAP_BYTES(INT_MAX pages). */
const DIRTY_BITMAP_SIZE_MAX = 0x10000000n;

const MAP_READ = 1;
const MAP_WRITE = 2;
const MAP_VADDR = 4;
const UNMAP_GET_DIRTY_BITMAP = 1;
const UNMAP_ALL = 2;
const UNMAP_VADDR = 4;

/** __ffs: the lowest set bit's index. */
function ffs(x: bigint): bigint {
  let n = 0n;
  while (x && !(x & 1n)) {
    x >>= 1n;
    n++;
  }
  return n;
}

/** vfio_iommu_type1_open: TYPE1, TYPE1v2 (and the nesting type, v2, while it exists); else EINVAL. */
export function type1Open(arg: number, s: State): Type1 | string {
  let v2: boolean;
  if (arg === VFIO_TYPE1_IOMMU) v2 = false;
  else if (arg === VFIO_TYPE1v2_IOMMU || arg === VFIO_TYPE1_NESTING_IOMMU) v2 = true;
  else return "EINVAL";
  return {
    v2,
    nesting: arg === VFIO_TYPE1_NESTING_IOMMU,
    dmaList: [],
    dmaAvail: paramOf(s.params, "vfio_iommu_type1.dma_entry_limit") as number,
    pgsizeBitmap: PAGE_MASK,
    domainGroups: [],
    emulatedGroups: [],
    iovaList: [],
    vaddrInvalidCount: 0,
    domainId: null,
    vmmPid: null,
  };
}

/**
 * vfio_iommu_type1_check_extension (iommu NULL while no driver is set):
 * TYPE1, TYPE1v2, UNMAP_ALL, UPDATE_VADDR; the nesting type until
 * 35890f85573c stopped advertising it; DMA_CC when every domain enforces
 * cache coherency (VT-d: ECAP.SC; AMD: always).
 */
export function type1CheckExtension(s: State, t: Type1 | null, arg: number, env: ReduceEnv, ev: TraceEvent): Outcome | SimulatorFault {
  switch (arg) {
    case VFIO_TYPE1_IOMMU:
    case VFIO_TYPE1v2_IOMMU:
    case VFIO_UNMAP_ALL:
    case VFIO_UPDATE_VADDR:
      return { ret: 1 };
    case VFIO_TYPE1_NESTING_IOMMU:
      return { ret: env.profile.on("vfio-type1-nesting-removed") ? 0 : 1 };
    case VFIO_DMA_CC_IOMMU: {
      if (!t) return { ret: 0 };
      if (!t.domainGroups.length) return { ret: 1 };
      // domain->enforce_cache_coherency, as the host driver enforced it
      const coherent = hostDriver(s).enforceCacheCoherency(s.host.iommu);
      return typeof coherent === "boolean" ? { ret: coherent ? 1 : 0 } : refusal(ev, coherent);
    }
    default:
      return { ret: 0 };
  }
}

/** vfio_find_dma: a mapping overlapping [start, start + size). */
function findDma(t: Type1, start: bigint, size: bigint): VfioDma | undefined {
  return t.dmaList.find((d) => start < d.iova + d.size && d.iova < start + size);
}

/** The IOVA list: the aperture minus every reserved region of the domain's groups (vfio_iommu_aper_resize + resv_exclude). */
function iovaListFor(aperture: IovaRange, resv: readonly IovaRange[]): IovaRange[] {
  return holes(resv, aperture.start, aperture.last);
}

/** vfio_pin_map_dma / vfio_iommu_replay: pin a mapping's pages through its process's mm (EFAULT). */
function pinDma(s: State, d: VfioDma): PhysRun[] | "EFAULT" {
  return pinUser(s, d.pid, d.vaddr, d.iova, d.size);
}

/**
 * vfio_iommu_type1_attach_group: vaddrs being updated (EINVAL), the group
 * attached already (EINVAL); an mdev group only joins the emulated list. An
 * IOMMU group: existing mappings outside the domain's aperture or over its
 * reserved regions (EINVAL); the first domain pins and maps every mapping made
 * so far (EFAULT when one's memory is gone); the domain's page sizes become
 * the container's and the IOVA list narrows.
 */
export function type1AttachGroup(s: State, t: Type1, group: number, ev: TraceEvent): string | SimulatorFault | undefined {
  if (t.vaddrInvalidCount) return "EINVAL";
  if (t.domainGroups.includes(group) || t.emulatedGroups.includes(group)) return "EINVAL";
  const devs = groupDevices(s, group);
  if (devs.length && devs.every((d) => d.mdev)) {
    t.emulatedGroups = [...t.emulatedGroups, group];
    return undefined;
  }
  // iommu_paging_domain_alloc by the host driver, and iommu_get_group_resv_regions (RMRRs/IVMDs are not in the host model)
  const driver = hostDriver(s);
  const params = driver.pagingParams(s.host.iommu);
  const resv = driver.resvRegions;
  if (isErr(params) || !resv || driver === MOCK_DRIVER) return notModelled(ev, `a VFIO type1 domain on a ${s.host.iommu?.type ?? "none"} host`);
  // iommu_enable_nesting: only ARM SMMU drivers had enable_nesting (and their domains are not modelled).
  if (t.nesting) return "EINVAL";
  const ap = params.aperture;
  // vfio_iommu_aper_conflict
  if (t.iovaList.length) {
    const first = t.iovaList[0]!.start;
    const last = t.iovaList[t.iovaList.length - 1]!.last;
    if (ap.start > last || ap.last < first) return "EINVAL";
    if (ap.start > first && findDma(t, first, ap.start - first)) return "EINVAL";
    if (ap.last < last && findDma(t, ap.last + 1n, last - ap.last)) return "EINVAL";
  }
  // vfio_iommu_resv_conflict
  for (const r of resv) if (findDma(t, r.start, r.last - r.start + 1n)) return "EINVAL";
  const list = iovaListFor(ap, resv);
  if (!list.length) return "EINVAL";
  if (!t.domainGroups.length) {
    // vfio_iommu_replay: the new (first) domain gets every mapping, pinned now.
    const pinned: PhysRun[][] = [];
    for (const d of t.dmaList) {
      const runs = d.runs ?? pinDma(s, d);
      if (runs === "EFAULT") return "EFAULT";
      pinned.push(runs);
    }
    for (const [i, d] of t.dmaList.entries()) d.runs = pinned[i]!;
    t.domainId = domainAllocPaging(s, params).id;
    for (const d of t.dmaList) mapDma(s, t, d);
    // vfio_update_pgsize_bitmap
    let bm = params.pgsizeBitmap;
    if (bm & (PAGE_SIZE - 1n)) bm = (bm & PAGE_MASK) | PAGE_SIZE;
    t.pgsizeBitmap = bm;
  }
  t.iovaList = list;
  t.domainGroups = [...t.domainGroups, group];
  // iommu_attach_group: the group's devices translate through the container's domain (the RID only: type1 has no PASIDs).
  for (const d of devs) iommuAttach(s, d.bdf, NO_PASID, pagingDomainOf(s, t.domainId!));
  return undefined;
}

/** iommu_map of one pinned mapping into the container's domain, with its READ/WRITE (the same bits as IOMMU_READ/WRITE). */
function mapDma(s: State, t: Type1, d: VfioDma): void {
  if (t.domainId === null || !d.runs) return;
  domainMapRuns(s, pagingDomainOf(s, t.domainId), d.runs, d.prot);
}

/** iommu_unmap of one mapping (vfio_unmap_unpin). */
function unmapDma(s: State, t: Type1, d: VfioDma): void {
  if (t.domainId !== null) domainUnmap(s, pagingDomainOf(s, t.domainId), d.iova, d.iova + d.size - 1n);
}

/** The last IOMMU group left: the domain and its page tables go. */
function freeDomain(s: State, t: Type1): void {
  if (t.domainId !== null) domainFree(s, pagingDomainOf(s, t.domainId));
  t.domainId = null;
}

/** vfio_iommu_unmap_unpin_all: every mapping goes. */
function unmapUnpinAll(s: State, t: Type1): void {
  for (const d of t.dmaList) unmapDma(s, t, d);
  t.dmaAvail += t.dmaList.length;
  t.dmaList = [];
  t.vaddrInvalidCount = 0;
}

/**
 * vfio_iommu_type1_detach_group: an mdev group leaves the emulated list (the
 * last one, with no domain left, takes every mapping with it); the last IOMMU
 * group frees the domain: every mapping goes too unless mdev groups remain
 * (then they stay, unpinned), and the IOVA list opens to the whole space.
 */
export function type1DetachGroup(s: State, t: Type1, group: number): void {
  if (t.emulatedGroups.includes(group)) {
    t.emulatedGroups = t.emulatedGroups.filter((g) => g !== group);
    if (!t.emulatedGroups.length && !t.domainGroups.length) unmapUnpinAll(s, t);
    return;
  }
  if (!t.domainGroups.includes(group)) return;
  t.domainGroups = t.domainGroups.filter((g) => g !== group);
  // iommu_detach_group: the group's devices are blocked again.
  for (const d of groupDevices(s, group)) iommuDetach(s, d.bdf, NO_PASID);
  if (!t.domainGroups.length) {
    if (!t.emulatedGroups.length) unmapUnpinAll(s, t);
    else for (const d of t.dmaList) d.runs = null; // vfio_iommu_unmap_unpin_reaccount
    freeDomain(s, t);
    t.pgsizeBitmap = PAGE_MASK;
    t.iovaList = [{ start: 0n, last: U64_MAX }];
  }
}

/** vfio_iommu_type1_release: every mapping is unmapped and unpinned. */
export function type1Release(s: State, t: Type1): void {
  unmapUnpinAll(s, t);
  freeDomain(s, t);
}

/** The type1 data of the container a call was made on, or an answer: vfio-noiommu knows no command (ENOTTY). */
export function type1Of(s: State, call: IoctlCall): Type1 | Outcome {
  const c: VfioContainer | undefined = s.vfio.containers.get(call.file.id);
  if (c?.driver !== "type1") return errno("ENOTTY");
  return c.type1!;
}

const isType1 = (t: Type1 | Outcome): t is Type1 => "dmaList" in t;

/**
 * vfio_iommu_type1_get_info: copy 16 bytes (EFAULT), argsz < 16 (EINVAL);
 * flags PGSIZES|CAPS, the page sizes, and the capability chain: migration
 * (32 bytes), DMA_AVAIL (12), IOVA ranges (16 + 16 per range, when any) —
 * copied after the struct when argsz has room, else argsz asks for it.
 */
export function vfioIommuType1GetInfo(s: State, call: IoctlCall) {
  const t = type1Of(s, call);
  if (!isType1(t)) return t;
  const info = userStruct(call);
  if (!info) return errno("EFAULT");
  const argsz = info.argsz as number;
  if (argsz < 16) return errno("EINVAL");
  const caps: Record<string, OutValue>[] = [
    { id: 2, version: 1, flags: 0, pgsize_bitmap: 1n << ffs(t.pgsizeBitmap), max_dirty_bitmap_size: DIRTY_BITMAP_SIZE_MAX },
    { id: 3, version: 1, avail: t.dmaAvail },
  ];
  const sizes = [32, 12];
  if (t.iovaList.length) {
    caps.push({ id: 1, version: 1, nr_iovas: t.iovaList.length, iova_ranges: t.iovaList.map((r) => ({ start: r.start, end: r.last })) });
    sizes.push(16 + 16 * t.iovaList.length);
  }
  const total = 24 + sizes.reduce((a, b) => a + b, 0);
  const out: Record<string, OutValue> = { argsz, flags: 3, iova_pgsizes: t.pgsizeBitmap, cap_offset: 0, pad: 0 };
  const n = Math.min(argsz, 24);
  if (argsz < total) {
    out.argsz = total;
    return copiedOut(call, out, n);
  }
  // vfio_info_cap_shift: each header's next is the offset of the following cap from the struct's start.
  let off = 24;
  caps.forEach((c, i) => {
    off += sizes[i]!;
    c.next = i + 1 < caps.length ? off : 0;
  });
  out.cap_offset = 24;
  return copiedOut(call, out, n, { caps });
}

/** IOMMU_READ/IOMMU_WRITE of a mapping: the map flags are the device's view (READ: it reads memory). */
function protOf(flags: number): number {
  return (flags & MAP_READ ? 1 : 0) | (flags & MAP_WRITE ? 2 : 0);
}

/**
 * vfio_iommu_type1_map_dma + vfio_dma_do_map: copy 32 bytes (EFAULT),
 * argsz < 32 or an unknown flag (EINVAL); R/W with VADDR, or neither
 * (EINVAL); size 0 or iova/vaddr/size off the smallest page size, or a wrap
 * (EINVAL); VADDR: the invalidated mapping of exactly this range gets its new
 * vaddr (ENOENT when none, EINVAL otherwise); an overlap (EEXIST); no
 * dma_entry_limit left (ENOSPC); outside the IOVA list (EINVAL); then pinned
 * through the caller's mm when a domain exists (EFAULT, nothing mapped).
 */
export function vfioIommuType1MapDma(s: State, call: IoctlCall) {
  const t = type1Of(s, call);
  if (!isType1(t)) return t;
  const m = userStruct(call);
  if (!m) return errno("EFAULT");
  const flags = m.flags as number;
  if ((m.argsz as number) < 32 || flags & ~(MAP_READ | MAP_WRITE | MAP_VADDR)) return errno("EINVAL");
  const prot = protOf(flags);
  const setVaddr = (flags & MAP_VADDR) !== 0;
  if ((prot && setVaddr) || (!prot && !setVaddr)) return errno("EINVAL");
  const iova = m.iova as bigint;
  const vaddr = m.vaddr as bigint;
  const size = m.size as bigint;
  const pgsize = 1n << ffs(t.pgsizeBitmap);
  if (!size || (size | iova | vaddr) & (pgsize - 1n)) return errno("EINVAL");
  if (iova + size - 1n > U64_MAX || vaddr + size - 1n > U64_MAX) return errno("EINVAL");
  const dma = findDma(t, iova, size);
  if (setVaddr) {
    if (!dma) return errno("ENOENT");
    if (!dma.vaddrInvalid || dma.iova !== iova || dma.size !== size) return errno("EINVAL");
    dma.vaddr = vaddr;
    dma.vaddrInvalid = false;
    t.vaddrInvalidCount--;
    return { ret: 0 };
  }
  if (dma) return errno("EEXIST");
  if (!t.dmaAvail) return errno("ENOSPC");
  // vfio_iommu_iova_dma_valid
  const last = iova + size - 1n;
  if (t.iovaList.length && !t.iovaList.some((r) => r.start <= iova && last <= r.last)) return errno("EINVAL");
  const d: VfioDma = { iova, size, vaddr, prot, pid: call.process.pid, runs: null, vaddrInvalid: false };
  if (t.domainGroups.length) {
    const runs = pinDma(s, d);
    if (runs === "EFAULT") return errno("EFAULT");
    d.runs = runs;
  }
  mapDma(s, t, d);
  provenance()?.mark(`type1:${d.pid}:${d.iova}:${d.vaddr}`);
  t.dmaAvail--;
  const at = t.dmaList.findIndex((x) => x.iova > iova);
  if (at < 0) t.dmaList.push(d);
  else t.dmaList.splice(at, 0, d);
  return { ret: 0 };
}

/**
 * vfio_iommu_type1_unmap_dma + vfio_dma_do_unmap: copy 24 bytes (EFAULT),
 * argsz < 24 or an unknown flag (EINVAL); GET_DIRTY_BITMAP needs dirty
 * tracking, never started here (EINVAL after its own checks); VADDR with an
 * mdev group (EBUSY); iova off the smallest page size; UNMAP_ALL with an iova
 * or size (EINVAL); size 0, unaligned or wrapping (EINVAL); v2 refuses to
 * bisect a mapping (EINVAL); v1 stops, successfully, at a mapping that starts
 * before iova. The bytes unmapped go back in `size`.
 */
export function vfioIommuType1UnmapDma(s: State, call: IoctlCall) {
  const t = type1Of(s, call);
  if (!isType1(t)) return t;
  const bytes = userBytes(call);
  if (!bytes) return errno("EFAULT");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const argsz = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  let iova = v.getBigUint64(8, true);
  let size = v.getBigUint64(16, true);
  if (argsz < 24 || flags & ~(UNMAP_GET_DIRTY_BITMAP | UNMAP_ALL | UNMAP_VADDR)) return errno("EINVAL");
  if (flags & UNMAP_GET_DIRTY_BITMAP) {
    // The bitmap checks (argsz, access_ok, verify_bitmap_size) and vfio_dma_do_unmap's alignment
    // checks all answer EINVAL, and so does the dirty-tracking check they lead to.
    return errno("EINVAL");
  }
  const unmapAll = (flags & UNMAP_ALL) !== 0;
  const invalidateVaddr = (flags & UNMAP_VADDR) !== 0;
  if (invalidateVaddr && t.emulatedGroups.length) return errno("EBUSY");
  const pgsize = 1n << ffs(t.pgsizeBitmap);
  if (iova & (pgsize - 1n)) return errno("EINVAL");
  if (unmapAll) {
    if (iova || size) return errno("EINVAL");
    size = U64_MAX;
  } else if (!size || size & (pgsize - 1n) || iova + size - 1n > U64_MAX) return errno("EINVAL");
  if (t.v2 && !unmapAll) {
    const first = findDma(t, iova, 1n);
    if (first && first.iova !== iova) return errno("EINVAL");
    const endDma = t.dmaList.find((d) => d.iova < iova + size - 1n && iova + size - 1n < d.iova + d.size);
    if (endDma && endDma.iova + endDma.size !== iova + size) return errno("EINVAL");
  }
  const end = iova + size; // may be 2^64 for UNMAP_ALL: compared as a bigint, no wrap
  let unmapped = 0n;
  const hit = t.dmaList.filter((d) => d.iova < end && iova < d.iova + d.size);
  const gone: VfioDma[] = [];
  for (const d of hit) {
    if (!t.v2 && iova > d.iova) break;
    if (invalidateVaddr) {
      if (d.vaddrInvalid) {
        // Undo the ones invalidated by this call, then fail.
        for (const x of gone) x.vaddrInvalid = false;
        t.vaddrInvalidCount -= gone.length;
        return errno("EINVAL");
      }
      d.vaddrInvalid = true;
      t.vaddrInvalidCount++;
      gone.push(d);
      unmapped += d.size;
      continue;
    }
    unmapped += d.size;
    gone.push(d);
  }
  if (!invalidateVaddr) {
    for (const d of gone) unmapDma(s, t, d);
    t.dmaList = t.dmaList.filter((d) => !gone.includes(d));
    t.dmaAvail += gone.length;
    t.vaddrInvalidCount -= gone.filter((d) => d.vaddrInvalid).length;
  }
  iova = v.getBigUint64(8, true);
  return copiedOut(call, { argsz, flags, iova, size: unmapped }, 24);
}

/**
 * vfio_iommu_type1_dirty_pages: type1 v1 (EACCES), copy 8 bytes, argsz < 8 or
 * an unknown flag, more than one flag (EINVAL); dirty tracking itself is not
 * modelled.
 */
export function vfioIommuType1DirtyPages(s: State, call: IoctlCall) {
  const t = type1Of(s, call);
  if (!isType1(t)) return t;
  if (!t.v2) return errno("EACCES");
  const d = userStruct(call);
  if (!d) return errno("EFAULT");
  const flags = d.flags as number;
  if ((d.argsz as number) < 8 || flags & ~7) return errno("EINVAL");
  if (flags & (flags - 1)) return errno("EINVAL");
  return notModelled(call.ev, "VFIO_IOMMU_DIRTY_PAGES (type1 dirty page tracking)");
}
