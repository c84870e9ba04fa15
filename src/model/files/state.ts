// Open file descriptions. A process's fd table maps an fd to one of these; the
// kind decides which ioctl handler answers (iommufd, VFIO container, group,
// device cdev) and what close releases.

import type { FileKind } from "../../uapi/commands.ts";

export interface OpenFile {
  id: number;
  /** The process that opened it (whose fd table holds it). */
  pid: number;
  path: string;
  kind: FileKind;
  /** The host device (bdf) for a device cdev or a group's devices; the group number for a group. */
  bdf?: string;
  group?: number;
  /** Device cdev: bind finished (df->access_granted); every other ioctl is EINVAL until then. */
  accessGranted?: boolean;
  /** Container: the IOMMU driver VFIO_SET_IOMMU chose (e.g. "type1v2"); unset, unknown ioctls are EINVAL. */
  iommuDriver?: string;
  /**
   * References the kernel holds beyond the fd table's (get_file/fput): an
   * iommufd context is held by every device bound to it and by its fault and
   * vEVENTQ files (iommufd_ctx_get). The file is released when the last goes.
   */
  kernelRefs?: number;
  /** The fd was closed while kernel references remained: the file lives on until filePut drops the last. */
  closed?: boolean;
  /** fault / veventq files: the iommufd context file (struct iommufd_eventq.ictx) and the object behind it. */
  ctxFileId?: number;
  objectId?: number;
}
