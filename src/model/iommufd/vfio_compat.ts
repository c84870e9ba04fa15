// iommufd's VFIO compatibility (drivers/iommu/iommufd/vfio_compat.c): the
// type1 container commands on /dev/iommu against the context's compat IOAS
// (ctx->vfio_ioas, made when a VFIO group is set to this fd as its container,
// or set by IOMMU_VFIO_IOAS), IOMMU_VFIO_IOAS itself, and what VFIO's group
// code calls here (iommufd_vfio_compat_ioas_create,
// iommufd_vfio_compat_set_no_iommu).

import { VFIO_DMA_CC_IOMMU, VFIO_NOIOMMU_IOMMU, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL } from "../../uapi/vfio.ts";
import { pagingDomainOf } from "../domain/domain.ts";
import type { TraceEvent } from "../events.ts";
import type { SimulatorFault } from "../framework.ts";
import { domainOwner, refusal } from "../iommu/index.ts";
import { errno, ret0, type Outcome, type OutValue } from "../outcome.ts";
import { capable } from "../process/reducers.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { copiedOut, userStruct } from "../uaccess/vfio_arg.ts";
import { U64_MAX } from "../values.ts";
import { iovaRanges } from "./io_pagetable.ts";
import { ioasMap, ioasUnmap, ioasUnmapAll, newIoas } from "./ioas.ts";
import { disableLargePages, ioptCutIova } from "./iopt_domain.ts";
import { addObject, ctxOf, getObject } from "./objects.ts";
import type { IommufdCtx, Ioas } from "./state.ts";

const PAGE_SIZE = 4096n;
const PAGE_MASK = U64_MAX & ~(PAGE_SIZE - 1n);

/** get_compat_ioas: the compat IOAS, or undefined (ENODEV). */
function compatIoas(ctx: IommufdCtx): Ioas | undefined {
  return ctx.vfioIoasId === null ? undefined : getObject(ctx, ctx.vfioIoasId, "ioas");
}

/** The integer argument of VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU, as an unsigned long. */
const intArg = (call: IoctlCall): number => (call.arg.kind === "int" ? Number(BigInt.asUintN(64, call.arg.value)) : 0);

/**
 * iommufd_vfio_cc_iommu: ENODEV without a compat IOAS; 1 unless a paging
 * HWPT of it does not enforce cache coherency (VT-d: ECAP.SC; AMD: always;
 * the no-IOMMU SW domain: never).
 */
function ccIommu(s: State, ctx: IommufdCtx, ev: TraceEvent): Outcome | SimulatorFault {
  const ioas = compatIoas(ctx);
  if (!ioas) return errno("ENODEV");
  for (const id of ioas.domains) {
    const h = ctx.objects.get(id);
    if (h?.type !== "hwpt_paging") continue;
    // hwpt_paging->enforce_cache_coherency, as the domain's driver enforced it at allocation
    const coherent = domainOwner(s, pagingDomainOf(s, h.domainId)).enforceCacheCoherency(s.host.iommu);
    if (typeof coherent !== "boolean") return refusal(ev, coherent);
    if (!coherent) return { ret: 0 };
  }
  return { ret: 1 };
}

/** iommufd_vfio_check_extension: TYPE1, TYPE1v2, UNMAP_ALL, NOIOMMU (CONFIG_VFIO_NOIOMMU) 1; DMA_CC as the HWPTs say; else 0. */
export function iommufdVfioCheckExtension(s: State, call: IoctlCall) {
  const arg = intArg(call);
  if (arg === VFIO_TYPE1_IOMMU || arg === VFIO_TYPE1v2_IOMMU || arg === VFIO_UNMAP_ALL || arg === VFIO_NOIOMMU_IOMMU) return { ret: 1 };
  if (arg === VFIO_DMA_CC_IOMMU) return ccIommu(s, ctxOf(s, call), call.ev);
  return { ret: 0 };
}

/**
 * iommufd_vfio_set_iommu: NOIOMMU in no-IOMMU mode needs CAP_SYS_RAWIO
 * (EPERM); anything but TYPE1/TYPE1v2, or no-IOMMU mode, EINVAL; no compat
 * IOAS ENODEV (SET_IOMMU uses the IOAS the group attach made, it makes none);
 * TYPE1 turns large pages off on it (v1 unmaps may cut mappings).
 */
export function iommufdVfioSetIommu(s: State, call: IoctlCall) {
  const arg = intArg(call);
  const ctx = ctxOf(s, call);
  const noIommu = ctx.noIommuMode === true;
  if (arg === VFIO_NOIOMMU_IOMMU && noIommu) return capable(call.process, "CAP_SYS_RAWIO") ? { ret: 0 } : errno("EPERM");
  if ((arg !== VFIO_TYPE1_IOMMU && arg !== VFIO_TYPE1v2_IOMMU) || noIommu) return errno("EINVAL");
  const ioas = compatIoas(ctx);
  if (!ioas) return errno("ENODEV");
  if (arg === VFIO_TYPE1_IOMMU) {
    const err = disableLargePages(s, ctx, ioas);
    if (err) return errno(err);
  }
  return { ret: 0 };
}

/** iommufd_get_pagesizes: the domains' page sizes (no sub-page sizes), at least the IOAS alignment. */
function pagesizes(s: State, ctx: IommufdCtx, ioas: Ioas): bigint {
  let bm = U64_MAX;
  for (const id of ioas.domains) {
    const h = ctx.objects.get(id);
    if (h?.type === "hwpt_paging") bm &= pagingDomainOf(s, h.domainId).pgsizeBitmap;
  }
  if (bm & ~PAGE_MASK) bm = (bm & PAGE_MASK) | PAGE_SIZE;
  return bm > ioas.iovaAlignment ? bm : ioas.iovaAlignment;
}

/**
 * iommufd_vfio_iommu_get_info: copy 16 bytes (EFAULT), argsz < 16 (EINVAL),
 * no compat IOAS (ENODEV); flags PGSIZES|CAPS; the DMA_AVAIL cap (U32_MAX) and
 * the IOVA ranges cap (the holes of the reserved ranges), each written when it
 * fits in argsz; argsz comes back as the size of the whole chain.
 */
export function iommufdVfioIommuGetInfo(s: State, call: IoctlCall) {
  const info = userStruct(call);
  if (!info) return errno("EFAULT");
  const argsz = info.argsz as number;
  if (argsz < 16) return errno("EINVAL");
  const ctx = ctxOf(s, call);
  const ioas = compatIoas(ctx);
  if (!ioas) return errno("ENODEV");
  const ranges = iovaRanges(ioas);
  // Sizes aligned to u64 as the chain is built.
  const dmaSize = 16; // ALIGN(12, 8)
  const iovaSize = 16 + 16 * ranges.length;
  const total = 24 + dmaSize + iovaSize;
  const caps: Record<string, OutValue>[] = [];
  if (argsz - 24 >= 12) caps.push({ id: 3, version: 1, next: argsz >= 40 ? 40 : 0, avail: 0xffffffff });
  if (argsz > 40 && argsz - 40 >= iovaSize)
    caps.push({ id: 1, version: 1, next: 0, nr_iovas: ranges.length, iova_ranges: ranges.map((r) => ({ start: r.start, end: r.last })) });
  const out: Record<string, OutValue> = {
    argsz: total,
    flags: 3,
    iova_pgsizes: pagesizes(s, ctx, ioas),
    cap_offset: argsz >= total ? 24 : 0,
    pad: 0,
  };
  return copiedOut(call, out, Math.min(argsz, 24), caps.length ? { caps } : {});
}

/**
 * iommufd_vfio_map_dma: copy 32 bytes (EFAULT), argsz < 32 or a flag other
 * than READ/WRITE (EINVAL), no compat IOAS (ENODEV); then iopt_map_user_pages
 * at the fixed iova (ioasMap, src/model/iommufd/ioas.ts: its errnos pass through).
 */
export function iommufdVfioMapDma(s: State, call: IoctlCall) {
  const m = userStruct(call);
  if (!m) return errno("EFAULT");
  const flags = m.flags as number;
  if ((m.argsz as number) < 32 || flags & ~3) return errno("EINVAL");
  const ctx = ctxOf(s, call);
  const ioas = compatIoas(ctx);
  if (!ioas) return errno("ENODEV");
  const prot = (flags & 1 ? 1 : 0) | (flags & 2 ? 2 : 0);
  const r = ioasMap(s, ctx, ioas, call.process.pid, m.vaddr as bigint, m.size as bigint, m.iova as bigint, prot);
  return typeof r === "string" ? errno(r) : { ret: 0 };
}

/**
 * iommufd_vfio_unmap_dma: copy 24 bytes (EFAULT), argsz < 24 or a flag other
 * than UNMAP_ALL (EINVAL), no compat IOAS (ENODEV); UNMAP_ALL needs iova and
 * size 0 (EINVAL); with large pages off (TYPE1) the range's ends are cut
 * first (iopt_cut_iova); an empty range succeeds (since "iommufd: Make
 * vfio_compat's unmap succeed if the range is already empty"). The bytes
 * unmapped go back in `size`.
 */
export function iommufdVfioUnmapDma(s: State, call: IoctlCall) {
  const u = userStruct(call);
  if (!u) return errno("EFAULT");
  const flags = u.flags as number;
  if ((u.argsz as number) < 24 || flags & ~2) return errno("EINVAL");
  const ctx = ctxOf(s, call);
  const ioas = compatIoas(ctx);
  if (!ioas) return errno("ENODEV");
  const iova = u.iova as bigint;
  const size = u.size as bigint;
  let r: { unmapped: bigint } | string;
  if (flags & 2) {
    if (iova !== 0n || size !== 0n) return errno("EINVAL");
    r = ioasUnmapAll(s, ctx, ioas);
  } else {
    if (!ioas.hugePages) {
      const cuts = [BigInt.asUintN(64, iova + size - 1n), BigInt.asUintN(64, iova - 1n)];
      const err = ioptCutIova(ioas, iova ? cuts : cuts.slice(0, 1));
      if (err) return errno(err);
    }
    r = ioasUnmap(s, ctx, ioas, iova, size);
  }
  if (typeof r === "string") return errno(r);
  return copiedOut(call, { argsz: u.argsz as number, flags, iova, size: r.unmapped }, 24);
}

// ---------------------------------------------------------------------------
// IOMMU_VFIO_IOAS

const GET = 0;
const SET = 1;
const CLEAR = 2;

/** GET: ENODEV without a compat IOAS, else its id goes back; SET: an IOAS id (ENOENT); CLEAR: always; other ops EOPNOTSUPP. */
export function iommufdVfioIoas(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  if (cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  const ctx = ctxOf(s, call);
  switch (cmd.op) {
    case GET:
      if (ctx.vfioIoasId === null || !getObject(ctx, ctx.vfioIoasId, "ioas")) return errno("ENODEV");
      cmd.ioas_id = ctx.vfioIoasId;
      return respond(call, cmd);
    case SET:
      if (!getObject(ctx, cmd.ioas_id as number, "ioas")) return errno("ENOENT");
      ctx.vfioIoasId = cmd.ioas_id as number;
      return ret0();
    case CLEAR:
      ctx.vfioIoasId = null;
      return ret0();
    default:
      return errno("EOPNOTSUPP");
  }
}

// ---------------------------------------------------------------------------
// What VFIO's group code calls (drivers/vfio/group.c vfio_group_ioctl_set_container)

/** iommufd_vfio_compat_ioas_create: the compat IOAS, made unless it exists (EINVAL in no-IOMMU mode). */
export function iommufdVfioCompatIoasCreate(ctx: IommufdCtx): string | undefined {
  if (ctx.noIommuMode) return "EINVAL";
  if (ctx.vfioIoasId === null || !getObject(ctx, ctx.vfioIoasId, "ioas")) ctx.vfioIoasId = addObject(ctx, newIoas).id;
  return undefined;
}

/** iommufd_vfio_compat_set_no_iommu: no-IOMMU mode, refused once a compat IOAS exists (EINVAL). */
export function iommufdVfioCompatSetNoIommu(ctx: IommufdCtx): string | undefined {
  if (ctx.vfioIoasId !== null) return "EINVAL";
  ctx.noIommuMode = true;
  return undefined;
}

/** VFIO_GET_API_VERSION: VFIO_API_VERSION, on a container and on /dev/iommu alike. */
export function vfioGetApiVersion(): Outcome {
  return { ret: 0 };
}
