// The invalidation queue, after QEMU hw/i386/intel_iommu.c: vtd_handle_iqt_write,
// vtd_fetch_inv_desc, vtd_process_inv_desc (the context-cache, IOTLB, PASID-based
// IOTLB and wait descriptors) and vtd_handle_inv_queue_error.
//
// The PASID-cache descriptor only refreshes the address spaces' PASID cache
// (caches.ts pasidCacheSync), which decides their address-space switch; the
// translation reads PASID entries from guest memory on every IOTLB miss.
// Not modelled: device-TLBs (ATS; the device-TLB descriptors are only
// checked), interrupt remapping (the IEC descriptor is only checked).

import { contextDevice, contextDeviceMatch, contextGlobal, iotlbDomain, iotlbGlobal, iotlbPage, pasidCacheSync, piotlb } from "./caches.ts";
import { faultEvent } from "./faults.ts";
import { CTL_IM, CTL_IP, DMAR_FSTS, DMAR_ICS, DMAR_IECTL, DMAR_IQH, DMAR_IQT, FSTS_IQE, ICS_IWC } from "./registers.ts";
import { VTD_ECAP_PDS } from "./regs.ts";
import { raw, rawQuad, setClear, setQuadRaw, type VtdCtx, type VtdUnit } from "./state.ts";
import { vtdSwitchAddressSpaces } from "./translate.ts";

/** vtd_handle_inv_queue_error + vtd_generate_fault_event. */
function iqError(u: VtdUnit): void {
  const pre = raw(u, DMAR_FSTS);
  setClear(u, DMAR_FSTS, 0, FSTS_IQE);
  faultEvent(u, pre);
}

/** vtd_handle_iqt_write + vtd_fetch_inv_desc. */
export function handleIqt(c: VtdCtx): void {
  const u = c.unit;
  const val = rawQuad(u, DMAR_IQT);
  if (u.iqDw && val & 0x10n) {
    iqError(u); // "RSV bit is set"
    return;
  }
  const qt = Number((val >> 4n) & 0x7fffn);
  u.iqTail = u.iqDw ? qt >> 1 : qt;
  if (!u.qiEnabled || raw(u, DMAR_FSTS) & FSTS_IQE) return;
  fetchInvDesc(c);
}

/** vtd_fetch_inv_desc: process from the head to the tail; IQH follows each descriptor done. */
export function fetchInvDesc(c: VtdCtx): void {
  const u = c.unit;
  if (u.iqTail >= u.iqSize) {
    iqError(u); // "detected invalid QI tail"
    return;
  }
  while (u.iqHead !== u.iqTail) {
    if (!processDesc(c)) {
      iqError(u);
      break;
    }
    u.iqHead = (u.iqHead + 1) % u.iqSize;
  }
  setQuadRaw(u, DMAR_IQH, BigInt(u.iqHead) << (u.iqDw ? 5n : 4n));
}

/** vtd_process_inv_desc: false is an invalidation queue error (IQE). */
function processDesc(c: VtdCtx): boolean {
  const u = c.unit;
  const dsize = u.iqDw ? 32n : 16n;
  const at = u.iqBase + BigInt(u.iqHead) * dsize;
  const v: bigint[] = [];
  for (let i = 0n; i < dsize / 8n; i++) {
    const w = c.mem.read64(at + i * 8n);
    if (w === undefined) {
      u.iqLastDescType = 0; // VTD_INV_DESC_NONE
      return false; // "read INV DESC failed"
    }
    v.push(w);
  }
  const [lo, hi] = [v[0]!, v[1]!];
  const type = Number(((lo >> 5n) & 0x70n) | (lo & 0xfn));
  u.iqLastDescType = type; // vtd_process_inv_desc: s->iq_last_desc_type, whether the descriptor is valid or not
  // vtd_inv_desc_reserved_check: bits 255:128 are reserved in every type it checks (not the page group response).
  if (u.iqDw && type !== 0x9 && (v[2] !== 0n || v[3] !== 0n)) return false;
  const rsvd = (mlo: bigint, mhi: bigint) => (lo & mlo) !== 0n || (hi & mhi) !== 0n;
  const g = Number((lo >> 4n) & 3n);
  const did = Number((lo >> 16n) & 0xffffn);
  const pasid = Number((lo >> 32n) & 0xfffffn);
  switch (type) {
    case 0x1: // vtd_process_context_cache_desc
      if (rsvd(0xfffc00000000f1c0n, (1n << 64n) - 1n)) return false;
      // vtd_context_global_invalidate / vtd_context_device_invalidate, each switching address spaces.
      if (g === 1 || g === 2) {
        contextGlobal(u);
        vtdSwitchAddressSpaces(c);
        pasidCacheSync(c, { type: 3 }); // vtd_replay_pasid_bindings_all
      } else if (g === 3) {
        const [sid, fm] = [Number((lo >> 32n) & 0xffffn), Number((lo >> 48n) & 3n)];
        contextDevice(u, sid, fm);
        vtdSwitchAddressSpaces(c, contextDeviceMatch(sid, fm));
        if (c.cfg.flts) pasidCacheSync(c, { type: 3 }, contextDeviceMatch(sid, fm)); // vtd_pasid_cache_devsi (s->fsts only)
      } else return false;
      return true;
    case 0x2: {
      if (rsvd(0xffffffff0000f100n, 0xf80n)) return false;
      if (g === 1) iotlbGlobal(u);
      else if (g === 2) iotlbDomain(u, did);
      else if (g === 3) {
        const am = Number(hi & 0x3fn);
        if (am > 18) return false;
        iotlbPage(u, did, hi & ~0xfffn, am);
      } else return false;
      return true;
    }
    case 0x3: // device-TLB: no ATC modelled
      return !rsvd(0xffff0000ffe0f1f0n, 0xffen);
    case 0x4: // IEC: interrupt remapping not modelled
      return !rsvd(0xffff000007fff1e0n, 0n);
    case 0x5:
      return waitDesc(c, lo, hi);
    case 0x6: {
      if (!u.iqDw) return false; // "256-bit p-iotlb desc in 128-bit invalidation queue"
      if (rsvd(0xfff000000000f1c0n, 0xf80n)) return false;
      if (g === 2) piotlb(u, did, pasid);
      else if (g === 3) piotlb(u, did, pasid, { addr: hi & ~0xfffn, am: Number(hi & 0x3fn) });
      else return false;
      return true;
    }
    case 0x7: {
      // vtd_process_pasid_desc: translation reads PASID entries on each miss; the cache decides address-space switches.
      if (!u.iqDw || rsvd(0xfff000000000f1c0n, (1n << 64n) - 1n) || g === 2) return false;
      pasidCacheSync(c, g === 0 ? { type: 0, did } : g === 1 ? { type: 1, did, pasid } : { type: 3 });
      return true;
    }
    case 0x8:
      return u.iqDw && !rsvd(0xfff000000000f000n, 0x7fen);
    case 0x9: // vtd_process_page_group_response_desc: any queue width; "without PASID is not supported yet"
      return !rsvd(0xfff00000000001e0n, 0xfffffffffffff003n) && (lo & 0x10n) !== 0n;
    default:
      return false; // "(unknown type)"
  }
}

/** vtd_process_wait_desc: SW writes the status dword to guest memory, IF raises the completion event. */
function waitDesc(c: VtdCtx, lo: bigint, hi: bigint): boolean {
  const u = c.unit;
  const pds = (c.ecap & VTD_ECAP_PDS) !== 0n;
  if ((lo & (0xfffff100n | (pds ? 0n : 0x80n))) !== 0n || (hi & 3n) !== 0n) return false;
  const IF = (lo & 0x10n) !== 0n;
  const SW = (lo & 0x20n) !== 0n;
  const FN = (lo & 0x40n) !== 0n;
  let ok = true;
  if (SW) {
    const addr = Number(hi);
    c.mem.bad = false;
    if (c.mem.hostPa(hi) === undefined)
      ok = false; // "wait write fail": IF is still handled
    else c.mem.write32(addr, Number(lo >> 32n));
  }
  if (IF) {
    // vtd_generate_completion_event
    if (!(raw(u, DMAR_ICS) & ICS_IWC)) {
      setClear(u, DMAR_ICS, 0, ICS_IWC);
      if (raw(u, DMAR_IECTL) & CTL_IM) setClear(u, DMAR_IECTL, 0, CTL_IP);
    }
  }
  return (SW || IF || FN) && ok;
}
