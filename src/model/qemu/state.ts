// The VMM processes: one QEMU machine per process (pid), what its command line
// configured (guest RAM, the vIOMMU, emulated devices, assigned VFIO devices).

import type { GuestRam } from "../viommu/vtd/guest_mem.ts";
import { NO_KERNEL_IRQCHIP, type MachineIrqchip, type VtdConfig } from "../viommu/vtd/regs.ts";
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

/**
 * QEMU's emulated part of a vfio-pci device's config space
 * (src/model/qemu/vfio_pci_config.ts): pdev->config, pdev->wmask and
 * emulated_config_bits, only at the bytes with emulated bits; every other bit
 * is read from the VFIO config region.
 */
export interface GuestConfig {
  /** The config space's size (vdev->config_size). */
  size: number;
  /** The device sits on a PCI Express bus: config space past 0x100 is reachable (pci_adjust_config_limit). */
  busExpress: boolean;
  config: Map<number, number>;
  emu: Map<number, number>;
  wmask: Map<number, number>;
}

export interface QemuVfioDevice {
  /** The host PCI address. */
  host: string;
  backend: "iommufd" | "legacy";
  props: Record<string, unknown>;
  cfg: GuestConfig;
}

export type { MachineIrqchip };

export interface QemuMachine {
  ram: GuestRam[];
  irqchip: MachineIrqchip;
  viommu: QemuViommu | null;
  /** Emulated devices (bridges included), by guest bdf: their QEMU model name. */
  devices: Map<string, string>;
  /** Secondary buses of the bridges, by their QEMU id (src/model/qemu/topology.ts). */
  buses: Map<string, GuestBus>;
  /** Accepted vfio-pci devices, by guest bdf. */
  vfio: Map<string, QemuVfioDevice>;
}

export function newMachine(ram: GuestRam[] = [], irqchip: MachineIrqchip = NO_KERNEL_IRQCHIP): QemuMachine {
  return { ram, irqchip, viommu: null, devices: new Map(), buses: new Map(), vfio: new Map() };
}
