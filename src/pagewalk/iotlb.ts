// The IOTLB: cached leaf translations, tagged as VT-d tags them (VT-d spec 6.2
// "Translation Caches", 6.5.2 "Queued Invalidation"): domain id, PASID, and
// the page number at the page's size (4 KiB, 2 MiB, 1 GiB, or whatever size
// the walk produced). QEMU's model is vtd_lookup_iotlb / vtd_update_iotlb
// (hw/i386/intel_iommu.c), which tries each page size in turn as done here.
//
// An entry leaves the IOTLB only through the invalidation calls, named after
// the descriptors and registers that select them (no capacity eviction, so a
// translation left stale by a missing invalidation is reproduced):
//   invalidateGlobal            IOTLB_REG IIRG=01 / iotlb_inv_dsc G=01 (vtd_iotlb_global_invalidate)
//   invalidateDomain(did)       IIRG=10 / G=10, every PASID of the domain (vtd_iotlb_domain_invalidate)
//   invalidatePage(did, a, am)  IIRG=11 / G=11 with IVA_REG / ADDR, AM, IH (vtd_iotlb_page_invalidate)
//   invalidatePasid(did, pasid) p_iotlb_inv_dsc G=10, all in PASID (vtd_piotlb_pasid_invalidate)
//   invalidatePasidPage(...)    p_iotlb_inv_dsc G=11, page-selective within PASID (vtd_piotlb_page_invalidate)
// Page-selective calls remove every entry of the domain (and PASID) whose page
// overlaps [addr aligned to 2^(12+AM), + 2^(12+AM)), superpages included, as
// QEMU's vtd_hash_remove_by_page. IH only spares the paging-structure caches,
// which are not modelled: it does not change which IOTLB entries go (QEMU
// likewise reads IH only for tracing).
//
// Storage: open addressing with linear probing over typed arrays; no
// allocation on lookup or fill (the table doubles when half full).

import {
  ACCESS_EXEC,
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NONE,
  FAULT_PERMISSION,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  type PageTable,
  type PhysReader,
  type Walker,
} from "./types.ts";

/** The PASID tag of requests without a PASID in legacy mode (scalable mode uses the RID_PASID, 0 in QEMU). */
export const IOTLB_NO_PASID = 0xffffffff;

const TWO32 = 4294967296;
const VALID = 1 << 30;

export interface IotlbEntry {
  did: number;
  pasid: number;
  /** The IOVA of the page base. */
  iova: bigint;
  pageLg2: number;
  pa: number;
  perm: number;
}

/** Base of the 2^lg2 page holding hi:lo: the high and low words, into two scratch slots. */
function maskHi(hi: number, lg2: number): number {
  if (lg2 <= 32) return hi | 0;
  if (lg2 >= 64) return 0;
  return hi & ~((1 << (lg2 - 32)) - 1);
}
function maskLo(lo: number, lg2: number): number {
  if (lg2 >= 32) return 0;
  return lo & ~((1 << lg2) - 1);
}

function hash(meta: number, pasid: number, bHi: number, bLo: number): number {
  let h = Math.imul(bLo ^ Math.imul(bHi, 0x9e3779b1), 0x85ebca6b) ^ Math.imul(meta, 0xc2b2ae35) ^ Math.imul(pasid, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

export class Iotlb {
  hits = 0;
  misses = 0;
  private cap!: number;
  private mask!: number;
  private n = 0;
  private kMeta!: Int32Array; // did | lg2 << 16 | VALID; 0 = empty (the slot arrays are set by allocate())
  private kPasid!: Int32Array;
  private kHi!: Int32Array;
  private kLo!: Int32Array;
  private vPa!: Float64Array; // output page base
  private vPerm!: Uint8Array;
  /** Page sizes (log2) present, smallest first: lookup tries each. */
  private sizes: number[] = [];

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.allocate(cap);
  }

  /** Fresh, empty slot arrays of `cap` entries (a power of two). */
  private allocate(cap: number): void {
    this.cap = cap;
    this.mask = cap - 1;
    this.kMeta = new Int32Array(cap);
    this.kPasid = new Int32Array(cap);
    this.kHi = new Int32Array(cap);
    this.kLo = new Int32Array(cap);
    this.vPa = new Float64Array(cap);
    this.vPerm = new Uint8Array(cap);
  }

  /** Entries cached. */
  get size(): number {
    return this.n;
  }

  /**
   * Look the IOVA up for (did, pasid). On a hit fill out[R_PA] (page base +
   * offset), R_PAGE_LG2, R_PERM (R_STEPS = 0: no entry read) and return true.
   */
  lookup(did: number, pasid: number, iovaHi: number, iovaLo: number, out: Float64Array): boolean {
    const sizes = this.sizes;
    const p = pasid | 0;
    for (let s = 0; s < sizes.length; s++) {
      const lg2 = sizes[s]!;
      const meta = (did & 0xffff) | (lg2 << 16) | VALID;
      const bHi = maskHi(iovaHi, lg2);
      const bLo = maskLo(iovaLo, lg2);
      let i = hash(meta, p, bHi, bLo) & this.mask;
      for (;;) {
        const m = this.kMeta[i]!;
        if (m === 0) break;
        if (m === meta && this.kLo[i] === bLo && this.kHi[i] === bHi && this.kPasid[i] === p) {
          out[R_PA] = this.vPa[i]! + (iovaHi - (bHi >>> 0)) * TWO32 + (iovaLo - (bLo >>> 0));
          out[R_PAGE_LG2] = lg2;
          out[R_PERM] = this.vPerm[i]!;
          out[R_STEPS] = 0;
          this.hits++;
          return true;
        }
        i = (i + 1) & this.mask;
      }
    }
    this.misses++;
    return false;
  }

  /** Cache the successful walk in `out` (R_PA, R_PAGE_LG2, R_PERM) for the IOVA it translated (vtd_update_iotlb). */
  fill(did: number, pasid: number, iovaHi: number, iovaLo: number, out: Float64Array): void {
    const lg2 = out[R_PAGE_LG2]!;
    const bHi = maskHi(iovaHi, lg2);
    const bLo = maskLo(iovaLo, lg2);
    const paBase = out[R_PA]! - ((iovaHi - (bHi >>> 0)) * TWO32 + (iovaLo - (bLo >>> 0)));
    this.put((did & 0xffff) | (lg2 << 16) | VALID, pasid | 0, bHi, bLo, paBase, out[R_PERM]!);
    if (!this.sizes.includes(lg2)) {
      this.sizes.push(lg2);
      this.sizes.sort((a, b) => a - b);
    }
  }

  /**
   * Translate through the IOTLB: a hit answers from the cache, with the
   * cached permissions (a stale read-only entry faults a write); a miss walks
   * `walker` and fills on success. Faults are not cached.
   */
  translate(walker: Walker, mem: PhysReader, pt: PageTable, did: number, pasid: number, iovaHi: number, iovaLo: number, access: number, out: Float64Array): number {
    if (this.lookup(did, pasid, iovaHi, iovaLo, out)) {
      const need = access & (ACCESS_READ | ACCESS_WRITE | ACCESS_EXEC); // the PERM_R / W / X positions
      out[R_LEVEL] = 0;
      return (out[R_PERM]! & need) === need ? FAULT_NONE : FAULT_PERMISSION;
    }
    const f = walker(mem, pt, iovaHi, iovaLo, access, out);
    if (f === FAULT_NONE) this.fill(did, pasid, iovaHi, iovaLo, out);
    return f;
  }

  // ---- invalidations (see the header) ----

  /** Global invalidation: everything goes. Returns the number of entries removed. */
  invalidateGlobal(): number {
    const n = this.n;
    this.kMeta.fill(0);
    this.n = 0;
    this.sizes = [];
    return n;
  }

  /** Domain-selective: every entry of `did`, any PASID. */
  invalidateDomain(did: number): number {
    const d = did & 0xffff;
    return this.removeWhere((meta) => (meta & 0xffff) === d);
  }

  /** Page-selective within the domain (any PASID): address hi:lo, AM (2^AM 4 KiB pages), IH. */
  invalidatePage(did: number, addrHi: number, addrLo: number, am: number, ih = false): number {
    void ih;
    const d = did & 0xffff;
    const r = 12 + am;
    const aHi = maskHi(addrHi, r);
    const aLo = maskLo(addrLo, r);
    return this.removeWhere((meta, _p, hi, lo) => (meta & 0xffff) === d && overlaps(hi, lo, (meta >>> 16) & 0x3fff, aHi, aLo, r));
  }

  /** PASID-based, all in PASID: every entry of (did, pasid). */
  invalidatePasid(did: number, pasid: number): number {
    const d = did & 0xffff;
    const p = pasid | 0;
    return this.removeWhere((meta, ep) => (meta & 0xffff) === d && ep === p);
  }

  /** PASID-based, page-selective within PASID: (did, pasid), address, AM, IH. */
  invalidatePasidPage(did: number, pasid: number, addrHi: number, addrLo: number, am: number, ih = false): number {
    void ih;
    const d = did & 0xffff;
    const p = pasid | 0;
    const r = 12 + am;
    const aHi = maskHi(addrHi, r);
    const aLo = maskLo(addrLo, r);
    return this.removeWhere((meta, ep, hi, lo) => (meta & 0xffff) === d && ep === p && overlaps(hi, lo, (meta >>> 16) & 0x3fff, aHi, aLo, r));
  }

  /** Every entry, for inspection (allocates). */
  entries(): IotlbEntry[] {
    const r: IotlbEntry[] = [];
    for (let i = 0; i < this.cap; i++) {
      const m = this.kMeta[i]!;
      if (m === 0) continue;
      r.push({
        did: m & 0xffff,
        pasid: this.kPasid[i]! >>> 0,
        iova: (BigInt(this.kHi[i]! >>> 0) << 32n) | BigInt(this.kLo[i]! >>> 0),
        pageLg2: (m >>> 16) & 0x3fff,
        pa: this.vPa[i]!,
        perm: this.vPerm[i]!,
      });
    }
    return r;
  }

  private put(meta: number, pasid: number, bHi: number, bLo: number, pa: number, perm: number): void {
    if ((this.n + 1) * 2 > this.cap) this.rehash(this.cap * 2);
    let i = hash(meta, pasid, bHi, bLo) & this.mask;
    for (;;) {
      const m = this.kMeta[i]!;
      if (m === 0) {
        this.n++;
        break;
      }
      if (m === meta && this.kLo[i] === bLo && this.kHi[i] === bHi && this.kPasid[i] === pasid) break; // refill replaces
      i = (i + 1) & this.mask;
    }
    this.kMeta[i] = meta;
    this.kPasid[i] = pasid;
    this.kHi[i] = bHi;
    this.kLo[i] = bLo;
    this.vPa[i] = pa;
    this.vPerm[i] = perm;
  }

  /** Remove the matching entries: one scan, then the survivors are re-inserted if anything went. */
  private removeWhere(match: (meta: number, pasid: number, hi: number, lo: number) => boolean): number {
    let removed = 0;
    for (let i = 0; i < this.cap; i++) {
      const m = this.kMeta[i]!;
      if (m !== 0 && match(m, this.kPasid[i]!, this.kHi[i]!, this.kLo[i]!)) {
        this.kMeta[i] = -1; // marked; rebuilt below
        removed++;
      }
    }
    if (removed > 0) this.rehash(this.cap);
    return removed;
  }

  private rehash(cap: number): void {
    const { kMeta, kPasid, kHi, kLo, vPa, vPerm } = this;
    const old = this.cap;
    this.allocate(cap);
    this.n = 0;
    for (let i = 0; i < old; i++) {
      const m = kMeta[i]!;
      if (m !== 0 && m !== -1) this.put(m, kPasid[i]!, kHi[i]!, kLo[i]!, vPa[i]!, vPerm[i]!);
    }
  }
}

/** Do the aligned ranges [e, e + 2^el) and [a, a + 2^al) overlap? Both are aligned, so one holds the other. */
function overlaps(eHi: number, eLo: number, el: number, aHi: number, aLo: number, al: number): boolean {
  const m = el > al ? el : al;
  return maskHi(eHi, m) === maskHi(aHi, m) && maskLo(eLo, m) === maskLo(aLo, m);
}
