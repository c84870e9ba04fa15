// The VMM processes: one QEMU machine per process (pid), what its command line
// configured (guest RAM, the vIOMMU, emulated devices, assigned VFIO devices).

import type { VtdConfig } from "../viommu/vtd/regs.ts";
import type { VtdUnit } from "../viommu/vtd/state.ts";
import type { GuestBus } from "./topology.ts";

export interface GuestRam {
  gpa: bigint;
  size: bigint;
  /** Where the range lives in the QEMU process's memory. */
  va: bigint;
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
