// Every op of the trace format and its reducer (docs/trace-format.md
// "Events"), one static table, and the full check of a raw event;
// test/model/ops.test.ts checks that every op the event schema (events.ts)
// defines has a reducer or is listed as not modelled.

import { parseEvent, type TraceEvent } from "./events.ts";
import { notModelled, type Reducer } from "./framework.ts";
import { hostDevice, hostIommu, param } from "./host/reducers.ts";
import { hostDeviceDma } from "./iommu/dma.ts";
import { ioctl } from "./ioctl/dispatch.ts";
import { memMap, memWrite } from "./process/mm.ts";
import { memfdCreate, memfdSize } from "./memfd/memfd.ts";
import { close, open, openOther, processCaps, processExit, processStart } from "./process/reducers.ts";
import { mmap, munmap, poll, read, write } from "./files/rw.ts";
import { qemuDevice } from "./qemu/device.ts";
import { guestCfgRead, guestCfgWrite } from "./qemu/guest_cfg.ts";
import { guestDma, guestMemWrite, guestMmioRead, guestMmioWrite } from "./qemu/guest.ts";
import { qemuMachine } from "./qemu/machine.ts";
import { qemuVfioPci } from "./qemu/vfio_pci.ts";
import { checkQemuProps } from "./qemu/props.ts";
import { qemuViommu } from "./qemu/viommu.ts";
import { checkIoctlEvent } from "./uaccess/arg.ts";
import { checkExpectOut } from "./uaccess/expect_out.ts";

/**
 * `dma`: a host device (`bdf`) is translated by the host IOMMU, an emulated
 * device (`guest_bdf`) by its machine's vIOMMU.
 */
const dma: Reducer = (s, ev) => (ev.guest_bdf !== undefined ? guestDma(s, ev) : hostDeviceDma(s, ev));

export const REDUCERS: Readonly<Record<string, Reducer>> = {
  // platform
  "host.iommu": hostIommu,
  "host.device": hostDevice,
  param,
  process: processStart,
  "process.exit": processExit,
  "process.caps": processCaps,
  "mem.map": memMap,
  "mem.write": memWrite,
  // kernel system calls
  open,
  close,
  memfd: memfdCreate,
  "memfd.size": memfdSize,
  file: openOther,
  ioctl,
  read,
  write,
  poll,
  mmap,
  munmap,
  // VMM (QEMU) behaviour
  "qemu.machine": qemuMachine,
  "qemu.viommu": qemuViommu,
  "qemu.device": qemuDevice,
  "qemu.vfio-pci": qemuVfioPci,
  // guest
  "guest.mem.write": guestMemWrite,
  "guest.cfg.read": guestCfgRead,
  "guest.cfg.write": guestCfgWrite,
  "guest.mmio.read": guestMmioRead,
  "guest.mmio.write": guestMmioWrite,
  // device
  dma,
};

/** Ops of trace format version 1 the model does not answer yet, and what they wait for. */
export const NOT_MODELLED_OPS: Readonly<Record<string, string>> = {};

/** The reducer for an op: a version-1 op the model does not cover yet is a simulator fault, not a silent success. */
export function reducerFor(op: string): Reducer {
  return REDUCERS[op] ?? ((_s, ev) => notModelled(ev, `op "${ev.op}" (${NOT_MODELLED_OPS[ev.op] ?? "no reducer"})`));
}

/** Checks that need the uAPI tables, beyond the event schema's field types. */
const DEEP_CHECKS: Readonly<Record<string, (ev: TraceEvent) => void>> = {
  ioctl: (ev) => {
    checkIoctlEvent(ev);
    checkExpectOut(ev);
  },
  "qemu.viommu": checkQemuProps,
  "qemu.device": checkQemuProps,
  "qemu.vfio-pci": checkQemuProps,
};

/** Parse and fully validate one raw event (throws EventError naming the field). */
export function parseTraceEvent(raw: Record<string, unknown>, seq: number): TraceEvent {
  const ev = parseEvent(raw, seq);
  DEEP_CHECKS[ev.op]?.(ev);
  return ev;
}
