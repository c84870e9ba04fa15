// The guest ops (docs/trace-format.md "Guest"): guest RAM writes and the
// intel-iommu MMIO registers, and `dma` by an emulated device (guest_bdf)
// translated by the vIOMMU (src/model/viommu/vtd/translate.ts).
//
// guest.mem.write: gpa -> the machine's RAM layout -> process va -> physical
// memory, as mem.write; a range not wholly inside guest RAM (or over process
// memory that is not mapped) is EFAULT and writes nothing.
// dma with guest_bdf: `pa` is what the vIOMMU translated the IOVA to, the
// guest-physical address (QEMU's IOMMUTLBEntry.translated_addr, what its
// vtd_dmar_translate trace prints), with its `page_size` and `perm`; `hpa`
// adds where that lands in host memory through the RAM layout (absent for a
// gpa outside guest RAM, which QEMU's access would then miss). With GSTS.TES
// clear the request is not translated: `pa` = iova.

import { notModelled, SimulatorFault, type Reducer } from "../framework.ts";
import { provenance } from "../provenance.ts";
import { writePhys } from "../memory/physmem.ts";
import { errno, ok, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { TraceEvent } from "../events.ts";
import { hex } from "../values.ts";
import { permString } from "../domain/domain.ts";
import { GuestMem } from "../viommu/vtd/guest_mem.ts";
import { vtdMmioRead, vtdMmioWrite } from "../viommu/vtd/mmio.ts";
import type { VtdCtx } from "../viommu/vtd/state.ts";
import { vtdDmarEnabled, vtdIrEnabled, vtdTranslate } from "../viommu/vtd/translate.ts";
import type { QemuMachine } from "./state.ts";

function guestMem(s: State, pid: number, m: QemuMachine): GuestMem {
  return new GuestMem(s.memory, s.processes.get(pid), m.ram);
}

export const guestMemWrite: Reducer = (s, ev) => {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  const m = s.qemu.get(pid);
  const data = ev.bytes as Uint8Array;
  const gpa = ev.gpa as bigint;
  if (!m) return errno("EFAULT");
  const g = guestMem(s, pid, m);
  for (let i = 0; i < data.length; ) {
    const cur = gpa + BigInt(i);
    if (g.hostPa(cur) === undefined) return errno("EFAULT");
    i += 4096 - Number(cur & 0xfffn);
  }
  for (let i = 0; i < data.length; ) {
    const cur = gpa + BigInt(i);
    const n = Math.min(4096 - Number(cur & 0xfffn), data.length - i);
    writePhys(s.memory, g.hostPa(cur)!, data.subarray(i, i + n));
    i += n;
  }
  return ok();
};

function vtdCtx(s: State, ev: TraceEvent): VtdCtx | SimulatorFault | Outcome {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  const m = s.qemu.get(pid);
  const vi = m?.viommu;
  if (!m || !vi) return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "bad-input", message: `process ${pid} has no intel-iommu (qemu.viommu)` });
  return { unit: vi.unit, cfg: vi.config, cap: vi.cap, ecap: vi.ecap, mem: guestMem(s, pid, m), sids: [...m.devices.keys()].map(sidOf) };
}

/** A guest bdf ("bb:dd.f") as its PCI source id (PCI_BUILD_BDF). */
function sidOf(bdf: string): number {
  const [b, df] = bdf.split(":") as [string, string];
  const [d, f] = df.split(".") as [string, string];
  return (parseInt(b, 16) << 8) | (parseInt(d, 16) << 3) | parseInt(f, 16);
}

const isCtx = (c: unknown): c is VtdCtx => typeof c === "object" && c !== null && "unit" in c;

export const guestMmioRead: Reducer = (s, ev) => {
  if (ev.dev !== "intel-iommu") return notModelled(ev, `MMIO of "${String(ev.dev)}"`);
  const c = vtdCtx(s, ev);
  if (!isCtx(c)) return c;
  return { value: hex(vtdMmioRead(c.unit, ev.off as number, ev.size as number)) };
};

export const guestMmioWrite: Reducer = (s, ev) => {
  if (ev.dev !== "intel-iommu") return notModelled(ev, `MMIO of "${String(ev.dev)}"`);
  const c = vtdCtx(s, ev);
  if (!isCtx(c)) return c;
  const size = ev.size as number;
  const v = (ev.value as bigint) & (size === 4 ? 0xffffffffn : (1n << 64n) - 1n);
  vtdMmioWrite(c, ev.off as number, size, v);
  return ok();
};

const U64_MAX = (1n << 64n) - 1n;
/** VTD_INTERRUPT_ADDR_FIRST / _LAST (intel_iommu_internal.h). */
const VTD_INTERRUPT_ADDR_FIRST = 0xfee0_0000n;
const VTD_INTERRUPT_ADDR_LAST = 0xfeef_ffffn;

/** `dma` with guest_bdf: every page of the access through the vIOMMU; the first page's translation or the first fault. */
export function guestDma(s: State, ev: TraceEvent): Outcome | SimulatorFault {
  const pid = ev.pid as number;
  const m = s.qemu.get(pid);
  const bdf = ev.guest_bdf as string;
  if (!s.processes.has(pid) || !m?.devices.has(bdf))
    return new SimulatorFault({
      seq: ev.seq,
      op: ev.op,
      kind: "bad-input",
      message: `field guest_bdf: no emulated device ${bdf} in process ${pid} (declare it with qemu.device)`,
    });
  const sid = sidOf(bdf);
  const iova = ev.iova as bigint;
  const size = BigInt((ev.size as number | undefined) ?? 1);
  const write = ev.access === "write";
  const pasid = ev.pasid as number | undefined;
  const g = guestMem(s, pid, m);
  const vi = m.viommu;
  const rec = provenance();
  if (rec !== null) {
    rec.begin();
    rec.piece(vi && vtdDmarEnabled(vi.unit) ? "translation enable (GCMD.TE)" : "translation disable (GCMD.TE)", rec.vtd("te"));
  }
  // The interrupt window 0xfeexxxxx: a request without a PASID never reaches translation.
  // vtd_find_add_as lays the "vtd-ir" region over it at priority 1 in the DMAR container and
  // in "vtd-nodmar" alike: a read answers MEMTX_OK (vtd_mem_ir_read), a write is an MSI
  // (vtd_mem_ir_write), passed on as it is while interrupt remapping is off
  // (vtd_interrupt_remap_msi). A request with a PASID is translated normally
  // (vtd_switch_address_space disables iommu_ir for it).
  if (vi && pasid === undefined && iova >= VTD_INTERRUPT_ADDR_FIRST && iova <= VTD_INTERRUPT_ADDR_LAST) {
    if (write && vtdIrEnabled(vi.unit)) return notModelled(ev, "a DMA write to the interrupt range with interrupt remapping enabled (an MSI through the IRTE)");
    return { pa: hex(iova) };
  }
  if (!vi || !vtdDmarEnabled(vi.unit)) {
    // Untranslated: every 4 KiB page of the access lands at its own address (for why, src/query/why.ts).
    if (rec !== null) for (let p = iova; p <= iova + size - 1n && p <= U64_MAX; p = ((p >> 12n) + 1n) << 12n) recordOutput(g, p);
    return landed(g, iova, {});
  }
  if (pasid !== undefined && !vi.unit.rootScalable) return notModelled(ev, "DMA with a PASID in legacy mode");
  const c: VtdCtx = { unit: vi.unit, cfg: vi.config, cap: vi.cap, ecap: vi.ecap, mem: g };
  const end = iova + size - 1n;
  let first: Outcome | undefined;
  for (let cur = iova; ; ) {
    if (cur > U64_MAX) return { fault: "VTD_FR_ADDR_BEYOND_MGAW" };
    const x = vtdTranslate(c, sid, pasid, cur, write);
    if ("fault" in x) return { fault: x.fault };
    // An IOTLB hit is returned whatever the access (vtd_do_iommu_translate checks
    // rights only when it walks); the memory core then refuses an access the
    // entry does not allow (address_space_translate_iommu: unassigned), and the
    // device's access fails with MEMTX_DECODE_ERROR. The vIOMMU records nothing.
    if (!(x.perm & (write ? 2 : 1))) return { fault: "MEMTX_DECODE_ERROR" };
    if (rec !== null) recordOutput(g, x.gpa);
    first ??= landed(g, x.gpa, { page_size: hex(1n << BigInt(x.pageLg2)), perm: permString(x.perm) });
    const next = ((cur >> BigInt(x.pageLg2)) + 1n) << BigInt(x.pageLg2);
    if (next > end) return first;
    cur = next;
  }
}

/** For why: the host memory a page of the DMA landed at, when guest RAM backs it. */
function recordOutput(g: GuestMem, gpa: bigint): void {
  const hpa = g.hostPa(gpa);
  if (hpa !== undefined) provenance()?.outputs.push(hpa);
}

/** The outcome of a DMA that reached guest-physical `gpa`: `pa`, then `hpa` when guest RAM backs it. */
function landed(g: GuestMem, gpa: bigint, rest: Record<string, string>): Outcome {
  const hpa = g.hostPa(gpa);
  return { pa: hex(gpa), ...rest, ...(hpa === undefined ? {} : { hpa: hex(hpa) }) };
}
