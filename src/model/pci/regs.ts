// PCI and PCI Express configuration-space registers (include/uapi/linux/pci_regs.h,
// QEMU include/standard-headers/linux/pci_regs.h and include/hw/pci/pcie_regs.h)
// and little-endian accessors over a config-space byte array.

export const PCI_CONFIG_SPACE_SIZE = 0x100;
export const PCIE_CONFIG_SPACE_SIZE = 0x1000;
/** PCI_STD_HEADER_SIZEOF: the type-0 header; capabilities start at 0x40. */
export const PCI_STD_HEADER_SIZEOF = 0x40;

export const PCI_VENDOR_ID = 0x00;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_CAP_LIST_NEXT = 1;
export const PCI_CAP_FLAGS = 2;

export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_CAP_ID_AF = 0x13;
export const PCI_CAP_ID_MAX = 0x15;
/** PCI_EXP_VER2_SIZEOF: a v2 PCI Express capability. */
export const PCI_EXP_VER2_SIZEOF = 0x3c;
/** PCI_CAP_MSIX_SIZEOF. */
export const PCI_CAP_MSIX_SIZEOF = 12;

export const PCI_EXT_CAP_ID_ERR = 0x01;
export const PCI_EXT_CAP_ID_VNDR = 0x0b;
export const PCI_EXT_CAP_ID_ACS = 0x0d;
export const PCI_EXT_CAP_ID_ARI = 0x0e;
export const PCI_EXT_CAP_ID_ATS = 0x0f;
export const PCI_EXT_CAP_ID_SRIOV = 0x10;
export const PCI_EXT_CAP_ID_REBAR = 0x15;
export const PCI_EXT_CAP_ID_PASID = 0x1b;
export const PCI_EXT_CAP_ID_DVSEC = 0x23;

/** QEMU PCI_EXT_CAP(id, ver, next). */
export const PCI_EXT_CAP = (id: number, ver: number, next: number): number => (id | (ver << 16) | (next << 20)) >>> 0;
export const PCI_EXT_CAP_ID = (h: number): number => h & 0xffff;
export const PCI_EXT_CAP_VER = (h: number): number => (h >>> 16) & 0xf;
export const PCI_EXT_CAP_NEXT = (h: number): number => (h >>> 20) & 0xffc;
/** PCI_EXT_CAP_NEXT_MASK: bits 31:20 of the header, with the two reserved low bits of the pointer. */
export const PCI_EXT_CAP_NEXT_MASK = 0xffc00000;
export const PCI_EXT_CAP_ALIGN = 4;

/** The PASID extended capability (PCIe r6, 7.8.8). */
export const PCI_PASID_VER = 1;
export const PCI_PASID_CAP = 4;
export const PCI_PASID_CTRL = 6;
export const PCI_PASID_CAP_EXEC = 0x0002;
export const PCI_PASID_CAP_PRIV = 0x0004;
export const PCI_PASID_CAP_WIDTH_SHIFT = 8;
export const PCI_PASID_CTRL_ENABLE = 0x0001;
export const PCI_PASID_CTRL_EXEC = 0x0002;
export const PCI_PASID_CTRL_PRIV = 0x0004;
export const PCI_EXT_CAP_PASID_SIZEOF = 8;
/** PCI_EXT_CAP_PASID_MAX_WIDTH (QEMU pcie_regs.h). */
export const PCI_EXT_CAP_PASID_MAX_WIDTH = 20;

export function getByte(b: Uint8Array, off: number): number {
  return b[off] ?? 0;
}
export function getWord(b: Uint8Array, off: number): number {
  return (b[off] ?? 0) | ((b[off + 1] ?? 0) << 8);
}
export function getLong(b: Uint8Array, off: number): number {
  return (getWord(b, off) | (getWord(b, off + 2) << 16)) >>> 0;
}
export function setWord(b: Uint8Array, off: number, v: number): void {
  b[off] = v & 0xff;
  b[off + 1] = (v >>> 8) & 0xff;
}
export function setLong(b: Uint8Array, off: number, v: number): void {
  setWord(b, off, v & 0xffff);
  setWord(b, off + 2, (v >>> 16) & 0xffff);
}
/** `len` bytes of `b` from `off` as a little-endian value (len 1, 2 or 4). */
export function getLe(b: Uint8Array, off: number, len: number): number {
  let v = 0;
  for (let i = len - 1; i >= 0; i--) v = v * 256 + (b[off + i] ?? 0);
  return v;
}
