// QEMU vfio-pci's guest-visible config space (hw/vfio/pci.c), built at realize
// from the VFIO config region (src/model/pci/vfio_config.ts):
// vfio_pci_config_setup (the copy, emulated_config_bits, the multifunction
// bit), vfio_pci_add_capabilities / vfio_add_std_cap (the standard list with
// emulated list pointers) and vfio_add_ext_cap (the extended list rebuilt on
// an emulated head, SR-IOV/ARI/ID-0 dropped, REBAR virtualized, the vPASID
// capability of seed 000 under each of its switches, the head clean-up). Only
// the bytes with emulated bits are kept (config, wmask and emulated bits).

import type { HostDevice } from "../host/state.ts";
import { configSize, isExpress } from "../pci/device.ts";
import { pcieAddCapability, pcieInsertCapability, pcieInsertCapabilityV7, pciePasidCommonInit, QemuAssert, type PciDevBytes } from "../pci/pcie.ts";
import {
  getByte,
  getLong,
  PCI_CAP_LIST_NEXT,
  PCI_CAPABILITY_LIST,
  PCI_CONFIG_SPACE_SIZE,
  PCI_EXT_CAP,
  PCI_EXT_CAP_ID,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_PASID,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_NEXT,
  PCI_EXT_CAP_NEXT_MASK,
  PCI_EXT_CAP_PASID_SIZEOF,
  PCI_EXT_CAP_VER,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MULTI_FUNCTION,
  PCI_PASID_VER,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCIE_CONFIG_SPACE_SIZE,
  setLong,
} from "../pci/regs.ts";
import { extCapSpecLen } from "../pci/vfio_config.ts";
import type { GuestConfig } from "./state.ts";

/** What vfio_add_ext_cap learns from the HostIOMMUDevice (null: none, an mdev). */
export interface HiodPasid {
  iommufd: boolean;
  /** IOMMU_GET_HW_INFO out_max_pasid_log2. */
  maxPasidLog2: number;
  /** out_capabilities IOMMU_HW_CAP_PCI_PASID_EXEC / _PRIV. */
  exec: boolean;
  priv: boolean;
}

export interface ConfigInputs {
  hd: HostDevice;
  /** The VFIO config region as QEMU reads it at realize. */
  phys: Uint8Array;
  /** pci_bus_is_express of the bus the device sits on. */
  busExpress: boolean;
  multifunction: boolean;
  hiod: HiodPasid | null;
  /** pci_device_get_viommu_flags(pdev) & VIOMMU_FLAG_PASID_SUPPORTED. */
  viommuPasid: boolean;
  /** x-vpasid-cap-offset (0: default). */
  vpasidOffset: number;
  on: (name: string) => boolean;
}

export type ConfigResult = { cfg: GuestConfig; messages: string[]; findings: string[] } | { abort: string };

/** PCIE_CONFIG_SPACE_SIZE - PCI_EXT_CAP_PASID_SIZEOF: the default vPASID offset, 0xff8. */
export const VPASID_DEFAULT_OFFSET = PCIE_CONFIG_SPACE_SIZE - PCI_EXT_CAP_PASID_SIZEOF;

const hex = (n: number): string => `0x${n.toString(16)}`;

/** vfio_ext_cap_max_size: the distance to the nearest higher capability of the list, or to 0x1000. */
function extCapMaxSize(config: Uint8Array, pos: number): number {
  let next = PCIE_CONFIG_SPACE_SIZE;
  let guard = 0;
  for (let tmp = PCI_CONFIG_SPACE_SIZE; tmp && guard++ < 1024; tmp = PCI_EXT_CAP_NEXT(getLong(config, tmp))) if (tmp > pos && tmp < next) next = tmp;
  return next - pos;
}

/** vfio_add_emulated_long. */
function addEmulatedLong(d: PciDevBytes, pos: number, val: number, mask: number): void {
  setLong(d.config, pos, ((getLong(d.config, pos) & ~mask) | (val & mask)) >>> 0);
  setLong(d.wmask, pos, ((getLong(d.wmask, pos) & ~mask) | (~mask & mask)) >>> 0);
  setLong(d.emu, pos, ((getLong(d.emu, pos) & ~mask) | mask) >>> 0);
}

/** vfio_setup_rebar_ecap: only the current size advertised, every register emulated; false (-EINVAL) hides the capability. */
function setupRebarEcap(d: PciDevBytes, pos: number): boolean {
  const nbar = (getLong(d.config, pos + 8) & 0xe0) >> 5; // PCI_REBAR_CTRL_NBAR_MASK
  for (let i = 0; i < nbar; i++) {
    let ctrl = getLong(d.config, pos + 8 + i * 8);
    const size = (ctrl & 0x3f00) >> 8; // PCI_REBAR_CTRL_BAR_SIZE
    const cap = size <= 27 ? (1 << (size + 4)) >>> 0 : 0;
    if (!(cap & 0xfffffff0)) return false; // PCI_REBAR_CAP_SIZES
    ctrl &= 0x3f00 | 0xe0 | 0x7; // BAR_SIZE | NBAR_MASK | BAR_IDX
    addEmulatedLong(d, pos + 4 + i * 8, cap, 0xffffffff);
    addEmulatedLong(d, pos + 8 + i * 8, ctrl, 0xffffffff);
  }
  return true;
}

/** Eric Auger's proposal (switch vpasid-refuse-overlap): the first capability of the list whose spec-defined size overlaps [off, off + 8). */
function overlappedCap(d: PciDevBytes, phys: Uint8Array, hd: HostDevice, off: number): { id: number; pos: number } | undefined {
  let guard = 0;
  for (let pos = PCI_CONFIG_SPACE_SIZE; pos && guard++ < 1024; pos = PCI_EXT_CAP_NEXT(getLong(d.config, pos))) {
    const id = PCI_EXT_CAP_ID(getLong(d.config, pos));
    if (id === 0 || id === 0xffff) continue; // the list's anchor
    const len = extCapSpecLen(phys, hd, id, pos);
    if (len && off < pos + len && pos < off + PCI_EXT_CAP_PASID_SIZEOF) return { id, pos };
  }
  return undefined;
}

interface Synth {
  d: PciDevBytes;
  inp: ConfigInputs;
  messages: string[];
  findings: string[];
}

/** Places the vPASID capability at `offset` with the insert of the profile; false when the insert refused. */
function insertPasid(x: Synth, offset: number): boolean {
  const { d, inp } = x;
  if (inp.on("vpasid-refuse-overlap")) {
    const hit = overlappedCap(d, inp.phys, inp.hd, offset);
    if (hit) {
      x.messages.push(`vfio: PASID capability at offset ${hex(offset)} overlaps extended capability ${hex(hit.id)}@${hex(hit.pos)}, skipping PASID`);
      return false;
    }
  }
  if (inp.on("vpasid-insert-walk-next")) return pcieInsertCapability(d, PCI_EXT_CAP_ID_PASID, PCI_PASID_VER, offset, PCI_EXT_CAP_PASID_SIZEOF);
  if (inp.on("vpasid-insert-v7")) return pcieInsertCapabilityV7(d, PCI_EXT_CAP_ID_PASID, PCI_PASID_VER, offset, PCI_EXT_CAP_PASID_SIZEOF);
  pcieAddCapability(d, PCI_EXT_CAP_ID_PASID, PCI_PASID_VER, offset, PCI_EXT_CAP_PASID_SIZEOF); // pcie_pasid_init
  return true;
}

/** pcie_pasid_common_init and "PASID capability is fully emulated by QEMU"; Alex Williamson's zero check (vpasid-nonzero-finding). */
function initPasid(x: Synth, offset: number, h: HiodPasid): void {
  pciePasidCommonInit(x.d, offset, h.maxPasidLog2, h.exec, h.priv);
  x.d.emu.fill(0xff, offset, offset + PCI_EXT_CAP_PASID_SIZEOF);
  if (x.inp.on("vpasid-nonzero-finding")) {
    const under = [...x.inp.phys.subarray(offset, offset + PCI_EXT_CAP_PASID_SIZEOF)];
    if (under.some((b) => b !== 0))
      x.findings.push(
        `vfio: config space under the PASID capability at ${hex(offset)} is not zero: ${under.map((b) => b.toString(16).padStart(2, "0")).join(" ")}`,
      );
  }
}

/**
 * The vPASID synthesis after the extended list is rebuilt, as each version of
 * seed 000 does it: v6 inline in vfio_add_ext_cap (get_cap, pcie_pasid_init at
 * 0xff8); v7 and later vfio_pci_synthesize_pasid_cap.
 */
function synthesizePasid(x: Synth): void {
  const { inp } = x;
  const h = inp.hiod;
  if (!inp.on("vpasid-cap-v7")) {
    // v6: hiodc->get_cap(HOST_IOMMU_DEVICE_CAP_MAX_PASID_LOG2); the legacy backend's get_cap fails, leaving 0.
    const log2 = h?.iommufd ? h.maxPasidLog2 : 0;
    if (!log2 || !inp.viommuPasid || !h) return;
    insertPasid(x, VPASID_DEFAULT_OFFSET);
    initPasid(x, VPASID_DEFAULT_OFFSET, h);
    return;
  }
  // v7: `if (vdev->vbasedev.mdev) return;` -- merged: `if (!hiod) return true;`
  if (!h) return;
  // get_pasid_info: only the iommufd HostIOMMUDevice has it; false when max_pasid_log2 is 0.
  if (!h.iommufd || !h.maxPasidLog2 || !inp.viommuPasid) return;
  const final = inp.on("vpasid-cap-final");
  let offset = VPASID_DEFAULT_OFFSET;
  if (inp.on("vpasid-cap-offset-prop")) {
    const p = inp.vpasidOffset;
    if (p) offset = p;
    if (!final) {
      if (!p) x.messages.push(`vfio: PASID capability offset(x-vpasid-cap-offset) not specified, placing at the default offset ${hex(offset)}`);
      else if (p % 4 || p < PCI_CONFIG_SPACE_SIZE || p + PCI_EXT_CAP_PASID_SIZEOF > PCIE_CONFIG_SPACE_SIZE) {
        x.messages.push(`vfio: invalid x-vpasid-cap-offset ${hex(p)}, skipping PASID`);
        return;
      }
    }
  }
  if (!insertPasid(x, offset)) {
    x.messages.push(`vfio: Placing PASID capability at offset ${hex(offset)} failed`);
    if (final) return; // error_setg + return false; the caller's error_report_err
  }
  initPasid(x, offset, h); // v7 initialises even after a failed insert
}

/** vfio_add_ext_cap. */
function addExtCap(x: Synth): void {
  const { d, inp } = x;
  // v6 declares `hiodc = HOST_IOMMU_DEVICE_GET_CLASS(hiod)` first thing: a NULL hiod (mdev) is dereferenced.
  if (inp.on("vpasid-cap-last-8") && !inp.on("vpasid-cap-v7") && !inp.hiod)
    throw new QemuAssert("SIGSEGV in vfio_add_ext_cap: HOST_IOMMU_DEVICE_GET_CLASS(hiod) of the NULL HostIOMMUDevice of an mdev");
  if (!isExpress(inp.hd) || !inp.busExpress || !getLong(d.config, PCI_CONFIG_SPACE_SIZE)) return;
  const config = d.config.slice();
  setLong(d.config, PCI_CONFIG_SPACE_SIZE, PCI_EXT_CAP(0xffff, 0, 0));
  setLong(d.wmask, PCI_CONFIG_SPACE_SIZE, 0);
  setLong(d.emu, PCI_CONFIG_SPACE_SIZE, 0xffffffff);
  let pasidCapAdded = false;
  let guard = 0;
  for (let next = PCI_CONFIG_SPACE_SIZE; next; next = PCI_EXT_CAP_NEXT(getLong(config, next))) {
    if (guard++ > 1024) throw new QemuAssert(`vfio_add_ext_cap: the extended capability list loops at ${hex(next)} (QEMU does not return)`);
    const header = getLong(config, next);
    const id = PCI_EXT_CAP_ID(header);
    const ver = PCI_EXT_CAP_VER(header);
    const size = extCapMaxSize(config, next);
    setLong(d.emu, next, (getLong(d.emu, next) | PCI_EXT_CAP_NEXT_MASK) >>> 0);
    switch (id) {
      case 0: // kernel masked capability
      case PCI_EXT_CAP_ID_SRIOV: // Read-only VF BARs confuse OVMF
      case PCI_EXT_CAP_ID_ARI: // XXX Needs next function virtualization
        break;
      case PCI_EXT_CAP_ID_REBAR:
        if (setupRebarEcap(d, next)) pcieAddCapability(d, id, ver, next, size);
        break;
      case PCI_EXT_CAP_ID_PASID:
        // Before seed 000 the PASID capability was a default one; v6 on records it to not duplicate it.
        if (inp.on("vpasid-cap-last-8")) pasidCapAdded = true;
        pcieAddCapability(d, id, ver, next, size);
        break;
      default:
        pcieAddCapability(d, id, ver, next, size);
    }
  }
  if (inp.on("vpasid-cap-last-8") && !pasidCapAdded) synthesizePasid(x);
  // Cleanup chain head ID if necessary
  if ((getLong(d.config, PCI_CONFIG_SPACE_SIZE) & 0xffff) === 0xffff)
    setLong(d.config, PCI_CONFIG_SPACE_SIZE, getLong(d.config, PCI_CONFIG_SPACE_SIZE) & 0xffff0000);
}

/**
 * vfio_pci_add_capabilities: nothing without a capability list. The standard
 * list keeps the region's order and offsets (vfio_add_std_cap re-adds each from
 * the tail, so the result is the same list) with QEMU's own list pointer,
 * CAP_LIST bit and next pointers.
 */
function addCapabilities(x: Synth): void {
  const { d } = x;
  if (!(d.config[PCI_STATUS]! & PCI_STATUS_CAP_LIST) || !d.config[PCI_CAPABILITY_LIST]) return;
  d.emu[PCI_CAPABILITY_LIST] = 0xff;
  d.emu[PCI_STATUS] = d.emu[PCI_STATUS]! | PCI_STATUS_CAP_LIST;
  let guard = 0;
  for (let pos = d.config[PCI_CAPABILITY_LIST]!; pos && guard++ < 48; pos = getByte(d.config, pos + PCI_CAP_LIST_NEXT)) {
    d.emu[pos + PCI_CAP_LIST_NEXT] = 0xff;
    d.wmask[pos + PCI_CAP_LIST_NEXT] = 0;
  }
  addExtCap(x);
}

/** vfio_pci_config_setup + vfio_pci_add_capabilities: the guest-visible config space of a new vfio-pci device. */
export function buildGuestConfig(inp: ConfigInputs): ConfigResult {
  const size = configSize(inp.hd);
  const d: PciDevBytes = { config: inp.phys.slice(0, size), wmask: new Uint8Array(size), emu: new Uint8Array(size) };
  // pci_init_wmask: everything past the header is writable until a capability makes it read-only.
  d.wmask.fill(0xff, PCI_STD_HEADER_SIZEOF);
  // "QEMU can change multi-function devices to single function, or reverse"
  d.emu[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MULTI_FUNCTION;
  d.config[PCI_HEADER_TYPE] = (d.config[PCI_HEADER_TYPE]! & ~PCI_HEADER_TYPE_MULTI_FUNCTION) | (inp.multifunction ? PCI_HEADER_TYPE_MULTI_FUNCTION : 0);
  const x: Synth = { d, inp, messages: [], findings: [] };
  try {
    addCapabilities(x);
  } catch (e) {
    if (e instanceof QemuAssert) return { abort: e.message };
    throw e;
  }
  const cfg: GuestConfig = { size, busExpress: inp.busExpress, config: new Map(), emu: new Map(), wmask: new Map() };
  for (let i = 0; i < size; i++) {
    if (!d.emu[i]) continue;
    cfg.config.set(i, d.config[i]!);
    cfg.emu.set(i, d.emu[i]!);
    if (d.wmask[i]) cfg.wmask.set(i, d.wmask[i]!);
  }
  return { cfg, messages: x.messages, findings: x.findings };
}
