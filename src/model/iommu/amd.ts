// AMD-Vi (drivers/iommu/amd/), host type amd: AMDv1 paging domains, the
// reserved regions and the blocking DTE; its hw_info, flags, nesting, PASID
// and vIOMMU paths are not modelled yet.

import { defaultParams } from "../domain/params.ts";
import { declaredCaps, Unmodelled, type IommuDriver } from "./driver.ts";
import { X86_MSI } from "./resv.ts";

export const AMD_DRIVER: IommuDriver = {
  name: "amd",
  // amd_iommu_get_resv_regions: the MSI window and the HyperTransport range (IOMMU_RESV_RESERVED).
  resvRegions: [X86_MSI, { start: 0xfd00000000n, last: 0xffffffffffn }],
  dirtyCapable: (host, hd) => hd.dirtyTracking !== false && declaredCaps(host).includes("DIRTY_TRACKING"),
  atsSupported: (host) => !declaredCaps(host).includes("PCI_ATS_NOT_SUPPORTED"),
  hwInfo: () => new Unmodelled("IOMMU_GET_HW_INFO on a amd host"),
  // do_iommu_domain_alloc: AMDv1 with starting_level 2, PT_FEAT_DYNAMIC_TOP, hw_max_vasz_lg2 the address width, max OA 52.
  pagingParams: (host) => defaultParams("amdv1", host?.awBits ?? 48),
  allocPagingFlags: (_host, _hd, flags, ud, base) => (flags || ud ? new Unmodelled("IOMMU_HWPT_ALLOC flags or data on a amd host") : base),
  allocNested: () => new Unmodelled("nested HWPTs on this host IOMMU"),
  attachDev: () => undefined,
  setDevPasid: () => new Unmodelled("PASID attach on a amd host"),
  viommu: new Unmodelled("IOMMU_VIOMMU_ALLOC on a host whose vIOMMU is not modelled"),
  // amd_iommu_enforce_cache_coherency
  enforceCacheCoherency: () => true,
  // The blocking DTE: translation valid, mode 0, IR = IW = 0, which denies every access.
  blockedFault: () => "IO_PAGE_FAULT_PE",
};
