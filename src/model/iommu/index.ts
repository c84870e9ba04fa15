// Which driver serves a device: iommufd_noiommu_ops for a device without an
// IOMMU, else the host IOMMU's (dev_iommu_ops). One static table by host type.

import type { IommuDomain } from "../domain/state.ts";
import type { HostDevice, HostIommuType } from "../host/state.ts";
import type { State } from "../state.ts";
import { AMD_DRIVER } from "./amd.ts";
import type { IommuDriver } from "./driver.ts";
import { MOCK_DRIVER } from "./mock.ts";
import { NOIOMMU_DRIVER } from "./noiommu.ts";
import { PLAIN_DRIVER } from "./plain.ts";
import { SMMUV3_DRIVER } from "./smmuv3.ts";
import { VTD_DRIVER } from "./vtd.ts";

export const DRIVERS: Readonly<Record<HostIommuType, IommuDriver>> = {
  intel_vtd: VTD_DRIVER,
  amd: AMD_DRIVER,
  arm_smmuv3: SMMUV3_DRIVER,
  selftest_mock: MOCK_DRIVER,
  none: PLAIN_DRIVER,
};

/** The host IOMMU's driver (a plain one when no IOMMU type is declared). */
export function hostDriver(s: State): IommuDriver {
  return DRIVERS[s.host.iommu?.type ?? "none"];
}

/** dev_iommu_ops(dev): the no-IOMMU ops for a device without an IOMMU, else the host driver. */
export function driverOf(s: State, hd: HostDevice): IommuDriver {
  return hd.noiommu || !hd.iommu ? NOIOMMU_DRIVER : hostDriver(s);
}

/** domain->owner: the SW-only no-IOMMU table belongs to iommufd_noiommu_ops, every other domain to the host driver. */
export function domainOwner(s: State, d: IommuDomain): IommuDriver {
  const paging = d.type === "paging" ? d : s.domains.table.get(d.parentId);
  return paging?.type === "paging" && paging.format === "noiommu" ? NOIOMMU_DRIVER : hostDriver(s);
}

export { MOCK_DRIVER, NOIOMMU_DRIVER };
export * from "./driver.ts";
