// The VFIO core shared by the cdev and group paths (drivers/vfio/vfio_main.c,
// group.c, container.c): the vfio_device and vfio_group records, opening and
// closing a device (vfio_df_open / vfio_df_close and the first-open /
// last-close work), vfio-pci's VF token check, and close_device's revoke of
// the device's dma-bufs.

import { fileGet, filePut } from "../files/lifecycle.ts";
import type { ReduceEnv } from "../framework.ts";
import type { HostDevice } from "../host/state.ts";
import { ioptRevokeFile } from "../iommufd/ioas_file.ts";
import type { State } from "../state.ts";
import { deviceBind, deviceDetach, deviceUnbind } from "./iommufd.ts";
import type { VfioDevice, VfioGroup } from "./state.ts";

/** The vfio_device of a host device (made on first use). */
export function vdevOf(s: State, bdf: string): VfioDevice {
  let d = s.vfio.devices.get(bdf);
  if (!d) {
    d = { openCount: 0, cdevOpened: false, iommufd: null, attached: false, pasids: [], dmabufs: [] };
    s.vfio.devices.set(bdf, d);
  }
  return d;
}

/** The vfio_group of an IOMMU group number (made on first use). */
export function vgroupOf(s: State, group: number): VfioGroup {
  let g = s.vfio.groups.get(group);
  if (!g) {
    g = { openedFile: null, container: null, containerUsers: 0, iommufd: null, cdevDeviceOpenCnt: 0 };
    s.vfio.groups.set(group, g);
  }
  return g;
}

export function hostDevOf(s: State, bdf: string): HostDevice {
  const d = s.host.devices.get(bdf);
  if (!d) throw new Error(`no host device ${bdf}`);
  return d;
}

/** The host devices of an IOMMU group, most recently registered first (group->device_list, list_add). */
export function groupDevices(s: State, group: number): HostDevice[] {
  return [...s.host.devices.values()].filter((d) => d.group === group).sort((a, b) => b.vfioIndex - a.vfioIndex);
}

/** VFIO_NO_IOMMU groups: the group of a no-IOMMU device. */
export function groupIsNoiommu(s: State, group: number): boolean {
  return groupDevices(s, group).some((d) => d.noiommu);
}

/** vfio_group_has_iommu: a container or an iommufd is set. */
export function groupHasIommu(g: VfioGroup): boolean {
  return g.container !== null || g.iommufd !== null;
}

/**
 * vfio_pci_validate_vf_token, as the model reads host.device's `vf_token`: a
 * device with a token is a VF whose PF is bound to vfio-pci with that token
 * (no token: EACCES "VF token required", another token: EACCES "Incorrect VF
 * token"); a device without one is neither such a VF nor a PF with VFs in use,
 * so a token given for it is EINVAL ("VF token incorrectly provided").
 */
export function validateVfToken(dev: HostDevice, token: Uint8Array | null): string | undefined {
  if (dev.vfToken === null) return token ? "EINVAL" : undefined;
  if (!token) return "EACCES";
  const want = Buffer.from(dev.vfToken.replace(/-/g, ""), "hex");
  return Buffer.from(token).equals(want) ? undefined : "EACCES";
}

/** vfio_pci_dma_buf_move(vdev, true) for one buffer: importers are told (dma_buf_move_notify) and unmap it. */
export function revokeDmabuf(s: State, fileId: number): void {
  const b = s.dmabufs.get(fileId);
  if (!b || b.revoked) return;
  b.revoked = true;
  b.revokeGen++;
  ioptRevokeFile(s, fileId);
}

/**
 * vfio_pci_core_close_device -> vfio_pci_dma_buf_cleanup: every buffer still
 * alive is revoked for good and forgets its device.
 */
function dmabufCleanup(s: State, bdf: string): void {
  const d = vdevOf(s, bdf);
  for (const id of d.dmabufs) {
    revokeDmabuf(s, id);
    const b = s.dmabufs.get(id);
    if (b) b.bdf = null;
  }
  d.dmabufs = [];
}

/**
 * vfio_df_device_first_open. The iommufd path binds the device to the
 * context (vfio_iommufd_physical_bind -> iommufd_device_bind); the container
 * path uses the group's container (vfio_group_use_container: EINVAL until
 * VFIO_SET_IOMMU, EPERM for a no-IOMMU group without CAP_SYS_RAWIO; the device
 * file then holds the group file). open_device (vfio_pci_open_device) is
 * modelled as succeeding: it changes nothing the model keeps.
 */
export function firstOpen(s: State, bdf: string, iommufdCtx: number | null, caps: readonly string[], env: ReduceEnv): string | undefined {
  const d = vdevOf(s, bdf);
  const host = hostDevOf(s, bdf);
  if (iommufdCtx !== null) {
    const r = deviceBind(s, iommufdCtx, bdf, env);
    if (typeof r === "string") return r;
    d.iommufd = { ctx: iommufdCtx, devId: r.devId };
    d.attached = false;
    d.pasids = [];
    return undefined;
  }
  const g = vgroupOf(s, host.group!);
  const c = g.container === null ? undefined : s.vfio.containers.get(g.container);
  if (!c?.driver || g.containerUsers === 0) return "EINVAL";
  if (host.noiommu && !caps.includes("CAP_SYS_RAWIO")) return "EPERM";
  if (g.openedFile !== null) fileGet(s, g.openedFile);
  g.containerUsers++;
  return undefined;
}

/**
 * vfio_df_device_last_close: close_device (the dma-bufs are revoked), then
 * vfio_iommufd_physical_unbind (PASIDs, then the RID, are detached and the
 * device unbound) or vfio_device_group_unuse_iommu.
 */
export function lastClose(s: State, bdf: string, env: ReduceEnv): void {
  const d = vdevOf(s, bdf);
  dmabufCleanup(s, bdf);
  if (d.iommufd) {
    const { ctx, devId } = d.iommufd;
    for (const pasid of [...d.pasids]) deviceDetach(s, ctx, devId, pasid, env);
    d.pasids = [];
    if (d.attached) deviceDetach(s, ctx, devId, -1, env);
    d.attached = false;
    deviceUnbind(s, ctx, devId, env);
    d.iommufd = null;
    return;
  }
  const host = hostDevOf(s, bdf);
  const g = vgroupOf(s, host.group!);
  g.containerUsers--;
  if (g.openedFile !== null) filePut(s, g.openedFile, env);
}

/**
 * vfio_df_open: the cdev path allows one open of a device (EINVAL while it is
 * open anyhow), the group path any number; the first open does the work.
 */
export function dfOpen(s: State, bdf: string, viaGroup: boolean, iommufdCtx: number | null, caps: readonly string[], env: ReduceEnv): string | undefined {
  const d = vdevOf(s, bdf);
  if (d.openCount !== 0 && !viaGroup) return "EINVAL";
  d.openCount++;
  if (d.openCount === 1) {
    const err = firstOpen(s, bdf, iommufdCtx, caps, env);
    if (err) {
      d.openCount--;
      return err;
    }
  }
  return undefined;
}

/** vfio_df_close. */
export function dfClose(s: State, bdf: string, env: ReduceEnv): void {
  const d = vdevOf(s, bdf);
  if (d.openCount === 1) lastClose(s, bdf, env);
  d.openCount--;
}
