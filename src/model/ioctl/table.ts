// Every ioctl the model answers, one row per command, as iommufd_ioctl_ops[]
// in drivers/iommu/iommufd/main.c: the command (src/uapi: name, number,
// struct), the last member the minimum size must cover, the handler on each
// kind of file that knows the number, and the profile switch without which
// the number is unknown (ENOTTY). The entry points that apply the size rules
// and pick the row are dispatch.ts.
//
// "vfio-iommu-type1" is not a file: it is the container's IOMMU driver, to
// which vfio_fops_unl_ioctl passes every command but its own three.

import type { UapiCommand } from "../../uapi/commands.ts";
import { IOMMUFD_COMMANDS as I } from "../../uapi/iommufd.ts";
import { VFIO_COMMANDS as V } from "../../uapi/vfio.ts";
import type { FileKind } from "../files/state.ts";
import { iommufdFaultAlloc, iommufdVeventqAlloc } from "../iommufd/eventq.ts";
import { iommufdIoasNoiommuGetPa } from "../iommufd/get_pa.ts";
import { iommufdGetHwInfo } from "../iommufd/hw_info.ts";
import { iommufdHwptAlloc, iommufdHwptGetDirtyBitmap, iommufdHwptInvalidate, iommufdHwptSetDirtyTracking } from "../iommufd/hw_pagetable.ts";
import { iommufdIoasAllocIoctl, iommufdIoasAllowIovas, iommufdIoasIovaRanges, iommufdIoasMap, iommufdIoasUnmap } from "../iommufd/ioas.ts";
import { iommufdIoasChangeProcess, iommufdIoasCopy, iommufdIoasMapFile } from "../iommufd/ioas_file.ts";
import { iommufdDestroy } from "../iommufd/main.ts";
import { iommufdOption } from "../iommufd/option.ts";
import { iommufdTest } from "../iommufd/selftest.ts";
import {
  iommufdVfioCheckExtension,
  iommufdVfioIoas,
  iommufdVfioIommuGetInfo,
  iommufdVfioMapDma,
  iommufdVfioSetIommu,
  iommufdVfioUnmapDma,
  vfioGetApiVersion,
} from "../iommufd/vfio_compat.ts";
import { iommufdHwQueueAllocIoctl, iommufdVdeviceAllocIoctl, iommufdViommuAllocIoctl } from "../iommufd/viommu.ts";
import type { IoctlHandler } from "../uaccess/call.ts";
import { vfioDfIoctlAttachPt, vfioDfIoctlBindIommufd, vfioDfIoctlDetachPt } from "../vfio/cdev.ts";
import { vfioContainerIoctlCheckExtension, vfioIoctlSetIommu } from "../vfio/container.ts";
import { vfioIoctlDeviceFeature } from "../vfio/feature.ts";
import { vfioGroupIoctlGetDeviceFd, vfioGroupIoctlGetStatus, vfioGroupIoctlSetContainer, vfioGroupIoctlUnsetContainer } from "../vfio/group.ts";
import { vfioIommuType1PasidRequest } from "../vfio/pasid_request.ts";
import {
  vfioPciIoctlGetInfo,
  vfioPciIoctlGetIrqInfo,
  vfioPciIoctlGetRegionInfo,
  vfioPciIoctlIoeventfd,
  vfioPciIoctlReset,
  vfioPciIoctlSetIrqs,
  vfioPciMdevDisplayIoctl,
} from "../vfio/pci_core.ts";
import { vfioIommuType1DirtyPages, vfioIommuType1GetInfo, vfioIommuType1MapDma, vfioIommuType1UnmapDma } from "../vfio/type1.ts";

/** What answers a command: a kind of file, or the type1 IOMMU driver behind a container. */
export type IoctlTarget = FileKind | "vfio-iommu-type1";

export interface IoctlOp {
  readonly cmd: UapiCommand;
  /**
   * The last member the caller's size must cover: iommufd's IOCTL_OP `last`
   * (the entry point answers EINVAL below offsetofend), VFIO's minsz (each
   * handler checks argsz against it, as the kernel's handlers do).
   */
  readonly last?: string;
  readonly on: { readonly [T in IoctlTarget]?: IoctlHandler };
  /** The profile switch that adds the command; without it the number is unknown (ENOTTY). */
  readonly gate?: string;
  /** The kernel build option (a kconfig.* parameter) that adds the command; without it ENOTTY. */
  readonly kconfig?: string;
}

export const IOCTL_OPS: readonly IoctlOp[] = [
  // iommufd (drivers/iommu/iommufd/main.c iommufd_ioctl_ops[]), in number order
  { cmd: I.IOMMU_DESTROY, last: "id", on: { iommufd: iommufdDestroy } },
  { cmd: I.IOMMU_IOAS_ALLOC, last: "out_ioas_id", on: { iommufd: iommufdIoasAllocIoctl } },
  { cmd: I.IOMMU_IOAS_ALLOW_IOVAS, last: "allowed_iovas", on: { iommufd: iommufdIoasAllowIovas } },
  { cmd: I.IOMMU_IOAS_COPY, last: "src_iova", on: { iommufd: iommufdIoasCopy } },
  { cmd: I.IOMMU_IOAS_IOVA_RANGES, last: "out_iova_alignment", on: { iommufd: iommufdIoasIovaRanges } },
  { cmd: I.IOMMU_IOAS_MAP, last: "iova", on: { iommufd: iommufdIoasMap } },
  { cmd: I.IOMMU_IOAS_UNMAP, last: "length", on: { iommufd: iommufdIoasUnmap } },
  { cmd: I.IOMMU_OPTION, last: "val64", on: { iommufd: iommufdOption } },
  { cmd: I.IOMMU_VFIO_IOAS, last: "__reserved", on: { iommufd: iommufdVfioIoas } },
  { cmd: I.IOMMU_HWPT_ALLOC, last: "__reserved", on: { iommufd: iommufdHwptAlloc } },
  { cmd: I.IOMMU_GET_HW_INFO, last: "__reserved", on: { iommufd: iommufdGetHwInfo } },
  { cmd: I.IOMMU_HWPT_SET_DIRTY_TRACKING, last: "__reserved", on: { iommufd: iommufdHwptSetDirtyTracking } },
  { cmd: I.IOMMU_HWPT_GET_DIRTY_BITMAP, last: "data", on: { iommufd: iommufdHwptGetDirtyBitmap } },
  { cmd: I.IOMMU_HWPT_INVALIDATE, last: "__reserved", on: { iommufd: iommufdHwptInvalidate } },
  { cmd: I.IOMMU_FAULT_QUEUE_ALLOC, last: "out_fault_fd", on: { iommufd: iommufdFaultAlloc } },
  { cmd: I.IOMMU_IOAS_MAP_FILE, last: "iova", on: { iommufd: iommufdIoasMapFile } },
  { cmd: I.IOMMU_VIOMMU_ALLOC, last: "out_viommu_id", on: { iommufd: iommufdViommuAllocIoctl } },
  { cmd: I.IOMMU_VDEVICE_ALLOC, last: "virt_id", on: { iommufd: iommufdVdeviceAllocIoctl } },
  { cmd: I.IOMMU_IOAS_CHANGE_PROCESS, last: "__reserved", on: { iommufd: iommufdIoasChangeProcess } },
  { cmd: I.IOMMU_VEVENTQ_ALLOC, last: "out_veventq_fd", on: { iommufd: iommufdVeventqAlloc } },
  { cmd: I.IOMMU_HW_QUEUE_ALLOC, last: "length", on: { iommufd: iommufdHwQueueAllocIoctl } },
  // CONFIG_IOMMUFD_TEST: IOCTL_OP(IOMMU_TEST_CMD, iommufd_test, struct iommu_test_cmd, last).
  { cmd: I.IOMMU_TEST_CMD, last: "last", on: { iommufd: iommufdTest }, kconfig: "kconfig.IOMMUFD_TEST" },
  // Seed 003; its last member is out_phys in V4's IOCTL_OP (main.c as merged was not available to check).
  { cmd: I.IOMMU_IOAS_NOIOMMU_GET_PA, last: "out_phys", on: { iommufd: iommufdIoasNoiommuGetPa }, gate: "ioas-get-pa" },

  // The VFIO container (drivers/vfio/container.c) and iommufd's type1 compatibility (vfio_compat.c)
  { cmd: V.VFIO_GET_API_VERSION, on: { "vfio-container": vfioGetApiVersion, iommufd: vfioGetApiVersion } },
  { cmd: V.VFIO_CHECK_EXTENSION, on: { "vfio-container": vfioContainerIoctlCheckExtension, iommufd: iommufdVfioCheckExtension } },
  { cmd: V.VFIO_SET_IOMMU, on: { "vfio-container": vfioIoctlSetIommu, iommufd: iommufdVfioSetIommu } },
  // The type1 driver (drivers/vfio/vfio_iommu_type1.c); vfio_compat.c answers the first three.
  { cmd: V.VFIO_IOMMU_GET_INFO, last: "iova_pgsizes", on: { "vfio-iommu-type1": vfioIommuType1GetInfo, iommufd: iommufdVfioIommuGetInfo } },
  { cmd: V.VFIO_IOMMU_MAP_DMA, last: "size", on: { "vfio-iommu-type1": vfioIommuType1MapDma, iommufd: iommufdVfioMapDma } },
  { cmd: V.VFIO_IOMMU_UNMAP_DMA, last: "size", on: { "vfio-iommu-type1": vfioIommuType1UnmapDma, iommufd: iommufdVfioUnmapDma } },
  { cmd: V.VFIO_IOMMU_DIRTY_PAGES, last: "flags", on: { "vfio-iommu-type1": vfioIommuType1DirtyPages } },
  // Seed 002, never merged.
  { cmd: V.VFIO_IOMMU_PASID_REQUEST, last: "flags", on: { "vfio-iommu-type1": vfioIommuType1PasidRequest }, gate: "vfio-pasid-request" },

  // The VFIO group (drivers/vfio/group.c)
  { cmd: V.VFIO_GROUP_GET_STATUS, last: "flags", on: { "vfio-group": vfioGroupIoctlGetStatus } },
  { cmd: V.VFIO_GROUP_SET_CONTAINER, on: { "vfio-group": vfioGroupIoctlSetContainer } },
  { cmd: V.VFIO_GROUP_UNSET_CONTAINER, on: { "vfio-group": vfioGroupIoctlUnsetContainer } },
  { cmd: V.VFIO_GROUP_GET_DEVICE_FD, on: { "vfio-group": vfioGroupIoctlGetDeviceFd } },

  // A VFIO device (vfio_main.c, device_cdev.c, vfio_pci_core.c)
  { cmd: V.VFIO_DEVICE_GET_INFO, last: "num_irqs", on: { "vfio-device": vfioPciIoctlGetInfo } },
  { cmd: V.VFIO_DEVICE_GET_REGION_INFO, last: "offset", on: { "vfio-device": vfioPciIoctlGetRegionInfo } },
  { cmd: V.VFIO_DEVICE_GET_IRQ_INFO, last: "count", on: { "vfio-device": vfioPciIoctlGetIrqInfo } },
  { cmd: V.VFIO_DEVICE_SET_IRQS, last: "count", on: { "vfio-device": vfioPciIoctlSetIrqs } },
  { cmd: V.VFIO_DEVICE_RESET, on: { "vfio-device": vfioPciIoctlReset } },
  // mdev display drivers only; their minsz is the driver's own.
  { cmd: V.VFIO_DEVICE_QUERY_GFX_PLANE, on: { "vfio-device": vfioPciMdevDisplayIoctl } },
  { cmd: V.VFIO_DEVICE_GET_GFX_DMABUF, on: { "vfio-device": vfioPciMdevDisplayIoctl } },
  { cmd: V.VFIO_DEVICE_IOEVENTFD, last: "fd", on: { "vfio-device": vfioPciIoctlIoeventfd } },
  { cmd: V.VFIO_DEVICE_FEATURE, last: "flags", on: { "vfio-device": vfioIoctlDeviceFeature } },
  { cmd: V.VFIO_DEVICE_BIND_IOMMUFD, last: "out_devid", on: { "vfio-device": vfioDfIoctlBindIommufd } },
  { cmd: V.VFIO_DEVICE_ATTACH_IOMMUFD_PT, last: "pt_id", on: { "vfio-device": vfioDfIoctlAttachPt } },
  { cmd: V.VFIO_DEVICE_DETACH_IOMMUFD_PT, last: "flags", on: { "vfio-device": vfioDfIoctlDetachPt } },
];

/** Commands of src/uapi the model does not answer yet, where the kernel has them and why they are left out. */
export const NOT_MODELLED: readonly { readonly cmd: UapiCommand; readonly on: readonly IoctlTarget[]; readonly why: string }[] = [
  { cmd: V.VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, on: ["vfio-device"], why: "the PCI bus topology" },
  { cmd: V.VFIO_DEVICE_PCI_HOT_RESET, on: ["vfio-device"], why: "the PCI bus topology" },
  { cmd: V.VFIO_MIG_GET_PRECOPY_INFO, on: [], why: "issued on a migration data fd, which the model does not create" },
];

const ROWS: ReadonlyMap<IoctlTarget, ReadonlyMap<number, IoctlOp>> = (() => {
  const m = new Map<IoctlTarget, Map<number, IoctlOp>>();
  for (const op of IOCTL_OPS)
    for (const t of Object.keys(op.on) as IoctlTarget[]) {
      const byNumber = m.get(t) ?? new Map<number, IoctlOp>();
      if (byNumber.has(op.cmd.number)) throw new Error(`two rows for number 0x${op.cmd.number.toString(16)} on ${t}`);
      byNumber.set(op.cmd.number, op);
      m.set(t, byNumber);
    }
  return m;
})();

/** The row for a command number on a target, if that target's entry point knows the number. */
export function ioctlOp(target: IoctlTarget, number: number): IoctlOp | undefined {
  return ROWS.get(target)?.get(number);
}

/** The not-modelled command with this number on this target. */
export function notModelledOp(target: IoctlTarget, number: number): (typeof NOT_MODELLED)[number] | undefined {
  return NOT_MODELLED.find((n) => n.cmd.number === number && n.on.includes(target));
}
