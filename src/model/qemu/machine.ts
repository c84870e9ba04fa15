// qemu.machine: the guest RAM layout of the QEMU process (memory-backend
// ranges at guest physical addresses, backed by the process's memory).

import { notModelled, type Reducer } from "../framework.ts";
import { errno, ok } from "../outcome.ts";
import type { GuestRam } from "../viommu/vtd/guest_mem.ts";
import { newMachine } from "./state.ts";

export const qemuMachine: Reducer = (s, ev) => {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  const m = s.qemu.get(pid);
  if (m && (m.ram.length > 0 || m.viommu || m.devices.size > 0 || m.vfio.size > 0)) return notModelled(ev, "a second qemu.machine in one process");
  const ram = (ev.ram as { gpa: bigint; size: bigint; va: bigint }[]).map((r): GuestRam => ({ gpa: r.gpa, size: r.size, va: r.va }));
  s.qemu.set(pid, newMachine(ram));
  return ok();
};
