// The ioctl commands the headers define (iommufd.h, vfio.h): name, number
// and argument. Which file answers a command, its size rule and its handler
// are the model's command table (src/model/ioctl/table.ts), as they are
// main.c's and each driver's in the kernel.

import type { StructDef } from "./layout.ts";

export type IoctlArg =
  /** A struct whose first u32 is `size` (iommufd) or `argsz` (VFIO). */
  | { readonly kind: "struct"; readonly struct: StructDef; readonly sizeField: "size" | "argsz" }
  /** An integer passed by value (VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU). */
  | { readonly kind: "int" }
  /** A pointer to one int (VFIO_GROUP_SET_CONTAINER). */
  | { readonly kind: "int-ptr" }
  /** A pointer to a NUL-terminated string (VFIO_GROUP_GET_DEVICE_FD). */
  | { readonly kind: "string" }
  | { readonly kind: "none" };

export interface UapiCommand {
  /** The newest spelling, e.g. IOMMU_IOAS_NOIOMMU_GET_PA. */
  readonly name: string;
  /** Spellings of other modelled kernel versions, e.g. IOMMU_IOAS_GET_PA (seed 003 V4). */
  readonly aliases: readonly string[];
  /** The full ioctl number (_IO(';', nr)). */
  readonly number: number;
  readonly arg: IoctlArg;
}
