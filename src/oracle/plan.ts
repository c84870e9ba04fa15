// Which events of a trace a QEMU driven over qtest can be given, and the
// QEMU command line for the trace's machine: a pure reading of the events.

import type { TraceEvent } from "../model/events.ts";
import { BadInput } from "../model/framework.ts";
import { BRIDGE_MODELS, qdevProp, ROOT_BUS } from "../model/qemu/topology.ts";

/** The intel-iommu's MMIO base on x86 (Q35_HOST_BRIDGE_IOMMU_ADDR, hw/i386/x86-iommu / pc.h). */
export const VTD_BASE = 0xfed90000n;
/** Where the oracle maps the test devices' BAR0, one 4 KiB page each: inside q35's PCI hole. */
export const TESTDEV_BAR_BASE = 0xe0000000n;

export interface TestDevice {
  bdf: string;
  /** The trace's bus number: 0 is pcie.0; any other a pcie-root-port of the oracle's whose secondary bus it is. */
  bus: number;
  devfn: number;
  bar: bigint;
}

/** Where the oracle maps the BAR0 of a device behind a root port: 1 MiB per port, the port's memory window. */
export const PORT_WINDOW_BASE = 0xe0100000n;

/** The pcie-root-port that puts a test device on bus `bus` (its secondary bus, set through config space). */
export interface RootPort {
  id: string;
  bus: number;
  /** The port's devfn on pcie.0. */
  devfn: number;
  /** Its memory window (1 MiB), holding the device's BAR0. */
  window: bigint;
}

/** An event given to QEMU: a register access, a guest memory write or a test device DMA. */
export interface Step {
  ev: TraceEvent;
  kind: "mem.write" | "mmio.read" | "mmio.write" | "dma";
}

export interface NotIssued {
  seq: number;
  op: string;
  reason: string;
}

/** One VMM of the trace (a pid): one QEMU per qemu.viommu (a start-up check), and one for the guest. */
export interface VmmPlan {
  pid: number;
  /** The machine's arguments before any -device. */
  base: string[];
  /** Every qemu.viommu of the VMM, in order: each checked by starting QEMU with it. */
  viommus: TraceEvent[];
  devices: Map<string, TestDevice>;
  ports: RootPort[];
  steps: Step[];
  /** Guest RAM as q35 lays out -m: what a DMA can reach. */
  ram: { gpa: bigint; size: bigint }[];
}

export interface Plan {
  vmms: VmmPlan[];
  /** Guest-side events QEMU cannot be given (left out of iorr's replay too, so that both see the same events). */
  notIssued: NotIssued[];
  /** Events that are not the guest's (host ioctls, host DMAs, processes): iorr folds them, QEMU never sees them. */
  hostSide: number;
}

interface Vmm {
  pid: number;
  machine?: TraceEvent;
  viommus: TraceEvent[];
  first: TraceEvent;
  guestStarted: boolean;
  devices: Map<string, TestDevice>;
  steps: Step[];
}

const GUEST_OPS = new Set(["guest.mem.write", "guest.mmio.read", "guest.mmio.write", "guest.cfg.read", "guest.cfg.write"]);
const isGuestDma = (ev: TraceEvent) => ev.op === "dma" && ev.guest_bdf !== undefined;

/** A trace the oracle cannot drive: bad input naming the event. */
function cannot(file: string, ev: TraceEvent, field: string | undefined, message: string): BadInput {
  return new BadInput({ file, seq: ev.seq, ...(field ? { field } : {}), message: `the QEMU oracle cannot drive this: ${message}` });
}

/** A qemu.viommu `props` value as a -device option value (qdev's bool parser takes on/off). */
function propValue(v: unknown): string {
  return v === true ? "on" : v === false ? "off" : String(v);
}

/**
 * q35's RAM for -m (pc_q35_init): below 4 GiB up to 0xb0000000 (0x80000000 when
 * the RAM reaches 0xb0000000), the rest from 4 GiB; the trace's layout must be that.
 */
function ramLayout(file: string, ev: TraceEvent): { gpa: bigint; size: bigint }[] {
  const regions = [...(ev.ram as { gpa: bigint; size: bigint }[])].sort((a, b) => (a.gpa < b.gpa ? -1 : 1));
  const merged: { gpa: bigint; size: bigint }[] = [];
  for (const r of regions) {
    const last = merged[merged.length - 1];
    if (last && last.gpa + last.size === r.gpa) last.size += r.size;
    else merged.push({ ...r });
  }
  const total = merged.reduce((s, r) => s + r.size, 0n);
  const lowmem = total >= 0xb0000000n ? 0x80000000n : 0xb0000000n;
  const want =
    total > lowmem
      ? [
          { gpa: 0n, size: lowmem },
          { gpa: 1n << 32n, size: total - lowmem },
        ]
      : [{ gpa: 0n, size: total }];
  const same = want.length === merged.length && want.every((w, i) => w.gpa === merged[i]!.gpa && w.size === merged[i]!.size);
  if (!same || total % 0x100000n !== 0n)
    throw cannot(file, ev, "ram", "guest RAM is not laid out as q35 lays out -m (from gpa 0 up to 0xb0000000, the rest from 4 GiB, whole MiB)");
  return want;
}

/** Read the trace: one QEMU command line per VMM, the events to give each, and the events counted aside. */
export function planOracle(file: string, events: readonly TraceEvent[]): Plan {
  const vmms = new Map<number, Vmm>();
  const notIssued: NotIssued[] = [];
  let hostSide = 0;
  for (const ev of events) {
    const guest = GUEST_OPS.has(ev.op) || isGuestDma(ev);
    if (!ev.op.startsWith("qemu.") && !guest) {
      hostSide++;
      continue;
    }
    const pid = ev.pid as number;
    const v = vmms.get(pid) ?? { pid, first: ev, viommus: [], guestStarted: false, devices: new Map<string, TestDevice>(), steps: [] };
    vmms.set(pid, v);
    if (ev.op.startsWith("qemu.") && v.guestStarted) throw cannot(file, ev, undefined, `${ev.op} after the guest ran: QEMU's machine is built once, at start`);
    switch (ev.op) {
      case "qemu.machine":
        if (v.machine) throw cannot(file, ev, undefined, "a second qemu.machine for one VMM");
        // The oracle's QEMU runs under qtest: no in-kernel irqchip, which decides intremap/eim=auto.
        if (ev.accel === "kvm") throw cannot(file, ev, "accel", "a KVM machine (the oracle runs QEMU under qtest, whose irqchip is not the kernel's)");
        v.machine = ev;
        break;
      case "qemu.viommu":
        if (ev.model !== "intel-iommu") throw cannot(file, ev, "model", `a ${String(ev.model)} (only intel-iommu is driven)`);
        v.viommus.push(ev);
        break;
      case "qemu.device": {
        const bdf = ev.guest_bdf as string;
        const [bus, slot, fn] = bdf.split(/[:.]/).map((x) => parseInt(x, 16)) as [number, number, number];
        if (BRIDGE_MODELS[ev.model as string] !== undefined) {
          notIssued.push({ seq: ev.seq, op: ev.op, reason: "a bridge (the oracle puts its test devices on pcie.0)" });
          break;
        }
        if ((qdevProp(ev, "bus") ?? ROOT_BUS) !== ROOT_BUS)
          throw cannot(file, ev, "bus", "a device on a bridge's bus (the oracle places its test devices by bus number)");
        if (fn !== 0) throw cannot(file, ev, "guest_bdf", "a device at function other than 0");
        // A root port's secondary bus holds one device, at slot 0 (pci_qdev_realize: pcie_has_upstream_port).
        if (bus !== 0 && (slot !== 0 || [...v.devices.values()].some((d) => d.bus === bus)))
          throw cannot(file, ev, "guest_bdf", "a device off bus 0 other than slot 0, or a second one on its bus (the oracle gives it a root port of its own)");
        v.devices.set(bdf, { bdf, bus, devfn: (slot << 3) | fn, bar: TESTDEV_BAR_BASE + BigInt(v.devices.size) * 0x1000n });
        break;
      }
      case "qemu.vfio-pci":
        notIssued.push({ seq: ev.seq, op: ev.op, reason: "a vfio-pci device needs a host device (only emulated devices are driven)" });
        break;
      case "guest.cfg.read":
      case "guest.cfg.write":
        throw cannot(file, ev, undefined, "a configuration space access (the test device's config space is not the trace device's)");
      case "guest.mmio.read":
      case "guest.mmio.write":
        if (ev.dev !== "intel-iommu") throw cannot(file, ev, "dev", `registers of ${String(ev.dev)}`);
        v.steps.push({ ev, kind: ev.op === "guest.mmio.read" ? "mmio.read" : "mmio.write" });
        break;
      case "guest.mem.write":
        v.steps.push({ ev, kind: "mem.write" });
        break;
      case "dma": {
        const size = BigInt((ev.size as number | undefined) ?? 1);
        const iova = ev.iova as bigint;
        const reason =
          ev.pasid !== undefined
            ? "a DMA with a PASID (iommu-testdev sends requests without PASID)"
            : !v.devices.has(ev.guest_bdf as string)
              ? `no qemu.device at ${String(ev.guest_bdf)}`
              : ev.access === "write" && (iova & 0xfffn) + size > 0x1000n
                ? "a write across a page boundary (the oracle restores guest RAM after a write, one page)"
                : undefined;
        if (reason) notIssued.push({ seq: ev.seq, op: ev.op, reason });
        else v.steps.push({ ev, kind: "dma" });
        break;
      }
      default:
        throw cannot(file, ev, undefined, `${ev.op} is not driven`);
    }
    if (guest) v.guestStarted = true;
  }
  if (vmms.size === 0) {
    const first = events[0];
    if (!first) throw new BadInput({ file, message: "the QEMU oracle needs a trace with events" });
    throw cannot(file, first, undefined, "the trace has no VMM (no qemu.* or guest events)");
  }
  return { vmms: [...vmms.values()].map((v) => vmmPlan(file, v)), notIssued, hostSide };
}

function vmmPlan(file: string, v: Vmm): VmmPlan {
  if (!v.machine || v.viommus.length === 0) throw cannot(file, v.first, "pid", `VMM ${v.pid} has no ${v.machine ? "qemu.viommu" : "qemu.machine"}`);
  const ram = ramLayout(file, v.machine);
  const total = ram.reduce((s, r) => s + r.size, 0n);
  const base = [
    ...["-machine", "q35", "-accel", "qtest", "-qtest", "stdio", "-qtest-log", "/dev/null", "-display", "none", "-nodefaults"],
    ...["-m", `${total / 0x100000n}M`],
  ];
  return { pid: v.pid, base, viommus: v.viommus, devices: v.devices, ports: rootPorts(file, v), steps: v.steps, ram };
}

/** One pcie-root-port per bus other than 0, on a pcie.0 slot no test device takes (from 0x1e down; 0x1f is the ICH9 LPC). */
function rootPorts(file: string, v: Vmm): RootPort[] {
  const used = new Set([0, 0x1f, ...[...v.devices.values()].filter((d) => d.bus === 0).map((d) => d.devfn >> 3)]);
  const ports: RootPort[] = [];
  let slot = 0x1e;
  for (const d of v.devices.values()) {
    if (d.bus === 0) continue;
    while (used.has(slot)) slot--;
    if (slot <= 0) throw cannot(file, v.first, undefined, "no pcie.0 slot left for a root port");
    used.add(slot);
    const window = PORT_WINDOW_BASE + BigInt(ports.length) * 0x100000n;
    ports.push({ id: `iorr_rp${d.bus}`, bus: d.bus, devfn: slot << 3, window });
    d.bar = window;
  }
  return ports;
}

/** A qemu.viommu as QEMU's -device option (intel-iommu,prop=value,...). */
export function viommuDevice(ev: TraceEvent): string {
  const props = Object.entries((ev.props as Record<string, unknown> | undefined) ?? {}).map(([k, val]) => `,${k}=${propValue(val)}`);
  return `intel-iommu${props.join("")}`;
}

/** The guest's QEMU: the machine, the vIOMMU QEMU started with, the test devices and the trace events read. */
export function machineArgs(plan: VmmPlan, viommu: TraceEvent, everyVtdEvent = false): string[] {
  return [
    ...plan.base,
    ...["-device", viommuDevice(viommu)],
    ...plan.ports.flatMap((p) => ["-device", `pcie-root-port,id=${p.id},bus=pcie.0,chassis=${p.bus},addr=${(p.devfn >> 3).toString(16)}.0`]),
    ...[...plan.devices.values()].flatMap((d) => {
      const bus = d.bus === 0 ? "" : `bus=iorr_rp${d.bus},`;
      return ["-device", `iommu-testdev,${bus}addr=${(d.devfn >> 3).toString(16)}.${d.devfn & 7}`];
    }),
    // The answers are read from these; with --log every vtd_* event, to explain them.
    ...(everyVtdEvent ? ["vtd_*"] : ["vtd_dmar_translate", "vtd_dmar_fault", "vtd_fault_disabled", "vtd_reg_read"]).flatMap((t) => ["-trace", `enable=${t}`]),
  ];
}
