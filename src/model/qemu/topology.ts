// The guest PCI topology of a q35 machine, as far as the vIOMMU cares: which
// bus a device sits on, and whether its requester ID reaches the IOMMU
// aliased behind a bridge (QEMU hw/pci/pci.c pci_device_get_iommu_bus_devfn,
// which returns true since 2025 when the RID is aliased; master's x-flts
// check refuses such a device: "Host device downstream to a PCI bridge is
// unsupported when x-flts=on").
//
// A bridge is a `qemu.device` whose model is one of BRIDGE_MODELS, with QEMU's
// `id` property naming its secondary bus; a device names its bus with QEMU's
// `bus` property (default: the root bus `pcie.0`).

import type { QemuMachine } from "./state.ts";

/** q35's root bus: PCI Express, where the IOMMU sits. */
export const ROOT_BUS = "pcie.0";

/**
 * Bridge models and whether their secondary bus is PCI Express. Conventional
 * secondary buses are what aliases a requester ID: pci-bridge (PCI-PCI),
 * pcie-pci-bridge (PCIe-to-PCI: alias = secondary bus, devfn 0) and
 * i82801b11-bridge (DMI-to-PCI: alias = the bridge's own devfn).
 */
export const BRIDGE_MODELS: Readonly<Record<string, boolean>> = {
  "pcie-root-port": true,
  ioh3420: true,
  "x3130-upstream": true,
  "xio3130-downstream": true,
  "pci-bridge": false,
  "pci-bridge-seat": false,
  "pcie-pci-bridge": false,
  "i82801b11-bridge": false,
};

/** QEMU's `id` / `bus` properties of a device: in `props`, or given as event fields. */
export function qdevProp(ev: Record<string, unknown>, name: "id" | "bus"): string | undefined {
  const props = ev.props as Record<string, unknown> | undefined;
  const v = props?.[name] ?? ev[name];
  return v === undefined ? undefined : String(v);
}

/** qdev_device_add's lookup of `bus=` (default the root bus): the bus, or the error QEMU sets when no bus has that id. */
export function busOf(m: QemuMachine, ev: Record<string, unknown>): { bus: string } | { error: string } {
  const bus = qdevProp(ev, "bus") ?? ROOT_BUS;
  return bus === ROOT_BUS || m.buses.has(bus) ? { bus } : { error: `Bus '${bus}' not found` };
}

/**
 * pci_device_get_iommu_bus_devfn's return value: walking from the device's
 * bus up to the root bus, is any bus on the way conventional PCI?
 */
export function ridAliased(m: QemuMachine, bus: string): boolean {
  for (let b = bus, hops = 0; b !== ROOT_BUS && hops <= m.buses.size; hops++) {
    const gb = m.buses.get(b);
    if (!gb) return false;
    if (!gb.express) return true;
    b = gb.parent;
  }
  return false;
}
