// The guest's side of a log: intel-iommu register accesses (vtd_reg_write/vtd_reg_read,
// vtd_mem_write/vtd_mem_read in hw/i386/intel_iommu.c), the invalidation descriptors they
// make QEMU fetch (vtd_process_inv_desc traces each one), and config accesses to vfio-pci
// devices (pci_cfg_* from pci_host_config_{read,write}_common with vfio_pci_{read,write}_config).

import { type EventLine, hex, num, PID } from "./context.ts";
import type { Handler } from "./iommufd.ts";
import type { LogLine } from "./parse.ts";

const DMAR_IQA_REG = 0x90;
/** VTD_IQA_DW_MASK: 256-bit descriptors. */
const VTD_IQA_DW = 0x800n;
const VTD_INV_DESC_WAIT_SW = 0x20n;
const VTD_INV_DESC_TYPE_WAIT = 0x5n;

export interface Descriptor {
  gpa: bigint;
  u64: bigint[];
  /** The log line of the vtd_inv_desc (or error_report) that shows it. */
  line: number;
}

/**
 * Where each descriptor QEMU fetched sits in guest memory (s->iq + s->iq_head * (16 or 32),
 * vtd_get_inv_desc), grouped by the register write that made QEMU fetch it (the IQT write,
 * or the GCMD write enabling QI with a pending tail). 256-bit descriptors' upper half is not
 * traced: it is written as zeros.
 */
export function queuedDescriptors(lines: readonly LogLine[]): { byWrite: Map<number, Descriptor[]>; maxGpa: bigint; wide: boolean } {
  const byWrite = new Map<number, Descriptor[]>();
  let iq = 0n;
  let iqaLow = 0n;
  let dw = 16n;
  let head: bigint | undefined;
  let trigger: number | undefined;
  let maxGpa = 0n;
  let wide = false;
  const put = (line: number, hi: bigint, lo: bigint) => {
    if (head === undefined || trigger === undefined) return;
    const gpa = iq + head * dw;
    const u64 = dw === 32n ? [lo, hi, 0n, 0n] : [lo, hi];
    byWrite.set(trigger, [...(byWrite.get(trigger) ?? []), { gpa, u64, line }]);
    if (gpa + dw > maxGpa) maxGpa = gpa + dw;
    // vtd_process_wait_desc: a status write goes to hi & ~3 (guest memory the model writes).
    if ((lo & 0xfn) === VTD_INV_DESC_TYPE_WAIT && lo & VTD_INV_DESC_WAIT_SW && (hi & ~3n) + 4n > maxGpa) maxGpa = (hi & ~3n) + 4n;
    head = undefined;
  };
  for (const l of lines) {
    if (l.kind === "error_report") {
      const m = /invalid inv desc: hi=([0-9a-f]+), lo=([0-9a-f]+) \(unknown type\)/.exec(l.message);
      if (m) put(l.line, BigInt(`0x${m[1]}`), BigInt(`0x${m[2]}`));
      continue;
    }
    if (l.kind !== "event") continue;
    const a = l.args;
    switch (l.name) {
      case "vtd_reg_write": {
        trigger = l.line;
        const off = num(a.addr);
        // The IQA register as written (its DW bit decides the descriptor size when QI is enabled).
        if (off === DMAR_IQA_REG) iqaLow = a.val as bigint;
        else if (off === DMAR_IQA_REG + 4 && a.size === 4n) iqaLow = (iqaLow & 0xffffffffn) | ((a.val as bigint) << 32n);
        break;
      }
      case "vtd_inv_qi_setup":
        iq = a.addr as bigint;
        dw = iqaLow & VTD_IQA_DW ? 32n : 16n;
        if (dw === 32n) wide = true;
        if (iq + (a.size as bigint) * dw > maxGpa) maxGpa = iq + (a.size as bigint) * dw;
        break;
      case "vtd_inv_qi_head":
        head = a.head as bigint;
        break;
      case "vtd_inv_desc":
        put(l.line, a.hi as bigint, a.lo as bigint);
        break;
    }
  }
  return { byWrite, maxGpa, wide };
}

/** vtd_* lines that are steps of a register write the model replays itself. */
const VTD_STEPS =
  /^vtd_(reg_write_gcmd|reg_write_fectl|reg_write_iectl|reg_dmar_root|reg_ir_root|reg_ics_clear_ip|dmar_enable|ir_enable|inv_qi_|inv_desc_|context_cache_reset|pasid_cache_reset|pasid_cache_devsi|switch_address_space|fsts_clear_ip|warn_invalid_qi_tail|iotlb_reset)/;
/** vtd_* lines of a DMA translation or its faults. */
const VTD_TRANSLATION =
  /^vtd_(dmar_translate|dmar_fault|fault_disabled|iotlb_|re_not_present|ce_not_present|page_walk|translate_pt|pt_enable_fast_path|replay_ce_|as_unmap_whole|fsts_ppf|frr_new)/;

export function vtdReason(name: string): string {
  if (VTD_TRANSLATION.test(name)) return "a DMA translation (or its fault) through guest page tables the log does not contain";
  if (/^vtd_(ir_|warn_ir_|irq_generate)|^x86_iommu_iec_notify/.test(name)) return "interrupt remapping and fault interrupts, which the model does not replay";
  if (/^vtd_device_(attach|detach|reattach_def)_hwpt/.test(name)) return "QEMU's x-flts attach: its ioctl is the iommufd_cdev_*_ioas_hwpt line";
  if (name === "vtd_reset_exit") return "a machine reset, which the model does not replay";
  if (VTD_STEPS.test(name)) return "a step of a register write already converted (the model recomputes it)";
  return "an intel-iommu event the importer does not convert";
}

export function vtdHandlers(descriptors: Map<number, Descriptor[]>, lineText: (n: number) => string): Record<string, Handler> {
  return {
    vtd_reg_write: (ctx, l, src) => {
      for (const d of descriptors.get(l.line) ?? [])
        ctx.emit(l, `${d.line}: ${lineText(d.line)}`, { op: "guest.mem.write", pid: PID, gpa: hex(d.gpa), u64: d.u64.map(hex), expect: { ok: true } });
      ctx.emit(l, src, {
        op: "guest.mmio.write",
        pid: PID,
        dev: "intel-iommu",
        off: hex(l.args.addr),
        size: num(l.args.size),
        value: hex(l.args.val),
        expect: { ok: true },
      });
      return undefined;
    },
    // vtd_reg_read traces the offset and size, not the value: a read without expect.
    vtd_reg_read: (ctx, l, src) => {
      ctx.emit(l, src, { op: "guest.mmio.read", pid: PID, dev: "intel-iommu", off: hex(l.args.addr), size: num(l.args.size) });
      return undefined;
    },
    vtd_inv_desc: () => undefined,
  };
}

/**
 * Header bytes a vfio-pci device passes through unchanged and the model takes from the
 * host.device's `cfg`: vendor and device ID, revision and class, subsystem IDs.
 */
export const PASSED_CFG = new Set([0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0a, 0x0b, 0x2c, 0x2d, 0x2e, 0x2f]);

export interface CfgPlan {
  /** host name -> guest BDF ("00:04.0"), from paired accesses. */
  guestOf: Map<string, string>;
  /** host name -> byte offset -> value, the first value read (what the hardware holds). */
  bytes: Map<string, Map<number, number>>;
  /** pci_cfg_* line -> the paired vfio_pci_*_config line. */
  pairs: Map<number, EventLine>;
}

const guestBdf = (a: Record<string, unknown>): { bus: number; slot: number; fn: number } =>
  a.bus !== undefined
    ? { bus: num(a.bus as bigint), slot: num(a.slot as bigint), fn: num(a.func as bigint) }
    : { bus: 0, slot: num(a.devid as bigint), fn: num(a.fnid as bigint) };

export const bdfText = (b: { bus: number; slot: number; fn: number }) =>
  `${b.bus.toString(16).padStart(2, "0")}:${b.slot.toString(16).padStart(2, "0")}.${b.fn.toString(16)}`;

/**
 * Pair each guest access with vfio-pci's own line: pci_host_config_read_common calls the
 * device's config_read (vfio_pci_read_config traces) and then traces pci_cfg_read; a write
 * traces pci_cfg_write first, then vfio_pci_write_config.
 */
export function planCfg(lines: readonly LogLine[]): CfgPlan {
  const plan: CfgPlan = { guestOf: new Map(), bytes: new Map(), pairs: new Map() };
  let lastRead: EventLine | undefined;
  let pendingWrite: EventLine | undefined;
  for (const l of lines) {
    if (l.kind !== "event") continue;
    const a = l.args;
    if (l.name === "vfio_pci_read_config") {
      lastRead = l;
      const bytes = plan.bytes.get(a.name as string) ?? new Map<number, number>();
      plan.bytes.set(a.name as string, bytes);
      for (let i = 0; i < num(a.len); i++) if (!bytes.has(num(a.addr) + i)) bytes.set(num(a.addr) + i, Number(((a.val as bigint) >> BigInt(8 * i)) & 0xffn));
    } else if (l.name === "pci_cfg_read") {
      if (a.dev === "vfio-pci" && lastRead && lastRead.args.addr === a.offs && lastRead.args.val === a.val) {
        plan.pairs.set(l.line, lastRead);
        plan.guestOf.set(lastRead.args.name as string, bdfText(guestBdf(a)));
      }
      lastRead = undefined;
    } else if (l.name === "pci_cfg_write") {
      pendingWrite = a.dev === "vfio-pci" ? l : undefined;
    } else if (l.name === "vfio_pci_write_config") {
      if (pendingWrite && pendingWrite.args.offs === a.addr) {
        plan.pairs.set(pendingWrite.line, l);
        plan.guestOf.set(a.name as string, bdfText(guestBdf(pendingWrite.args)));
      }
      pendingWrite = undefined;
    }
  }
  return plan;
}

export function cfgHandlers(plan: CfgPlan, declared: Set<string>): Record<string, Handler> {
  const vfioLine = (l: EventLine): EventLine | string => {
    if (l.args.dev === "empty") return "an access to an empty slot: its width is not traced";
    if (l.args.dev !== "vfio-pci") return `config space of an emulated device (${l.args.dev}), which the model does not serve`;
    const v = plan.pairs.get(l.line);
    if (!v) return "a vfio-pci access without its vfio_pci_*_config line (the width is not traced)";
    if (!declared.has(v.args.name as string)) return "a vfio-pci device behind a bridge the log does not show";
    return v;
  };
  return {
    pci_cfg_read: (ctx, l, src) => {
      const v = vfioLine(l);
      if (typeof v === "string") return v;
      const off = num(v.args.addr);
      const len = num(v.args.len);
      for (let i = 0; i < len; i++)
        if (!PASSED_CFG.has(off + i)) return "a register whose value the log does not give the model (only IDs, revision, class and subsystem are synthesized)";
      ctx.emit(l, src, {
        op: "guest.cfg.read",
        pid: PID,
        bdf: plan.guestOf.get(v.args.name as string),
        off,
        size: len,
        expect: { value: hex(v.args.val) },
      });
      return undefined;
    },
    pci_cfg_write: (_ctx, l) => {
      const v = vfioLine(l);
      if (typeof v === "string") return v;
      return num(v.args.addr) < 0x100
        ? "a config write below 0x100 (QEMU's emulated header and capabilities, which the model does not take writes to)"
        : "a config write to extended capabilities the log does not show";
    },
    // A paired line is counted with its pci_cfg_* line (convert.ts); an unpaired one is QEMU's own access.
    vfio_pci_read_config: () => "QEMU's own read of the device (no guest access)",
    vfio_pci_write_config: () => "QEMU's own write to the device (no guest access)",
  };
}
