// Device objects (drivers/iommu/iommufd/device.c): binding a device to an
// iommufd context, attaching it (its RID or a PASID) to a HWPT or an IOAS,
// replacing and detaching, and unbinding. VFIO (src/model/vfio) is the driver
// that calls this API; nothing here is an ioctl of its own.
//
// Attachments live per iommu group (struct iommufd_group, igroup) in the
// kernel: the first device of the group to attach a PASID attaches the group,
// later ones must name the same HWPT (EINVAL) and only add themselves. The
// model keeps each device's attachments (IommufdDevice.attach: PASID -> HWPT,
// NO_PASID for the RID) and derives the group's from the devices of this
// context in the same host group. A device without an IOMMU has a dummy group
// of its own (seed 003).
//
// Users: the driver holds one on its device object from bind to unbind (so
// IOMMU_DESTROY of a device is always EBUSY), every attachment one more on
// the device and one on the HWPT; a bound device holds the context's file
// (iommufd_ctx_get; a selftest mock device does not), so closing /dev/iommu
// does not release the context before the device is unbound.

import { iommuAttach, iommuDetach } from "../domain/attach.ts";
import { domainOf } from "../domain/domain.ts";
import { NO_PASID, type IovaRange } from "../domain/state.ts";
import { fileGet, filePut } from "../files/lifecycle.ts";
import { NotModelledError, type ReduceEnv } from "../framework.ts";
import { domainOwner, driverOf, isErr, maxPasids, NOIOMMU_DRIVER, Unmodelled, type AttachTarget, type IommuDriver, type Verdict } from "../iommu/index.ts";
import type { State } from "../state.ts";
import { driverDevice, findHwptPaging, hwptPagingAlloc, iommufdHwptPagingDestroy, pasidCompat } from "./hw_pagetable.ts";
import { iommufdAutoResponseFaults } from "./eventq.ts";
import { ioptReserve, ioptUnreserve } from "./io_pagetable.ts";
import { addObject, destroyWith, getObject, hostDeviceOf } from "./objects.ts";
import type { HwptNested, HwptPaging, IommufdCtx, IommufdDevice, Ioas } from "./state.ts";
import { iommufdVdeviceDestroy } from "./viommu.ts";

type Hwpt = HwptPaging | HwptNested;

function driverOfDevice(s: State, idev: IommufdDevice): IommuDriver {
  return driverOf(s, hostDeviceOf(s, idev));
}

/** A driver verdict for the API's callers: an errno name; a path the model does not cover is a thrown not-modelled fault. */
function plain<T>(v: Verdict<T>): T | string {
  if (v instanceof Unmodelled) throw new NotModelledError(`${v.what} is not modelled yet`);
  return v;
}

// ---------------------------------------------------------------------------
// Groups

/** The igroup a device belongs to: its host IOMMU group, or a dummy group of its own without an IOMMU. */
function groupKey(s: State, idev: IommufdDevice): string {
  const hd = hostDeviceOf(s, idev);
  return idev.noiommu || hd.group === null ? `dummy:${idev.id}` : `group:${hd.group}`;
}

/** The devices of this context in the device's igroup, by id (the order of the kernel's device xarray). */
function groupDevices(s: State, ctx: IommufdCtx, idev: IommufdDevice): IommufdDevice[] {
  const key = groupKey(s, idev);
  const out: IommufdDevice[] = [];
  for (const o of ctx.objects.values()) if (o.type === "device" && groupKey(s, o) === key) out.push(o);
  return out.sort((a, b) => a.id - b.id);
}

/** igroup->pasid_attach[pasid]: the HWPT the group is attached to for this PASID and the devices attached. */
function groupAttach(s: State, ctx: IommufdCtx, idev: IommufdDevice, pasid: number): { hwpt: Hwpt; devs: IommufdDevice[] } | undefined {
  const devs = groupDevices(s, ctx, idev).filter((d) => d.attach.has(pasid));
  if (devs.length === 0) return undefined;
  const hwpt = ctx.objects.get(devs[0]!.attach.get(pasid)!);
  if (!hwpt || (hwpt.type !== "hwpt_paging" && hwpt.type !== "hwpt_nested")) throw new Error(`device ${devs[0]!.id}: attachment to a missing HWPT`);
  return { hwpt, devs };
}

/** The IOAS behind a paging HWPT. */
function ioasOf(ctx: IommufdCtx, hwpt: HwptPaging): Ioas {
  const ioas = getObject(ctx, hwpt.ioasId, "ioas");
  if (!ioas) throw new Error(`HWPT ${hwpt.id}: IOAS ${hwpt.ioasId} is gone`);
  return ioas;
}

/**
 * iopt_table_enforce_dev_resv_regions for one device: every reserved region
 * its driver reports (iommu_get_resv_regions), EADDRINUSE over an area or
 * allowed range.
 */
function reserveDevice(s: State, ioas: Ioas, idev: IommufdDevice): string | undefined {
  const resv: readonly IovaRange[] = driverOfDevice(s, idev).resvRegions ?? [];
  return ioptReserve(ioas, idev.id, resv);
}

/** iommufd_group_remove_reserved_iova: every attached (RID) device of the group drops its reservations in the IOAS. */
function groupRemoveReservedIova(s: State, ctx: IommufdCtx, idev: IommufdDevice, hwpt: HwptPaging): void {
  const rid = groupAttach(s, ctx, idev, NO_PASID);
  for (const cur of rid?.devs ?? []) ioptUnreserve(ioasOf(ctx, hwpt), cur.id);
}

// ---------------------------------------------------------------------------
// Attach, replace, detach of one HWPT

/**
 * iommufd_hwpt_pasid_compat: a HWPT without IOMMU_HWPT_ALLOC_PASID cannot
 * take the RID while a PASID of the group is attached, nor any PASID; a PASID
 * also needs the RID's HWPT (if any) to be PASID-compatible. EINVAL.
 */
function pasidCompatCheck(s: State, ctx: IommufdCtx, hwpt: Hwpt, idev: IommufdDevice, pasid: number): string | undefined {
  if (pasid === NO_PASID) {
    if (pasidCompat(hwpt)) return undefined;
    for (const d of groupDevices(s, ctx, idev)) for (const p of d.attach.keys()) if (p !== NO_PASID) return "EINVAL";
    return undefined;
  }
  if (!pasidCompat(hwpt)) return "EINVAL";
  const rid = groupAttach(s, ctx, idev, NO_PASID);
  if (rid && !pasidCompat(rid.hwpt)) return "EINVAL";
  return undefined;
}

/**
 * The iommu core's attach of a domain (iommu_attach_group_handle,
 * iommu_replace_group_handle for the RID; iommu_attach_device_pasid,
 * iommu_replace_device_pasid for a PASID) and the driver's attach_dev /
 * set_dev_pasid behind it.
 */
function coreAttach(s: State, ctx: IommufdCtx, idev: IommufdDevice, hwpt: Hwpt, pasid: number, replace: boolean): Verdict<undefined> {
  const hd = hostDeviceOf(s, idev);
  const driver = driverOf(s, hd);
  const host = s.host.iommu;
  const domain = domainOf(s, hwpt.domainId);
  const target = attachTarget(s, ctx, idev, hwpt);
  if (pasid === NO_PASID) {
    // __iommu_attach_group: the domain must belong to the device's ops
    if (domainOwner(s, domain) !== driver) return "EINVAL";
    return driver.attachDev(host, driverDevice(s, idev), target);
  }
  // iommu_attach_device_pasid / iommu_replace_device_pasid
  if (!driver.setDevPasid) return "EOPNOTSUPP";
  if (domainOwner(s, domain) !== driver) return "EINVAL";
  if (!replace)
    for (const other of s.host.devices.values()) {
      if (other.group !== hd.group || other.noiommu) continue;
      const max = maxPasids(host, other, driverOf(s, other));
      if (max === 0n || BigInt(pasid) >= max) return "EINVAL";
    }
  return driver.setDevPasid(host, driverDevice(s, idev), target, pasid);
}

/** The domain handed to the driver, with what iommufd knows of the vIOMMU a nested one belongs to (iommufd_viommu_get_vdev_id). */
function attachTarget(s: State, ctx: IommufdCtx, idev: IommufdDevice, hwpt: Hwpt): AttachTarget {
  const domain = domainOf(s, hwpt.domainId);
  if (hwpt.type !== "hwpt_nested" || hwpt.viommuId === null) return { domain };
  const vdev = idev.vdevId == null ? undefined : ctx.objects.get(idev.vdevId);
  return { domain, viommu: { vdevOfDevice: vdev?.type === "vdevice" && vdev.viommuId === hwpt.viommuId } };
}

/** The state change of a set_dev_pasid that went through (the mock's PASID 1024 toggle). */
function commitSetDevPasid(s: State, idev: IommufdDevice, pasid: number): void {
  driverOfDevice(s, idev).commitSetDevPasid?.(driverDevice(s, idev), pasid);
}

/** iommufd_hwpt_attach_device: a device without an IOMMU attaches without the hardware; else PASID compatibility, then the core. */
function hwptAttachDevice(s: State, ctx: IommufdCtx, hwpt: Hwpt, idev: IommufdDevice, pasid: number): Verdict<undefined> {
  if (idev.noiommu) return undefined;
  const err = pasidCompatCheck(s, ctx, hwpt, idev, pasid);
  if (err) return err;
  return coreAttach(s, ctx, idev, hwpt, pasid, false);
}

/**
 * iommufd_hw_pagetable_attach: the device must not be attached for this PASID
 * yet (EBUSY) and the group's HWPT, if any, must be this one (EINVAL); a RID
 * attach to a paging HWPT (or a nested one's parent) reserves the device's
 * regions in the IOAS; only the first device of the group attaches the
 * hardware. The HWPT gains a user.
 */
function hwptAttach(s: State, ctx: IommufdCtx, hwpt: Hwpt, idev: IommufdDevice, pasid: number): Verdict<undefined> {
  const paging = findHwptPaging(ctx, hwpt);
  const attachResv = paging !== undefined && pasid === NO_PASID;
  const ga = groupAttach(s, ctx, idev, pasid);
  if (ga?.devs.includes(idev)) return "EBUSY";
  if (ga && ga.hwpt.id !== hwpt.id) return "EINVAL";
  if (attachResv && !idev.noiommu) {
    const err = reserveDevice(s, ioasOf(ctx, paging), idev);
    if (err) return err;
  }
  if (!ga) {
    const r = hwptAttachDevice(s, ctx, hwpt, idev, pasid);
    if (isErr(r)) {
      if (attachResv) ioptUnreserve(ioasOf(ctx, paging), idev.id);
      return r;
    }
    if (pasid !== NO_PASID && !idev.noiommu) commitSetDevPasid(s, idev, pasid);
  }
  hwpt.users++;
  idev.attach.set(pasid, hwpt.id);
  iommuAttach(s, idev.bdf, pasid, domainOf(s, hwpt.domainId));
  return undefined;
}

/**
 * iommufd_hw_pagetable_put: an automatic paging domain is destroyed with its
 * last user (iommufd_object_put_and_try_destroy), any other HWPT just loses one.
 */
function hwptPut(s: State, ctx: IommufdCtx, hwpt: Hwpt, env: ReduceEnv): void {
  hwpt.users--;
  if (hwpt.type === "hwpt_paging" && hwpt.auto && hwpt.users === 1) destroyWith(s, ctx, hwpt, iommufdHwptPagingDestroy, env);
}

/**
 * iommufd_hw_pagetable_detach + the put of its caller: the device leaves the
 * PASID; the last device of the group detaches the hardware (for a PASID the
 * blocked domain's set_dev_pasid); a RID detach drops the device's
 * reservations; the HWPT loses the user (an automatic domain may go).
 * undefined when the device was not attached.
 */
function hwptDetach(s: State, ctx: IommufdCtx, idev: IommufdDevice, pasid: number, env: ReduceEnv): Hwpt | undefined {
  const ga = groupAttach(s, ctx, idev, pasid);
  if (!ga?.devs.includes(idev)) return undefined;
  const hwpt = ga.hwpt;
  idev.attach.delete(pasid);
  iommuDetach(s, idev.bdf, pasid);
  if (ga.devs.length === 1 && pasid !== NO_PASID && !idev.noiommu) driverOfDevice(s, idev).blockPasid?.(driverDevice(s, idev), pasid);
  // iommufd_hwpt_detach_device: the handle's pending faults are answered (iommufd_auto_response_faults)
  if (ga.devs.length === 1) iommufdAutoResponseFaults(ctx, hwpt.faultId, hwpt.id, idev.id, pasid);
  const paging = findHwptPaging(ctx, hwpt);
  if (paging && pasid === NO_PASID) ioptUnreserve(ioasOf(ctx, paging), idev.id);
  hwptPut(s, ctx, hwpt, env);
  return hwpt;
}

/**
 * iommufd_device_do_replace: the group must be attached for this PASID and
 * this device with it (EINVAL); the same HWPT is a no-op; a RID moving to
 * another IOAS reserves every attached device's regions there first; the core
 * and driver replace (PASID compatibility first); the old IOAS's reservations
 * go; the group's attachment and the users move to the new HWPT. Returns the
 * old HWPT, which the caller puts.
 */
function doReplace(s: State, ctx: IommufdCtx, idev: IommufdDevice, pasid: number, hwpt: Hwpt): Verdict<Hwpt | null> {
  const ga = groupAttach(s, ctx, idev, pasid);
  if (!ga) return "EINVAL";
  const old = ga.hwpt;
  if (!ga.devs.includes(idev)) return "EINVAL";
  if (hwpt.id === old.id) return null;
  const paging = findHwptPaging(ctx, hwpt);
  const oldPaging = findHwptPaging(ctx, old);
  const attachResv = paging !== undefined && pasid === NO_PASID;
  if (attachResv && (!oldPaging || paging.ioasId !== oldPaging.ioasId)) {
    // iommufd_group_do_replace_reserved_iova
    for (const cur of ga.devs) {
      if (cur.noiommu) continue;
      const err = reserveDevice(s, ioasOf(ctx, paging), cur);
      if (err) {
        groupRemoveReservedIova(s, ctx, idev, paging);
        return err;
      }
    }
  }
  // iommufd_hwpt_replace_device
  let r: Verdict<undefined>;
  if (!idev.noiommu) {
    const err = pasidCompatCheck(s, ctx, hwpt, idev, pasid);
    r = err ?? coreAttach(s, ctx, idev, hwpt, pasid, true);
  }
  if (isErr(r)) {
    if (attachResv) groupRemoveReservedIova(s, ctx, idev, paging);
    return r;
  }
  if (pasid !== NO_PASID && !idev.noiommu) commitSetDevPasid(s, idev, pasid);
  if (oldPaging && pasid === NO_PASID && (!paging || paging.ioasId !== oldPaging.ioasId)) groupRemoveReservedIova(s, ctx, idev, oldPaging);
  for (const d of ga.devs) {
    d.attach.set(pasid, hwpt.id);
    iommuAttach(s, d.bdf, pasid, domainOf(s, hwpt.domainId));
  }
  // iommufd_hwpt_replace_device: the old HWPT's faults of the handle are answered (iommufd_auto_response_faults)
  iommufdAutoResponseFaults(ctx, old.faultId, old.id, idev.id, pasid);
  const n = ga.devs.length;
  hwpt.users += n;
  old.users -= n - 1;
  return old;
}

/**
 * iommufd_device_auto_get_domain: reuse the first automatic domain of the
 * IOAS (in creation order) that takes the device (EINVAL from one means "try
 * the next", any other errno ends the search), else allocate one: attached
 * immediately for an attach, replaced onto after filling for a replace; it
 * becomes automatic once the device is on it.
 */
function autoGetDomain(
  s: State,
  ctx: IommufdCtx,
  idev: IommufdDevice,
  pasid: number,
  ioas: Ioas,
  replace: boolean,
  env: ReduceEnv,
): Verdict<{ ptId: number; destroy: Hwpt | null }> {
  const autos: HwptPaging[] = [];
  for (const o of ctx.objects.values()) if (o.type === "hwpt_paging" && o.ioasId === ioas.id && o.auto) autos.push(o);
  autos.sort((a, b) => (a.seq ?? a.id) - (b.seq ?? b.id));
  for (const hwpt of autos) {
    const r = replace ? doReplace(s, ctx, idev, pasid, hwpt) : hwptAttach(s, ctx, hwpt, idev, pasid);
    if (r === "EINVAL") continue;
    if (isErr(r)) return r;
    return { ptId: hwpt.id, destroy: r ?? null };
  }
  const hwpt = hwptPagingAlloc(
    s,
    ctx,
    ioas,
    idev,
    0,
    null,
    env,
    replace
      ? undefined
      : {
          attach: (h) => hwptAttach(s, ctx, h, idev, pasid),
          detach: () => void hwptDetach(s, ctx, idev, pasid, env),
        },
  );
  if (isErr(hwpt)) return hwpt;
  let destroy: Hwpt | null = null;
  if (replace) {
    const r = doReplace(s, ctx, idev, pasid, hwpt);
    if (isErr(r)) {
      destroyWith(s, ctx, hwpt, iommufdHwptPagingDestroy, env);
      return r;
    }
    destroy = r;
  }
  hwpt.auto = true;
  return { ptId: hwpt.id, destroy };
}

/**
 * iommufd_device_change_pt: pt_id must name an object (ENOENT); a paging or
 * nested HWPT is attached (replaced) directly, an IOAS through an automatic
 * domain, anything else is EINVAL; the HWPT a replace leaves is put last.
 */
function changePt(s: State, ctx: IommufdCtx, idev: IommufdDevice, pasid: number, ptId: number, replace: boolean, env: ReduceEnv): Verdict<number> {
  const pt = ctx.objects.get(ptId);
  if (!pt) return "ENOENT";
  let ptOut = ptId;
  let destroy: Hwpt | null = null;
  if (pt.type === "hwpt_paging" || pt.type === "hwpt_nested") {
    const r = replace ? doReplace(s, ctx, idev, pasid, pt) : hwptAttach(s, ctx, pt, idev, pasid);
    if (isErr(r)) return r;
    destroy = r ?? null;
  } else if (pt.type === "ioas") {
    const r = autoGetDomain(s, ctx, idev, pasid, pt, replace, env);
    if (isErr(r)) return r;
    ptOut = r.ptId;
    destroy = r.destroy;
  } else return "EINVAL";
  if (destroy) hwptPut(s, ctx, destroy, env);
  return ptOut;
}

// ---------------------------------------------------------------------------
// The API VFIO calls

/**
 * iommufd_device_bind(ictx, dev): a device object for this context.
 *
 * Contract: `bdf` is a host device VFIO drives. A device without an IOMMU
 * binds only with the no-IOMMU cdev series (switch noiommu-cdev: a dummy
 * igroup); before it device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY)
 * fails: EINVAL. A device with an IOMMU but no group: ENODEV
 * (iommufd_get_group). A device whose group another context owns (one of its
 * devices is bound there): EPERM (iommu_device_claim_dma_owner). On success
 * the object has two users (the table's and the driver's: IOMMU_DESTROY of it
 * is EBUSY until iommufd_device_unbind) and the context's file gains a kernel
 * reference.
 */
export function iommufdDeviceBind(s: State, ctx: IommufdCtx, bdf: string, env: ReduceEnv): { devId: number } | string {
  const hd = s.host.devices.get(bdf);
  if (!hd) throw new Error(`iommufd_device_bind: no host device ${bdf}`);
  const driver = driverOf(s, hd);
  if (driver === NOIOMMU_DRIVER) {
    if (!env.profile.on("noiommu-cdev")) return "EINVAL";
  } else {
    if (hd.group === null) return "ENODEV";
    for (const other of s.iommufd.values()) {
      if (other === ctx) continue;
      for (const o of other.objects.values()) {
        if (o.type !== "device" || o.noiommu) continue;
        if (s.host.devices.get(o.bdf)?.group === hd.group) return "EPERM";
      }
    }
  }
  const idev = addObject(ctx, (id): IommufdDevice => {
    const d: IommufdDevice = { id, type: "device", users: 2, bdf, noiommu: driver === NOIOMMU_DRIVER, attach: new Map(), vdevId: null };
    const mock = driver.newDevice?.();
    if (mock) d.mock = mock;
    return d;
  });
  // iommufd_device_bind: a mock device takes no iommufd_ctx_get (the selftest object would hold its own context).
  if (!hd.mockDev) fileGet(s, ctx.fileId);
  return { devId: idev.id };
}

/**
 * iommufd_device_attach(idev, pasid, &pt_id), or iommufd_device_replace when
 * `replace` (VFIO replaces when the RID, or that PASID, is attached already;
 * without the argument the device's own attachment decides).
 *
 * Contract: pasid is NO_PASID (-1) for the RID. pt_id names a paging HWPT, a
 * nested HWPT, or an IOAS (an automatic domain is found or made); the answer
 * is the HWPT id VFIO writes back as pt_id, or the errno: ENOENT (no object),
 * EINVAL (another kind of object; a HWPT the group or the device cannot use:
 * PASID compatibility, a domain of other ops, a dirty-tracking domain for a
 * device that cannot track; a replace of something not attached), EBUSY (the
 * PASID is attached already), EADDRINUSE (a reserved region over a mapping),
 * EFAULT (a new domain cannot pin the IOAS's memory), ENOENT from the selftest
 * mock for a vIOMMU's nested HWPT without a vDEVICE, ENOMEM for the mock's
 * pasid-1024 error injection. A PASID must be below the device's PASID width
 * (min of the device's and the IOMMU's; EINVAL) and the HWPT allocated with
 * IOMMU_HWPT_ALLOC_PASID. An attach (not a replace) adds a user to the device.
 */
export function iommufdDeviceAttach(
  s: State,
  ctx: IommufdCtx,
  devId: number,
  ptId: number,
  pasid: number,
  env: ReduceEnv,
  replace?: boolean,
): { ptId: number } | string {
  const idev = getObject(ctx, devId, "device");
  if (!idev) throw new Error(`iommufd_device_attach: no device ${devId}`);
  const isReplace = replace ?? idev.attach.has(pasid);
  const r = plain(changePt(s, ctx, idev, pasid, ptId, isReplace, env));
  if (typeof r === "string") return r;
  if (!isReplace) idev.users++;
  return { ptId: r };
}

/**
 * iommufd_device_detach(idev, pasid).
 *
 * Contract: a no-op when the device is not attached for that PASID; else the
 * attachment goes (an automatic domain with no device left is destroyed, its
 * domain out of the IOAS), the device's reserved regions leave the IOAS with
 * the RID, and the device loses the user its attach added.
 */
export function iommufdDeviceDetach(s: State, ctx: IommufdCtx, devId: number, pasid: number, env: ReduceEnv): void {
  const idev = getObject(ctx, devId, "device");
  if (!idev) throw new Error(`iommufd_device_detach: no device ${devId}`);
  if (hwptDetach(s, ctx, idev, pasid, env)) idev.users--;
}

/**
 * iommufd_device_unbind(idev).
 *
 * Contract: every attachment is detached (the RID first, then the PASIDs in
 * order, as VFIO's unbind does), the device's vDEVICE becomes a tombstone
 * (iommufd_device_pre_destroy: its id stays taken, IOMMU_DESTROY of it is
 * ENOENT), the driver's user goes and the object is destroyed; the context's
 * file loses the device's kernel reference, which may release the context
 * when its fd was closed already.
 */
export function iommufdDeviceUnbind(s: State, ctx: IommufdCtx, devId: number, env: ReduceEnv): void {
  const idev = getObject(ctx, devId, "device");
  if (!idev) throw new Error(`iommufd_device_unbind: no device ${devId}`);
  iommufdDeviceDetach(s, ctx, devId, NO_PASID, env);
  for (const pasid of [...idev.attach.keys()].sort((a, b) => a - b)) iommufdDeviceDetach(s, ctx, devId, pasid, env);
  removeVdev(s, ctx, idev, env);
  idev.users--;
  destroyWith(s, ctx, idev, iommufdDeviceDestroy, env);
}

/**
 * iommufd_device_remove_vdev: the device's live vDEVICE is destroyed and
 * leaves a tombstone (iommufd_object_tombstone_user).
 */
function removeVdev(s: State, ctx: IommufdCtx, idev: IommufdDevice, env: ReduceEnv): void {
  if (idev.vdevId == null) return;
  const vdev = getObject(ctx, idev.vdevId, "vdevice");
  if (!vdev) return;
  ctx.tombstones ??= [];
  ctx.tombstones.push(vdev.id);
  destroyWith(s, ctx, vdev, iommufdVdeviceDestroy, env);
}

/** iommufd_device_destroy: the device's reference on the context goes (iommufd_ctx_put), a mock device's excepted. */
export function iommufdDeviceDestroy(s: State, ctx: IommufdCtx, idev: IommufdDevice, env: ReduceEnv): void {
  if (!s.host.devices.get(idev.bdf)?.mockDev) filePut(s, ctx.fileId, env);
}
