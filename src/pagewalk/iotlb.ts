// The IOTLB: cached leaf translations (VT-d spec 6.2 "Translation Caches",
// 6.5.2 "Queued Invalidation"), as QEMU's intel-iommu keeps them
// (hw/i386/intel_iommu.c: vtd_get_iotlb_key, vtd_lookup_iotlb, vtd_update_iotlb).
//
// Key, by fields: a 16-bit tag, the PASID, the page size and the page base.
// QEMU tags by source id (vtd_get_iotlb_key); a hardware-style user tags by
// domain id (the spec's tag). Lookup tries each page size cached, smallest
// first, as vtd_lookup_iotlb tries level 1, 2, 3.
// Value: the output page base and permissions, and what invalidations select
// on: the domain id and whether the entry caches a first-stage translation
// (QEMU entry->pgtt == VTD_SM_PASID_ENTRY_FST).
//
// An entry leaves only through the invalidations, filters over those fields
// (no capacity eviction here: QEMU's reset at VTD_IOTLB_MAX_SIZE is its
// caller's policy, src/model/viommu/vtd/translate.ts):
//   invalidateGlobal             IIRG/G = 01 (vtd_iotlb_global_invalidate)
//   invalidateDomain(did)        IIRG/G = 10, every PASID (vtd_hash_remove_by_domain)
//   invalidatePage(did, a, am)   IIRG/G = 11 (vtd_hash_remove_by_page): the domain's entries whose
//                                page overlaps [a aligned to 2^(12+AM), + 2^(12+AM)), any PASID,
//                                superpages included; and every first-stage entry of the domain
//   invalidatePasid(did, pasid)  p_iotlb G = 10 (vtd_hash_remove_by_pasid): every entry of (did, pasid),
//                                first and second stage (VT-d spec Table 21; QEMU ad0a7f1e1e)
//   invalidatePasidPage(...)     p_iotlb G = 11 (vtd_hash_remove_by_page_piotlb): first-stage
//                                entries of (did, pasid) overlapping the range only
// IH only spares the paging-structure caches, not modelled: it does not change
// which IOTLB entries go (QEMU reads it only to pass it on to the host).
//
// Storage: open addressing with linear probing, one Int32Array of 32-byte
// slots (one cache line holds two), so a hit reads one line; no allocation on
// lookup or fill (the table doubles when half full). Instances held in iorr's
// states are copy-on-write (clone()) and stand for their entries as plain data
// (toStateData / fromStateData, src/model/hash.ts).

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

/** The PASID tag of a request without PASID in legacy mode: QEMU's PCI_NO_PASID (scalable mode uses PASID_0). */
export const IOTLB_NO_PASID = -1;

export interface IotlbEntry {
  /** Source id (QEMU's key) or domain id. */
  tag: number;
  /** -1: no PASID. */
  pasid: number;
  /** The IOVA of the page base. */
  iova: bigint;
  pageLg2: number;
  /** The output address of the page base. */
  pa: number;
  perm: number;
  did: number;
  /** Caches a first-stage translation (PGTT 001b); else second stage. */
  firstStage: boolean;
}

const TWO32 = 4294967296;
const VALID = 1 << 30;
const FIRST_STAGE = 1 << 24;
// Slot layout, in 32-bit words: META (tag | lg2 << 16 | VALID; 0 = empty), PASID,
// HI and LO (the page base), VAL (perm | did << 8 | FIRST_STAGE), one unused word,
// then the output page base as a float64 (word 6 and 7: Float64Array index slot * 4 + 3).
const STRIDE = 8;
const PASID = 1;
const HI = 2;
const LO = 3;
const VAL = 4;

/** High and low words of the base of the 2^lg2 page holding hi:lo. */
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

const metaOf = (tag: number, lg2: number) => (tag & 0xffff) | (lg2 << 16) | VALID;

export class Iotlb {
  // Nothing is `private`: immer's Draft type of a class with private members
  // is not assignable to the class, and an Iotlb sits in iorr's states. Only
  // this file touches the fields and the helpers below the invalidations.
  mask!: number;
  n = 0;
  slots!: Int32Array; // set by allocate()
  pas!: Float64Array; // the same buffer: output page bases
  /** Page sizes (log2) present, smallest first: lookup tries each. */
  sizes: number[] = [];

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.allocate(cap);
  }

  /** Fresh, empty slots for `cap` entries (a power of two). */
  allocate(cap: number): void {
    this.mask = cap - 1;
    this.slots = new Int32Array(cap * STRIDE);
    this.pas = new Float64Array(this.slots.buffer);
  }

  /** Entries cached. */
  get size(): number {
    return this.n;
  }

  /**
   * Look the IOVA up for (tag, pasid). On a hit fill out[R_PA] (page base +
   * offset), R_PAGE_LG2, R_PERM (R_STEPS = 0: no entry read) and return true.
   */
  lookup(tag: number, pasid: number, iovaHi: number, iovaLo: number, out: Float64Array): boolean {
    const sizes = this.sizes;
    const slots = this.slots;
    const mask = this.mask;
    const p = pasid | 0;
    for (let s = 0; s < sizes.length; s++) {
      const lg2 = sizes[s]!;
      const meta = metaOf(tag, lg2);
      const bHi = maskHi(iovaHi, lg2);
      const bLo = maskLo(iovaLo, lg2);
      let i = hash(meta, p, bHi, bLo) & mask;
      for (;;) {
        const o = i * STRIDE;
        const m = slots[o]!;
        if (m === 0) break;
        if (m === meta && slots[o + LO] === bLo && slots[o + HI] === bHi && slots[o + PASID] === p) {
          out[R_PA] = this.pas[i * 4 + 3]! + (iovaHi - (bHi >>> 0)) * TWO32 + (iovaLo - (bLo >>> 0));
          out[R_PAGE_LG2] = lg2;
          out[R_PERM] = slots[o + VAL]! & 0xff;
          out[R_STEPS] = 0;
          return true;
        }
        i = (i + 1) & mask;
      }
    }
    return false;
  }

  /**
   * Cache the successful walk in `out` (R_PA, R_PAGE_LG2, R_PERM) for the IOVA
   * it translated; `did` and `firstStage` are what invalidations select on.
   */
  fill(tag: number, pasid: number, iovaHi: number, iovaLo: number, out: Float64Array, did = tag, firstStage = false): void {
    const lg2 = out[R_PAGE_LG2]!;
    const bHi = maskHi(iovaHi, lg2);
    const bLo = maskLo(iovaLo, lg2);
    const paBase = out[R_PA]! - ((iovaHi - (bHi >>> 0)) * TWO32 + (iovaLo - (bLo >>> 0)));
    this.put(metaOf(tag, lg2), pasid | 0, bHi, bLo, paBase, (out[R_PERM]! & 0xff) | ((did & 0xffff) << 8) | (firstStage ? FIRST_STAGE : 0));
  }

  /** Cache one entry as given (its iova and pa aligned to its page). */
  insert(e: IotlbEntry): void {
    const hi = Number((e.iova >> 32n) & 0xffffffffn);
    const lo = Number(e.iova & 0xffffffffn);
    this.put(
      metaOf(e.tag, e.pageLg2),
      e.pasid | 0,
      maskHi(hi, e.pageLg2),
      maskLo(lo, e.pageLg2),
      e.pa,
      (e.perm & 0xff) | ((e.did & 0xffff) << 8) | (e.firstStage ? FIRST_STAGE : 0),
    );
  }

  /**
   * Translate through the IOTLB, tagged by domain id: a hit answers from the
   * cache, with the cached permissions (a stale read-only entry faults a
   * write); a miss walks `walker` and fills on success. Faults are not cached.
   */
  translate(
    walker: Walker,
    mem: PhysReader,
    pt: PageTable,
    did: number,
    pasid: number,
    iovaHi: number,
    iovaLo: number,
    access: number,
    out: Float64Array,
  ): number {
    if (this.lookup(did, pasid, iovaHi, iovaLo, out)) {
      const need = access & (ACCESS_READ | ACCESS_WRITE | ACCESS_EXEC); // the PERM_R / W / X positions
      out[R_LEVEL] = 0;
      return (out[R_PERM]! & need) === need ? FAULT_NONE : FAULT_PERMISSION;
    }
    const f = walker(mem, pt, iovaHi, iovaLo, access, out);
    if (f === FAULT_NONE) this.fill(did, pasid, iovaHi, iovaLo, out);
    return f;
  }

  // ---- invalidations (see the header); each returns the number of entries removed ----

  invalidateGlobal(): number {
    const n = this.n;
    this.slots.fill(0);
    this.n = 0;
    this.sizes = [];
    return n;
  }

  invalidateDomain(did: number): number {
    const d = did & 0xffff;
    return this.removeWhere((_m, _p, _h, _l, val) => ((val >>> 8) & 0xffff) === d);
  }

  invalidatePage(did: number, addrHi: number, addrLo: number, am: number, ih = false): number {
    void ih;
    const d = did & 0xffff;
    const r = 12 + am;
    const aHi = maskHi(addrHi, r);
    const aLo = maskLo(addrLo, r);
    return this.removeWhere(
      (m, _p, hi, lo, val) => ((val >>> 8) & 0xffff) === d && ((val & FIRST_STAGE) !== 0 || overlaps(hi, lo, (m >>> 16) & 0x7f, aHi, aLo, r)),
    );
  }

  invalidatePasid(did: number, pasid: number): number {
    const d = did & 0xffff;
    const p = pasid | 0;
    return this.removeWhere((_m, ep, _h, _l, val) => ((val >>> 8) & 0xffff) === d && ep === p);
  }

  invalidatePasidPage(did: number, pasid: number, addrHi: number, addrLo: number, am: number, ih = false): number {
    void ih;
    const d = did & 0xffff;
    const p = pasid | 0;
    const r = 12 + am;
    const aHi = maskHi(addrHi, r);
    const aLo = maskLo(addrLo, r);
    return this.removeWhere(
      (m, ep, hi, lo, val) => (val & FIRST_STAGE) !== 0 && ((val >>> 8) & 0xffff) === d && ep === p && overlaps(hi, lo, (m >>> 16) & 0x7f, aHi, aLo, r),
    );
  }

  // ---- as data ----

  /** Every entry, in a canonical order (tag, PASID, page size, IOVA), whatever the insertion history. */
  entries(): IotlbEntry[] {
    const r: IotlbEntry[] = [];
    const s = this.slots;
    for (let i = 0, o = 0; o < s.length; i++, o += STRIDE) {
      const m = s[o]!;
      if (m === 0) continue;
      const val = s[o + VAL]!;
      r.push({
        tag: m & 0xffff,
        pasid: s[o + PASID]!,
        iova: (BigInt(s[o + HI]! >>> 0) << 32n) | BigInt(s[o + LO]! >>> 0),
        pageLg2: (m >>> 16) & 0x7f,
        pa: this.pas[i * 4 + 3]!,
        perm: val & 0xff,
        did: (val >>> 8) & 0xffff,
        firstStage: (val & FIRST_STAGE) !== 0,
      });
    }
    return r.sort((a, b) => a.tag - b.tag || a.pasid - b.pasid || a.pageLg2 - b.pageLg2 || (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
  }

  /** The state-data protocol (src/model/hash.ts): the entries, canonical. */
  toStateData(): IotlbEntry[] {
    return this.entries();
  }

  static fromStateData(entries: readonly IotlbEntry[]): Iotlb {
    const t = new Iotlb(entries.length * 2);
    for (const e of entries) t.insert(e);
    return t;
  }

  /** An independent copy (copy-on-write by the owner of a shared instance). */
  clone(): Iotlb {
    const t = new Iotlb();
    t.mask = this.mask;
    t.n = this.n;
    t.slots = this.slots.slice();
    t.pas = new Float64Array(t.slots.buffer);
    t.sizes = [...this.sizes];
    return t;
  }

  put(meta: number, pasid: number, bHi: number, bLo: number, pa: number, val: number): void {
    if ((this.n + 1) * 2 > this.mask + 1) this.rehash((this.mask + 1) * 2);
    const slots = this.slots;
    let i = hash(meta, pasid, bHi, bLo) & this.mask;
    for (;;) {
      const o = i * STRIDE;
      const m = slots[o]!;
      if (m === 0) {
        this.n++;
        break;
      }
      if (m === meta && slots[o + LO] === bLo && slots[o + HI] === bHi && slots[o + PASID] === pasid) break; // refill replaces (g_hash_table_replace)
      i = (i + 1) & this.mask;
    }
    const o = i * STRIDE;
    slots[o] = meta;
    slots[o + PASID] = pasid;
    slots[o + HI] = bHi;
    slots[o + LO] = bLo;
    slots[o + VAL] = val;
    this.pas[i * 4 + 3] = pa;
    const lg2 = (meta >>> 16) & 0x7f;
    if (!this.sizes.includes(lg2)) {
      this.sizes.push(lg2);
      this.sizes.sort((a, b) => a - b);
    }
  }

  /** Remove the matching entries: one scan, then the survivors are re-inserted if anything went. */
  removeWhere(match: (meta: number, pasid: number, hi: number, lo: number, val: number) => boolean): number {
    const s = this.slots;
    let removed = 0;
    for (let o = 0; o < s.length; o += STRIDE) {
      const m = s[o]!;
      if (m !== 0 && match(m, s[o + PASID]!, s[o + HI]!, s[o + LO]!, s[o + VAL]!)) {
        s[o] = -1; // marked; rebuilt below
        removed++;
      }
    }
    if (removed > 0) this.rehash(this.mask + 1);
    return removed;
  }

  rehash(cap: number): void {
    const { slots, pas } = this;
    this.allocate(cap);
    this.n = 0;
    this.sizes = [];
    for (let i = 0, o = 0; o < slots.length; i++, o += STRIDE) {
      const m = slots[o]!;
      if (m !== 0 && m !== -1) this.put(m, slots[o + PASID]!, slots[o + HI]!, slots[o + LO]!, pas[i * 4 + 3]!, slots[o + VAL]!);
    }
  }
}

/** Do the aligned ranges [e, e + 2^el) and [a, a + 2^al) overlap? Both are aligned, so one holds the other. */
function overlaps(eHi: number, eLo: number, el: number, aHi: number, aLo: number, al: number): boolean {
  const m = Math.max(el, al);
  return maskHi(eHi, m) === maskHi(aHi, m) && maskLo(eLo, m) === maskLo(aLo, m);
}
