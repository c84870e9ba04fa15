// A host PCI device's own configuration space, as the hardware answers it: the
// type-0 header, the capability list from `std_caps`, the extended capability
// list from `ext_caps` (each header: 16-bit id, 4-bit version, 12-bit next, in
// the order the trace lists them), the PASID capability's registers from
// `pasid` where `ext_caps` places an id 0x1b, then the bytes `cfg` declares.
// Nothing is stored but what the trace declared and what was written: the
// image is derived on demand (deterministic, 4 KiB for a PCI Express device).

import type { HostDevice } from "../host/state.ts";
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSIX,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CAPABILITY_LIST,
  PCI_CONFIG_SPACE_SIZE,
  PCI_EXP_VER2_SIZEOF,
  PCI_EXT_CAP,
  PCI_EXT_CAP_ID_PASID,
  PCI_PASID_CAP,
  PCI_PASID_CAP_EXEC,
  PCI_PASID_CAP_PRIV,
  PCI_PASID_CAP_WIDTH_SHIFT,
  PCI_PASID_CTRL,
  PCI_PASID_CTRL_ENABLE,
  PCI_PASID_CTRL_EXEC,
  PCI_PASID_CTRL_PRIV,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCIE_CONFIG_SPACE_SIZE,
  setLong,
  setWord,
} from "./regs.ts";

export interface StdCapLayout {
  id: number;
  off: number;
  size: number;
  ver?: number;
}

/** Default sizes of standard capabilities a trace lists without `size`. */
const STD_CAP_SIZE: Record<number, number> = { [PCI_CAP_ID_EXP]: PCI_EXP_VER2_SIZEOF, [PCI_CAP_ID_MSIX]: PCI_CAP_MSIX_SIZEOF, 1: 8, 5: 0x18 };

/**
 * The standard capabilities and where they sit: as given; without `off`, each
 * follows the previous one (the first at 0x40), dword aligned. No `std_caps`: a
 * PCI Express endpoint with the PCI Express and MSI-X capabilities.
 */
export function stdCapLayout(hd: HostDevice): StdCapLayout[] {
  const list: HostDevice["stdCaps"] = hd.stdCaps.length ? hd.stdCaps : [{ id: PCI_CAP_ID_EXP }, { id: PCI_CAP_ID_MSIX }];
  let next = PCI_STD_HEADER_SIZEOF;
  return list.map((c) => {
    const off = c.off ?? next;
    const size = c.size ?? STD_CAP_SIZE[c.id] ?? 4;
    next = (off + size + 3) & ~3;
    return c.ver === undefined ? { id: c.id, off, size } : { id: c.id, off, size, ver: c.ver };
  });
}

/** A PCI Express device (it has the PCI Express capability): a 4 KiB config space, else 256 bytes. */
export const isExpress = (hd: HostDevice): boolean => stdCapLayout(hd).some((c) => c.id === PCI_CAP_ID_EXP);

export const configSize = (hd: HostDevice): number => (isExpress(hd) ? PCIE_CONFIG_SPACE_SIZE : PCI_CONFIG_SPACE_SIZE);

/** The device's own PASID extended capability (an `ext_caps` entry with id 0x1b), if any. */
export function ownPasidCap(hd: HostDevice): number | undefined {
  return hd.extCaps.find((c) => c.id === PCI_EXT_CAP_ID_PASID)?.off;
}

/** The hardware's config space, as the device answers a read. */
export function deviceConfig(hd: HostDevice): Uint8Array {
  const size = configSize(hd);
  const b = new Uint8Array(size);
  const std = stdCapLayout(hd);
  if (std.length) {
    b[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    b[PCI_CAPABILITY_LIST] = std[0]!.off;
    std.forEach((c, i) => {
      b[c.off] = c.id;
      b[c.off + PCI_CAP_LIST_NEXT] = std[i + 1]?.off ?? 0;
      // PCI_EXP_FLAGS: capability version 2, device/port type 0 (PCI Express endpoint).
      if (c.id === PCI_CAP_ID_EXP) setWord(b, c.off + 2, c.ver ?? 2);
    });
  }
  if (size === PCIE_CONFIG_SPACE_SIZE) {
    hd.extCaps.forEach((c, i) => {
      setLong(b, c.off, PCI_EXT_CAP(c.id, c.ver, hd.extCaps[i + 1]?.off ?? 0));
    });
    const pasid = ownPasidCap(hd);
    if (pasid !== undefined && hd.pasid) {
      const p = hd.pasid;
      setWord(
        b,
        pasid + PCI_PASID_CAP,
        ((p.maxLog2 & 0x1f) << PCI_PASID_CAP_WIDTH_SHIFT) | (p.exec ? PCI_PASID_CAP_EXEC : 0) | (p.priv ? PCI_PASID_CAP_PRIV : 0),
      );
    }
  }
  for (const [off, v] of hd.cfg ?? []) if (off < size) b[off] = v;
  for (const [off, v] of hd.cfgWritten ?? []) if (off < size) b[off] = v;
  return b;
}

/**
 * Which bits of a hardware byte take a write: only the device's own PASID
 * Control register (PASID Enable; Execute and Privileged Mode Enable where the
 * capability register supports them). Every other register reads as declared
 * (the trace cannot say which vendor registers are writable).
 */
export function deviceWriteMask(hd: HostDevice, off: number): number {
  const pasid = ownPasidCap(hd);
  if (pasid === undefined || !hd.pasid || off !== pasid + PCI_PASID_CTRL) return 0;
  return PCI_PASID_CTRL_ENABLE | (hd.pasid.exec ? PCI_PASID_CTRL_EXEC : 0) | (hd.pasid.priv ? PCI_PASID_CTRL_PRIV : 0);
}

/** A write reaching the hardware (pci_user_write_config_*): the writable bits change, in the device's state. */
export function deviceConfigWrite(hd: HostDevice, off: number, bytes: readonly number[]): void {
  const cur = deviceConfig(hd);
  bytes.forEach((v, i) => {
    const mask = deviceWriteMask(hd, off + i);
    if (!mask) return;
    hd.cfgWritten ??= new Map();
    hd.cfgWritten.set(off + i, (cur[off + i]! & ~mask) | (v & mask));
  });
}
