// What VFIO calls in iommufd (drivers/vfio/iommufd.c -> drivers/iommu/iommufd/
// device.c): bind, attach (or replace), detach, unbind of a device, by the
// file id of the iommufd context. The iommufd side is the iommufd model's
// (src/model/iommufd/device.ts); this file is the one place VFIO names it.

import type { ReduceEnv } from "../framework.ts";
import { iommufdDeviceAttach, iommufdDeviceBind, iommufdDeviceDetach, iommufdDeviceUnbind } from "../iommufd/device.ts";
import { ctxOfFile } from "../iommufd/objects.ts";
import type { State } from "../state.ts";

/** iommufd_device_bind. */
export function deviceBind(s: State, ctxFile: number, bdf: string, env: ReduceEnv): { devId: number } | string {
  return iommufdDeviceBind(s, ctxOfFile(s, ctxFile), bdf, env);
}

/** iommufd_device_unbind. */
export function deviceUnbind(s: State, ctxFile: number, devId: number, env: ReduceEnv): void {
  iommufdDeviceUnbind(s, ctxOfFile(s, ctxFile), devId, env);
}

/**
 * iommufd_device_attach, or iommufd_device_replace when `replace` (VFIO
 * replaces when the RID or that PASID is attached already); pasid -1 is the RID.
 */
export function deviceAttach(
  s: State,
  ctxFile: number,
  devId: number,
  ptId: number,
  pasid: number,
  replace: boolean,
  env: ReduceEnv,
): { ptId: number } | string {
  return iommufdDeviceAttach(s, ctxOfFile(s, ctxFile), devId, ptId, pasid, env, replace);
}

/** iommufd_device_detach. */
export function deviceDetach(s: State, ctxFile: number, devId: number, pasid: number, env: ReduceEnv): void {
  iommufdDeviceDetach(s, ctxOfFile(s, ctxFile), devId, pasid, env);
}
