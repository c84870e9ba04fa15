// qemu.machine: the guest RAM layout of the QEMU process (memory-backend
// ranges at guest physical addresses, backed by the process's memory), and
// its accelerator's interrupt controller: `accel` (qtest, the default, as the
// oracle runs QEMU; tcg; kvm) and `kernel_irqchip` (under KVM: on, q35's
// default as default_kernel_irqchip_split is false; split; off).

import { notModelled, type Reducer } from "../framework.ts";
import { errno, ok } from "../outcome.ts";
import type { GuestRam } from "../viommu/vtd/guest_mem.ts";
import { newMachine, type MachineIrqchip } from "./state.ts";

/** kvm_irqchip_in_kernel() / kvm_irqchip_is_split() for the machine's accelerator and kernel-irqchip. */
export function irqchipOf(accel: string | undefined, kernelIrqchip: string | undefined): MachineIrqchip {
  if (accel !== "kvm") return { inKernel: false, split: false };
  const k = kernelIrqchip ?? "on";
  return { inKernel: k !== "off", split: k === "split" };
}

export const qemuMachine: Reducer = (s, ev) => {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  const m = s.qemu.get(pid);
  if (m && (m.ram.length > 0 || m.viommu || m.devices.size > 0 || m.vfio.size > 0)) return notModelled(ev, "a second qemu.machine in one process");
  const ram = (ev.ram as { gpa: bigint; size: bigint; va: bigint }[]).map((r): GuestRam => ({ gpa: r.gpa, size: r.size, va: r.va }));
  s.qemu.set(pid, newMachine(ram, irqchipOf(ev.accel as string | undefined, ev.kernel_irqchip as string | undefined)));
  return ok();
};
