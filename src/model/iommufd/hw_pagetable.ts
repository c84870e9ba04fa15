// HWPT objects (drivers/iommu/iommufd/hw_pagetable.c): paging HWPTs (a domain
// mirroring an IOAS) and nested HWPTs (a stage-1 domain over a nesting parent,
// or under a vIOMMU), IOMMU_HWPT_ALLOC, the dirty-tracking commands and
// IOMMU_HWPT_INVALIDATE.
//
// Users (obj->users) as the kernel counts them: a paging HWPT holds one on its
// IOAS, a nested one on its parent (or on its vIOMMU when it has one), a HWPT
// with a fault queue one on the fault; every device attachment holds one on
// its HWPT (device.ts).

import {
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING as HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT as HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID as HWPT_ALLOC_PASID,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DATA_STRUCTS,
  IOMMU_HWPT_FAULT_ID_VALID as HWPT_FAULT_ID_VALID,
  IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX,
  IOMMU_HWPT_INVALIDATE_STRUCTS,
  IOMMU_VIOMMU_INVALIDATE_STRUCTS,
} from "../../uapi/iommufd.ts";
import { domainReadDirty, domainSetDirtyTracking } from "../domain/dirty.ts";
import { domainAllocNested, domainAllocPaging, domainFree, domainOf, pagingDomainOf } from "../domain/domain.ts";
import type { NestedDomain } from "../domain/state.ts";
import { notModelled, type ReduceEnv } from "../framework.ts";
import {
  domainOwner,
  driverOf,
  isErr,
  NOIOMMU_DRIVER,
  refusal,
  Unmodelled,
  type DriverDevice,
  type InvalidateResult,
  type NestedSpec,
  type Verdict,
} from "../iommu/index.ts";
import { errno, type Outcome, type OutValue } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copyFromUser, copyToUser } from "../uaccess/copy.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { hex, U64_MAX } from "../values.ts";
import { firstArea } from "./io_pagetable.ts";
import { ioptAddDomain, ioptRemoveDomain } from "./iopt_domain.ts";
import { addObject, addUser, ctxOf, destroyWith, getObject, hostDeviceOf } from "./objects.ts";
import type { HwptNested, HwptPaging, IommufdCtx, IommufdDevice, Ioas, Viommu } from "./state.ts";
import type { UserData } from "../iommu/user_data.ts";
import { inlineBytes, userData, userDataArray } from "./user_data.ts";

type Hwpt = HwptPaging | HwptNested;

/** find_hwpt_paging: a paging HWPT itself, a nested HWPT's parent. */
export function findHwptPaging(ctx: IommufdCtx, hwpt: Hwpt): HwptPaging | undefined {
  if (hwpt.type === "hwpt_paging") return hwpt;
  const p = ctx.objects.get(hwpt.parentId);
  return p?.type === "hwpt_paging" ? p : undefined;
}

/** hwpt->pasid_compat: allocated with IOMMU_HWPT_ALLOC_PASID. */
export function pasidCompat(hwpt: Hwpt): boolean {
  return (hwpt.flags & HWPT_ALLOC_PASID) !== 0;
}

/** The device as the driver ops see it. */
export function driverDevice(s: State, idev: IommufdDevice): DriverDevice {
  return idev.mock ? { hd: hostDeviceOf(s, idev), mock: idev.mock } : { hd: hostDeviceOf(s, idev) };
}

/** iommufd_object_abort_and_destroy of a HWPT made by this command (nothing else holds it yet). */
/** The next creation number of a HWPT in this context. */
function nextHwptSeq(ctx: IommufdCtx): number {
  ctx.hwptSeq = (ctx.hwptSeq ?? 0) + 1;
  return ctx.hwptSeq;
}

function abortHwpt(s: State, ctx: IommufdCtx, hwpt: Hwpt, env: ReduceEnv): void {
  if (hwpt.type === "hwpt_paging") destroyWith(s, ctx, hwpt, iommufdHwptPagingDestroy, env);
  else destroyWith(s, ctx, hwpt, iommufdHwptNestedDestroy, env);
}

const PAGING_VALID_FLAGS = HWPT_ALLOC_NEST_PARENT | HWPT_ALLOC_DIRTY_TRACKING | HWPT_FAULT_ID_VALID | HWPT_ALLOC_PASID;

/** The immediate-attach step of an automatic domain (device.ts): attach before the domain fills, undone on a later failure. */
export interface ImmediateAttach {
  attach(hwpt: HwptPaging): Verdict<undefined>;
  detach(hwpt: HwptPaging): void;
}

/**
 * iommufd_hwpt_paging_alloc: iommufd's checks (flags or data without
 * domain_alloc_paging_flags, unknown flags, DIRTY_TRACKING the device cannot
 * do, FAULT_ID_VALID with NEST_PARENT: EOPNOTSUPP), the driver's, then the
 * domain and the object (the IOAS gains a user); with `immediate` the device
 * attaches before iopt_table_add_domain fills the domain. A failure after the
 * object exists aborts it (its id is free again).
 */
export function hwptPagingAlloc(
  s: State,
  ctx: IommufdCtx,
  ioas: Ioas,
  idev: IommufdDevice,
  flags: number,
  ud: UserData | null,
  env: ReduceEnv,
  immediate?: ImmediateAttach,
): Verdict<HwptPaging> {
  const hd = hostDeviceOf(s, idev);
  const driver = driverOf(s, hd);
  const host = s.host.iommu;
  const base = driver.pagingParams(host);
  if (isErr(base)) return base;
  if ((flags || ud) && !driver.allocPagingFlags) return "EOPNOTSUPP";
  if (flags & ~PAGING_VALID_FLAGS) return "EOPNOTSUPP";
  if (flags & HWPT_ALLOC_DIRTY_TRACKING && !driver.dirtyCapable(host, hd)) return "EOPNOTSUPP";
  if (flags & HWPT_FAULT_ID_VALID && flags & HWPT_ALLOC_NEST_PARENT) return "EOPNOTSUPP";
  const params = driver.allocPagingFlags ? driver.allocPagingFlags(host, hd, flags & ~HWPT_FAULT_ID_VALID, ud, base) : base;
  if (isErr(params)) return params;

  const domain = domainAllocPaging(s, params, (flags & HWPT_ALLOC_DIRTY_TRACKING) !== 0);
  const hwpt = addObject(
    ctx,
    (id): HwptPaging => ({
      id,
      type: "hwpt_paging",
      users: 1,
      ioasId: ioas.id,
      auto: false,
      nestParent: (flags & HWPT_ALLOC_NEST_PARENT) !== 0,
      flags,
      domainId: domain.id,
      faultId: null,
      seq: nextHwptSeq(ctx),
    }),
  );
  ioas.users++;
  if (immediate) {
    const r = immediate.attach(hwpt);
    if (isErr(r)) {
      abortHwpt(s, ctx, hwpt, env);
      return r;
    }
  }
  const err = ioptAddDomain(s, ioas, hwpt);
  if (err) {
    if (immediate) immediate.detach(hwpt);
    abortHwpt(s, ctx, hwpt, env);
    return err;
  }
  return hwpt;
}

/** The nested HWPT object over `parent` for what the driver accepted: its domain, the parent's or the vIOMMU's user. */
function addNestedHwpt(s: State, ctx: IommufdCtx, parent: HwptPaging, viommu: Viommu | null, flags: number, spec: NestedSpec): HwptNested {
  const domain = domainAllocNested(s, pagingDomainOf(s, parent.domainId), spec.dataType, spec.data);
  if (spec.iotlb) domain.iotlb = spec.iotlb;
  const hwpt = addObject(
    ctx,
    (id): HwptNested => ({ id, type: "hwpt_nested", users: 1, parentId: parent.id, viommuId: viommu?.id ?? null, flags, faultId: null, domainId: domain.id }),
  );
  if (viommu) viommu.users++;
  else parent.users++;
  return hwpt;
}

/**
 * iommufd_hwpt_nested_alloc: flags other than FAULT_ID_VALID and PASID, no
 * data, or no domain_alloc_nested in the driver is EOPNOTSUPP; the parent
 * must be a NEST_PARENT that is not an automatic domain, of the same ops
 * (EINVAL); then the driver; the parent gains a user.
 */
function hwptNestedAlloc(s: State, ctx: IommufdCtx, parent: HwptPaging, idev: IommufdDevice, flags: number, ud: UserData): Verdict<HwptNested> {
  const driver = driverOf(s, hostDeviceOf(s, idev));
  if (flags & ~(HWPT_FAULT_ID_VALID | HWPT_ALLOC_PASID) || !ud.len || !driver.allocNested) return "EOPNOTSUPP";
  const parentDomain = pagingDomainOf(s, parent.domainId);
  if (parent.auto || !parent.nestParent || domainOwner(s, parentDomain) !== driver) return "EINVAL";
  const spec = driver.allocNested(s.host.iommu, parentDomain, flags & ~HWPT_FAULT_ID_VALID, ud);
  if (isErr(spec)) return spec;
  return addNestedHwpt(s, ctx, parent, null, flags, spec);
}

/**
 * iommufd_viommu_alloc_hwpt_nested: flags other than FAULT_ID_VALID and
 * PASID, no data, or a vIOMMU without alloc_domain_nested is EOPNOTSUPP; the
 * vIOMMU (not the parent) gains a user.
 */
function viommuAllocHwptNested(s: State, ctx: IommufdCtx, viommu: Viommu, idev: IommufdDevice, flags: number, ud: UserData): Verdict<HwptNested> {
  if (flags & ~(HWPT_FAULT_ID_VALID | HWPT_ALLOC_PASID)) return "EOPNOTSUPP";
  if (!ud.len) return "EOPNOTSUPP";
  const ops = driverOf(s, hostDeviceOf(s, idev)).viommu;
  if (!ops || ops instanceof Unmodelled) return new Unmodelled("nested HWPTs under a vIOMMU other than the selftest mock's");
  const parent = getObject(ctx, viommu.hwptId, "hwpt_paging")!;
  const spec = ops.allocDomainNested(pagingDomainOf(s, parent.domainId), flags & ~HWPT_FAULT_ID_VALID, ud);
  if (isErr(spec)) return spec;
  return addNestedHwpt(s, ctx, parent, viommu, flags, spec);
}

/** data_len as the caller passed it; an inline payload without data_len stands for its own length. */
function effectiveDataLen(dataLen: number, type: number, inline: unknown): number {
  if (dataLen !== 0 || inline === undefined) return dataLen;
  return inlineBytes(inline, IOMMU_HWPT_DATA_STRUCTS.get(type), "arg.data").length;
}

/**
 * iommufd_hwpt_alloc: __reserved (EOPNOTSUPP), data_type against data_len
 * (EINVAL), the device (ENOENT), pt_id as any object (missing: EINVAL): an IOAS
 * makes a paging HWPT, a paging HWPT (the parent) or a vIOMMU a nested one,
 * anything else is EINVAL; with FAULT_ID_VALID the fault object (ENOENT, the
 * new HWPT is aborted) gains a user.
 */
export function iommufdHwptAlloc(s: State, call: IoctlCall, env: ReduceEnv) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const inline = call.arg.kind === "bytes" ? call.arg.inline.data : undefined;
  const type = cmd.data_type as number;
  const flags = cmd.flags as number;
  cmd.data_len = effectiveDataLen(cmd.data_len as number, type, inline);
  const len = cmd.data_len;
  if (cmd.__reserved) return errno("EOPNOTSUPP");
  if ((type === IOMMU_HWPT_DATA_NONE && len) || (type !== IOMMU_HWPT_DATA_NONE && !len)) return errno("EINVAL");
  const idev = getObject(ctx, cmd.dev_id as number, "device");
  if (!idev) return errno("ENOENT");
  const pt = ctx.objects.get(cmd.pt_id as number);
  if (!pt) return errno("EINVAL");
  const ud = userData(s, call, type, len, cmd.data_uptr as bigint, inline, (t) => IOMMU_HWPT_DATA_STRUCTS.get(t));

  let hwpt: Verdict<HwptPaging | HwptNested>;
  if (pt.type === "ioas") hwpt = hwptPagingAlloc(s, ctx, pt, idev, flags, len ? ud : null, env);
  else if (pt.type === "hwpt_paging") hwpt = hwptNestedAlloc(s, ctx, pt, idev, flags, ud);
  else if (pt.type === "viommu") {
    // iommufd_device_get_iommu_dev: a device without an IOMMU has none, so it is not the vIOMMU's
    if (driverOf(s, hostDeviceOf(s, idev)) === NOIOMMU_DRIVER) return errno("EINVAL");
    hwpt = viommuAllocHwptNested(s, ctx, pt, idev, flags, ud);
  } else return errno("EINVAL");
  if (isErr(hwpt)) return refusal(call.ev, hwpt);

  if (flags & HWPT_FAULT_ID_VALID) {
    const fault = getObject(ctx, cmd.fault_id as number, "fault");
    if (!fault) {
      abortHwpt(s, ctx, hwpt, env);
      return errno("ENOENT");
    }
    hwpt.faultId = fault.id;
    fault.users++;
  }
  cmd.out_hwpt_id = hwpt.id;
  return respond(call, cmd);
}

/**
 * iommufd_hwpt_paging_destroy: out of the IOAS (its domain unmapped), the
 * domain freed, the fault and the IOAS lose a user.
 */
export function iommufdHwptPagingDestroy(s: State, ctx: IommufdCtx, hwpt: HwptPaging): void {
  const ioas = getObject(ctx, hwpt.ioasId, "ioas");
  if (ioas) ioptRemoveDomain(s, ctx, ioas, hwpt);
  domainFree(s, domainOf(s, hwpt.domainId));
  if (hwpt.faultId !== null) addUser(ctx, hwpt.faultId, -1);
  addUser(ctx, hwpt.ioasId, -1);
}

/** iommufd_hwpt_nested_destroy: the domain is freed; the fault, and the vIOMMU (or else the parent), lose a user. */
export function iommufdHwptNestedDestroy(s: State, ctx: IommufdCtx, hwpt: HwptNested): void {
  domainFree(s, domainOf(s, hwpt.domainId));
  if (hwpt.faultId !== null) addUser(ctx, hwpt.faultId, -1);
  addUser(ctx, hwpt.viommuId ?? hwpt.parentId, -1);
}

// ---------------------------------------------------------------------------
// Dirty tracking

/**
 * iommufd_hwpt_set_dirty_tracking: an unknown flag is EOPNOTSUPP (__reserved
 * is not checked), the HWPT must be a paging one (ENOENT), its domain must have
 * dirty ops (allocated with DIRTY_TRACKING; else EOPNOTSUPP from
 * iopt_set_dirty_tracking), which clears every dirty bit when enabling.
 */
export function iommufdHwptSetDirtyTracking(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const flags = cmd.flags as number;
  if (flags & ~1) return errno("EOPNOTSUPP");
  const hwpt = getObject(ctxOf(s, call), cmd.hwpt_id as number, "hwpt_paging");
  if (!hwpt) return errno("ENOENT");
  const domain = pagingDomainOf(s, hwpt.domainId);
  if (!domain.dirtyOps) return errno("EOPNOTSUPP");
  domainSetDirtyTracking(s, domain, (flags & 1) !== 0);
  return { ret: 0 };
}

const NO_CLEAR = 1;

/**
 * iommufd_hwpt_get_dirty_bitmap: unknown flags or __reserved (EOPNOTSUPP),
 * the paging HWPT (ENOENT), iommufd_check_iova_range (EOVERFLOW, then the IOAS
 * alignment and page_size: EINVAL), dirty ops (EOPNOTSUPP). Then
 * iommu_read_and_clear_dirty, which ignores what iova_bitmap_for_each returns:
 * a bitmap whose first page cannot be pinned (iova_bitmap_get: EFAULT) is
 * left alone and the command still succeeds; the walk covers the areas
 * contiguous from iova only (__iommu_read_and_clear_dirty stops at a hole,
 * without error); one bit per page_size unit record_dirty reports (domainReadDirty) is set in the
 * caller's u64 array at `data` (never cleared). The result also comes back
 * inline as `out.data`, the u64 words as hex strings.
 */
export function iommufdHwptGetDirtyBitmap(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const flags = cmd.flags as number;
  if (flags & ~NO_CLEAR || cmd.__reserved) return errno("EOPNOTSUPP");
  const hwpt = getObject(ctx, cmd.hwpt_id as number, "hwpt_paging");
  if (!hwpt) return errno("ENOENT");
  const ioas = getObject(ctx, hwpt.ioasId, "ioas")!;
  const iova = cmd.iova as bigint;
  const length = cmd.length as bigint;
  const pageSize = cmd.page_size as bigint;
  const wrap = (v: bigint) => v & U64_MAX;
  // iommufd_check_iova_range
  const last = iova + wrap(length - 1n);
  if (last > U64_MAX) return errno("EOVERFLOW");
  const align = ioas.iovaAlignment;
  if (iova & (align - 1n) || wrap(last + 1n) & (align - 1n)) return errno("EINVAL");
  if (!pageSize) return errno("EINVAL");
  if (iova & (pageSize - 1n) || wrap(last + 1n) & (pageSize - 1n)) return errno("EINVAL");
  // iommu_read_and_clear_dirty
  const domain = pagingDomainOf(s, hwpt.domainId);
  if (!domain.dirtyOps) return errno("EOPNOTSUPP");
  let shift = 0n;
  while (!((pageSize >> shift) & 1n)) shift++;
  const units = ((last - iova) >> shift) + 1n;
  const words = Number((units - 1n) / 64n) + 1;
  if (words > 1 << 20) return notModelled(call.ev, `a dirty bitmap of ${words} u64 words`);
  const data = cmd.data as bigint;
  const bitmap = copyFromUser(s, call.process, data, words * 8);
  if (!bitmap) {
    if (copyFromUser(s, call.process, data, 1)) return notModelled(call.ev, "a dirty bitmap only partly mapped");
    return { ret: 0 }; // iova_bitmap_for_each's EFAULT is dropped
  }
  // iopt_for_each_contig_area from iova: the areas up to the first hole
  let end = iova - 1n;
  for (let a = firstArea(ioas, iova, iova); a && end < last; a = firstArea(ioas, end + 1n, end + 1n)) end = a.last < last ? a.last : last;
  if (end >= iova) {
    const dirty = domainReadDirty(s, domain, iova, end - iova + 1n, pageSize, !(flags & NO_CLEAR));
    dirty.forEach((d, i) => {
      if (d) bitmap[i >> 3]! |= 1 << (i & 7);
    });
    copyToUser(s, call.process, data, bitmap);
  }
  const view = new DataView(bitmap.buffer, bitmap.byteOffset, bitmap.byteLength);
  const out: OutValue[] = [];
  for (let i = 0; i < words; i++) out.push(hex(view.getBigUint64(i * 8, true)));
  return { ret: 0, out: { data: out } };
}

// ---------------------------------------------------------------------------
// IOMMU_HWPT_INVALIDATE

/** iommufd_viommu_find_dev: the device of the vDEVICE with this virtual id under the vIOMMU. */
function viommuFindDev(s: State, ctx: IommufdCtx, viommu: Viommu, virtId: bigint): DriverDevice | undefined {
  let dev: IommufdDevice | undefined;
  for (const o of ctx.objects.values())
    if (o.type === "vdevice" && o.viommuId === viommu.id && o.virtId === virtId) {
      const d = ctx.objects.get(o.devId);
      if (d?.type === "device") dev = d;
    }
  return dev && driverDevice(s, dev);
}

/**
 * iommufd_hwpt_invalidate: __reserved (EOPNOTSUPP); with entries, a NULL
 * data_uptr, entry_len 0 and (switch hwpt-invalidate-bounds) entry_len above
 * PAGE_SIZE or entry_num above IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX are EINVAL;
 * hwpt_id any object (ENOENT): a nested HWPT's domain or a vIOMMU handles the
 * array (no handler: EOPNOTSUPP), anything else is EINVAL. entry_num is always
 * written back: the number of entries handled.
 */
export function iommufdHwptInvalidate(s: State, call: IoctlCall, env: ReduceEnv) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const inline = call.arg.kind === "bytes" ? call.arg.inline.data : undefined;
  const type = cmd.data_type as number;
  const pt = ctx.objects.get(cmd.hwpt_id as number);
  const structs = pt?.type === "viommu" ? IOMMU_VIOMMU_INVALIDATE_STRUCTS : IOMMU_HWPT_INVALIDATE_STRUCTS;
  const struct = structs.get(type);
  let entryLen = cmd.entry_len as number;
  let entryNum = cmd.entry_num as number;
  if (inline !== undefined) {
    if (entryLen === 0) entryLen = struct?.size ?? 0;
    if (entryNum === 0 && Array.isArray(inline)) entryNum = inline.length;
    cmd.entry_len = entryLen;
  }
  const answer = (rc: string | undefined, done: number): Outcome => {
    cmd.entry_num = done;
    const r = respond(call, cmd);
    return rc ? { errno: rc, ...(r.out ? { out: r.out } : {}) } : r;
  };
  if (cmd.__reserved) return answer("EOPNOTSUPP", 0);
  const arr = userDataArray(s, call, type, entryLen, entryNum, cmd.data_uptr as bigint, inline, (t) => structs.get(t));
  const bounds = env.profile.on("hwpt-invalidate-bounds");
  if (entryNum && (arr.nullPtr || !entryLen || (bounds && (entryLen > 4096 || entryNum > IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX)))) return answer("EINVAL", 0);
  if (!pt) return answer("ENOENT", 0);
  let result: InvalidateResult;
  if (pt.type === "hwpt_nested") {
    const domain = domainOf(s, pt.domainId) as NestedDomain;
    const invalidate = domainOwner(s, domain).cacheInvalidateUser;
    if (!invalidate) return notModelled(call.ev, "IOMMU_HWPT_INVALIDATE of this nested HWPT's driver");
    result = invalidate(domain, arr);
  } else if (pt.type === "viommu") {
    const ops = driverOf(s, hostDeviceOf(s, getObject(ctx, pt.devId, "device")!)).viommu;
    if (!ops || ops instanceof Unmodelled) return notModelled(call.ev, "IOMMU_HWPT_INVALIDATE of this vIOMMU's driver");
    result = ops.cacheInvalidate(arr, (virtId) => viommuFindDev(s, ctx, pt, virtId));
  } else return answer("EINVAL", 0);
  result.apply();
  return answer(result.rc, result.done);
}
