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

import { provenance } from "../../provenance.ts";
import { iotlbForWrite, type VtdCtx, type VtdUnit } from "./state.ts";
import { vtdDevPasidEntry, vtdDmarEnabled, vtdSwitchAddressSpace } from "./translate.ts";

const all = () => true;

/** vtd_reset_caches: vtd_reset_context_cache_locked + vtd_reset_iotlb_locked (+ the PASID cache of IOMMUFD devices). */
export function resetCaches(u: VtdUnit, by: string): void {
  const rec = provenance();
  if (rec !== null) {
    rec.invalidated({ cache: "iotlb", role: `invalidation (IOTLB reset by ${by})`, covers: all });
    rec.invalidated({ cache: "context", role: `invalidation (context cache reset by ${by})`, covers: all });
  }
  if (u.iotlb.size > 0) iotlbForWrite(u).invalidateGlobal();
  u.ctxCache.clear();
  u.pcCache.clear(); // vtd_reset_caches: vtd_pasid_cache_reset_locked
}

/** vtd_context_global_invalidate: s->context_cache_gen++ makes every cached context entry stale. */
export function contextGlobal(u: VtdUnit): void {
  provenance()?.invalidated({ cache: "context", role: "invalidation (context cache, global)", covers: all });
  u.ctxCache.clear();
}

/** vtd_context_device_invalidate's selection: same bus, devfn equal under the function mask. */
export function contextDeviceMatch(sid: number, fm: number): (esid: number) => boolean {
  const mask = ~[0, 4, 6, 7][fm & 3]! & 0xff;
  return (esid) => esid >> 8 === sid >> 8 && (esid & mask) === (sid & 0xff & mask);
}

/** vtd_context_device_invalidate: every address space (any PASID) on the bus whose devfn matches under the function mask. */
export function contextDevice(u: VtdUnit, sid: number, fm: number): void {
  const mask = ~[0, 4, 6, 7][fm & 3]! & 0xff;
  provenance()?.invalidated({
    cache: "context",
    role: `invalidation (context cache, device ${bdfOf(sid)})`,
    covers: (t) => t.sid >> 8 === sid >> 8 && (t.sid & mask) === (sid & 0xff & mask),
  });
  for (const k of u.ctxCache.keys()) {
    const esid = Number(k.split(":")[0]);
    if (esid >> 8 === sid >> 8 && (esid & mask) === (sid & 0xff & mask)) u.ctxCache.delete(k);
  }
}

// --- IOTLB (vtd_hash_remove_by_*: src/pagewalk/iotlb.ts) ------------------------

const hi = (a: bigint) => Number((a >> 32n) & 0xffffffffn);
const lo = (a: bigint) => Number(a & 0xffffffffn);

const bdfOf = (sid: number) => `${(sid >> 8).toString(16).padStart(2, "0")}:${((sid >> 3) & 0x1f).toString(16).padStart(2, "0")}.${sid & 7}`;
/** An IOTLB entry of page [base, base + 2^lg2) overlaps [addr aligned to 2^(12+am), + 2^(12+am)) (iotlb.ts overlaps). */
const overlaps = (iova: bigint, lg2: number, addr: bigint, am: number): boolean => {
  const r = BigInt(12 + am);
  const a = (addr >> r) << r;
  const base = (iova >> BigInt(lg2)) << BigInt(lg2);
  return base < a + (1n << r) && a < base + (1n << BigInt(lg2));
};

/** vtd_reset_iotlb_locked / vtd_iotlb_global_invalidate. */
export function iotlbGlobal(u: VtdUnit): void {
  provenance()?.invalidated({ cache: "iotlb", role: "invalidation (IOTLB, global)", covers: all });
  if (u.iotlb.size > 0) iotlbForWrite(u).invalidateGlobal();
}
/** vtd_iotlb_domain_invalidate: vtd_hash_remove_by_domain. */
export function iotlbDomain(u: VtdUnit, did: number): void {
  provenance()?.invalidated({ cache: "iotlb", role: `invalidation (IOTLB, domain ${did})`, covers: (t) => t.did === did });
  if (u.iotlb.size > 0) iotlbForWrite(u).invalidateDomain(did);
}
/** vtd_iotlb_page_invalidate: vtd_hash_remove_by_page (a first-stage entry of the domain goes whatever its address). */
export function iotlbPage(u: VtdUnit, did: number, addr: bigint, am: number): void {
  provenance()?.invalidated({
    cache: "iotlb",
    role: `invalidation (IOTLB, domain ${did} page 0x${addr.toString(16)} am ${am})`,
    covers: (t) => t.did === did && (t.firstStage || overlaps(t.iova, t.pageLg2, addr, am)),
  });
  if (u.iotlb.size > 0) iotlbForWrite(u).invalidatePage(did, hi(addr), lo(addr), am);
}
/**
 * vtd_piotlb_pasid_invalidate (vtd_hash_remove_by_pasid): every entry of (did, pasid),
 * first- and second-stage (ad0a7f1e1e, QEMU 10.0: before every modelled version);
 * vtd_piotlb_page_invalidate (vtd_hash_remove_by_page_piotlb): first-stage entries only.
 */
export function piotlb(u: VtdUnit, did: number, pasid: number, page?: { addr: bigint; am: number }): void {
  provenance()?.invalidated({
    cache: "iotlb",
    role: `invalidation (PASID-based IOTLB, domain ${did} PASID ${pasid}${page ? ` page 0x${page.addr.toString(16)} am ${page.am}` : ""})`,
    covers: (t) => t.did === did && t.pasid === pasid && (!page || (t.firstStage && overlaps(t.iova, t.pageLg2, page.addr, page.am))),
  });
  if (u.iotlb.size === 0) return;
  const t = iotlbForWrite(u);
  if (page) t.invalidatePasidPage(did, pasid, hi(page.addr), lo(page.addr), page.am);
  else t.invalidatePasid(did, pasid);
}

/** The PASID-cache selections of vtd_process_pasid_desc (VTD_INV_DESC_PASIDC_G_*): DSI 0, PASID_SI 1, global 3. */
export type PasidCacheInfo = { type: 0; did: number } | { type: 1; did: number; pasid: number } | { type: 3 };

/**
 * vtd_pasid_cache_sync (root table scalable, DMA remapping enabled) over the address spaces
 * without PASID (`match` narrows them, as vtd_pasid_cache_devsi does): vtd_pasid_cache_sync_locked
 * drops a cached entry whose PASID_0 entry no longer reads, skips the address spaces the
 * descriptor does not select, and caches a new or changed entry; each change switches the
 * address space (vtd_switch_address_space). QEMU compares all 512 bits; iorr the first 192.
 */
export function pasidCacheSync(c: VtdCtx, info: PasidCacheInfo, match: (sid: number) => boolean = () => true): void {
  const u = c.unit;
  if (!u.rootScalable || !vtdDmarEnabled(u)) return;
  for (const sid of c.sids ?? []) {
    if (!match(sid)) continue;
    const key = `${sid}`;
    const cached = u.pcCache.get(key);
    const pe = vtdDevPasidEntry(c, sid);
    if (pe === undefined) {
      if (cached === undefined) continue;
      u.pcCache.delete(key);
      vtdSwitchAddressSpace(c, sid);
      continue;
    }
    // PASID-selective: pc_info.pasid (0 is PCI_NO_PASID) must be the address space's; then the DID, of the cached entry if any.
    if (info.type === 1 && info.pasid !== 0) continue;
    if (info.type !== 3 && Number((cached ?? pe)[1]! & 0xffffn) !== info.did) continue;
    if (cached?.every((w, i) => w === pe[i])) continue;
    u.pcCache.set(key, pe);
    vtdSwitchAddressSpace(c, sid);
  }
}
