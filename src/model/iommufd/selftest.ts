// IOMMU_TEST_CMD (drivers/iommu/iommufd/selftest.c iommufd_test): the test
// commands of a kernel built with CONFIG_IOMMUFD_TEST (kconfig.IOMMUFD_TEST),
// for the selftest_mock host. The selftest device object (IOMMUFD_OBJ_SELFTEST)
// holds a mock device bound to the context and attached to a page table. An op
// whose answer the model cannot compute from its state is not modelled (the
// live server answers ENOSYS), never "ok".

import {
  IOMMU_TEST_OPS as OP,
  MOCK_DEV_CACHE_ID_MAX,
  MOCK_FLAGS_DEVICE_NO_DIRTY,
  MOCK_NESTED_DOMAIN_IOTLB_ID_MAX,
  MOCK_FLAGS_DEVICE_PASID,
  MOCK_PASID_WIDTH,
  IOMMU_VEVENTQ_TYPE_SELFTEST,
  iommu_viommu_event_selftest,
} from "../../uapi/iommufd.ts";
import { encodeStruct } from "../../uapi/layout.ts";
import { notModelled, type ReduceEnv } from "../framework.ts";
import type { HostDevice } from "../host/state.ts";
import { regionAt } from "../process/state.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copyFromUser } from "../uaccess/copy.ts";
import { cmdOf, respondFields } from "../uaccess/ucmd.ts";
import { domainSetDirty } from "../domain/dirty.ts";
import { domainIovaToPhys } from "../domain/domain.ts";
import { intersects } from "../domain/spans.ts";
import { NO_PASID } from "../domain/state.ts";
import { iommufdDeviceAttach, iommufdDeviceBind, iommufdDeviceDetach, iommufdDeviceUnbind } from "./device.ts";
import { iommufdFaultIopfHandler, iommufdViommuReportEvent } from "./eventq.ts";
import { firstArea } from "./io_pagetable.ts";
import { ioptRevokeFile } from "./ioas_file.ts";
import { dmabufOfFile } from "../dmabuf/dmabuf.ts";
import { installFile, unusedFd } from "../files/fd.ts";
import { addObject, ctxOf, getObject } from "./objects.ts";
import { PAGE, pinUser, sourceAddr } from "./pages.ts";
import { accessPages, accessReplaceIoas, accessRw, createAccess, destroyAccessPages } from "./selftest_access.ts";
import type { IommufdCtx, SelftestObj } from "./state.ts";

const U64_MAX = (1n << 64n) - 1n;

/** mock_dev_create: a device on the mock bus, named iommufd_mock<ida> (lowest free), in its own group. */
function mockDevCreate(s: State, devFlags: number): HostDevice | "EINVAL" {
  if (devFlags & ~(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_PASID)) return "EINVAL";
  let n = 0;
  while (s.host.devices.has(`iommufd_mock${n}`)) n++;
  const groups = new Set([...s.host.devices.values()].map((d) => d.group));
  let group = 0;
  while (groups.has(group)) group++;
  const dev: HostDevice = {
    bdf: `iommufd_mock${n}`,
    iommu: true,
    mdev: false,
    group,
    // "pasid-num-bits": MOCK_PASID_WIDTH with MOCK_FLAGS_DEVICE_PASID, else 0.
    pasid: devFlags & MOCK_FLAGS_DEVICE_PASID ? { maxLog2: MOCK_PASID_WIDTH, exec: false, priv: false } : null,
    extCaps: [],
    stdCaps: [],
    vfToken: null,
    reset: false,
    regions: [],
    vfioIndex: -1,
    cdev: null,
    groupNode: null,
    noiommu: false,
    attached: new Map(),
    mockDev: true,
  };
  if (devFlags & MOCK_FLAGS_DEVICE_NO_DIRTY) dev.dirtyTracking = false;
  s.host.devices.set(dev.bdf, dev);
  return dev;
}

/**
 * iommufd_test_mock_domain (MOCK_DOMAIN and MOCK_DOMAIN_FLAGS): the selftest object's id
 * first (iommufd_object_alloc), then the mock device is bound (the idev id) and attached
 * to `id` (an IOAS gives an automatic HWPT); on failure everything is undone and the ids
 * are free again (iommufd_object_abort).
 */
function mockDomain(s: State, call: IoctlCall, env: ReduceEnv, ctx: IommufdCtx, flags: number): Outcome {
  const cmd = cmdOf(call);
  const sobj = addObject(ctx, (id): SelftestObj => ({ id, type: "selftest", users: 1, devId: 0, bdf: "" }));
  const abort = (rc: string): Outcome => {
    ctx.objects.delete(sobj.id);
    return errno(rc);
  };
  const dev = mockDevCreate(s, flags);
  if (typeof dev === "string") return abort(dev);
  const bound = iommufdDeviceBind(s, ctx, dev.bdf, env);
  if (typeof bound === "string") {
    s.host.devices.delete(dev.bdf);
    return abort(bound);
  }
  const attached = iommufdDeviceAttach(s, ctx, bound.devId, cmd.id as number, NO_PASID, env);
  if (typeof attached === "string") {
    iommufdDeviceUnbind(s, ctx, bound.devId, env);
    s.host.devices.delete(dev.bdf);
    return abort(attached);
  }
  sobj.devId = bound.devId;
  sobj.bdf = dev.bdf;
  return respondFields(call, {
    "mock_domain_flags.out_stdev_id": sobj.id,
    "mock_domain_flags.out_hwpt_id": attached.ptId,
    "mock_domain_flags.out_idev_id": bound.devId,
  });
}

/** iommufd_test_mock_domain_replace: iommufd_device_replace of the selftest object's device (ENOENT: no such object). */
function mockDomainReplace(s: State, call: IoctlCall, env: ReduceEnv, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const sobj = getObject(ctx, cmd.id as number, "selftest");
  if (!sobj) return errno("ENOENT");
  const r = iommufdDeviceAttach(s, ctx, sobj.devId, cmd["mock_domain_replace.pt_id"] as number, NO_PASID, env, true);
  if (typeof r === "string") return errno(r);
  return respondFields(call, { "mock_domain_replace.pt_id": r.ptId });
}

/**
 * The IOVA ranges accesses hold pinned in an IOAS (iopt_area_add_access pins
 * [iova, iova + length) of the area, not the whole of it): the selftest access's
 * ACCESS_PAGES items and a HW queue's internal pin.
 */
function accessPinned(ctx: IommufdCtx, ioasId: number): { start: bigint; last: bigint }[] {
  const out: { start: bigint; last: bigint }[] = [];
  for (const o of ctx.objects.values()) {
    if (o.type === "access" && o.ioasId === ioasId) for (const it of o.staccess?.items ?? []) out.push({ start: it.iova, last: it.iova + it.length - 1n });
    if (o.type === "hw_queue") {
      const acc = ctx.objects.get(o.accessId);
      if (acc?.type === "access" && acc.ioasId === ioasId) out.push(o.pinned);
    }
  }
  return out;
}

/**
 * The pins on the frame at `pa` (page_ref_count / GUP_PIN_COUNTING_BIAS): one per page of
 * each struct iopt_pages that holds it pinned (pages.c pins an index once, however many
 * areas, domains and accesses use it). An area holds all its pages pinned while its IOAS
 * has a domain (iopt_area_fill_domains); without one, only the pages an access pinned
 * (accessPinned). A dma-buf pins nothing.
 */
function framePins(s: State, pa: bigint): number {
  const held = new Set<string>();
  for (const ctx of s.iommufd.values())
    for (const o of ctx.objects.values()) {
      if (o.type !== "ioas") continue;
      const byAccess = o.domains.length > 0 ? null : accessPinned(ctx, o.id);
      if (byAccess?.length === 0) continue;
      for (const a of o.areas) {
        if (!a.runs || a.source.kind === "dmabuf" || a.revoked) continue;
        for (const r of a.runs) {
          if (r.pa >= pa + PAGE || r.pa + r.length <= pa) continue;
          const iova = r.iova + (r.pa > pa ? 0n : pa - r.pa);
          if (byAccess && !byAccess.some((p) => p.start <= iova && iova <= p.last)) continue;
          // The index of the iopt_pages: the source page behind the run's part in this frame.
          const src = sourceAddr(a.source) + (iova - a.iova);
          held.add(`${ctx.fileId}:${a.pages}:${src - (src % PAGE)}`);
        }
      }
    }
  return held.size;
}

/**
 * iommufd_test_md_check_refs: every page of [uptr, uptr + length) must be mapped
 * (get_user_pages_fast: EFAULT) and, unless it is a compound (huge) page, pinned `refs`
 * times (EIO otherwise): framePins. A type1 container's pins, which the model does not
 * count per page, make the op not modelled.
 */
function mdCheckRefs(s: State, call: IoctlCall): Outcome | ReturnType<typeof notModelled> {
  const cmd = cmdOf(call);
  const uptr = cmd["check_refs.uptr"] as bigint;
  const length = cmd["check_refs.length"] as bigint;
  const refs = cmd["check_refs.refs"] as number;
  if (length % PAGE !== 0n || uptr % PAGE !== 0n || uptr + length > U64_MAX) return errno("EINVAL");
  for (const c of s.vfio.containers.values())
    if (c.type1?.dmaList.some((d) => d.runs)) return notModelled(call.ev, "IOMMU_TEST_OP_MD_CHECK_REFS with type1 pins");
  const p = s.processes.get(call.ev.pid as number);
  for (let va = uptr; va < uptr + length; va += PAGE) {
    const runs = pinUser(s, call.ev.pid as number, va, 0n, PAGE);
    if (typeof runs === "string") return errno(runs);
    if (regionAt(p!, va)!.pageSize > Number(PAGE)) continue; // PageCompound: not checked
    if (framePins(s, runs[0]!.pa) !== refs) return errno("EIO");
  }
  return { ret: 0 };
}

/** iommufd_test_dev_check_cache: the mock device's fake cache entry (ENOENT: no device; EINVAL: a bad index or another value). */
function devCheckCache(call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const idev = getObject(ctx, cmd.id as number, "device");
  if (!idev) return errno("ENOENT");
  const id = cmd["check_dev_cache.id"] as number;
  if (!idev.mock) throw new Error(`IOMMU_TEST_OP_DEV_CHECK_CACHE: device ${idev.id} is not a mock device`);
  return id > MOCK_DEV_CACHE_ID_MAX || idev.mock.cache[id] !== cmd["check_dev_cache.cache"] ? errno("EINVAL") : { ret: 0 };
}

/**
 * iommufd_test_md_check_iotlb: a nested HWPT's mock IOTLB entry (get_md_pagetable_nested:
 * ENOENT without a nested HWPT of that id; EINVAL for a bad index or another value).
 */
function mdCheckIotlb(s: State, call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const hwpt = getObject(ctx, cmd.id as number, "hwpt_nested");
  if (!hwpt) return errno("ENOENT");
  const dom = s.domains.table.get(hwpt.domainId);
  if (!dom || !("iotlb" in dom) || !dom.iotlb) return errno("EINVAL");
  const id = cmd["check_iotlb.id"] as number;
  return id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX || dom.iotlb[id] !== cmd["check_iotlb.iotlb"] ? errno("EINVAL") : { ret: 0 };
}

/**
 * iommufd_test_add_reserved: iopt_reserve_iova(start, start + length - 1, NULL) in an IOAS
 * (EINVAL for no length, EOVERFLOW past the end of u64, ENOENT: no IOAS; EADDRINUSE over an
 * area or an allowed range).
 */
function addReserved(call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const start = cmd["add_reserved.start"] as bigint;
  const length = cmd["add_reserved.length"] as bigint;
  if (length === 0n) return errno("EINVAL");
  const last = start + length - 1n;
  if (last > U64_MAX) return errno("EOVERFLOW");
  const ioas = getObject(ctx, cmd.id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  if (firstArea(ioas, start, last) || intersects(ioas.allowed, start, last)) return errno("EADDRINUSE");
  ioas.reserved.push({ start, last, owner: "selftest" });
  return { ret: 0 };
}

/**
 * iommufd_test_md_check_pa: for each page of the mock domain's smallest size, the domain's
 * iova_to_phys must be the physical address behind the user address (EINVAL otherwise, or
 * for a misaligned iova/length/uptr; EFAULT: the user page is not mapped; ENOENT: no paging
 * HWPT of that id; EINVAL: a domain of another driver).
 */
function mdCheckMap(s: State, call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const hwpt = getObject(ctx, cmd.id as number, "hwpt_paging");
  if (!hwpt) return errno("ENOENT");
  const dom = s.domains.table.get(hwpt.domainId);
  if (dom?.type !== "paging" || dom.format !== "selftest") return errno("EINVAL");
  let iova = cmd["check_map.iova"] as bigint;
  let length = cmd["check_map.length"] as bigint;
  let uptr = cmd["check_map.uptr"] as bigint;
  const bitmap = dom.pgsizeBitmap;
  const pageSize = bitmap & -bitmap;
  if (iova % pageSize !== 0n || length % pageSize !== 0n || uptr % pageSize !== 0n || uptr + length > U64_MAX) return errno("EINVAL");
  for (; length > 0n; length -= pageSize, iova += pageSize, uptr += pageSize) {
    const runs = pinUser(s, call.ev.pid as number, uptr - (uptr % PAGE), 0n, PAGE);
    if (typeof runs === "string") return errno(runs);
    const io = domainIovaToPhys(s, dom, iova);
    if (!io || io.pa !== runs[0]!.pa + (uptr % PAGE)) return errno("EINVAL");
  }
  return { ret: 0 };
}

/**
 * iommufd_test_dirty: the mock domain's set_dirty for each bit set in the caller's bitmap
 * (one bit per page_size unit from iova); out_nr_dirty is the count of bits. EINVAL for a
 * zero or misaligned size or a NULL bitmap, or a domain without dirty tracking on;
 * EOVERFLOW above SZ_16M * 8 units; EFAULT when the bitmap cannot be read.
 */
function dirty(s: State, call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const iova = cmd["dirty.iova"] as bigint;
  const length = cmd["dirty.length"] as bigint;
  const pageSize = cmd["dirty.page_size"] as bigint;
  const uptr = cmd["dirty.uptr"] as bigint;
  if (pageSize === 0n || length === 0n || iova % pageSize !== 0n || length % pageSize !== 0n || uptr === 0n) return errno("EINVAL");
  const max = length / pageSize;
  if (max > (16n << 20n) * 8n) return errno("EOVERFLOW");
  const hwpt = getObject(ctx, cmd.id as number, "hwpt_paging");
  if (!hwpt) return errno("ENOENT");
  const dom = s.domains.table.get(hwpt.domainId);
  if (dom?.type !== "paging" || dom.format !== "selftest") return errno("EINVAL");
  if (!dom.dirtyTracking) return errno("EINVAL");
  const p = s.processes.get(call.ev.pid as number)!;
  const bitmap = copyFromUser(s, p, uptr, Number((max + 7n) / 8n));
  if (!bitmap) return errno("EFAULT");
  let count = 0;
  for (let i = 0; i < Number(max); i++) {
    if (!(bitmap[i >> 3]! & (1 << (i & 7)))) continue;
    domainSetDirty(s, dom, iova + BigInt(i) * pageSize);
    count++;
  }
  return respondFields(call, { "dirty.out_nr_dirty": BigInt(count) });
}

/**
 * iommufd_test_pasid_attach / _replace: iommufd_device_attach (replace: iommufd_device_replace)
 * of the selftest object's device at a PASID; the struct goes back with pt_id the HWPT.
 */
function pasidAttach(s: State, call: IoctlCall, env: ReduceEnv, ctx: IommufdCtx, replace: boolean): Outcome {
  const cmd = cmdOf(call);
  const sobj = getObject(ctx, cmd.id as number, "selftest");
  if (!sobj) return errno("ENOENT");
  const r = iommufdDeviceAttach(s, ctx, sobj.devId, cmd["pasid_attach.pt_id"] as number, cmd["pasid_attach.pasid"] as number, env, replace);
  if (typeof r === "string") return errno(r);
  return respondFields(call, { "pasid_attach.pt_id": r.ptId });
}

/** iommufd_test_pasid_detach: iommufd_device_detach at a PASID (nothing attached there: a no-op). */
function pasidDetach(s: State, call: IoctlCall, env: ReduceEnv, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const sobj = getObject(ctx, cmd.id as number, "selftest");
  if (!sobj) return errno("ENOENT");
  iommufdDeviceDetach(s, ctx, sobj.devId, cmd["pasid_attach.pasid"] as number, env);
  return { ret: 0 };
}

/**
 * iommufd_test_pasid_check_hwpt: the domain attached at the PASID of the mock device's group
 * (iommu_attach_handle_get) must be the HWPT's (EINVAL otherwise); hwpt_id 0 checks that
 * nothing is attached there. ENOENT: no selftest object, or no HWPT of that id.
 */
function pasidCheckHwpt(s: State, call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const sobj = getObject(ctx, cmd.id as number, "selftest");
  if (!sobj) return errno("ENOENT");
  const attached = s.host.devices.get(sobj.bdf)?.attached.get(cmd["pasid_attach.pasid"] as number);
  const hwptId = cmd["pasid_check.hwpt_id"] as number;
  if (hwptId === 0) return attached === undefined ? { ret: 0 } : errno("EINVAL");
  const hwpt = ctx.objects.get(hwptId);
  if (!hwpt || (hwpt.type !== "hwpt_paging" && hwpt.type !== "hwpt_nested")) return errno("ENOENT");
  return attached === hwpt.domainId ? { ret: 0 } : errno("EINVAL");
}

/**
 * iommufd_test_dmabuf_get: a dma-buf of the selftest's own zeroed kernel memory
 * (kzalloc: contiguous frames of the kernel allocator, never reused here) of
 * `length` rounded up to pages; EINVAL for 0 or more than 512 pages; the new
 * fd (dma_buf_fd: EMFILE) is the return value.
 */
function dmabufGet(s: State, call: IoctlCall): Outcome {
  const cmd = cmdOf(call);
  const len = ((BigInt(cmd["dmabuf_get.length"] as number) + PAGE - 1n) / PAGE) * PAGE;
  if (len === 0n || len > PAGE * 512n) return errno("EINVAL");
  const fd = unusedFd(call.process);
  if (fd === "EMFILE") return errno("EMFILE");
  const pa = BigInt(s.memory.kernelNextPfn) * PAGE;
  s.memory.kernelNextPfn += Number(len / PAGE);
  const file = installFile(s, call.process, fd, { path: "anon_inode:dmabuf", kind: "dmabuf" });
  s.dmabufs.set(file.id, {
    fileId: file.id,
    bdf: null,
    regionIndex: -1,
    ranges: [{ offset: 0n, length: len }],
    phys: [{ pa, length: len }],
    size: len,
    revoked: false,
    revokeGen: 0,
    exporter: "iommufd_test",
  });
  return { fd };
}

/**
 * iommufd_test_dmabuf_revoke: dma_buf_get (EBADF: no such fd; EINVAL: not a
 * dma-buf), EOPNOTSUPP for another exporter's buffer; priv->revoked is set as
 * asked, then dma_buf_invalidate_mappings: every importer is revoked
 * (iopt_revoke_notify), whether the buffer was revoked or restored.
 */
function dmabufRevoke(s: State, call: IoctlCall): Outcome {
  const cmd = cmdOf(call);
  const id = call.process.fds.get(cmd["dmabuf_revoke.dmabuf_fd"] as number);
  if (id === undefined) return errno("EBADF");
  const b = dmabufOfFile(s, id);
  if (!b) return errno("EINVAL");
  if (b.exporter !== "iommufd_test") return errno("EOPNOTSUPP");
  b.revoked = (cmd["dmabuf_revoke.revoked"] as number) !== 0;
  b.revokeGen++;
  ioptRevokeFile(s, id);
  return { ret: 0 };
}

/** IOMMU_FAULT_PAGE_REQUEST_PASID_VALID and _LAST_PAGE (include/linux/iommu.h), as iommu_hwpt_pgfault.flags carries them. */
const FAULT_PASID_VALID = 1 << 0;
const FAULT_LAST_PAGE = 1 << 1;

/**
 * iommufd_test_trigger_iopf: a last-page request from the mock device (ENOENT: no device;
 * EINVAL: not a mock device), PASID_VALID unless pasid is IOMMU_NO_PASID (0), reported with
 * iommu_report_device_fault, whose failure the op ignores. find_fault_handler: the handle at
 * the PASID, or (mock_ops.user_pasid_table) a nested domain at the RID; without a PASID the
 * RID's handle; it delivers only to a domain with an iopf_handler (a HWPT with a fault queue).
 */
function triggerIopf(call: IoctlCall, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const idev = getObject(ctx, cmd["trigger_iopf.dev_id"] as number, "device");
  if (!idev) return errno("ENOENT");
  if (!idev.mock) return errno("EINVAL");
  const pasid = cmd["trigger_iopf.pasid"] as number;
  const flags = FAULT_LAST_PAGE | (pasid !== 0 ? FAULT_PASID_VALID : 0);
  let attachPasid = pasid !== 0 ? pasid : NO_PASID;
  let hwpt = ctx.objects.get(idev.attach.get(attachPasid) ?? -1);
  if (!hwpt && pasid !== 0) {
    attachPasid = NO_PASID;
    hwpt = ctx.objects.get(idev.attach.get(NO_PASID) ?? -1);
    if (hwpt?.type !== "hwpt_nested") hwpt = undefined;
  }
  if ((hwpt?.type === "hwpt_nested" || hwpt?.type === "hwpt_paging") && hwpt.faultId !== null) {
    const fault = getObject(ctx, hwpt.faultId, "fault")!;
    iommufdFaultIopfHandler(fault, {
      hwptId: hwpt.id,
      attachPasid,
      devId: idev.id,
      flags,
      pasid,
      grpid: cmd["trigger_iopf.grpid"] as number,
      perm: cmd["trigger_iopf.perm"] as number,
      addr: cmd["trigger_iopf.addr"] as bigint,
    });
  }
  return { ret: 0 };
}

/**
 * iommufd_test_trigger_vevent: the device (ENOENT); the mock device's vIOMMU and virtual id,
 * which mock_domain_nop_attach records from the nested HWPT of a vIOMMU at the RID and the
 * device's vDEVICE under it (none: ENOENT); iommufd_viommu_report_event of an
 * iommu_viommu_event_selftest to the vIOMMU's IOMMU_VEVENTQ_TYPE_SELFTEST queue.
 */
function triggerVevent(call: IoctlCall, ctx: IommufdCtx): Outcome | ReturnType<typeof notModelled> {
  const cmd = cmdOf(call);
  const idev = getObject(ctx, cmd["trigger_iopf.dev_id"] as number, "device");
  if (!idev) return errno("ENOENT");
  if (!idev.mock) return notModelled(call.ev, "IOMMU_TEST_OP_TRIGGER_VEVENT on a device that is not a mock device");
  const hwpt = ctx.objects.get(idev.attach.get(NO_PASID) ?? -1);
  const vdev = idev.vdevId == null ? undefined : ctx.objects.get(idev.vdevId);
  if (hwpt?.type !== "hwpt_nested" || hwpt.viommuId === null || vdev?.type !== "vdevice" || vdev.viommuId !== hwpt.viommuId || !vdev.virtId)
    return errno("ENOENT");
  const data = encodeStruct(iommu_viommu_event_selftest, { virt_id: Number(vdev.virtId & 0xffffffffn) });
  const rc = iommufdViommuReportEvent(ctx, hwpt.viommuId, IOMMU_VEVENTQ_TYPE_SELFTEST, data);
  return rc ? errno(rc) : { ret: 0 };
}

/** iommufd_test: one op per call; an unknown op is EOPNOTSUPP. */
export function iommufdTest(s: State, call: IoctlCall, env: ReduceEnv): Outcome | ReturnType<typeof notModelled> {
  const cmd = cmdOf(call);
  const op = cmd.op as number;
  const ctx = ctxOf(s, call);
  switch (op) {
    case OP.MOCK_DOMAIN:
      return mockDomain(s, call, env, ctx, 0);
    case OP.MOCK_DOMAIN_FLAGS:
      return mockDomain(s, call, env, ctx, cmd["mock_domain_flags.dev_flags"] as number);
    case OP.MOCK_DOMAIN_REPLACE:
      return mockDomainReplace(s, call, env, ctx);
    case OP.ADD_RESERVED:
      return addReserved(call, ctx);
    case OP.MD_CHECK_MAP:
      return mdCheckMap(s, call, ctx);
    case OP.PASID_ATTACH:
      return pasidAttach(s, call, env, ctx, false);
    case OP.PASID_REPLACE:
      return pasidAttach(s, call, env, ctx, true);
    case OP.PASID_DETACH:
      return pasidDetach(s, call, env, ctx);
    case OP.PASID_CHECK_HWPT:
      return pasidCheckHwpt(s, call, ctx);
    case OP.DIRTY:
      return dirty(s, call, ctx);
    case OP.TRIGGER_IOPF:
      return triggerIopf(call, ctx);
    case OP.TRIGGER_VEVENT:
      return triggerVevent(call, ctx);
    case OP.DEV_CHECK_CACHE:
      return devCheckCache(call, ctx);
    case OP.MD_CHECK_IOTLB:
      return mdCheckIotlb(s, call, ctx);
    case OP.MD_CHECK_REFS:
      return mdCheckRefs(s, call);
    case OP.DMABUF_GET:
      return dmabufGet(s, call);
    case OP.DMABUF_REVOKE:
      return dmabufRevoke(s, call);
    case OP.CREATE_ACCESS:
      return createAccess(s, call, env, ctx);
    case OP.ACCESS_REPLACE_IOAS:
      return accessReplaceIoas(s, call);
    case OP.ACCESS_PAGES:
      return accessPages(s, call);
    case OP.DESTROY_ACCESS_PAGES:
      return destroyAccessPages(s, call);
    case OP.ACCESS_RW:
      return accessRw(s, call);
    case OP.SET_TEMP_MEMORY_LIMIT:
      // Protects _batch_init: below sizeof(unsigned long) + sizeof(u32) is EINVAL. The limit
      // only sizes the kernel's temporary batches, which no answer of the model depends on.
      if ((cmd["memory_limit.limit"] as number) < 12) return errno("EINVAL");
      return { ret: 0 };
    default: {
      const name = Object.entries(OP).find(([, v]) => v === op)?.[0];
      if (name === undefined) return errno("EOPNOTSUPP");
      return notModelled(call.ev, `IOMMU_TEST_OP_${name}`);
    }
  }
}

/** iommufd_selftest_destroy (TYPE_IDEV): the mock device is detached, unbound and unregistered. */
export function iommufdSelftestDestroy(s: State, ctx: IommufdCtx, sobj: SelftestObj, env: ReduceEnv): void {
  iommufdDeviceDetach(s, ctx, sobj.devId, NO_PASID, env);
  iommufdDeviceUnbind(s, ctx, sobj.devId, env);
  s.host.devices.delete(sobj.bdf);
}
