// ARM SMMUv3 (drivers/iommu/arm/arm-smmu-v3/), host type arm_smmuv3: only its
// reserved region is modelled; its LPAE domains, nesting, vIOMMU and DMA
// translation are not built yet (the smmuv3-accel series), each answered as
// not modelled yet.

import { declaredCaps, Unmodelled, type IommuDriver } from "./driver.ts";

export const SMMUV3_DRIVER: IommuDriver = {
  name: "arm_smmuv3",
  // arm_smmu_get_resv_regions: the software MSI window (MSI_IOVA_BASE, MSI_IOVA_LENGTH).
  resvRegions: [{ start: 0x8000000n, last: 0x80fffffn }],
  dirtyCapable: (host, hd) => hd.dirtyTracking !== false && declaredCaps(host).includes("DIRTY_TRACKING"),
  atsSupported: (host) => !declaredCaps(host).includes("PCI_ATS_NOT_SUPPORTED"),
  hwInfo: () => new Unmodelled("IOMMU_GET_HW_INFO on a arm_smmuv3 host"),
  pagingParams: () => new Unmodelled("paging domains on a arm_smmuv3 host"),
  allocPagingFlags: (_host, _hd, flags, ud, base) => (flags || ud ? new Unmodelled("IOMMU_HWPT_ALLOC flags or data on a arm_smmuv3 host") : base),
  allocNested: () => new Unmodelled("nested HWPTs on this host IOMMU"),
  attachDev: () => undefined,
  setDevPasid: () => new Unmodelled("PASID attach on a arm_smmuv3 host"),
  viommu: new Unmodelled("IOMMU_VIOMMU_ALLOC on a host whose vIOMMU is not modelled"),
  enforceCacheCoherency: () => new Unmodelled("VFIO_DMA_CC_IOMMU on a arm_smmuv3 host (enforce_cache_coherency)"),
  blockedFault: () => new Unmodelled("DMA translation by an ARM SMMUv3"),
};
