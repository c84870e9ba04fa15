// The intel-iommu generation a profile stands for (src/model/viommu/vtd/regs.ts).

import type { Profile } from "../../profiles/profile.ts";
import type { VtdVersion } from "../viommu/vtd/regs.ts";

export function vtdVersionOf(p: Profile): VtdVersion {
  return { era: p.on("vtd-flts-final") ? "master" : "v5", pasidWidth: p.on("vtd-pasid-rfc2") };
}
