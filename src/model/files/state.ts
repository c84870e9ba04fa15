// Open file descriptions. A process's fd table maps an fd to one of these; the
// kind decides which ioctl entry point answers (iommufd, VFIO container,
// group, device cdev) and what the last close releases.

/**
 * The kind of an open file: it decides the file's operations (src/model/fops.ts).
 * "fault" and "veventq" are the anonymous-inode files iommufd hands out for
 * IOMMU_FAULT_QUEUE_ALLOC and IOMMU_VEVENTQ_ALLOC (read/write/poll only: no
 * ioctl); "dmabuf" is a dma-buf file (VFIO_DEVICE_FEATURE_DMA_BUF); "memfd" a
 * shmem file from memfd_create (src/model/memfd); "other" an open file of a kind
 * the model does not simulate (a regular file, a pipe: the `file` event); "staccess" is the
 * selftest's access file (IOMMU_TEST_OP_CREATE_ACCESS, whose release destroys the access).
 */
export type FileKind = "iommufd" | "vfio-container" | "vfio-group" | "vfio-device" | "fault" | "veventq" | "dmabuf" | "memfd" | "other" | "staccess";

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
  /**
   * References the kernel holds beyond the fd table's (get_file/fput): an
   * iommufd context is held by every device bound to it and by its fault and
   * vEVENTQ files (iommufd_ctx_get). The file is released when the last goes.
   */
  kernelRefs?: number;
  /** fd-table entries beyond the first that hold this file (fork's dup_fd takes a reference per fd): a close drops one of them first. */
  fdRefs?: number;
  /** The fd was closed while kernel references remained: the file lives on until filePut drops the last. */
  closed?: boolean;
  /** fault / veventq / staccess files: the iommufd context file (struct iommufd_eventq.ictx) and the object behind it. */
  ctxFileId?: number;
  objectId?: number;
}

/** What a path under /dev names: the kind of file it opens, and the device or group behind it. */
export interface Node {
  kind: FileKind;
  bdf?: string;
  group?: number;
}
