// The intel-iommu caches' invalidation, after QEMU hw/i386/intel_iommu.c:
// vtd_reset_caches, the context cache (vtd_context_global_invalidate,
// vtd_context_device_invalidate) and the IOTLB hash (vtd_get_iotlb_key,
// vtd_hash_remove_by_domain / _page / _pasid / _page_piotlb).
//
// The context cache (state.ts `ctxCache`) is emptied by global /
// domain-selective context-cache invalidation (CCMD or the queue's
// context-cache descriptor: s->context_cache_gen++), dropped per device by
// device-selective invalidation (source id under the function mask), and
// emptied by vtd_reset_caches (SRTP, TE changes).

import type { VtdIotlbEntry, VtdUnit } from "./state.ts";

/** vtd_reset_caches: vtd_reset_context_cache_locked + vtd_reset_iotlb_locked (+ the PASID cache of IOMMUFD devices). */
export function resetCaches(u: VtdUnit): void {
  u.iotlb.clear();
  u.ctxCache.clear();
}

/** vtd_context_global_invalidate: s->context_cache_gen++ makes every cached context entry stale. */
export function contextGlobal(u: VtdUnit): void {
  u.ctxCache.clear();
}

/** vtd_context_device_invalidate: every address space (any PASID) on the bus whose devfn matches under the function mask. */
export function contextDevice(u: VtdUnit, sid: number, fm: number): void {
  const mask = ~[0, 4, 6, 7][fm & 3]! & 0xff;
  for (const k of u.ctxCache.keys()) {
    const esid = Number(k.split(":")[0]);
    if (esid >> 8 === sid >> 8 && (esid & mask) === (sid & 0xff & mask)) u.ctxCache.delete(k);
  }
}

// --- IOTLB (vtd_hash_remove_by_*) ------------------------------------------------

export const iotlbKey = (sid: number, pasid: number, level: number, gfn: bigint) => `${sid}:${pasid}:${level}:${gfn.toString(16)}`;

function removeWhere(u: VtdUnit, f: (e: VtdIotlbEntry, gfn: bigint, mask: bigint, pasid: number) => boolean): void {
  for (const [k, e] of u.iotlb) {
    const parts = k.split(":");
    const gfn = BigInt("0x" + parts[3]!);
    const mask = ~((1n << BigInt(e.pageLg2 - 12)) - 1n); // entry->mask, in gfn units
    if (f(e, gfn, mask, Number(parts[1]))) u.iotlb.delete(k);
  }
}
export function iotlbGlobal(u: VtdUnit): void {
  u.iotlb.clear();
}
export function iotlbDomain(u: VtdUnit, did: number): void {
  removeWhere(u, (e) => e.did === did);
}
/** vtd_hash_remove_by_page: a first-stage entry of the domain goes whatever its address. */
export function iotlbPage(u: VtdUnit, did: number, addr: bigint, am: number): void {
  const imask = ~((1n << BigInt(am)) - 1n);
  const gfn = (addr >> 12n) & imask;
  removeWhere(u, (e, egfn, emask) => e.did === did && (e.pgtt === "fst" || (egfn & imask) === gfn || egfn === ((addr >> 12n) & emask)));
}
/** vtd_hash_remove_by_pasid / vtd_hash_remove_by_page_piotlb: first-stage entries of (did, pasid) only. */
export function piotlb(u: VtdUnit, did: number, pasid: number, page?: { addr: bigint; am: number }): void {
  removeWhere(u, (e, egfn, emask, epasid) => {
    if (e.pgtt !== "fst" || e.did !== did || epasid !== pasid) return false;
    if (!page) return true;
    const imask = ~((1n << BigInt(page.am)) - 1n);
    return (egfn & imask) === ((page.addr >> 12n) & imask) || egfn === ((page.addr >> 12n) & emask);
  });
}
