// Fault recording and fault events, after QEMU hw/i386/intel_iommu.c:
// vtd_report_fault -> vtd_report_frcd_fault (vtd_try_collapse_fault,
// vtd_record_frcd), vtd_generate_fault_event, vtd_update_fsts_ppf and
// vtd_handle_fsts_write. One fault recording register (FRCD0).
//
// Not modelled: the interrupts themselves (only the IP bits).

import { CTL_IM, CTL_IP, DMAR_FECTL, DMAR_FRCD, DMAR_FSTS, FSTS_FRI_MASK, FSTS_IQE, FSTS_PFO, FSTS_PPF } from "./registers.ts";
import { raw, setClear, setQuadRaw, type VtdUnit } from "./state.ts";

/** vtd_handle_fsts_write: clearing the last status bit clears FECTL.IP. */
export function handleFsts(u: VtdUnit): void {
  if (raw(u, DMAR_FECTL) & CTL_IP && !(raw(u, DMAR_FSTS) & (FSTS_PFO | FSTS_PPF | FSTS_IQE))) setClear(u, DMAR_FECTL, CTL_IP, 0);
}

/**
 * vtd_update_fsts_ppf: PPF = some fault recording register has F set. It leaves FECTL.IP
 * alone: only a write to FSTS clears IP (vtd_handle_fsts_write), so clearing F through
 * FRCD keeps IP set until software writes FSTS.
 */
export function updatePpf(u: VtdUnit): void {
  const f = (raw(u, DMAR_FRCD + 12) & 0x80000000) !== 0;
  setClear(u, DMAR_FSTS, FSTS_PPF, f ? FSTS_PPF : 0);
}

/** vtd_generate_fault_event: only when nothing was pending; IM set leaves IP set. */
export function faultEvent(u: VtdUnit, preFsts: number): void {
  if (preFsts & (FSTS_PPF | FSTS_PFO | FSTS_IQE)) return;
  if (raw(u, DMAR_FECTL) & CTL_IM) setClear(u, DMAR_FECTL, 0, CTL_IP);
  // else the MSI is sent (not modelled) and IP stays clear
}

/** VTDFaultReason values (intel_iommu_internal.h) by name, for FRCD.FR. */
export const VTD_FR: Readonly<Record<string, number>> = {
  VTD_FR_ROOT_ENTRY_P: 0x1,
  VTD_FR_CONTEXT_ENTRY_P: 0x2,
  VTD_FR_CONTEXT_ENTRY_INV: 0x3,
  VTD_FR_ADDR_BEYOND_MGAW: 0x4,
  VTD_FR_WRITE: 0x5,
  VTD_FR_READ: 0x6,
  VTD_FR_PAGING_ENTRY_INV: 0x7,
  VTD_FR_ROOT_TABLE_INV: 0x8,
  VTD_FR_CONTEXT_TABLE_INV: 0x9,
  VTD_FR_ROOT_ENTRY_RSVD: 0xa,
  VTD_FR_CONTEXT_ENTRY_RSVD: 0xb,
  VTD_FR_PAGING_ENTRY_RSVD: 0xc,
  VTD_FR_INTERRUPT_ADDR: 0xe,
  VTD_FR_PASID_DIR_ACCESS_ERR: 0x50,
  VTD_FR_PASID_DIR_ENTRY_P: 0x51,
  VTD_FR_PASID_TABLE_ACCESS_ERR: 0x58,
  VTD_FR_PASID_ENTRY_P: 0x59,
  VTD_FR_PASID_TABLE_ENTRY_INV: 0x5b,
  VTD_FR_FS_PAGING_ENTRY_INV: 0x70,
  VTD_FR_FS_PAGING_ENTRY_P: 0x71,
  VTD_FR_FS_PAGING_ENTRY_RSVD: 0x72,
  VTD_FR_PASID_ENTRY_FSPTPTR_INV: 0x73,
  VTD_FR_FS_NON_CANONICAL: 0x80,
  VTD_FR_FS_PAGING_ENTRY_US: 0x81,
  VTD_FR_SM_WRITE: 0x85,
  VTD_FR_SM_INTERRUPT_ADDR: 0x87,
};
/** include/hw/pci/pci_bus.h: a request without PASID (UINT32_MAX). */
const PCI_NO_PASID = 0xffffffff;

/** vtd_qualified_faults[]: suppressed when FPD is set. */
const UNQUALIFIED = new Set([0x1, 0x8, 0x9, 0xa, 0xb, 0x50, 0x58]);

/**
 * vtd_report_fault -> vtd_report_frcd_fault: record in FRCD0 unless FPD, PFO, compression or a full register says otherwise.
 * `pasid`: undefined for the context-lookup faults (QEMU passes is_pasid false, pasid 0); else the request's PASID, -1 for
 * PCI_NO_PASID (legacy mode): is_pasid is pasid != PCI_NO_PASID, and VTD_FRCD_PV keeps the low 16 bits of UINT32_MAX then.
 */
export function vtdReportFault(u: VtdUnit, fr: number, fpd: boolean, sid: number, addr: bigint, write: boolean, pasid: number | undefined): void {
  if (fpd && !UNQUALIFIED.has(fr)) return; // trace vtd_fault_disabled
  const fsts = raw(u, DMAR_FSTS);
  if (fsts & FSTS_PFO) return; // "New fault is not recorded due to Primary Fault Overflow"
  // vtd_try_collapse_fault: the pending record has the same source id.
  if (fsts & FSTS_PPF && (raw(u, DMAR_FRCD + 12) & 0x80000000) !== 0 && (raw(u, DMAR_FRCD + 8) & 0xffff) === sid) return;
  if (raw(u, DMAR_FRCD + 12) & 0x80000000) {
    setClear(u, DMAR_FSTS, 0, FSTS_PFO); // "Next Fault Recording Reg is used, ... set PFO field"
    return;
  }
  let hi = BigInt(sid) | (BigInt(fr) << 32n) | (1n << 63n);
  // VTD_FRCD_PV(pasid) | VTD_FRCD_PP(is_pasid), as vtd_report_dmar_fault builds them.
  if (pasid !== undefined) hi |= (BigInt((pasid < 0 ? PCI_NO_PASID : pasid) & 0xffff) << 40n) | (pasid >= 0 ? 1n << 31n : 0n);
  if (!write) hi |= 1n << 62n;
  setQuadRaw(u, DMAR_FRCD, addr & ~0xfffn);
  setQuadRaw(u, DMAR_FRCD + 8, hi);
  if (fsts & FSTS_PPF)
    updatePpf(u); // "There are pending faults already, fault event is not generated"
  else {
    setClear(u, DMAR_FSTS, FSTS_FRI_MASK, u.nextFrcd << 8);
    updatePpf(u);
    faultEvent(u, fsts);
  }
  u.nextFrcd = 0; // DMAR_FRCD_REG_NR = 1
}
