// The reserved IOVA regions a host IOMMU driver reports for each of its
// devices (iommu_get_resv_regions): what iommufd reserves in an IOAS on attach
// and what VFIO type1 cuts out of a container's IOVA list. One table, read by both.

import type { IovaRange } from "../iommufd/state.ts";
import type { HostIommuType } from "./state.ts";

/** The x86 interrupt window, IOMMU_RESV_MSI on VT-d and AMD. */
const X86_MSI: IovaRange = { start: 0xfee00000n, last: 0xfeefffffn };

export const HOST_RESV_REGIONS: Readonly<Record<HostIommuType, readonly IovaRange[]>> = {
  intel_vtd: [X86_MSI],
  // amd_iommu_get_resv_regions: the MSI window and the HyperTransport range (IOMMU_RESV_RESERVED).
  amd: [X86_MSI, { start: 0xfd00000000n, last: 0xffffffffffn }],
  // arm-smmu-v3: the software MSI window (MSI_IOVA_BASE, MSI_IOVA_LENGTH).
  arm_smmuv3: [{ start: 0x8000000n, last: 0x80fffffn }],
  none: [],
  // The selftest's mock driver reports none.
  selftest_mock: [],
};
