// The file operations of every kind of file the model opens (struct
// file_operations): ->open's checks and setup, ->unlocked_ioctl, ->release.
// The fold hands this table to every reducer (ReduceEnv.fops), since dropping
// the last reference to a file may release a file of any kind.

import type { FileKind } from "./files/state.ts";
import { notModelled, type FileOps } from "./framework.ts";
import { iommufdFopsIoctl, noIoctl, vfioDeviceFopsUnlIoctl, vfioFopsUnlIoctl, vfioGroupFopsUnlIoctl } from "./ioctl/dispatch.ts";
import { FAULT_FOPS, VEVENTQ_FOPS } from "./iommufd/eventq.ts";
import { IOMMUFD_FOPS } from "./iommufd/main.ts";
import { STACCESS_FOPS } from "./iommufd/selftest_access.ts";
import { VFIO_DEVICE_FOPS } from "./vfio/cdev.ts";
import { VFIO_CONTAINER_FOPS } from "./vfio/container.ts";
import { DMABUF_FOPS } from "./vfio/dmabuf.ts";
import { VFIO_GROUP_FOPS } from "./vfio/group.ts";
import { MEMFD_FOPS } from "./memfd/memfd.ts";

/** A kind whose kernel read/write/poll/mmap the model does not have (VFIO region access, dma-buf mmap). */
function rwNotModelled(kind: string): Pick<FileOps, "read" | "write" | "poll" | "mmap"> {
  return {
    read: (_s, _p, _f, _va, _n, ev) => notModelled(ev, `read on a ${kind} fd`),
    write: (_s, _p, _f, _va, _n, ev) => notModelled(ev, `write on a ${kind} fd`),
    poll: (_s, _f, ev) => notModelled(ev, `poll on a ${kind} fd`),
    mmap: (_s, _p, _f, _vma, ev) => notModelled(ev, `mmap on a ${kind} fd`),
  };
}

export const FILE_OPS: Readonly<Record<FileKind, FileOps>> = {
  // /dev/iommu (iommufd_fops)
  iommufd: { ...IOMMUFD_FOPS, ioctl: iommufdFopsIoctl },
  // /dev/vfio/vfio (vfio_fops)
  "vfio-container": { ...VFIO_CONTAINER_FOPS, ...rwNotModelled("vfio-container"), ioctl: vfioFopsUnlIoctl },
  // /dev/vfio/$GROUP (vfio_group_fops: no read, write, poll or mmap)
  "vfio-group": { ...VFIO_GROUP_FOPS, ioctl: vfioGroupFopsUnlIoctl },
  // /dev/vfio/devices/vfioN and group-obtained device files (vfio_device_fops)
  "vfio-device": { ...VFIO_DEVICE_FOPS, ...rwNotModelled("vfio-device"), ioctl: vfioDeviceFopsUnlIoctl },
  // iommufd's fault queue and vEVENTQ files (iommufd_fault_fops, iommufd_veventq_fops)
  fault: { ...FAULT_FOPS, ioctl: noIoctl },
  veventq: { ...VEVENTQ_FOPS, ioctl: noIoctl },
  // a dma-buf exported by vfio-pci (dma_buf_fops)
  dmabuf: { ...DMABUF_FOPS, ...rwNotModelled("dmabuf"), ioctl: noIoctl },
  // a memfd (shmem_file_operations: no ioctl the model answers)
  memfd: { ...MEMFD_FOPS, ioctl: noIoctl },
  // a file the model does not simulate
  other: { ioctl: noIoctl },
  // the selftest's access file (iommfd_test_staccess_fops)
  staccess: { ...STACCESS_FOPS, ioctl: noIoctl },
};
