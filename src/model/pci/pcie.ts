// QEMU's PCI Express extended-capability helpers (hw/pci/pcie.c) over a
// device's emulated config space: pcie_add_capability (append at the tail),
// pcie_insert_capability (insert at a fixed offset, as merged; and as seed
// 000 v7 posted it), pcie_pasid_common_init. An assert() of QEMU's is a
// QemuAssert: QEMU aborts.

import {
  getLong,
  getWord,
  PCI_CONFIG_SPACE_SIZE,
  PCI_EXT_CAP,
  PCI_EXT_CAP_ALIGN,
  PCI_EXT_CAP_NEXT,
  PCI_EXT_CAP_NEXT_MASK,
  PCI_EXT_CAP_PASID_MAX_WIDTH,
  PCI_PASID_CAP,
  PCI_PASID_CAP_EXEC,
  PCI_PASID_CAP_PRIV,
  PCI_PASID_CAP_WIDTH_SHIFT,
  PCI_PASID_CTRL,
  PCIE_CONFIG_SPACE_SIZE,
  setLong,
  setWord,
} from "./regs.ts";

/** PCIDevice's config, wmask and VFIOPCIDevice's emulated_config_bits. */
export interface PciDevBytes {
  config: Uint8Array;
  wmask: Uint8Array;
  emu: Uint8Array;
}

/** A failed assert() in QEMU: the process aborts with this message. */
export class QemuAssert extends Error {}

function qemuAssert(cond: boolean, fn: string, expr: string): void {
  if (!cond) throw new QemuAssert(`${fn}: Assertion \`${expr}' failed.`);
}

/** pcie_find_capability_list(dev, 0xffffffff, &prev): the tail of the list (0 when there is none). */
function pcieListTail(d: PciDevBytes): number {
  let header = getLong(d.config, PCI_CONFIG_SPACE_SIZE);
  if (!header) return 0;
  let prev = 0;
  const seen = new Set<number>();
  for (let next = PCI_CONFIG_SPACE_SIZE; next; prev = next, next = PCI_EXT_CAP_NEXT(header)) {
    qemuAssert(next >= PCI_CONFIG_SPACE_SIZE, "pcie_find_capability_list", "next >= PCI_CONFIG_SPACE_SIZE");
    qemuAssert(next <= PCIE_CONFIG_SPACE_SIZE - 8, "pcie_find_capability_list", "next <= PCIE_CONFIG_SPACE_SIZE - 8");
    // A list that loops never ends in QEMU (it hangs); the model refuses to follow it.
    if (seen.has(next)) throw new QemuAssert(`pcie_find_capability_list: the extended capability list loops at 0x${next.toString(16)} (QEMU does not return)`);
    seen.add(next);
    header = getLong(d.config, next);
  }
  return prev;
}

/** pcie_ext_cap_set_next. */
function setNext(d: PciDevBytes, pos: number, next: number): void {
  qemuAssert(!(next & (PCI_EXT_CAP_ALIGN - 1)), "pcie_ext_cap_set_next", "!(next & (PCI_EXT_CAP_ALIGN - 1))");
  setLong(d.config, pos, ((getLong(d.config, pos) & ~PCI_EXT_CAP_NEXT_MASK) | ((next << 20) & PCI_EXT_CAP_NEXT_MASK)) >>> 0);
}

/** The end of pcie_add_capability / pcie_insert_capability: read-only, checked (w1cmask and cmask are not modelled). */
function readOnly(d: PciDevBytes, offset: number, size: number): void {
  d.wmask.fill(0, offset, offset + size);
}

/** pcie_add_capability: links the tail to `offset` and writes the header with next 0 (it always appends). */
export function pcieAddCapability(d: PciDevBytes, id: number, ver: number, offset: number, size: number): void {
  qemuAssert(offset >= PCI_CONFIG_SPACE_SIZE, "pcie_add_capability", "offset >= PCI_CONFIG_SPACE_SIZE");
  qemuAssert(offset < ((offset + size) & 0xffff), "pcie_add_capability", "offset < (uint16_t)(offset + size)");
  qemuAssert(((offset + size) & 0xffff) <= PCIE_CONFIG_SPACE_SIZE, "pcie_add_capability", "(uint16_t)(offset + size) <= PCIE_CONFIG_SPACE_SIZE");
  qemuAssert(size >= 8, "pcie_add_capability", "size >= 8");
  if (offset !== PCI_CONFIG_SPACE_SIZE) {
    const prev = pcieListTail(d);
    qemuAssert(prev >= PCI_CONFIG_SPACE_SIZE, "pcie_add_capability", "prev >= PCI_CONFIG_SPACE_SIZE");
    setNext(d, prev, offset);
  }
  setLong(d.config, offset, PCI_EXT_CAP(id, ver, 0));
  readOnly(d, offset, size);
}

/**
 * pcie_insert_capability as merged (seed 000 v8/v9): refuses an unaligned or
 * out-of-range offset, an offset other than 0x100 in an empty list, and one
 * inside an existing 4-byte header; walks the list by its next pointers while
 * `offset >= pos` and links the new capability between `prev` and `pos`.
 * Overlap with a capability's registers is not checked.
 */
export function pcieInsertCapability(d: PciDevBytes, id: number, ver: number, offset: number, size: number): boolean {
  let pos = PCI_CONFIG_SPACE_SIZE;
  let prev = 0;
  if (offset % PCI_EXT_CAP_ALIGN || size < 8 || offset < PCI_CONFIG_SPACE_SIZE || offset >= PCIE_CONFIG_SPACE_SIZE || offset + size > PCIE_CONFIG_SPACE_SIZE)
    return false;
  let header = getLong(d.config, pos);
  if (!header) {
    if (offset !== pos) return false;
    setLong(d.config, pos, PCI_EXT_CAP(id, ver, 0));
  } else {
    let steps = 0;
    while (header && pos && offset >= pos) {
      const next = PCI_EXT_CAP_NEXT(header);
      if (offset < pos + PCI_EXT_CAP_ALIGN) return false;
      prev = pos;
      pos = next;
      header = pos ? getLong(d.config, pos) : 0;
      if (++steps > PCIE_CONFIG_SPACE_SIZE / 4) throw new QemuAssert("pcie_insert_capability: the extended capability list loops (QEMU does not return)");
    }
    setLong(d.config, offset, PCI_EXT_CAP(id, ver, pos));
    if (prev) setNext(d, prev, offset);
  }
  readOnly(d, offset, size);
  return true;
}

/**
 * pcie_insert_capability as seed 000 v7 posted it (patch 33/36), reconstructed
 * from its failure report (Zhangfei Gao: EDK2 "ASSERT [PciBusDxe]
 * PciLib.c(626)" with ssidsize=16; v8 "reworked" the helper to walk by
 * PCI_EXT_CAP_NEXT): the head's 16-bit ID word at 0x100 is taken for its next
 * pointer, so the new capability is linked there: the head's ID is overwritten
 * with the offset, the new header's next is that ID word (dword aligned), and
 * the capability the list really ends with is not linked to it. Same range
 * checks as merged, plus an offset inside the head's header.
 */
export function pcieInsertCapabilityV7(d: PciDevBytes, id: number, ver: number, offset: number, size: number): boolean {
  if (offset % PCI_EXT_CAP_ALIGN || size < 8 || offset < PCI_CONFIG_SPACE_SIZE + PCI_EXT_CAP_ALIGN || offset + size > PCIE_CONFIG_SPACE_SIZE) return false;
  const headId = getWord(d.config, PCI_CONFIG_SPACE_SIZE);
  setLong(d.config, offset, PCI_EXT_CAP(id, ver, headId & 0xffc));
  setWord(d.config, PCI_CONFIG_SPACE_SIZE, offset);
  readOnly(d, offset, size);
  return true;
}

/** pcie_pasid_common_init: capability register from the width and EXEC/PRIV, control 0 with wmask 0x07. */
export function pciePasidCommonInit(d: PciDevBytes, offset: number, width: number, exec: boolean, priv: boolean): void {
  width &= 0xff; // uint8_t pasid_width
  qemuAssert(width <= PCI_EXT_CAP_PASID_MAX_WIDTH, "pcie_pasid_common_init", "pasid_width <= PCI_EXT_CAP_PASID_MAX_WIDTH");
  setWord(
    d.config,
    offset + PCI_PASID_CAP,
    ((width << PCI_PASID_CAP_WIDTH_SHIFT) | (exec ? PCI_PASID_CAP_EXEC : 0) | (priv ? PCI_PASID_CAP_PRIV : 0)) & 0xffff,
  );
  setWord(d.config, offset + PCI_PASID_CTRL, 0);
  setWord(d.wmask, offset + PCI_PASID_CTRL, 0x07);
}
