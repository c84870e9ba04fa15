// A host IOMMU of type none (or none declared): a paging-only driver with
// nothing beyond iommu_paging_domain_alloc: no hw_info, no
// domain_alloc_paging_flags, no nesting, no PASID, no vIOMMU, no
// enforce_cache_coherency. Its domains use the AMDv1 format.

import { defaultParams } from "../domain/params.ts";
import { declaredCaps, type IommuDriver } from "./driver.ts";

export const PLAIN_DRIVER: IommuDriver = {
  name: "none",
  resvRegions: [],
  dirtyCapable: (host, hd) => hd.dirtyTracking !== false && declaredCaps(host).includes("DIRTY_TRACKING"),
  atsSupported: (host) => !declaredCaps(host).includes("PCI_ATS_NOT_SUPPORTED"),
  pagingParams: (host) => defaultParams("amdv1", host?.awBits ?? 48),
  attachDev: () => undefined,
  // No enforce_cache_coherency op: not enforced (VFIO_DMA_CC_IOMMU answers 0).
  enforceCacheCoherency: () => false,
  blockedFault: () => "IO_PAGE_FAULT_PE",
};
