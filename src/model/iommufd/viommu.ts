// vIOMMU objects (drivers/iommu/iommufd/viommu.c): IOMMU_VIOMMU_ALLOC,
// IOMMU_VDEVICE_ALLOC and IOMMU_HW_QUEUE_ALLOC, with the selftest mock's
// vIOMMU driver (selftest.c mock_viommu_*) behind them. The vIOMMU holds a
// user on its nesting-parent HWPT; a vDEVICE holds one on its vIOMMU (the
// device only names it: a device going away leaves the vDEVICE as a
// tombstone, device.ts); a HW queue holds one on its vIOMMU and one on the
// queue it depends on, and pins its guest queue memory through an internal
// access object (an id of the context) that holds the IOAS.

import {
  IOMMU_HW_QUEUE_TYPE_DEFAULT,
  IOMMU_TEST_HW_QUEUE_MAX,
  IOMMU_VIOMMU_DATA_STRUCTS,
  IOMMU_VIOMMU_TYPE_DEFAULT,
  iommu_viommu_selftest,
} from "../../uapi/iommufd.ts";
import { decodeStruct, encodeStruct } from "../../uapi/layout.ts";
import { driverOf, NOIOMMU_DRIVER, refusal, Unmodelled } from "../iommu/index.ts";
import { copyStructFromUserData, copyStructToUserData } from "../iommu/user_data.ts";
import { errno, type OutValue } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { U64_MAX } from "../values.ts";
import { firstArea, pageOffset } from "./io_pagetable.ts";
import { addObject, addUser, ctxOf, getObject, hostDeviceOf } from "./objects.ts";
import { areaPhys, PAGE, pinArea } from "./pages.ts";
import type { Access, Area, HwQueue, IommufdCtx, Ioas, Vdevice, Viommu } from "./state.ts";
import { inlineBytes, userData } from "./user_data.ts";

const MOCK_MMAP_LENGTH = 2n * PAGE;

/**
 * iommufd_viommu_alloc_mmap's offset: the lowest gap of the context's mmap
 * tree from PAGE_SIZE that fits the length (mtree_alloc_range).
 */
function allocMmapOffset(ctx: IommufdCtx, length: bigint): bigint {
  const used: { offset: bigint; length: bigint }[] = [];
  for (const o of ctx.objects.values()) if (o.type === "viommu" && o.mmap) used.push(o.mmap);
  used.sort((a, b) => (a.offset < b.offset ? -1 : 1));
  let at = PAGE;
  for (const u of used) {
    if (at + length <= u.offset) break;
    if (u.offset + u.length > at) at = u.offset + u.length;
  }
  return at;
}

/**
 * iommufd_viommu_alloc_ioctl: flags or type DEFAULT (EOPNOTSUPP), the device
 * (ENOENT), a driver without vIOMMU ops or without this type (EOPNOTSUPP),
 * the HWPT as a paging one (ENOENT) that must be a nesting parent (EINVAL),
 * then the driver's viommu_init: the mock copies its iommu_viommu_selftest
 * (when data_len is given), echoes in_data as out_data and hands out a
 * two-page mmap window at the lowest free offset from PAGE_SIZE.
 */
export function iommufdViommuAllocIoctl(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const type = cmd.type as number;
  if (cmd.flags || type === IOMMU_VIOMMU_TYPE_DEFAULT) return errno("EOPNOTSUPP");
  const idev = getObject(ctx, cmd.dev_id as number, "device");
  if (!idev) return errno("ENOENT");
  // ops->get_viommu_size (and viommu_init): a driver without vIOMMU ops, or without this type, is EOPNOTSUPP
  const ops = driverOf(s, hostDeviceOf(s, idev)).viommu;
  if (ops instanceof Unmodelled) return refusal(call.ev, ops);
  if (!ops?.types.includes(type)) return errno("EOPNOTSUPP");
  const hwpt = getObject(ctx, cmd.hwpt_id as number, "hwpt_paging");
  if (!hwpt) return errno("ENOENT");
  if (!hwpt.nestParent) return errno("EINVAL");

  // mock_viommu_init
  const inline = call.arg.kind === "bytes" ? call.arg.inline.data : undefined;
  let len = cmd.data_len as number;
  if (len === 0 && inline !== undefined) len = inlineBytes(inline, IOMMU_VIOMMU_DATA_STRUCTS.get(type), "arg.data").length;
  cmd.data_len = len;
  let mmap: Viommu["mmap"] = null;
  let mmapWord: number | undefined;
  const extra: Record<string, OutValue> = {};
  if (len) {
    const ud = userData(s, call, type, len, cmd.data_uptr as bigint, inline, (t) => IOMMU_VIOMMU_DATA_STRUCTS.get(t));
    const data = copyStructFromUserData(ud, type, iommu_viommu_selftest, "out_data");
    if (typeof data === "string") return errno(data);
    mmap = { offset: allocMmapOffset(ctx, MOCK_MMAP_LENGTH), length: MOCK_MMAP_LENGTH };
    const reply = encodeStruct(iommu_viommu_selftest, {
      in_data: data.in_data as number,
      out_data: data.in_data as number,
      out_mmap_offset: mmap.offset,
      out_mmap_length: mmap.length,
    });
    const err = copyStructToUserData(ud, type, iommu_viommu_selftest, "out_data", reply);
    if (err) return errno(err);
    mmapWord = data.in_data as number; // *mock_viommu->page = data.in_data
    const shown = decodeStruct(iommu_viommu_selftest, reply.subarray(0, Math.min(len, reply.length)));
    const out: Record<string, OutValue> = {};
    for (const f of iommu_viommu_selftest.fields) if (f.offset + f.size <= len) out[f.name] = shown[f.name] as OutValue;
    extra.data = out;
  }
  const viommu = addObject(
    ctx,
    (id): Viommu => ({
      id,
      type: "viommu",
      users: 1,
      hwptId: hwpt.id,
      viommuType: type,
      devId: idev.id,
      mmap,
      ...(mmapWord !== undefined ? { mmapWord } : {}),
    }),
  );
  hwpt.users++;
  cmd.out_viommu_id = viommu.id;
  return respond(call, cmd, extra);
}

/** iommufd_viommu_destroy: the nesting parent loses its user (the mmap window goes with the object). */
export function iommufdViommuDestroy(_s: State, ctx: IommufdCtx, viommu: Viommu): void {
  addUser(ctx, viommu.hwptId, -1);
}

/**
 * iommufd_vdevice_alloc_ioctl: the vIOMMU and the device (ENOENT), a device
 * behind another IOMMU (a device without one: EINVAL), a device that has a
 * vDEVICE already or a virtual id the vIOMMU has given (EEXIST). The vIOMMU
 * gains a user; the device names its vDEVICE.
 */
export function iommufdVdeviceAllocIoctl(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const virtId = cmd.virt_id as bigint;
  const viommu = getObject(ctx, cmd.viommu_id as number, "viommu");
  if (!viommu) return errno("ENOENT");
  const idev = getObject(ctx, cmd.dev_id as number, "device");
  if (!idev) return errno("ENOENT");
  if (driverOf(s, hostDeviceOf(s, idev)) === NOIOMMU_DRIVER) return errno("EINVAL");
  if (idev.vdevId != null) return errno("EEXIST");
  for (const o of ctx.objects.values()) if (o.type === "vdevice" && o.viommuId === viommu.id && o.virtId === virtId) return errno("EEXIST");
  const vdev = addObject(ctx, (id): Vdevice => ({ id, type: "vdevice", users: 1, viommuId: viommu.id, devId: idev.id, virtId }));
  viommu.users++;
  idev.vdevId = vdev.id;
  cmd.out_vdevice_id = vdev.id;
  return respond(call, cmd);
}

/** iommufd_vdevice_destroy: the vIOMMU loses its user, the device no longer has a vDEVICE. */
export function iommufdVdeviceDestroy(_s: State, ctx: IommufdCtx, vdev: Vdevice): void {
  addUser(ctx, vdev.viommuId, -1);
  const idev = ctx.objects.get(vdev.devId);
  if (idev?.type === "device" && idev.vdevId === vdev.id) idev.vdevId = null;
}

// ---------------------------------------------------------------------------
// HW queues

/** The areas iommufd_access_pin_pages walks for [iova, last], or the errno (iopt_for_each_contig_area). */
function pinnableAreas(s: State, ioas: Ioas, iova: bigint, last: bigint): Area[] | string {
  const areas: Area[] = [];
  for (let cur = iova; ; ) {
    const a = firstArea(ioas, cur, cur);
    if (!a) return "ENOENT"; // !iopt_area_contig_done: a hole
    const done = a.last >= last;
    // iopt_area_contig_is_aligned: the first byte page aligned, and unless done the area ends on a page end
    if ((pageOffset(a) + (cur - a.iova)) % PAGE) return "EINVAL";
    if (!done && (pageOffset(a) + (a.last - a.iova)) % PAGE !== PAGE - 1n) return "EINVAL";
    if (!(a.prot & 1)) return "EPERM"; // check_area_prot: a read pin needs IOMMU_READ
    if (!a.runs) {
      const r = pinArea(s, a);
      if (typeof r === "string") return r;
    }
    areas.push(a);
    if (done) return areas;
    cur = a.last + 1n;
  }
}

/**
 * iommufd_hw_queue_alloc_ioctl: flags or type DEFAULT (EOPNOTSUPP), length 0
 * (EINVAL), overflow of the queue's last byte (EOVERFLOW), the vIOMMU
 * (ENOENT), a type the driver has no queue for (EOPNOTSUPP); then
 * iommufd_hw_queue_alloc_phys pins the page-aligned range through an internal
 * access in the nesting parent's IOAS (a hole: ENOENT; misaligned: EINVAL; not
 * readable: EPERM) and needs it physically contiguous (EFAULT); then the
 * mock's init_phys: index below IOMMU_TEST_HW_QUEUE_MAX (EINVAL), free
 * (EEXIST), and index - 1 allocated (EIO), on which the new queue then depends.
 */
export function iommufdHwQueueAllocIoctl(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const type = cmd.type as number;
  const iova = cmd.nesting_parent_iova as bigint;
  const length = cmd.length as bigint;
  const index = cmd.index as number;
  if (cmd.flags || type === IOMMU_HW_QUEUE_TYPE_DEFAULT) return errno("EOPNOTSUPP");
  if (!length) return errno("EINVAL");
  if (iova + length - 1n > U64_MAX) return errno("EOVERFLOW");
  const viommu = getObject(ctx, cmd.viommu_id as number, "viommu");
  if (!viommu) return errno("ENOENT");
  const ops = driverOf(s, hostDeviceOf(s, getObject(ctx, viommu.devId, "device")!)).viommu;
  if (!ops || ops instanceof Unmodelled || !ops.hwQueueTypes.includes(type)) return errno("EOPNOTSUPP");
  // iommufd_hw_queue_alloc_phys
  const aligned = iova & ~(PAGE - 1n);
  const span = iova - aligned + length + PAGE - 1n;
  if (span > U64_MAX) return errno("ERANGE");
  const plen = (span / PAGE) * PAGE;
  const hwpt = getObject(ctx, viommu.hwptId, "hwpt_paging")!;
  const ioas = getObject(ctx, hwpt.ioasId, "ioas")!;
  const last = aligned + plen - 1n;
  if (last > U64_MAX) return errno("EOVERFLOW");
  const areas = pinnableAreas(s, ioas, aligned, last);
  if (typeof areas === "string") return errno(areas);
  const pa0 = areaPhys(areas.find((a) => a.iova <= aligned && aligned <= a.last)!, aligned);
  for (let off = 0n; off < plen; off += PAGE) {
    const a = areas.find((x) => x.iova <= aligned + off && aligned + off <= x.last)!;
    if (pa0 === undefined || areaPhys(a, aligned + off) !== pa0 + off) return errno("EFAULT");
  }
  // mock_hw_queue_init_phys
  if (index >= IOMMU_TEST_HW_QUEUE_MAX) return errno("EINVAL");
  const queues = [...ctx.objects.values()].filter((o): o is HwQueue => o.type === "hw_queue" && o.viommuId === viommu.id);
  if (queues.some((q) => q.index === index)) return errno("EEXIST");
  const prev = index ? queues.find((q) => q.index === index - 1) : undefined;
  if (index && !prev) return errno("EIO");

  const queue = addObject(
    ctx,
    (id): HwQueue => ({
      id,
      type: "hw_queue",
      users: 1,
      viommuId: viommu.id,
      queueType: type,
      index,
      iova,
      length,
      accessId: 0,
      pinned: { start: aligned, last },
      prevId: prev?.id ?? null,
    }),
  );
  // iommufd_access_create_internal + attach + pin: the access's id comes after the queue's
  const access = addObject(ctx, (id): Access => ({ id, type: "access", users: 2, ioasId: ioas.id, internal: true }));
  queue.accessId = access.id;
  ioas.users++;
  for (const a of areas) {
    if (!a.runs) a.runs = pinArea(s, a) as NonNullable<Area["runs"]>;
    a.accesses++;
  }
  if (prev) prev.users++;
  viommu.users++;
  cmd.out_hw_queue_id = queue.id;
  return respond(call, cmd);
}

/**
 * iommufd_hw_queue_destroy: the mock's destroy undoes the dependency, the
 * internal access unpins the queue memory, leaves the IOAS and goes, and the
 * vIOMMU loses its user.
 */
export function iommufdHwQueueDestroy(_s: State, ctx: IommufdCtx, queue: HwQueue): void {
  if (queue.prevId !== null) addUser(ctx, queue.prevId, -1);
  const access = ctx.objects.get(queue.accessId);
  if (access?.type === "access" && access.ioasId !== null) {
    const ioas = getObject(ctx, access.ioasId, "ioas");
    if (ioas) {
      for (const a of ioas.areas)
        if (a.iova <= queue.pinned.last && queue.pinned.start <= a.last && a.accesses > 0) {
          a.accesses--;
          if (a.accesses === 0 && ioas.domains.length === 0 && a.source.kind !== "dmabuf") a.runs = null;
        }
      ioas.users--;
    }
    ctx.objects.delete(access.id);
  }
  addUser(ctx, queue.viommuId, -1);
}
