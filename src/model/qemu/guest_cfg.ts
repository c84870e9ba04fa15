// guest.cfg.read / guest.cfg.write: a guest config access (PCIe MMCONFIG,
// pci_host_config_read_common / _write_common) to a vfio-pci device goes
// through vfio_pci_read_config / vfio_pci_write_config: emulated bits from
// QEMU's copy, the others from the VFIO config region
// (src/model/pci/vfio_config.ts); a write goes to VFIO first ("let it filter
// out what we can't write"), then into QEMU's copy under wmask
// (pci_default_write_config). No function at the address reads all ones.

import type { HostDevice } from "../host/state.ts";
import { notModelled, type Reducer, type SimulatorFault } from "../framework.ts";
import type { TraceEvent } from "../events.ts";
import { errno, ok, type Outcome } from "../outcome.ts";
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_LIST_NEXT,
  PCI_CAPABILITY_LIST,
  PCI_CONFIG_SPACE_SIZE,
  PCIE_CONFIG_SPACE_SIZE,
} from "../pci/regs.ts";
import { vfioConfigView, vfioConfigWrite } from "../pci/vfio_config.ts";
import type { State } from "../state.ts";
import { machineOf } from "./common.ts";
import type { GuestConfig, QemuVfioDevice } from "./state.ts";

/** Header bytes whose value the model derives: IDs, status, revision and class, header type, subsystem, the capability pointer. */
const HEADER_MODELLED = new Set([
  0x00, 0x01, 0x02, 0x03, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0e, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
  0x3b,
]);
/** Standard capabilities QEMU virtualizes (vfio_msi_setup, vfio_msix_setup, vfio_setup_pcie_cap, pci_pm_init): their registers are not modelled. */
const VIRTUALIZED_CAPS = new Set([PCI_CAP_ID_PM, PCI_CAP_ID_MSI, PCI_CAP_ID_EXP, PCI_CAP_ID_MSIX]);

const emuByte = (cfg: GuestConfig, off: number): { v: number; e: number } => ({ v: cfg.config.get(off) ?? 0, e: cfg.emu.get(off) ?? 0 });

/** Why a guest read of byte `off` is not modelled, if it is not. */
function unmodelledByte(cfg: GuestConfig, phys: Uint8Array, off: number): string | undefined {
  if (off < 0x40)
    return HEADER_MODELLED.has(off) ? undefined : `header register 0x${off.toString(16)} (command, BARs, ROM, interrupt: QEMU's BAR and INTx emulation)`;
  if (off >= PCI_CONFIG_SPACE_SIZE) return undefined;
  // The guest's standard list (QEMU's emulated pointers), each capability up to the next one above it.
  const starts: number[] = [];
  let guard = 0;
  for (let pos = emuByte(cfg, PCI_CAPABILITY_LIST).v; pos && guard++ < 48; pos = emuByte(cfg, pos + PCI_CAP_LIST_NEXT).v) starts.push(pos);
  const sorted = [...starts].sort((a, b) => a - b);
  for (const pos of starts) {
    const end = sorted.find((p) => p > pos) ?? PCI_CONFIG_SPACE_SIZE;
    const id = phys[pos]!;
    if (off > pos + PCI_CAP_LIST_NEXT && off < end && VIRTUALIZED_CAPS.has(id))
      return `capability 0x${id.toString(16)}@0x${pos.toString(16)} (QEMU virtualizes it)`;
  }
  return undefined;
}

interface Target {
  dev: QemuVfioDevice;
  hd: HostDevice;
  /** pci_adjust_config_limit: 0x100 on a conventional bus. */
  limit: number;
}

function targetOf(s: State, ev: TraceEvent): Target | Outcome | SimulatorFault | "absent" {
  const m = machineOf(s, ev.pid as number);
  if (!m) return errno("ESRCH");
  const bdf = ev.bdf as string;
  const dev = m.vfio.get(bdf);
  if (!dev) return m.devices.has(bdf) ? notModelled(ev, `config space of the emulated device ${m.devices.get(bdf)} at ${bdf}`) : "absent";
  const hd = s.host.devices.get(dev.host)!;
  const limit = dev.cfg.busExpress ? PCIE_CONFIG_SPACE_SIZE : PCI_CONFIG_SPACE_SIZE;
  if (limit > dev.cfg.size && (ev.off as number) + (ev.size as number) > dev.cfg.size)
    return notModelled(ev, `config space past 0x${dev.cfg.size.toString(16)} of a conventional PCI device on a PCI Express bus`);
  return { dev, hd, limit };
}

const ones = (size: number): number => 2 ** (8 * size) - 1;

export const guestCfgRead: Reducer = (s, ev, env) => {
  const t = targetOf(s, ev);
  const off = ev.off as number;
  const size = ev.size as number;
  if (t === "absent") return { value: ones(size) }; // pci_data_read: no device, ~0
  if (!("dev" in t)) return t;
  if (t.limit <= off) return { value: ones(size) }; // pci_host_config_read_common: `if (limit <= addr) return ~0`
  const len = Math.min(size, t.limit - off);
  const phys = vfioConfigView(t.hd, { exposePasid: env.profile.on("vfio-pci-expose-pasid") }).bytes;
  let value = 0;
  for (let i = len - 1; i >= 0; i--) {
    const why = unmodelledByte(t.dev.cfg, phys, off + i);
    if (why) return notModelled(ev, `a guest read of ${why}`);
    const { v, e } = emuByte(t.dev.cfg, off + i);
    value = value * 256 + ((v & e) | (phys[off + i]! & ~e));
  }
  return { value };
};

export const guestCfgWrite: Reducer = (s, ev, env) => {
  const t = targetOf(s, ev);
  const off = ev.off as number;
  const size = ev.size as number;
  if (t === "absent") return ok();
  if (!("dev" in t)) return t;
  if (t.limit <= off) return ok(); // pci_host_config_write_common: dropped
  const len = Math.min(size, t.limit - off);
  const val = BigInt(ev.value as bigint | number);
  const bytes = Array.from({ length: len }, (_, i) => Number((val >> BigInt(8 * i)) & 0xffn));
  // vfio_pci_write_config: to VFIO first (vfio_pci_config_rw)
  const why = vfioConfigWrite(t.hd, off, bytes, { exposePasid: env.profile.on("vfio-pci-expose-pasid") });
  if (why) return notModelled(ev, why);
  // pci_default_write_config: config = (config & ~wmask) | (val & wmask); only emulated bytes are kept, and seen.
  const cfg = t.dev.cfg;
  bytes.forEach((b, i) => {
    const at = off + i;
    if (!cfg.emu.has(at)) return;
    const w = cfg.wmask.get(at) ?? 0;
    if (w) cfg.config.set(at, ((cfg.config.get(at) ?? 0) & ~w) | (b & w));
  });
  return ok();
};
