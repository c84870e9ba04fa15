// The VMM processes: one QEMU machine per process (pid), what its command line
// configured (guest RAM, the vIOMMU, emulated devices, assigned VFIO devices).

import type { GuestRam } from "../viommu/vtd/guest_mem.ts";
import type { VtdConfig } from "../viommu/vtd/regs.ts";
import type { VtdUnit } from "../viommu/vtd/state.ts";

/** A bridge's secondary bus (src/model/qemu/topology.ts). */
export interface GuestBus {
  /** The bus the bridge itself sits on. */
  parent: string;
  /** Guest slot of the bridge. */
  bridgeBdf: string;
  /** QEMU model of the bridge. */
  model: string;
  /** pci_bus_is_express of the secondary bus. */
  express: boolean;
}

export interface QemuViommu {
  model: "intel-iommu";
  config: VtdConfig;
  /** CAP_REG and ECAP_REG as vtd_cap_init computed them (the register model's reset values). */
  cap: bigint;
  ecap: bigint;
  /** The guest-visible register file, latched state and IOTLB (src/model/viommu/vtd/state.ts). */
  unit: VtdUnit;
}

export interface QemuVfioDevice {
  /** The host PCI address. */
  host: string;
  backend: "iommufd" | "legacy";
  props: Record<string, unknown>;
}

export interface QemuMachine {
  ram: GuestRam[];
  viommu: QemuViommu | null;
  /** Emulated devices (bridges included), by guest bdf: their QEMU model name. */
  devices: Map<string, string>;
  /** Secondary buses of the bridges, by their QEMU id (src/model/qemu/topology.ts). */
  buses: Map<string, GuestBus>;
  /** Accepted vfio-pci devices, by guest bdf. */
  vfio: Map<string, QemuVfioDevice>;
}

export function newMachine(ram: GuestRam[] = []): QemuMachine {
  return { ram, viommu: null, devices: new Map(), buses: new Map(), vfio: new Map() };
}
