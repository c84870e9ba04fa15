// vfio-pci's device ioctls (drivers/vfio/pci/vfio_pci_core.c, and the core's
// vfio_get_region_info / vfio_set_irqs_validate_and_prepare in vfio_main.c):
// GET_INFO, GET_REGION_INFO, GET_IRQ_INFO, SET_IRQS, RESET and the commands
// vfio-pci answers only to refuse. Values that live in the device's config
// space (INTx pin, MSI/MSI-X vector counts) are not in the host model yet:
// a call that needs one is "not modelled", never a guess.

import { notModelled } from "../framework.ts";
import type { HostDevice } from "../host/state.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { errno, type Outcome, type OutValue } from "../outcome.ts";
import { hostDevOf, revokeDmabuf, vdevOf } from "./core.ts";
import { copiedOut, inlineOf, userBytes, userStruct } from "../uaccess/vfio_arg.ts";

const VFIO_PCI_NUM_REGIONS = 9;
const VFIO_PCI_NUM_IRQS = 5;
const ROM = 6;
const CONFIG = 7;
const VGA = 8;
const FLAG_READ = 1;
const FLAG_WRITE = 2;
const FLAG_MMAP = 4;
const FLAG_CAPS = 8;
const DEVICE_FLAGS_RESET = 1;
const DEVICE_FLAGS_PCI = 2;
const PCI_CAP_ID_MSI = 0x05;
const PCI_CAP_ID_EXP = 0x10;
const PCI_CAP_ID_MSIX = 0x11;

/** VFIO_PCI_INDEX_TO_OFFSET: the region's offset in the device fd. */
export const regionOffset = (index: number): bigint => BigInt(index) << 40n;

/** The std_caps a device has: as given, else a PCI Express endpoint with PCIe and MSI-X (docs/trace-format.md "Platform", `host.device`). */
function stdCapIds(dev: HostDevice): number[] {
  return dev.stdCaps.length ? dev.stdCaps.map((c) => c.id) : [PCI_CAP_ID_EXP, PCI_CAP_ID_MSIX];
}

const isPcie = (dev: HostDevice): boolean => stdCapIds(dev).includes(PCI_CAP_ID_EXP);

/** vdev->num_regions: the device-specific regions (index 9 and up). */
function deviceRegions(dev: HostDevice): HostDevice["regions"] {
  return dev.regions.filter((r) => r.index >= VFIO_PCI_NUM_REGIONS).sort((a, b) => a.index - b.index);
}

/** The bytes a VFIO handler may write back: min(argsz, sizeof). */
const copyLen = (argsz: number, size: number): number => Math.min(argsz, size);

/**
 * vfio_pci_ioctl_get_info: argsz < 16 (EINVAL); flags PCI, RESET when the
 * device can reset; 9 + device-specific regions; 5 IRQs. The capability chain
 * (zPCI on s390, AtomicOps completer for a root-bus device with DEVCAP2
 * atomics) is empty for these devices: the host model's DEVCAP2 is zero.
 */
export function vfioPciIoctlGetInfo(s: State, call: IoctlCall) {
  const info = userStruct(call);
  if (!info) return errno("EFAULT");
  const argsz = info.argsz as number;
  if (argsz < 16) return errno("EINVAL");
  const dev = hostDevOf(s, call.file.bdf!);
  const out: Record<string, OutValue> = {
    argsz,
    flags: DEVICE_FLAGS_PCI | (dev.reset ? DEVICE_FLAGS_RESET : 0),
    num_regions: VFIO_PCI_NUM_REGIONS + deviceRegions(dev).length,
    num_irqs: VFIO_PCI_NUM_IRQS,
    cap_offset: 0,
    pad: 0,
  };
  return copiedOut(call, out, copyLen(argsz, 24));
}

/**
 * vfio_get_region_info + vfio_pci_ioctl_get_region_info: argsz < 32
 * (EINVAL); config (cfg_size: 4096 for PCI Express, else 256, unless the host
 * device gives region 7), BARs (size 0: no flags; else READ|WRITE, MMAP as the
 * host device says, and the MSI-X mmappable capability when it says CAPS),
 * ROM (READ when present), VGA (EINVAL without one), device-specific regions
 * (their type/subtype capability is not in the host model); offset index << 40.
 */
export function vfioPciIoctlGetRegionInfo(s: State, call: IoctlCall) {
  const info = userStruct(call);
  if (!info) return errno("EFAULT");
  const argsz = info.argsz as number;
  if (argsz < 32) return errno("EINVAL");
  const dev = hostDevOf(s, call.file.bdf!);
  const index = info.index as number;
  const given = dev.regions.find((r) => r.index === index);
  let size = 0n;
  let flags = 0;
  let caps: OutValue[] = [];
  if (index === CONFIG) {
    size = given?.size ?? (isPcie(dev) ? 4096n : 256n);
    flags = FLAG_READ | FLAG_WRITE;
  } else if (index < ROM) {
    size = given?.size ?? 0n;
    if (size) {
      flags = FLAG_READ | FLAG_WRITE | ((given!.flags & FLAG_MMAP) !== 0 ? FLAG_MMAP : 0);
      // msix_mmappable_cap: the BAR holding the MSI-X table, when it is mmap-able.
      if (flags & FLAG_MMAP && given!.flags & FLAG_CAPS) caps = [{ id: 3, version: 1, next: 0 }];
    }
  } else if (index === ROM) {
    // Report the BAR size; pci_map_rom finds a ROM: READ, else size 0.
    size = given?.size ?? 0n;
    flags = size && given!.flags & FLAG_READ ? FLAG_READ : 0;
    if (!flags) size = 0n;
  } else if (index === VGA) {
    if (!given) return errno("EINVAL"); // !vdev->has_vga
    size = 0xc0000n;
    flags = FLAG_READ | FLAG_WRITE;
  } else {
    if (index >= VFIO_PCI_NUM_REGIONS + deviceRegions(dev).length) return errno("EINVAL");
    return notModelled(
      call.ev,
      `VFIO_DEVICE_GET_REGION_INFO of device-specific region ${index} (its VFIO_REGION_INFO_CAP_TYPE type/subtype is not in host.device)`,
    );
  }
  const out: Record<string, OutValue> = { argsz, flags, index, cap_offset: 0, size, offset: regionOffset(index) };
  if (caps.length) {
    // vfio_get_region_info: the chain follows the struct when argsz has room, else argsz asks for it.
    const capsSize = 8 * caps.length;
    out.flags = flags | FLAG_CAPS;
    if (argsz < 32 + capsSize) out.argsz = 32 + capsSize;
    else {
      out.cap_offset = 32;
      return copiedOut(call, out, 32, { caps });
    }
  }
  return copiedOut(call, out, 32);
}

/** vfio_pci_get_irq_count for the indices whose count needs no config-space value; undefined: it does. */
function irqCount(dev: HostDevice, index: number): number | undefined {
  switch (index) {
    case 0: // INTx: vconfig[PCI_INTERRUPT_PIN]
      return undefined;
    case 1: // MSI: the MSI capability's QMASK
      return stdCapIds(dev).includes(PCI_CAP_ID_MSI) ? undefined : 0;
    case 2: // MSI-X: the table size
      return stdCapIds(dev).includes(PCI_CAP_ID_MSIX) ? undefined : 0;
    case 3: // ERR
      return isPcie(dev) ? 1 : 0;
    case 4: // REQ
      return 1;
    default:
      return 0;
  }
}

/**
 * vfio_pci_ioctl_get_irq_info: argsz < 16 or index >= 5 (EINVAL); ERR only
 * on PCI Express (EINVAL otherwise); flags EVENTFD, INTx MASKABLE|AUTOMASKED,
 * the others NORESIZE (MSI-X without dynamic allocation too).
 */
export function vfioPciIoctlGetIrqInfo(s: State, call: IoctlCall) {
  const info = userStruct(call);
  if (!info) return errno("EFAULT");
  const argsz = info.argsz as number;
  const index = info.index as number;
  if (argsz < 16 || index >= VFIO_PCI_NUM_IRQS) return errno("EINVAL");
  const dev = hostDevOf(s, call.file.bdf!);
  if (index === 3 && !isPcie(dev)) return errno("EINVAL");
  const count = irqCount(dev, index);
  // Without an MSI-X capability there is no dynamic MSI-X either (pci_msix_can_alloc_dyn): NORESIZE.
  if (count === undefined) return notModelled(call.ev, `VFIO_DEVICE_GET_IRQ_INFO for IRQ index ${index} (its count comes from config space, not modelled yet)`);
  const flags = 1 | (index === 0 ? 2 | 4 : 8);
  return copiedOut(call, { argsz, flags, index, count }, 16);
}

/**
 * The eventfd behind an fd (eventfd_ctx_fdget): no fd of the model is an
 * eventfd, so an open fd is EINVAL and any other EBADF.
 */
function eventfdGet(call: IoctlCall, fd: number): string {
  return fd >= 0 && call.process.fds.has(fd) ? "EINVAL" : "EBADF";
}

/**
 * vfio_pci_set_ctx_trigger_single for the ERR and REQ triggers. No trigger can
 * ever be set in the model (no eventfd exists), so the context is always NULL.
 */
function setTriggerSingle(call: IoctlCall, count: number, flags: number, data: Uint8Array): Outcome {
  if (flags & 1) return errno("EINVAL"); // DATA_NONE with no trigger set
  if (flags & 2) return count ? { ret: 0 } : errno("EINVAL"); // DATA_BOOL: signals nothing
  if (!count) return errno("EINVAL");
  const fd = new DataView(data.buffer, data.byteOffset, data.byteLength).getInt32(0, true);
  if (fd >= 0) return errno(eventfdGet(call, fd));
  return { ret: 0 }; // -1 releases the (absent) trigger; other negatives do nothing
}

/**
 * vfio_pci_ioctl_set_irqs: vfio_set_irqs_validate_and_prepare (argsz < 20,
 * index >= 5, count >= U32_MAX - start, an unknown flag, start/count past the
 * index's count, not exactly one data type, argsz too short for the data: all
 * EINVAL), then vfio_pci_set_irqs_ioctl (an action the index does not take:
 * ENOTTY). INTx, MSI and MSI-X need the device's vector counts and interrupt
 * state, which are not modelled.
 */
export function vfioPciIoctlSetIrqs(s: State, call: IoctlCall) {
  const inline = inlineOf(call, "data");
  let bytes = userBytes(call);
  if (!bytes) return errno("EFAULT");
  if (Array.isArray(inline)) {
    // An inline data list: argsz (when not given) covers it, 1 byte per bool, 4 per eventfd.
    const type = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true) & 0x7;
    bytes = userBytes(call, inline.length * (type === 4 ? 4 : type === 2 ? 1 : 0))!;
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const argsz = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  const index = v.getUint32(8, true);
  const start = v.getUint32(12, true);
  const count = v.getUint32(16, true);
  if (argsz < 20 || index >= VFIO_PCI_NUM_IRQS || count >= 0xffffffff - start || flags & ~0x3f) return errno("EINVAL");
  const dev = hostDevOf(s, call.file.bdf!);
  const max = irqCount(dev, index);
  if (max === undefined) return notModelled(call.ev, `VFIO_DEVICE_SET_IRQS for IRQ index ${index} (vector counts and interrupt state are not modelled yet)`);
  if (start >= max || start + count > max) return errno("EINVAL");
  const dataType = flags & 0x7;
  const size = dataType === 1 ? 0 : dataType === 2 ? 1 : dataType === 4 ? 4 : -1;
  if (size < 0) return errno("EINVAL");
  if (size && argsz - 20 < count * size) return errno("EINVAL");
  const action = flags & 0x38;
  // Only TRIGGER is an action of ERR (on PCI Express) and REQ.
  if (action !== 0x20 || (index === 3 && !isPcie(dev))) return errno("ENOTTY");
  // memdup_user(&arg->data, count * size): the bytes after the header, or the inline `data` list.
  const data = new Uint8Array(Math.max(4, count * size));
  if (Array.isArray(inline)) {
    const dv = new DataView(data.buffer);
    for (const [i, x] of inline.slice(0, count).entries()) {
      if (size === 4) dv.setInt32(4 * i, Number(x), true);
      else dv.setUint8(i, Number(x) ? 1 : 0);
    }
  } else data.set(bytes.subarray(20, 20 + count * size));
  if (start !== 0 || count > 1) return errno("EINVAL");
  return setTriggerSingle(call, count, flags, data);
}

/**
 * vfio_pci_ioctl_reset: EINVAL when the device cannot reset. The dma-bufs are
 * revoked around the reset (importers are told and drop their mappings) and
 * handed back once memory decode is on again, as pci_try_reset_function
 * restores it.
 */
export function vfioPciIoctlReset(s: State, call: IoctlCall) {
  const bdf = call.file.bdf!;
  if (!hostDevOf(s, bdf).reset) return errno("EINVAL");
  const d = vdevOf(s, bdf);
  for (const id of d.dmabufs) revokeDmabuf(s, id); // vfio_pci_dma_buf_move(vdev, true)
  for (const id of d.dmabufs) {
    const b = s.dmabufs.get(id);
    if (b) b.revoked = false; // __vfio_pci_memory_enabled: vfio_pci_dma_buf_move(vdev, false)
  }
  return { ret: 0 };
}

/**
 * VFIO_DEVICE_IOEVENTFD: argsz < 32, a flag outside the size mask, not
 * exactly one size, fd < -1 (EINVAL); then vfio_pci_ioeventfd, which needs the
 * BAR layout and the MSI-X table position (not modelled).
 */
export function vfioPciIoctlIoeventfd(_s: State, call: IoctlCall) {
  const a = userStruct(call);
  if (!a) return errno("EFAULT");
  const flags = a.flags as number;
  if ((a.argsz as number) < 32 || flags & ~0xf) return errno("EINVAL");
  const n = flags & 0xf;
  if ((n & (n - 1)) !== 0 || n === 0 || (a.fd as number) < -1) return errno("EINVAL");
  return notModelled(call.ev, "VFIO_DEVICE_IOEVENTFD (vfio_pci_ioeventfd)");
}

/**
 * VFIO_DEVICE_QUERY_GFX_PLANE and VFIO_DEVICE_GET_GFX_DMABUF: commands of mdev
 * display drivers; vfio_pci_core_ioctl answers them with its default, ENOTTY.
 */
export function vfioPciMdevDisplayIoctl(s: State, call: IoctlCall) {
  return hostDevOf(s, call.file.bdf!).mdev ? notModelled(call.ev, `${call.def.name} of a mediated device`) : errno("ENOTTY");
}
