// The VFIO extension numbers (vfio.h) as the bigint an int ioctl argument
// decodes to: one definition for the container, type1 and iommufd compat code.
import * as uapi from "../../uapi/vfio.ts";

export const VFIO_TYPE1_IOMMU = BigInt(uapi.VFIO_TYPE1_IOMMU);
export const VFIO_TYPE1v2_IOMMU = BigInt(uapi.VFIO_TYPE1v2_IOMMU);
export const VFIO_DMA_CC_IOMMU = BigInt(uapi.VFIO_DMA_CC_IOMMU);
export const VFIO_TYPE1_NESTING_IOMMU = BigInt(uapi.VFIO_TYPE1_NESTING_IOMMU);
export const VFIO_NOIOMMU_IOMMU = BigInt(uapi.VFIO_NOIOMMU_IOMMU);
export const VFIO_UNMAP_ALL = BigInt(uapi.VFIO_UNMAP_ALL);
export const VFIO_UPDATE_VADDR = BigInt(uapi.VFIO_UPDATE_VADDR);
