// Which domain translates a device's requests: the iommu core's
// group->domain (the RID) and the group's pasid_array (a PASID), recorded on
// the host device (HostDevice.attached) by whoever attaches it: iommufd
// (iommufd_hw_pagetable_attach and replace) and VFIO type1 (a group joining a
// container's domain). DMA reads nothing else (src/model/iommu/dma.ts).

import { provenance } from "../provenance.ts";
import type { State } from "../state.ts";
import type { IommuDomain } from "./state.ts";

function hostDevice(s: State, bdf: string) {
  const hd = s.host.devices.get(bdf);
  if (!hd) throw new Error(`no host device ${bdf}`);
  return hd;
}

/** The device's RID (pasid NO_PASID) or PASID is now translated by `domain`. */
export function iommuAttach(s: State, bdf: string, pasid: number, domain: IommuDomain): void {
  hostDevice(s, bdf).attached.set(pasid, domain.id);
  provenance()?.mark(`attach:${bdf}:${pasid}`);
}

/** The device's RID or PASID is blocked again (no domain). */
export function iommuDetach(s: State, bdf: string, pasid: number): void {
  hostDevice(s, bdf).attached.delete(pasid);
  provenance()?.mark(`attach:${bdf}:${pasid}`);
}

/** The domain translating the device's RID or PASID, or undefined (blocked). */
export function attachedDomain(s: State, bdf: string, pasid: number): IommuDomain | undefined {
  const id = s.host.devices.get(bdf)?.attached.get(pasid);
  return id === undefined ? undefined : s.domains.table.get(id);
}
