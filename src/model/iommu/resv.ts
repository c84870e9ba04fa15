// Reserved IOVA regions the x86 IOMMU drivers report for every device
// (iommu_get_resv_regions), shared by the VT-d and AMD drivers.

import type { IovaRange } from "../domain/state.ts";

/** The x86 interrupt window, IOMMU_RESV_MSI on VT-d and AMD. */
export const X86_MSI: IovaRange = { start: 0xfee00000n, last: 0xfeefffffn };
