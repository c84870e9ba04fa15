// The intel-iommu MMIO registers, after QEMU hw/i386/intel_iommu.c: vtd_mem_read,
// vtd_mem_write and the handlers it dispatches to (vtd_handle_gcmd_write with
// vtd_root_table_setup and the QIE / IRE / SIRTP bits, vtd_handle_ccmd_write,
// vtd_handle_iotlb_write, the FECTL / IECTL / ICS writes, vtd_update_iq_dw;
// vtd_handle_fsts_write is in faults.ts, vtd_handle_iqt_write in inv_queue.ts).
//
// Not modelled: interrupt remapping (IRE/SIRTP only set their status bits),
// page requests.

import { contextDevice, contextDeviceMatch, contextGlobal, iotlbDomain, iotlbGlobal, iotlbPage, pasidCacheSync, resetCaches } from "./caches.ts";
import { handleFsts, updatePpf } from "./faults.ts";
import { fetchInvDesc, handleIqt } from "./inv_queue.ts";
import {
  CTL_IM,
  CTL_IP,
  DMAR_CCMD,
  DMAR_FECTL,
  DMAR_FRCD,
  DMAR_FSTS,
  DMAR_GCMD,
  FSTS_IQE,
  DMAR_GSTS,
  DMAR_ICS,
  DMAR_IECTL,
  DMAR_IOTLB,
  DMAR_IQA,
  DMAR_IQH,
  DMAR_IQT,
  DMAR_IVA,
  DMAR_REG_SIZE,
  DMAR_RTADDR,
  GCMD_IRE,
  GCMD_QIE,
  GCMD_SIRTP,
  GCMD_SRTP,
  GCMD_TE,
  hawMask,
  ICS_IWC,
  MASKS,
} from "./registers.ts";
import { provenance } from "../../provenance.ts";
import { VTD_ECAP_SMTS } from "./regs.ts";
import { vtdSwitchAddressSpaces } from "./translate.ts";
import { raw, rawQuad, setClear, setLong, setQuadRaw, type VtdCtx, type VtdUnit } from "./state.ts";

/** vtd_mem_read: a long or a quad through the write-only masks; beyond DMAR_REG_SIZE, all ones. */
export function vtdMmioRead(u: VtdUnit, off: number, size: number): bigint {
  if (off + size > DMAR_REG_SIZE) return size === 8 ? (1n << 64n) - 1n : 0xffffffffn;
  const long = (o: number) => BigInt((raw(u, o) & ~(MASKS.get(o)?.[2] ?? 0)) >>> 0);
  // vtd_mem_read DMAR_IQA_REG(_HI): s->iq (set when QIE is enabled, vtd_handle_gcmd_qie) with the register's QS and DW.
  if (off === DMAR_IQA) {
    const v = u.iqBase | (BigInt(raw(u, DMAR_IQA)) & 0x807n);
    return size === 4 ? v & 0xffffffffn : v;
  }
  if (off === DMAR_IQA + 4) return (u.iqBase >> 32n) & 0xffffffffn;
  return size === 4 ? long(off) : (long(off + 4) << 32n) | long(off);
}

/** vtd_mem_write: store through the masks, then the register's handler, as QEMU's switch does. */
export function vtdMmioWrite(c: VtdCtx, off: number, size: number, val: bigint): void {
  const u = c.unit;
  if (off + size > DMAR_REG_SIZE) return;
  const lo = Number(val & 0xffffffffn);
  const hi = Number((val >> 32n) & 0xffffffffn);
  setLong(u, off, lo);
  if (size === 8) setLong(u, off + 4, hi);
  const rec = provenance();
  if (rec !== null) for (let o = off; o < off + size; o += 4) rec.mark(rec.vtd(`reg:${o}`));
  switch (off) {
    case DMAR_GCMD:
      handleGcmd(c);
      return;
    case DMAR_CCMD:
      if (size === 8) handleCcmd(c);
      return;
    case DMAR_CCMD + 4:
      handleCcmd(c);
      return;
    case DMAR_FSTS:
      handleFsts(u);
      return;
    case DMAR_FECTL:
    case DMAR_IECTL:
      // vtd_handle_fectl_write / iectl: unmasking with IP set delivers the pending interrupt.
      if (!(raw(u, off) & CTL_IM) && raw(u, off) & CTL_IP) setClear(u, off, CTL_IP, 0);
      return;
    case DMAR_ICS:
      if (!(raw(u, DMAR_ICS) & ICS_IWC)) setClear(u, DMAR_IECTL, CTL_IP, 0);
      return;
    case DMAR_IOTLB:
      if (size === 8) handleIotlb(c);
      return;
    case DMAR_IOTLB + 4:
      handleIotlb(c);
      return;
    case DMAR_IQT:
      handleIqt(c);
      return;
    case DMAR_IQA:
    case DMAR_IQA + 4:
      // vtd_update_iq_dw
      u.iqDw = (c.ecap & VTD_ECAP_SMTS) !== 0n && (raw(u, DMAR_IQA) & (1 << 11)) !== 0;
      return;
    case DMAR_FRCD + 8:
    case DMAR_FRCD + 12:
      updatePpf(u);
      return;
  }
}

/** vtd_handle_gcmd_write. */
function handleGcmd(c: VtdCtx): void {
  const u = c.unit;
  const status = raw(u, DMAR_GSTS);
  const val = raw(u, DMAR_GCMD);
  const changed = status ^ val;
  if (changed & GCMD_TE && c.cfg.dmaTranslation) {
    setClear(u, DMAR_GSTS, GCMD_TE, val & GCMD_TE); // vtd_handle_gcmd_te
    provenance()?.mark(provenance()!.vtd("te"));
    resetCaches(u, "GCMD.TE");
    vtdSwitchAddressSpaces(c); // vtd_handle_gcmd_te -> vtd_address_space_refresh_all
    pasidCacheSync(c, { type: 3 }); // vtd_replay_pasid_bindings_all
  }
  if (val & GCMD_SRTP) {
    // vtd_handle_gcmd_srtp -> vtd_root_table_setup
    const rt = rawQuad(u, DMAR_RTADDR);
    u.root = rt & ~0xfffn & hawMask(c.cfg.awBits);
    u.rootScalable = c.cfg.scalableMode && (rt & (1n << 10n)) !== 0n;
    provenance()?.mark(provenance()!.vtd("srtp"));
    resetCaches(u, "GCMD.SRTP");
    vtdSwitchAddressSpaces(c); // vtd_handle_gcmd_srtp -> vtd_address_space_refresh_all
    pasidCacheSync(c, { type: 3 }); // vtd_replay_pasid_bindings_all
    setClear(u, DMAR_GSTS, 0, GCMD_SRTP);
  }
  if (changed & GCMD_QIE) {
    if (val & GCMD_QIE) {
      const iqa = rawQuad(u, DMAR_IQA);
      u.iqBase = iqa & ~0xfffn & hawMask(c.cfg.awBits);
      u.iqSize = 1 << (Number(iqa & 7n) + 8 - (u.iqDw ? 1 : 0));
      u.qiEnabled = true;
      setClear(u, DMAR_GSTS, 0, GCMD_QIE);
      // vtd_handle_gcmd_qie: a tail already written (Windows guests do this) is processed at once.
      if (u.iqTail !== 0 && !(raw(u, DMAR_FSTS) & FSTS_IQE)) fetchInvDesc(c);
    } else if (u.iqHead === u.iqTail && u.iqLastDescType === 5) {
      // vtd_queued_inv_disable_check: only a drained queue whose last descriptor was a wait descriptor
      u.qiEnabled = false;
      setClear(u, DMAR_GSTS, GCMD_QIE, 0);
      setQuadRaw(u, DMAR_IQH, 0n);
      u.iqHead = 0;
    } // else "Queued Invalidation disable failed"
  }
  if (val & GCMD_SIRTP && c.cfg.intremap) setClear(u, DMAR_GSTS, 0, GCMD_SIRTP);
  if (changed & GCMD_IRE && c.cfg.intremap) setClear(u, DMAR_GSTS, GCMD_IRE, val & GCMD_IRE);
}

/** vtd_handle_ccmd_write / vtd_context_cache_invalidate: ICC clears, CAIG tells the granularity done. */
function handleCcmd(c: VtdCtx): void {
  const u = c.unit;
  const val = rawQuad(u, DMAR_CCMD);
  if (!(val & (1n << 63n))) return;
  if (u.qiEnabled) return; // "Queued Invalidation enabled, should not use register-based invalidation"
  const cirg = (val >> 61n) & 3n;
  // vtd_context_cache_invalidate: domain-selective is done as global; device-selective by SID and FM.
  let caig = 0n;
  if (cirg === 1n || cirg === 2n) {
    contextGlobal(u);
    vtdSwitchAddressSpaces(c); // vtd_context_global_invalidate -> vtd_address_space_refresh_all
    pasidCacheSync(c, { type: 3 }); // vtd_context_global_invalidate -> vtd_replay_pasid_bindings_all
    caig = 1n;
  } else if (cirg === 3n) {
    const [sid, fm] = [Number((val >> 16n) & 0xffffn), Number((val >> 32n) & 3n)];
    contextDevice(u, sid, fm);
    vtdSwitchAddressSpaces(c, contextDeviceMatch(sid, fm)); // vtd_context_device_invalidate
    if (c.cfg.flts) pasidCacheSync(c, { type: 3 }, contextDeviceMatch(sid, fm)); // vtd_pasid_cache_devsi (s->fsts only)
    caig = 3n;
  }
  setQuadRaw(u, DMAR_CCMD, (val & ~(1n << 63n) & ~(3n << 59n)) | (caig << 59n));
}

/** vtd_handle_iotlb_write / vtd_iotlb_flush: IVT clears, IAIG tells the granularity done. */
function handleIotlb(c: VtdCtx): void {
  const u = c.unit;
  const val = rawQuad(u, DMAR_IOTLB);
  if (!(val & (1n << 63n))) return;
  if (u.qiEnabled) return;
  const did = Number((val >> 32n) & 0xffffn);
  let iaig = 0n;
  switch ((val >> 60n) & 3n) {
    case 1n:
      iotlbGlobal(u);
      iaig = 1n;
      break;
    case 2n:
      iotlbDomain(u, did);
      iaig = 2n;
      break;
    case 3n: {
      const iva = rawQuad(u, DMAR_IVA);
      const am = Number(iva & 0x3fn);
      if (am <= 18) {
        iotlbPage(u, did, iva & ~0xfffn, am);
        iaig = 3n;
      }
      break;
    }
  }
  setQuadRaw(u, DMAR_IOTLB, (val & ~(1n << 63n) & ~(3n << 57n)) | (iaig << 57n));
}
