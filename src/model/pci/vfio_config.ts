// The config space of a device bound to vfio-pci as its VFIO config region
// answers (drivers/vfio/pci/vfio_pci_config.c): vfio_config_init builds the
// map of which capability owns each byte and the virtual copy (vconfig) of the
// headers. vfio_cap_init unlinks the standard capabilities pci_cap_length[]
// gives length 0; vfio_ecap_init unlinks the extended ones pci_ext_cap_length[]
// gives length 0 (PASID among them: "not yet"), keeping a hidden first one as
// an id-0 placeholder, and zeroes the head when no real one is left. Reads
// (vfio_config_do_rw): capability headers from vconfig, everything else from
// the hardware; writes: dropped in capabilities without write permissions,
// raw to the hardware in unassigned bytes (unassigned_perms). An mdev's config
// region is its parent driver's emulation: the model reads it as declared.

import type { HostDevice } from "../host/state.ts";
import { configSize, deviceConfig, deviceConfigWrite } from "./device.ts";
import {
  getByte,
  getLong,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MAX,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_VNDR,
  PCI_CAP_LIST_NEXT,
  PCI_CAPABILITY_LIST,
  PCI_CONFIG_SPACE_SIZE,
  PCI_EXT_CAP_ID,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_PASID,
  PCI_EXT_CAP_ID_VNDR,
  PCI_EXT_CAP_NEXT,
  PCI_EXT_CAP_PASID_SIZEOF,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  setLong,
} from "./regs.ts";

const FF = 0xff;
/** pci_cap_length[]: 0 removed from the list, 0xFF variable (vfio_cap_len). */
const PCI_CAP_LENGTH: readonly number[] = [PCI_STD_HEADER_SIZEOF, 8, 0x30, 8, 0, FF, 0, FF, FF, FF, 0, 0, 0, 0, 0, 0, FF, 12, FF, 6, 0, 0];
/** pci_ext_cap_length[] (PCI_EXT_CAP_ID_ERR .. PCI_EXT_CAP_ID_DVSEC): 0 removed or masked, 0xFF variable (vfio_ext_cap_len). */
const PCI_EXT_CAP_LENGTH: Readonly<Record<number, number>> = {
  1: 0x2c, // ERR: PCI_ERR_ROOT_COMMAND
  2: FF, // VC
  3: 0x0c, // DSN
  4: 0x10, // PWR
  8: FF, // MFVC
  9: FF, // VC9
  11: FF, // VNDR
  13: FF, // ACS
  14: 8, // ARI
  15: 8, // ATS
  16: 0x40, // SRIOV
  18: 0x28, // MCAST endpoint
  19: 0x10, // PRI
  21: FF, // REBAR
  22: FF, // DPA
  23: FF, // TPH
  24: 8, // LTR
  35: FF, // DVSEC
  // RCLD, RCILC, RCEC, RCRB (root only), CAC (obsolete), MRIOV, AMD_XXX, SECPCI, PMUX, PASID ("not yet"): 0
};

/** The kernel's record of one capability in its config map. */
export interface VfioCap {
  ext: boolean;
  id: number;
  start: number;
  len: number;
}

export interface VfioConfigView {
  /** What a read of the config region returns, byte by byte. */
  bytes: Uint8Array;
  /** The capability owning each byte (vdev->pci_config_map), undefined for the header and unassigned bytes. */
  owner: (off: number) => VfioCap | undefined;
}

/** vfio_cap_len for the variable-length standard capabilities the model knows; else the declared size. */
function capLen(hw: Uint8Array, id: number, pos: number, declared: number): number {
  if (id === PCI_CAP_ID_MSI) {
    const flags = hw[pos + 2]! | (hw[pos + 3]! << 8);
    return (flags & 0x80 ? 14 : 10) + (flags & 0x100 ? 10 : 0); // PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_MASKBIT
  }
  if (id === PCI_CAP_ID_VNDR) return hw[pos + 2]!;
  if (id === PCI_CAP_ID_EXP) return (hw[pos + 2]! & 0xf) === 1 ? 20 : 0x3c; // PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 / _V2
  return declared;
}

/** vfio_ext_cap_len for the variable-length extended capabilities (VC/VC9/MFVC: the declared size). */
function extCapLen(hw: Uint8Array, id: number, pos: number, declared: number): number {
  switch (id) {
    case PCI_EXT_CAP_ID_VNDR:
    case 0x23: // DVSEC: PCI_DVSEC_HEADER1 length, as PCI_VSEC_HDR
      return getLong(hw, pos + 4) >>> 20;
    case 0x0d: {
      const cap = getByte(hw, pos + 4);
      if (!(cap & 0x40)) return 8; // PCI_ACS_EC
      const bits = getByte(hw, pos + 5);
      return 8 + (bits ? Math.ceil(bits / 32) * 32 : 256) / 8;
    }
    case 0x15:
      return 4 + ((getByte(hw, pos + 8) & 0xe0) >> 5) * 8; // PCI_REBAR_CTRL_NBAR_MASK
    case 0x16:
      return 16 + (getByte(hw, pos + 4) & 0x1f) + 1; // PCI_DPA_BASE_SIZEOF + substates
    case 0x17: {
      const d = getLong(hw, pos + 4);
      return (d & 0x600) === 0x200 ? 12 + ((d >>> 16) & 0x7ff) * 2 + 2 : 12; // PCI_TPH_LOC_CAP
    }
    default:
      return declared || 4;
  }
}

/** Kernel behaviour the view depends on. */
export interface VfioConfigOpts {
  /** pci_ext_cap_length[PCI_EXT_CAP_ID_PASID] = PCI_EXT_CAP_PASID_SIZEOF (switch vfio-pci-expose-pasid, never merged). */
  exposePasid?: boolean;
}

/** vfio_config_init: the map and vconfig of a device bound to vfio-pci. */
export function vfioConfigView(hd: HostDevice, opts: VfioConfigOpts = {}): VfioConfigView {
  const hw = deviceConfig(hd);
  const size = configSize(hd);
  const bytes = hw.slice();
  const caps: VfioCap[] = [];
  const map: (VfioCap | undefined)[] = new Array(size);
  const mark = (c: VfioCap): void => {
    caps.push(c);
    for (let i = 0; i < c.len && c.start + i < size; i++) map[c.start + i] = c;
  };
  if (hd.mdev) return { bytes, owner: (off) => map[off] };

  // vfio_cap_init
  if (hw[PCI_STATUS]! & PCI_STATUS_CAP_LIST) {
    let pos = hw[PCI_CAPABILITY_LIST]!;
    let prev = PCI_CAPABILITY_LIST;
    let loops = (PCI_CONFIG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / 4;
    let n = 0;
    while (pos && loops--) {
      const cap = hw[pos]!;
      const next = hw[pos + PCI_CAP_LIST_NEXT]!;
      let len = 0;
      if (cap && cap <= PCI_CAP_ID_MAX) {
        len = PCI_CAP_LENGTH[cap] ?? 0;
        if (len === FF) len = capLen(hw, cap, pos, stdSize(hd, pos));
      }
      if (!len) {
        bytes[prev] = next; // "hiding cap": *prev = next
        pos = next;
        continue;
      }
      mark({ ext: false, id: cap, start: pos, len });
      prev = pos + PCI_CAP_LIST_NEXT;
      pos = next;
      n++;
    }
    if (!n) bytes[PCI_STATUS] = bytes[PCI_STATUS]! & ~PCI_STATUS_CAP_LIST;
  }

  // vfio_ecap_init
  if (size > PCI_CONFIG_SPACE_SIZE) {
    let epos = PCI_CONFIG_SPACE_SIZE;
    let prev: number | undefined;
    let loops = (size - PCI_CONFIG_SPACE_SIZE) / 4;
    let ecaps = 0;
    while (loops-- > 0 && epos >= PCI_CONFIG_SPACE_SIZE) {
      const header = getLong(hw, epos);
      const ecap = PCI_EXT_CAP_ID(header);
      let len = ecap === PCI_EXT_CAP_ID_PASID && opts.exposePasid ? PCI_EXT_CAP_PASID_SIZEOF : (PCI_EXT_CAP_LENGTH[ecap] ?? 0);
      if (len === FF) len = extCapLen(hw, ecap, epos, hd.extCaps.find((c) => c.off === epos)?.size ?? 0);
      let hidden = false;
      if (!len) {
        if (prev !== undefined) {
          // "If not the first in the chain, we can skip over it"
          epos = PCI_EXT_CAP_NEXT(header);
          setLong(bytes, prev, ((getLong(bytes, prev) & ~(0xffc << 20)) | (epos << 20)) >>> 0);
          continue;
        }
        len = 4; // a placeholder anchoring the list
        hidden = true;
      }
      mark({ ext: true, id: hidden ? 0 : ecap, start: epos, len });
      if (hidden) setLong(bytes, epos, (getLong(bytes, epos) & (0xffc << 20)) >>> 0);
      else ecaps++;
      prev = epos;
      epos = PCI_EXT_CAP_NEXT(header);
    }
    if (!ecaps) setLong(bytes, PCI_CONFIG_SPACE_SIZE, 0);
  }

  // Reads: ext cap headers (vfio_direct_config_read's "Extended cap header mangling"), standard cap next
  // pointers and the list pointer and CAP_LIST (virtualized) from vconfig; all else from the hardware.
  const virt = new Uint8Array(size);
  for (const c of caps) {
    if (c.ext) for (let i = 0; i < 4; i++) virt[c.start + i] = 1;
    else virt[c.start + PCI_CAP_LIST_NEXT] = 1;
  }
  virt[PCI_CAPABILITY_LIST] = 1;
  const out = hw.slice();
  for (let i = 0; i < size; i++) if (virt[i]) out[i] = bytes[i]!;
  out[PCI_STATUS] = (hw[PCI_STATUS]! & ~PCI_STATUS_CAP_LIST) | (bytes[PCI_STATUS]! & PCI_STATUS_CAP_LIST);
  return { bytes: out, owner: (off) => map[off] };
}

function stdSize(hd: HostDevice, pos: number): number {
  return hd.stdCaps.find((c) => c.off === pos)?.size ?? 4;
}

/**
 * A write through the config region (vfio_pci_config_rw), byte by byte as
 * vfio_config_do_rw chops it: unassigned bytes go raw to the hardware, the
 * vendor-specific capabilities too (their raw write permission); bytes of the
 * other extended capabilities are dropped (no write permission). Returns a
 * reason when the write reaches a register whose virtualization the model
 * does not cover (AER's, or anything in standard config space).
 */
export function vfioConfigWrite(hd: HostDevice, off: number, bytes: readonly number[], opts: VfioConfigOpts = {}): string | undefined {
  if (hd.mdev) return "a config write to an mdev (its parent driver's emulation)";
  if (off < PCI_CONFIG_SPACE_SIZE) return `a config write below 0x100 (0x${off.toString(16)}: vfio-pci's header and capability permissions)`;
  const view = vfioConfigView(hd, opts);
  for (let i = 0; i < bytes.length; i++) {
    const c = view.owner(off + i);
    if (c?.id === PCI_EXT_CAP_ID_ERR) return "a config write to the AER capability (vfio-pci's AER permissions)";
  }
  bytes.forEach((v, i) => {
    const c = view.owner(off + i);
    if (c === undefined || c.id === PCI_EXT_CAP_ID_VNDR) deviceConfigWrite(hd, off + i, [v]);
  });
  return undefined;
}

/**
 * The size of an extended capability as far as its ID and registers define it
 * (pci_ext_cap_length[] and vfio_ext_cap_len, PASID's 8 bytes): what a walk of
 * the list can know. 0: unknown (not defined there, or a VC whose size the
 * model takes from the trace).
 */
export function extCapSpecLen(phys: Uint8Array, hd: HostDevice, id: number, pos: number): number {
  if (id === PCI_EXT_CAP_ID_PASID) return PCI_EXT_CAP_PASID_SIZEOF;
  const len = PCI_EXT_CAP_LENGTH[id] ?? 0;
  return len === FF ? extCapLen(phys, id, pos, hd.extCaps.find((c) => c.off === pos)?.size ?? 0) : len;
}
