// One table of every modelled ioctl, shared by the trace reader (names and
// fields), the codec (bytes), and the reducer dispatch (which file handles it).
// Kernel: drivers/iommu/iommufd/main.c keeps the same facts in its IOCTL_OP table.

import type { StructDef } from "./layout.ts";

/** The kind of open file an ioctl is issued on. */
/**
 * The kind of open file an ioctl is issued on. "fault" and "veventq" are the
 * anonymous-inode files iommufd hands out for IOMMU_FAULT_QUEUE_ALLOC and
 * IOMMU_VEVENTQ_ALLOC (read/write/poll only: no ioctl). "dmabuf" is a dma-buf
 * file (VFIO_DEVICE_FEATURE_DMA_BUF): dma_buf_ioctl knows only DMA_BUF_IOCTL_*.
 */
export type FileKind = "iommufd" | "vfio-container" | "vfio-group" | "vfio-device" | "fault" | "veventq" | "dmabuf";

export type IoctlArg =
  /** A struct whose first u32 is `size` (iommufd) or `argsz` (VFIO). */
  | { readonly kind: "struct"; readonly struct: StructDef; readonly sizeField: "size" | "argsz" | null }
  /** An integer passed by value (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU). */
  | { readonly kind: "int" }
  /** A pointer to one int (VFIO_GROUP_SET_CONTAINER). */
  | { readonly kind: "int-ptr" }
  /** A pointer to a NUL-terminated string (VFIO_GROUP_GET_DEVICE_FD). */
  | { readonly kind: "string" }
  | { readonly kind: "none" };

export interface IoctlDef {
  /** The newest spelling, e.g. IOMMU_IOAS_NOIOMMU_GET_PA. */
  readonly name: string;
  /** Spellings used by other modelled kernel versions, e.g. IOMMU_IOAS_GET_PA. */
  readonly aliases: readonly string[];
  /** The full ioctl number (_IO(';', nr)). */
  readonly number: number;
  /** The file kinds whose ioctl handler knows this number. */
  readonly files: readonly FileKind[];
  readonly arg: IoctlArg;
  /**
   * For iommufd commands: the member whose end is the minimum `size` the
   * kernel accepts (IOCTL_OP's _last). VFIO handlers check their own minsz.
   */
  readonly minMember?: string;
  /** VFIO handlers' minsz (offsetofend of the last mandatory member), where fixed. */
  readonly minsz?: number;
}
