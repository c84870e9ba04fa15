// The IOTLB: tags, fills, hits, and each invalidation granularity (VT-d spec
// 6.2.2 / 6.5.2.3 IOTLB Invalidate and 6.5.2.4 PASID-based-IOTLB Invalidate;
// QEMU vtd_lookup_iotlb, vtd_update_iotlb, vtd_iotlb_global_invalidate,
// vtd_iotlb_domain_invalidate, vtd_iotlb_page_invalidate with
// vtd_hash_remove_by_page, vtd_piotlb_pasid_invalidate, vtd_piotlb_page_invalidate),
// and the instance as data (clone, canonical entries, fromStateData).
import { describe, expect, it } from "vitest";
import {
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  Iotlb,
  IOTLB_NO_PASID,
  newWalkResult,
  PERM_R,
  PERM_W,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  walkVtdSs,
  type PageTable,
} from "../../src/pagewalk/index.ts";
import { idx, WordMem } from "./helpers.ts";

const hiOf = (a: bigint) => Number(a >> 32n);
const loOf = (a: bigint) => Number(a & 0xffff_ffffn);

/** Fill a translation of the page at `iova` (2^lg2 bytes) to `pa`, tagged by domain id. */
function fill(tlb: Iotlb, did: number, pasid: number, iova: bigint, pa: number, lg2 = 12, perm = PERM_R | PERM_W, firstStage = false): void {
  const out = newWalkResult();
  out[R_PA] = pa + Number(iova & ((1n << BigInt(lg2)) - 1n));
  out[R_PAGE_LG2] = lg2;
  out[R_PERM] = perm;
  tlb.fill(did, pasid, hiOf(iova), loOf(iova), out, did, firstStage);
}

/** The PA the IOTLB answers for (did, pasid, iova), or null on a miss. */
function look(tlb: Iotlb, did: number, pasid: number, iova: bigint): number | null {
  const out = newWalkResult();
  return tlb.lookup(did, pasid, hiOf(iova), loOf(iova), out) ? out[R_PA]! : null;
}

describe("IOTLB: tags and hits (vtd_lookup_iotlb: domain id, PASID, page number at each page size)", () => {
  it("a fill hits for every address of the page, and misses for another page, domain or PASID", () => {
    const tlb = new Iotlb();
    fill(tlb, 5, 1, 0x1234_5000n, 0xabc_d000);
    expect(look(tlb, 5, 1, 0x1234_5000n)).toBe(0xabc_d000);
    expect(look(tlb, 5, 1, 0x1234_5fffn)).toBe(0xabc_dfff);
    expect(look(tlb, 5, 1, 0x1234_6000n)).toBeNull();
    expect(look(tlb, 6, 1, 0x1234_5000n)).toBeNull();
    expect(look(tlb, 5, 2, 0x1234_5000n)).toBeNull();
    expect(look(tlb, 5, IOTLB_NO_PASID, 0x1234_5000n)).toBeNull();
    expect(tlb.size).toBe(1);
  });

  it("QEMU's key (vtd_get_iotlb_key): tagged by source id, the domain id is a value that invalidations select on", () => {
    const tlb = new Iotlb();
    const out = newWalkResult();
    out[R_PA] = 0x9010;
    out[R_PAGE_LG2] = 12;
    out[R_PERM] = PERM_R;
    tlb.fill(0x18, IOTLB_NO_PASID, 0, 0x5010, out, 5);
    expect(look(tlb, 0x18, IOTLB_NO_PASID, 0x5000n)).toBe(0x9000);
    expect(look(tlb, 5, IOTLB_NO_PASID, 0x5000n)).toBeNull();
    expect(tlb.invalidateDomain(0x18)).toBe(0);
    expect(tlb.invalidateDomain(5)).toBe(1);
  });

  it("superpage entries: a 2 MiB and a 1 GiB fill answer for any address inside, with the page size", () => {
    const tlb = new Iotlb();
    fill(tlb, 1, 0, 0x4020_0000n, 0x8000_0000, 21);
    fill(tlb, 1, 0, 0x1_0000_0000n, 0x2_0000_0000, 30);
    expect(look(tlb, 1, 0, 0x403f_fff8n)).toBe(0x801f_fff8);
    expect(look(tlb, 1, 0, 0x1_3fff_0000n)).toBe(0x2_3fff_0000);
    const out = newWalkResult();
    expect(tlb.lookup(1, 0, 1, 0x1000, out)).toBe(true);
    expect(out[R_PAGE_LG2]).toBe(30);
  });

  it("64-bit IOVAs above 2^53 are tagged exactly (pages differing only in bit 60, or in bit 32)", () => {
    const tlb = new Iotlb();
    const a = 0xf000_0000_1234_5000n;
    fill(tlb, 1, 0, a, 0x1000);
    expect(look(tlb, 1, 0, a | 0x10n)).toBe(0x1010);
    expect(look(tlb, 1, 0, a ^ (1n << 60n))).toBeNull();
    expect(look(tlb, 1, 0, a ^ (1n << 32n))).toBeNull();
    fill(tlb, 1, 0, 0xffff_ffff_c000_0000n, 0x4000_0000, 30);
    expect(look(tlb, 1, 0, 0xffff_ffff_ffff_fff0n)).toBe(0x7fff_fff0);
  });

  it("entries never go without an invalidation: 20,000 fills all stay (the table grows)", () => {
    const tlb = new Iotlb(16);
    for (let i = 0; i < 20_000; i++) fill(tlb, i & 7, i & 3, BigInt(i) << 12n, i * 4096);
    expect(tlb.size).toBe(20_000);
    for (let i = 0; i < 20_000; i += 97) expect(look(tlb, i & 7, i & 3, (BigInt(i) << 12n) | 4n)).toBe(i * 4096 + 4);
  });
});

describe("IOTLB: a stale entry stays until the right invalidation", () => {
  const pt: PageTable = { root: 0x1000, levels: 3, vaBits: 39, oaBits: 52, granuleLg2: 12, superpages: 3 };
  function mapped(): WordMem {
    const mem = new WordMem();
    mem.set(0x1000, idx(0x5000n, 3), 0x2000n | 3n);
    mem.set(0x2000, idx(0x5000n, 2), 0x3000n | 3n);
    mem.set(0x3000, idx(0x5000n, 1), 0x9000n | 3n);
    return mem;
  }

  it("an unmap without invalidation still translates from the IOTLB; a page-selective invalidation of the page makes it fault", () => {
    const mem = mapped();
    const tlb = new Iotlb();
    const out = newWalkResult();
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5008, ACCESS_READ, out)).toBe(FAULT_NONE);
    mem.set(0x3000, idx(0x5000n, 1), 0n); // unmapped in memory
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5010, ACCESS_READ, out)).toBe(FAULT_NONE);
    expect(out[R_PA]).toBe(0x9010); // stale
    expect(tlb.invalidatePage(2, 0, 0x5000, 0)).toBe(0); // wrong domain
    expect(tlb.invalidatePage(1, 0, 0x6000, 0)).toBe(0); // wrong page
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5010, ACCESS_READ, out)).toBe(FAULT_NONE);
    expect(tlb.invalidatePage(1, 0, 0x5000, 0, true)).toBe(1); // IH does not spare IOTLB entries
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5010, ACCESS_READ, out)).toBe(FAULT_NOT_PRESENT);
  });

  it("a permission upgrade without invalidation: the cached read-only entry faults a write until invalidated", () => {
    const mem = mapped();
    mem.set(0x3000, idx(0x5000n, 1), 0x9000n | 1n); // read-only
    const tlb = new Iotlb();
    const out = newWalkResult();
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5000, ACCESS_READ, out)).toBe(FAULT_NONE);
    mem.set(0x3000, idx(0x5000n, 1), 0x9000n | 3n);
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5000, ACCESS_WRITE, out)).toBe(FAULT_PERMISSION);
    tlb.invalidateDomain(1);
    expect(tlb.translate(walkVtdSs, mem, pt, 1, 0, 0, 0x5000, ACCESS_WRITE, out)).toBe(FAULT_NONE);
    expect(out[R_PERM]).toBe(PERM_R | PERM_W);
  });
});

describe("IOTLB: each invalidation removes exactly what its descriptor selects", () => {
  /**
   * Domains 1 and 2, PASIDs 0 and 7, 4 KiB pages at 0x10000..0x13000, a 2 MiB
   * page at 0x4000_0000 and a 4 KiB page in the next 2 MiB; all second-stage
   * entries, or all first-stage (PGTT 001b).
   */
  function populated(firstStage = false): Iotlb {
    const tlb = new Iotlb();
    const rw = PERM_R | PERM_W;
    for (const did of [1, 2])
      for (const pasid of [0, 7]) {
        for (let p = 0; p < 4; p++) fill(tlb, did, pasid, 0x10000n + BigInt(p) * 0x1000n, 0x100_0000 + p * 0x1000, 12, rw, firstStage);
        fill(tlb, did, pasid, 0x4000_0000n, 0x8000_0000, 21, rw, firstStage);
        fill(tlb, did, pasid, 0x4020_0000n, 0x9000_0000, 12, rw, firstStage);
      }
    return tlb;
  }
  const keys = (tlb: Iotlb) =>
    tlb
      .entries()
      .map((e) => `${e.did}/${e.pasid}/${e.iova.toString(16)}/${e.pageLg2}`)
      .sort();
  const all = keys(populated());
  const without = (pred: (k: string) => boolean) => all.filter((k) => !pred(k));

  it("global (IIRG/G = 01, vtd_iotlb_global_invalidate): everything", () => {
    const tlb = populated();
    expect(tlb.invalidateGlobal()).toBe(all.length);
    expect(tlb.size).toBe(0);
    expect(look(tlb, 1, 0, 0x10000n)).toBeNull();
  });

  it("domain-selective (G = 10, vtd_iotlb_domain_invalidate): the domain, every PASID", () => {
    const tlb = populated();
    expect(tlb.invalidateDomain(1)).toBe(12);
    expect(keys(tlb)).toEqual(without((k) => k.startsWith("1/")));
  });

  it("page-selective AM 0 (G = 11, vtd_iotlb_page_invalidate): that page in the domain, every PASID", () => {
    const tlb = populated();
    expect(tlb.invalidatePage(2, 0, 0x11000, 0)).toBe(2);
    expect(keys(tlb)).toEqual(without((k) => k.startsWith("2/") && k.includes("/11000/")));
  });

  it("page-selective AM 1 takes an aligned pair of pages; an unaligned address is aligned down", () => {
    const tlb = populated();
    expect(tlb.invalidatePage(1, 0, 0x13fff, 1)).toBe(4); // 0x12000 and 0x13000, PASIDs 0 and 7
    expect(keys(tlb)).toEqual(without((k) => k.startsWith("1/") && (k.includes("/12000/") || k.includes("/13000/"))));
  });

  it("page-selective inside a superpage removes the 2 MiB entry (vtd_hash_remove_by_page gfn_tlb), not the next 2 MiB", () => {
    const tlb = populated();
    expect(tlb.invalidatePage(1, 0, 0x4012_3000, 0)).toBe(2);
    expect(keys(tlb)).toEqual(without((k) => k.startsWith("1/") && k.includes("/40000000/")));
  });

  it("page-selective AM 9 (2 MiB) covers the 2 MiB entry and no 4 KiB page outside it; AM 10 takes the next one too", () => {
    const tlb = populated();
    expect(tlb.invalidatePage(1, 0, 0x4000_0000, 9)).toBe(2);
    expect(tlb.invalidatePage(2, 0, 0x4000_0000, 10)).toBe(4);
    expect(keys(tlb)).toEqual(without((k) => (k.startsWith("1/") && k.includes("/40000000/")) || (k.startsWith("2/") && k.includes("/40"))));
    expect(look(tlb, 1, 0, 0x4020_0000n)).toBe(0x9000_0000);
  });

  it("page-selective (vtd_hash_remove_by_page): every first-stage entry of the domain goes, whatever its address", () => {
    const tlb = populated(true);
    expect(tlb.invalidatePage(1, 0, 0x11000, 0)).toBe(12);
    expect(keys(tlb)).toEqual(without((k) => k.startsWith("1/")));
  });

  it("PASID-based all-in-PASID (p_iotlb G = 10, vtd_piotlb_pasid_invalidate / vtd_hash_remove_by_pasid): every entry of that (domain, PASID), first and second stage", () => {
    for (const firstStage of [true, false]) {
      const tlb = populated(firstStage);
      expect(tlb.invalidatePasid(1, 7)).toBe(6);
      expect(keys(tlb)).toEqual(without((k) => k.startsWith("1/7/")));
      expect(tlb.invalidatePasid(1, 3)).toBe(0); // no entry has PASID 3
    }
    const mixed = populated();
    fill(mixed, 1, 7, 0x5000_0000n, 0xa000_0000, 12, PERM_R, true);
    expect(mixed.invalidatePasid(1, 7)).toBe(7);
    expect(look(mixed, 1, 7, 0x5000_0000n)).toBeNull();
  });

  it("PASID-based page-selective (p_iotlb G = 11, vtd_hash_remove_by_page_piotlb): that page in that (domain, PASID), first stage only", () => {
    const tlb = populated(true);
    expect(tlb.invalidatePasidPage(2, 0, 0, 0x10000, 0)).toBe(1);
    expect(tlb.invalidatePasidPage(2, 0, 0, 0x10000, 0)).toBe(0);
    expect(keys(tlb)).toEqual(without((k) => k === "2/0/10000/12"));
    expect(look(tlb, 2, 7, 0x10000n)).toBe(0x100_0000);
    expect(tlb.invalidatePasidPage(1, 0, 0, 0x4012_3000, 0)).toBe(1); // inside the 2 MiB entry
    expect(populated().invalidatePasidPage(2, 0, 0, 0x10000, 0)).toBe(0);
  });
});

describe("IOTLB: the instance as data (copy-on-write and state data, src/model/hash.ts)", () => {
  const entry = (i: number, firstStage = false) => ({
    tag: i & 3,
    pasid: i & 1 ? IOTLB_NO_PASID : i,
    iova: BigInt(i) << 21n,
    pageLg2: i % 3 ? 12 : 21,
    pa: i * 0x20_0000,
    perm: PERM_R,
    did: 9,
    firstStage,
  });

  it("clone() is independent: fills and invalidations of either leave the other as it was", () => {
    const a = new Iotlb();
    for (let i = 0; i < 40; i++) a.insert(entry(i));
    const b = a.clone();
    const before = a.entries();
    b.insert(entry(100));
    expect(b.invalidatePage(9, 0, 0x20_0000, 0)).toBe(1);
    expect(a.entries()).toEqual(before);
    a.invalidateGlobal();
    expect(b.size).toBe(40);
    expect(look(b, 0, 100, 100n << 21n)).toBe(100 * 0x20_0000);
  });

  it("entries() is canonical: the same entries in any insertion order and any capacity; fromStateData rebuilds an equal table", () => {
    const es = Array.from({ length: 60 }, (_, i) => entry(i, i % 5 === 0));
    const a = new Iotlb();
    for (const e of es) a.insert(e);
    const b = new Iotlb(4096);
    for (const e of [...es].reverse()) b.insert(e);
    b.insert({ ...entry(1000), did: 77 });
    expect(b.invalidateDomain(77)).toBe(1);
    expect(b.entries()).toEqual(a.entries());
    expect(a.toStateData()).toEqual(a.entries());
    const c = Iotlb.fromStateData(a.toStateData());
    expect(c.entries()).toEqual(a.entries());
    expect(look(c, 1, IOTLB_NO_PASID, (1n << 21n) | 0x123n)).toBe(0x20_0123);
  });
});
