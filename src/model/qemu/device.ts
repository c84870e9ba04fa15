// qemu.device: an emulated DMA-capable device (e1000e, nvme, ...) in a guest
// slot, behind the vIOMMU when there is one.

import { notModelled, type Reducer } from "../framework.ts";
import { errno, ok } from "../outcome.ts";
import { machineOf, slotTaken } from "./common.ts";

export const qemuDevice: Reducer = (s, ev) => {
  const m = machineOf(s, ev.pid as number);
  if (!m) return errno("ESRCH");
  const bdf = ev.guest_bdf as string;
  if (slotTaken(m, bdf)) return notModelled(ev, `a second device in guest slot ${bdf}`);
  m.devices.set(bdf, ev.model as string);
  return ok();
};
