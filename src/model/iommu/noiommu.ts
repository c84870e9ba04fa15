// iommufd_noiommu_ops (drivers/iommu/iommufd/hwpt_noiommu.c, seed 003): the
// ops of a device without an IOMMU bound to iommufd. Its only domain is a
// SW-only AMDv1 table that records the IOAS's mappings (what
// IOMMU_IOAS_NOIOMMU_GET_PA reads); the hardware translates nothing.

import { defaultParams } from "../domain/params.ts";
import { Unmodelled, type IommuDriver } from "./driver.ts";

export const NOIOMMU_DRIVER: IommuDriver = {
  name: "noiommu",
  resvRegions: [],
  dirtyCapable: () => false,
  atsSupported: () => false,
  hwInfo: () => new Unmodelled("IOMMU_GET_HW_INFO for a device without an IOMMU (dev_iommu_ops of a no-IOMMU device)"),
  // hw_max_vasz_lg2 64, hw_max_oasz_lg2 52, starting_level 2, DYNAMIC_TOP.
  pagingParams: () => defaultParams("noiommu", 64),
  // noiommu_alloc_paging_flags
  allocPagingFlags: (_host, _hd, flags, ud, base) => (flags || ud ? "EOPNOTSUPP" : base),
  attachDev: () => undefined,
  viommu: new Unmodelled("IOMMU_VIOMMU_ALLOC for a device without an IOMMU (dev_iommu_ops of a no-IOMMU device)"),
  // The SW table does not enforce coherency (iommufd_vfio_cc_iommu answers 0 over it).
  enforceCacheCoherency: () => false,
  // Never reached: a device without an IOMMU is not translated (its DMA address is the physical address).
  blockedFault: () => new Unmodelled("the DMA fault of a device without an IOMMU"),
};
