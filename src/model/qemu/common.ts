// Shared by the qemu.* reducers: the process's machine.

import type { State } from "../state.ts";
import { newMachine, type QemuMachine } from "./state.ts";

/**
 * The QEMU machine of process `pid`: undefined when the process does not
 * exist (ESRCH); created empty (no guest RAM recorded) when the trace
 * configures a device before, or without, a qemu.machine event.
 */
export function machineOf(s: State, pid: number): QemuMachine | undefined {
  if (!s.processes.has(pid)) return undefined;
  if (!s.qemu.has(pid)) s.qemu.set(pid, newMachine());
  return s.qemu.get(pid);
}

/** A guest slot already holds a device (emulated or assigned). */
export function slotTaken(m: QemuMachine, guestBdf: string): boolean {
  return m.devices.has(guestBdf) || m.vfio.has(guestBdf);
}
