// Guest-side translation, after QEMU hw/i386/intel_iommu.c: vtd_do_iommu_translate
// (the IOTLB lookup and fill, vtd_dev_to_context_entry with the context cache,
// the PASID directory and table entries, the second- or first-stage walk, the
// interrupt-range check) and vtd_dmar_enabled (GSTS.TES).
//
// PASID entries (directory and table) are read from guest memory on every
// IOTLB miss, cached context entry or not, as QEMU does for emulated devices
// (its PASID cache, vtd_as->pasid_cache_entry, is only kept for IOMMUFD-backed
// devices).
//

import {
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_NONE,
  newWalkResult,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_ENTRY,
  R_STEPS,
  vtdSsFaultName,
  walkVtdSs,
  walkX86FsSetAD,
  X86FS_SP_1G,
  x86FsFaultName,
  type IotlbEntry,
  type PageTable,
} from "../../../pagewalk/index.ts";
import { provenance, setProvenance, type CachedTranslation, type Piece, type Provenance } from "../../provenance.ts";
import { vtdReportFault, VTD_FR } from "./faults.ts";
import type { GuestMem } from "./guest_mem.ts";
import { DMAR_GSTS, DMAR_RTADDR, GCMD_IRE, GCMD_TE, hawMask } from "./registers.ts";
import { VTD_ECAP_DT, VTD_ECAP_FSTS, VTD_ECAP_PT, VTD_ECAP_SSTS } from "./regs.ts";
import { iotlbForWrite, raw, type Pgtt, type VtdCtx, type VtdUnit } from "./state.ts";

const INTR_LO = 0xfee00000n;
const INTR_HI = 0xfeefffffn;

export type VtdXlate = { gpa: bigint; pageLg2: number; perm: number } | { fault: string };

const walk = newWalkResult();

/**
 * vtd_init's vtd_spte_rsvd / vtd_spte_rsvd_large beyond the address width:
 * SNP (bit 11) is reserved in table entries always, in leaves unless
 * x-scalable-mode or snoop-control; TM (bit 62) in table entries always, in
 * leaves unless device-iotlb and stale-tm.
 */
function ssReserved(cfg: VtdCtx["cfg"]): NonNullable<PageTable["ssRsvd"]> {
  const SNP = 1 << 11;
  const TM_HI = 1 << 30;
  return {
    leafLo: cfg.scalableMode || cfg.snoopControl ? 0 : SNP,
    leafHi: cfg.deviceIotlb && cfg.staleTm ? 0 : TM_HI,
    tableLo: SNP,
    tableHi: TM_HI,
  };
}
const levelSupported = (cap: bigint, level: number) => level >= 2 && (cap & (1n << BigInt(level - 2 + 8))) !== 0n;

/**
 * The walkers name their faults as QEMU does (vtdSsFaultName, x86FsFaultName);
 * QEMU adds a table read error (dma_memory_read failing), named after the
 * entry that pointed to the table: at the top level the context (second
 * stage) or PASID entry's pointer (first stage), below it the paging entry.
 */
function ssFault(f: number, write: boolean, readErr: boolean, top: boolean): string {
  if (readErr) return top ? "VTD_FR_CONTEXT_ENTRY_INV" : "VTD_FR_PAGING_ENTRY_INV";
  return vtdSsFaultName(f, write);
}
function fsFault(f: number, readErr: boolean, top: boolean): string {
  if (readErr) return top ? "VTD_FR_PASID_ENTRY_FSPTPTR_INV" : "VTD_FR_FS_PAGING_ENTRY_INV";
  return x86FsFaultName(f);
}
const ALL_ONES = (1n << 64n) - 1n;
/**
 * vtd_get_pte returns -1 for a failed read, and both walkers take an entry of all
 * ones for one (vtd_iova_to_sspte, vtd_iova_to_fspte: `pte == (uint64_t)-1`): the
 * entry the walk stopped at read so, or a read outside guest RAM.
 */
function readError(mem: GuestMem): boolean {
  if (mem.bad) return true;
  const steps = walk[R_STEPS]!;
  return steps > 0 && mem.read64(BigInt(walk[R_ENTRY + steps - 1]!)) === ALL_ONES;
}

interface Ctx2 {
  did: number;
  pgtt: Pgtt;
  pt?: PageTable;
  /** is_fpd_set: the context entry's FPD (scalable: or the PASID directory / table entry's). */
  fpd: boolean;
}
/** A fault from the context / PASID lookup; `silent`: QEMU goes on without reporting it (an FPD-suppressed lookup). */
type CtxFault = { fr: string; fpd: boolean; silent?: boolean };
const bad = (fr: string, fpd = false): CtxFault => ({ fr, fpd });
const isFault = (x: object): x is CtxFault => "fr" in x;

/** PASID_0: what a request without PASID uses in scalable mode (QEMU master; the RID_PASID field is ignored). */
const PASID_0 = 0;

/**
 * vtd_get_pe_from_pasid_table: the directory entry (read error, present),
 * the PASID entry (read error, then vtd_pe_type_check and the level checks,
 * then present: a zeroed entry is VTD_FR_PASID_TABLE_ENTRY_INV, not
 * VTD_FR_PASID_ENTRY_P). The entry read is returned with the fault of any
 * check after the read, as QEMU's callers that ignore the error go on with it.
 */
interface PasidLookup {
  /** The PASID entry as read (also with a fault of the checks after the read). */
  pe?: bigint[];
  fr?: string;
  /** The directory entry's FPD (read without its present check). */
  dirFpd: boolean;
}
function pasidEntry(c: VtdCtx, ce: readonly bigint[], pasid: number): PasidLookup {
  const haw = hawMask(c.cfg.awBits);
  const direAt = (ce[0]! & ~0xfffn & haw) + BigInt((pasid >> 6) & 0x3fff) * 8n;
  const dire = c.mem.read64(direAt);
  const rec = provenance();
  if (rec !== null) readPiece(rec, c, `PASID directory entry at ${hexOf(direAt)}`, direAt, 8, "walk");
  if (dire === undefined) return { fr: "VTD_FR_PASID_DIR_ACCESS_ERR", dirFpd: false };
  const dirFpd = (dire & 2n) !== 0n;
  if (!(dire & 1n)) return { fr: "VTD_FR_PASID_DIR_ENTRY_P", dirFpd };
  const peAt = (dire & ~0xfffn) + BigInt(pasid & 0x3f) * 64n; // VTD_PASID_TABLE_BASE_ADDR_MASK: ~0xfff, the address width not applied
  if (rec !== null) readPiece(rec, c, `PASID table entry (PASID ${pasid}) at ${hexOf(peAt)}`, peAt, 24, "walk");
  const pe: bigint[] = [];
  for (let i = 0n; i < 3n; i++) {
    const w = c.mem.read64(peAt + i * 8n);
    if (w === undefined) return { fr: "VTD_FR_PASID_TABLE_ACCESS_ERR", dirFpd };
    pe.push(w);
  }
  const pgtt = Number((pe[0]! >> 6n) & 7n);
  const typeOk =
    pgtt === 1 ? (c.ecap & VTD_ECAP_FSTS) !== 0n : pgtt === 2 ? (c.ecap & VTD_ECAP_SSTS) !== 0n : pgtt === 4 ? (c.ecap & VTD_ECAP_PT) !== 0n : false; // NESTED, unknown
  // The entry was read before these checks: a caller that ignores the error walks with it
  // (vtd_get_iova_pgtbl_base / vtd_get_iova_level, after a directory entry's FPD skipped them).
  if (!typeOk) return { pe, fr: "VTD_FR_PASID_TABLE_ENTRY_INV", dirFpd };
  if (pgtt === 2 && !levelSupported(c.cap, Number((pe[0]! >> 2n) & 7n) + 2)) return { pe, fr: "VTD_FR_PASID_TABLE_ENTRY_INV", dirFpd };
  if (pgtt === 1 && 4 + Number((pe[2]! >> 2n) & 3n) !== 4) return { pe, fr: "VTD_FR_PASID_TABLE_ENTRY_INV", dirFpd }; // vtd_is_fs_level_supported: 4-level only
  if (!(pe[0]! & 1n)) return { pe, fr: "VTD_FR_PASID_ENTRY_P", dirFpd };
  return { pe, dirFpd };
}

/**
 * vtd_ce_get_pasid_fpd: the FPD of the directory entry (no present check:
 * FPD counts even in a non-present entry, and stops the lookup), then of the
 * PASID entry (again without its present check).
 */
function pasidFpd(r: PasidLookup): CtxFault | boolean {
  if (r.dirFpd) return true;
  if (r.fr && r.fr !== "VTD_FR_PASID_ENTRY_P") return bad(r.fr);
  return (r.pe![0]! & 2n) !== 0n;
}

/**
 * vtd_do_iommu_translate's context lookup: the context entry from the context
 * cache when cached (context_cache_gen current), else from guest memory
 * (vtd_dev_to_context_entry); in scalable mode, unless the context entry's FPD
 * is set, vtd_ce_get_pasid_fpd; the entry is cached once both succeeded.
 * Then what translates `pasid`: pass-through (vtd_dev_pt_enabled), or the
 * table the walk starts from, taken from the PASID entry as QEMU's helpers
 * take it, ignoring a lookup error they do not report (a non-present entry
 * whose type is valid translates).
 */
function contextOf(c: VtdCtx, sid: number, pasid: number, asKey: string): Ctx2 | CtxFault {
  const u = c.unit;
  let ce = u.ctxCache.get(asKey);
  const cached = ce !== undefined;
  const rec = provenance();
  const from = rec !== null ? rec.pieces.length : 0;
  if (rec !== null && cached) {
    // The cached entry: what its fill read then, not what guest memory holds now.
    const fill = rec.fills.get(rec.vtd(`ctx:${asKey}`));
    if (fill) {
      rec.pieces.push(...fill.pieces, { seq: fill.seq, role: "context-cache entry (filled by this DMA)" });
      if (rec.cur.ctxSeq === undefined) rec.cur.ctxSeq = fill.seq;
    }
  }
  if (!ce) {
    const r = readContextEntry(c, sid);
    if (isFault(r)) return r;
    ce = r;
  }
  const ctxEnd = rec !== null ? rec.pieces.length : 0;
  let fpd = (ce[0]! & 2n) !== 0n;
  // QEMU reads the PASID entry again in each helper; guest memory does not change meanwhile, so once serves all.
  const lookup = u.rootScalable ? pasidEntry(c, ce, pasid) : undefined;
  if (!fpd && lookup) {
    const f = pasidFpd(lookup);
    if (typeof f !== "boolean") return f;
    fpd = f;
  }
  if (!cached) {
    u.ctxCache.set(asKey, ce); // "Update context-cache"
    if (rec !== null) {
      rec.fill(rec.vtd(`ctx:${asKey}`), { pieces: rec.pieces.slice(from, ctxEnd) });
      if (rec.cur.ctxSeq === undefined) rec.cur.ctxSeq = rec.seq;
    }
  }
  return lookup ? decodePasidEntry(c, lookup, fpd) : decodeLegacy(c, ce, fpd);
}

/** vtd_dev_to_context_entry's reads and entry checks: the raw context entry (2 or 4 words), or the fault. */
function readContextEntry(c: VtdCtx, sid: number): bigint[] | CtxFault {
  const u = c.unit;
  const haw = hawMask(c.cfg.awBits);
  const bus = sid >> 8;
  const devfn = sid & 0xff;
  const rootRsvd = 0xffen | ~haw;
  // vtd_get_root_entry reads both halves; scalable mode takes UP for devfn >= 128 (vtd_root_entry_present).
  const reAt = u.root + BigInt(bus) * 16n;
  const reLo = c.mem.read64(reAt);
  const reHi = c.mem.read64(reAt + 8n);
  const re = u.rootScalable && devfn >= 128 ? reHi : reLo;
  const rec = provenance();
  if (rec !== null) {
    rec.piece("root-table pointer write (RTADDR)", rec.vtd(`reg:${DMAR_RTADDR}`));
    rec.piece("root-table pointer write (RTADDR)", rec.vtd(`reg:${DMAR_RTADDR + 4}`));
    rec.piece("root-table pointer latch (GCMD.SRTP)", rec.vtd("srtp"));
    readPiece(rec, c, `guest root entry (bus ${bus}) at ${hexOf(reAt)}`, reAt, 16, "ctx");
  }
  if (reLo === undefined || reHi === undefined || re === undefined) return bad("VTD_FR_ROOT_TABLE_INV");
  if (!(re & 1n)) return bad("VTD_FR_ROOT_ENTRY_P");
  // vtd_root_entry_rsvd_bits_check: legacy mode wants the high half zero; scalable mode checks both halves, whichever is used.
  const rsvd = rootRsvd & ((1n << 64n) - 1n);
  if (u.rootScalable ? (reLo | reHi) & rsvd : reLo & rsvd || reHi !== 0n) return bad("VTD_FR_ROOT_ENTRY_RSVD");
  const ctp = re & ~0xfffn & haw;
  if (rec !== null) {
    const at = u.rootScalable ? ctp + BigInt(devfn & 0x7f) * 32n : ctp + BigInt(devfn) * 16n;
    readPiece(
      rec,
      c,
      `${u.rootScalable ? "scalable-mode " : ""}context entry (devfn 0x${devfn.toString(16)}) at ${hexOf(at)}`,
      at,
      u.rootScalable ? 32 : 16,
      "ctx",
    );
  }
  if (!u.rootScalable) {
    const lo = c.mem.read64(ctp + BigInt(devfn) * 16n);
    const hi = c.mem.read64(ctp + BigInt(devfn) * 16n + 8n);
    if (lo === undefined || hi === undefined) return bad("VTD_FR_CONTEXT_TABLE_INV");
    const fpd = (lo & 2n) !== 0n;
    if (!(lo & 1n)) return bad("VTD_FR_CONTEXT_ENTRY_P", fpd);
    if (hi & 0xffffffffff000080n || lo & ((0xff0n | ~haw) & ((1n << 64n) - 1n))) return bad("VTD_FR_CONTEXT_ENTRY_RSVD", fpd);
    // The level must be in SAGAW, then vtd_ce_type_check.
    if (!levelSupported(c.cap, Number(hi & 7n) + 2)) return bad("VTD_FR_CONTEXT_ENTRY_INV", fpd);
    const tt = Number((lo >> 2n) & 3n);
    if ((tt === 1 && !(c.ecap & VTD_ECAP_DT)) || (tt === 2 && !(c.ecap & VTD_ECAP_PT)) || tt === 3) return bad("VTD_FR_CONTEXT_ENTRY_INV", fpd);
    return [lo, hi];
  }
  // Scalable-mode context entry (32 bytes).
  const at = ctp + BigInt(devfn & 0x7f) * 32n;
  const v: bigint[] = [];
  for (let i = 0n; i < 4n; i++) {
    const w = c.mem.read64(at + i * 8n);
    if (w === undefined) return bad("VTD_FR_CONTEXT_TABLE_INV");
    v.push(w);
  }
  const fpd = (v[0]! & 2n) !== 0n;
  if (!(v[0]! & 1n)) return bad("VTD_FR_CONTEXT_ENTRY_P", fpd);
  if (v[0]! & ((0x1e0n | ~haw) & ((1n << 64n) - 1n)) || v[1]! & 0xffffffffffe00000n || v[2] !== 0n || v[3] !== 0n) return bad("VTD_FR_CONTEXT_ENTRY_RSVD", fpd);
  // vtd_ce_pasid_0_check: a present context entry needs a valid PASID_0 entry, whatever PASID the request has.
  const p0 = pasidEntry(c, v, PASID_0);
  if (p0.fr) return bad(p0.fr, fpd);
  return v;
}

/** A legacy context entry (checked by readContextEntry): pass-through, or the second-stage table. */
function decodeLegacy(c: VtdCtx, ce: readonly bigint[], fpd: boolean): Ctx2 {
  const aw = c.cfg.awBits;
  const [lo, hi] = [ce[0]!, ce[1]!];
  const did = Number((hi >> 8n) & 0xffffn);
  if (Number((lo >> 2n) & 3n) === 2) return { did, pgtt: "pt", fpd };
  const agaw = 30 + 9 * Number(hi & 7n);
  return {
    did,
    pgtt: "sst",
    fpd,
    pt: {
      root: Number(lo & ~0xfffn & hawMask(aw)),
      levels: Number(hi & 7n) + 2,
      vaBits: Math.min(agaw, aw),
      oaBits: aw,
      granuleLg2: 12,
      superpages: 3,
      ssRsvd: ssReserved(c.cfg),
    },
  };
}

/**
 * A scalable-mode request through the PASID entry. With x-flts the walk is
 * first stage (pe.val[2], 4 + FSPM levels), else second stage (pe.val[0],
 * AW + 2 levels); both take their input width from the entry's AW field
 * (vtd_iova_limit: 30 + 9 * AW, at most aw-bits), the first stage as the
 * width of its canonical check. The table pointers are taken whole
 * (VTD_SM_PASID_ENTRY_SSPTPTR, vtd_pe_get_fspt_base): bits beyond the address
 * width make the first read fail.
 */
function decodePasidEntry(c: VtdCtx, r: PasidLookup, fpd: boolean): Ctx2 | CtxFault {
  const aw = c.cfg.awBits;
  // Only reachable when an FPD let the lookup through: QEMU would walk an
  // uninitialised entry (its helpers ignore the error); no translation, no record.
  if (!r.pe) return { fr: r.fr!, fpd: true, silent: true };
  const pe = r.pe;
  const did = Number(pe[1]! & 0xffffn);
  if (!r.fr && Number((pe[0]! >> 6n) & 7n) === 4) return { did, pgtt: "pt", fpd }; // vtd_dev_pt_enabled
  const awf = Number((pe[0]! >> 2n) & 7n);
  const vaBits = Math.min(30 + 9 * awf, aw);
  if (c.cfg.flts) {
    const levels = 4 + Number((pe[2]! >> 2n) & 3n);
    return {
      did,
      pgtt: "fst",
      fpd,
      // 1 GiB pages whatever fs1gp says: it only sets CAP.FS1GP; vtd_fpte_rsvd_large[3] (vtd_init) does not consult it.
      pt: { root: Number(pe[2]! & ~0xfffn), levels, vaBits, oaBits: aw, granuleLg2: 12, superpages: X86FS_SP_1G },
    };
  }
  return {
    did,
    pgtt: "sst",
    fpd,
    pt: { root: Number(pe[0]! & ~0xfffn), levels: awf + 2, vaBits, oaBits: aw, granuleLg2: 12, superpages: 3, ssRsvd: ssReserved(c.cfg) },
  };
}

/**
 * vtd_do_iommu_translate for one request, as QEMU master: a request without
 * PASID uses PASID_0 in scalable mode; the IOTLB is looked up first; then the
 * context (and PASID) entries, pass-through (no IOTLB fill) or the walk (first
 * stage when x-flts, with A/D updates), the interrupt-range check, the IOTLB
 * fill; a fault is reported (FPD permitting) and returned by name. A
 * translation answers the IOMMUTLBEntry: gpa, page size and perm (entryPerm).
 */
export function vtdTranslate(c: VtdCtx, sid: number, pasidIn: number | undefined, iova: bigint, write: boolean): VtdXlate {
  const u = c.unit;
  const pasid = pasidIn ?? (u.rootScalable ? PASID_0 : -1);
  const access = write ? ACCESS_WRITE : ACCESS_READ;
  const iovaHi = Number(iova >> 32n);
  const iovaLo = Number(iova & 0xffffffffn);
  // The device's address space is QEMU's nodmar alias (vtd_switch_address_space): no translation at all.
  if (pasidIn === undefined && u.nodmar.has(`${sid}`)) return { gpa: iova, pageLg2: 12, perm: 3 };
  const rec = provenance();
  const from = rec !== null ? rec.page().from : 0;
  // vtd_lookup_iotlb: levels 1 to 3, the only page sizes filled.
  if (u.iotlb.lookup(sid, pasid, iovaHi, iovaLo, walk)) {
    if (rec !== null) iotlbHit(rec, sid, pasid, iova, walk[R_PAGE_LG2]!);
    return { gpa: BigInt(walk[R_PA]!), pageLg2: walk[R_PAGE_LG2]!, perm: entryPerm(walk[R_PERM]!, write) };
  }
  const ctx = contextOf(c, sid, pasid < 0 ? PASID_0 : pasid, `${sid}:${pasidIn ?? -1}`);
  const fs = c.cfg.flts && u.rootScalable;
  // The walk's faults carry the request's PASID (-1: PCI_NO_PASID, legacy mode); the context lookup's none.
  const report = (fr: string, fpd: boolean, fromWalk: boolean): VtdXlate => {
    vtdReportFault(u, VTD_FR[fr]!, fpd, sid, iova, write, fromWalk ? pasid : undefined);
    return { fault: fr };
  };
  // Until the IOTLB fill replaces it, the request: a fault names the invalidations covering it (src/query/why.ts).
  if (rec !== null) {
    if (isFault(ctx)) rec.cur.info = faultedRequest(rec, sid, pasid, iova, undefined, fs);
    else if (ctx.pgtt !== "pt" && ctx.pt) rec.cur.info = faultedRequest(rec, sid, pasid, iova, ctx.did, fs);
  }
  // Context-lookup faults are recorded without a PASID (is_pasid false).
  if (isFault(ctx)) return ctx.silent ? { fault: ctx.fr } : report(ctx.fr, ctx.fpd, false);
  if (ctx.pgtt === "pt" || !ctx.pt) {
    if (ctx.pgtt === "pt") vtdSwitchAddressSpace(c, sid); // vtd_pt_enable_fast_path: the device's address space without PASID
    return { gpa: iova, pageLg2: 12, perm: 3 };
  }
  c.mem.bad = false;
  const f = fs ? walkX86FsSetAD(c.mem, ctx.pt, iovaHi, iovaLo, access, walk) : walkVtdSs(c.mem, ctx.pt, iovaHi, iovaLo, access, walk);
  // The walker reports the entries it read (R_ENTRY): their last writers are the walk's dependencies.
  if (rec !== null)
    for (let i = 0; i < walk[R_STEPS]!; i++) {
      const at = BigInt(walk[R_ENTRY + i]!);
      readPiece(rec, c, `${fs ? "first" : "second"}-stage PTE (level ${ctx.pt.levels - i}) at ${hexOf(at)}`, at, 8, "walk");
    }
  if (f !== FAULT_NONE) {
    const top = walk[R_STEPS]! <= 1 && walk[R_LEVEL] === ctx.pt.levels;
    const readErr = readError(c.mem);
    const fr = fs ? fsFault(f, readErr, top) : ssFault(f, write, readErr, top);
    return report(fr, ctx.fpd, true);
  }
  const pageLg2 = walk[R_PAGE_LG2]!;
  const out = BigInt(walk[R_PA]!);
  const base = (out >> BigInt(pageLg2)) << BigInt(pageLg2);
  const last = base + (1n << BigInt(pageLg2)) - 1n;
  if (base <= INTR_HI && last >= INTR_LO) return report(c.cfg.scalableMode ? "VTD_FR_SM_INTERRUPT_ADDR" : "VTD_FR_INTERRUPT_ADDR", ctx.fpd, true);
  const perm = walk[R_PERM]! & 3;
  updateIotlb(u, { tag: sid, pasid, iova: (iova >> BigInt(pageLg2)) << BigInt(pageLg2), pageLg2, pa: Number(base), perm, did: ctx.did, firstStage: fs });
  if (rec !== null) {
    const info = { sid, pasid, did: ctx.did, iova, pageLg2, firstStage: fs };
    rec.fill(iotlbKey(rec, sid, pasid, iova, pageLg2), { pieces: rec.pieces.slice(from), info, ctxSeq: rec.cur.ctxSeq });
    rec.cur.info = info;
  }
  return { gpa: out, pageLg2, perm: entryPerm(perm, write) };
}

// ---- provenance (src/model/provenance.ts): only while `iorr why` records ----

const hexOf = (v: bigint) => `0x${v.toString(16)}`;

/** A table entry at guest-physical `gpa` read by this translation: its last writers in host memory. */
function readPiece(rec: Provenance, c: VtdCtx, role: string, gpa: bigint, len: number, cls: Piece["cls"]): void {
  const pa = c.mem.hostPa(gpa);
  if (pa !== undefined) rec.read(role, Number(pa), len, cls);
}

const iotlbKey = (rec: Provenance, sid: number, pasid: number, iova: bigint, lg2: number) =>
  rec.vtd(`iotlb:${sid}:${pasid}:${lg2}:${(iova >> BigInt(lg2)).toString(16)}`);

/** An IOTLB hit depends on what the walk that filled the entry read then, and on that fill. */
function iotlbHit(rec: Provenance, sid: number, pasid: number, iova: bigint, lg2: number): void {
  const fill = rec.fills.get(iotlbKey(rec, sid, pasid, iova, lg2));
  if (!fill) return;
  rec.pieces.push(...fill.pieces, { seq: fill.seq, role: "IOTLB entry (the cached translation, filled by this DMA)" });
  const p = rec.cur;
  p.info = fill.info;
  p.iotlbFill = fill;
  p.ctxSeq = fill.ctxSeq;
}

/**
 * A faulting request as a cached translation, for choosing the invalidation
 * that removed the entry it would otherwise have hit: its sid, PASID, IOVA
 * (4 KiB page) and domain; when the context lookup faulted before giving the
 * domain, the domain of the last IOTLB fill of that page (-1: none).
 */
function faultedRequest(rec: Provenance, sid: number, pasid: number, iova: bigint, did: number | undefined, firstStage: boolean): CachedTranslation {
  let d = did;
  for (const lg2 of [12, 21, 30]) d ??= rec.fills.get(iotlbKey(rec, sid, pasid, iova, lg2))?.info?.did;
  return { sid, pasid, did: d ?? -1, iova, pageLg2: 12, firstStage };
}

const IOMMU_WO = 2;
/**
 * vtd_do_iommu_translate's IOMMUTLBEntry.perm, a hit or a walk alike: the access
 * flags for a write, without IOMMU_WO for a read (580b926344, QEMU 10.1; before
 * every modelled version). Pass-through answers IOMMU_RW without this.
 */
const entryPerm = (accessFlags: number, write: boolean): number => (write ? accessFlags : accessFlags & ~IOMMU_WO);

/** VTD_IOTLB_MAX_SIZE (hw/i386/intel_iommu_internal.h). */
export const VTD_IOTLB_MAX_SIZE = 1024;

/** vtd_update_iotlb: an IOTLB holding VTD_IOTLB_MAX_SIZE entries is emptied (vtd_reset_iotlb_locked) before the new one goes in. */
function updateIotlb(u: VtdUnit, e: IotlbEntry): void {
  const t = iotlbForWrite(u);
  if (t.size >= VTD_IOTLB_MAX_SIZE) t.invalidateGlobal();
  t.insert(e);
}

/**
 * vtd_as_pt_enabled: the device's context entry, read from guest memory (not the
 * context cache), is valid and pass-through: TT 2 in legacy mode; in scalable mode
 * PASID_0's entry present with PGTT pass-through (vtd_dev_pt_enabled, PCI_NO_PASID).
 */
function asPtEnabled(c: VtdCtx, sid: number): boolean {
  const ce = readContextEntry(c, sid);
  if (isFault(ce)) return false;
  if (!c.unit.rootScalable) return Number((ce[0]! >> 2n) & 3n) === 2;
  const r = pasidEntry(c, ce, PASID_0);
  return r.fr === undefined && Number((r.pe![0]! >> 6n) & 7n) === 4;
}

/**
 * vtd_dev_get_pe_from_pasid for the address space without PASID: PASID_0's entry (its
 * first three words) read from guest memory, or undefined when the root table is not
 * scalable or the context / PASID lookup fails. Its reads are not a DMA's.
 */
export function vtdDevPasidEntry(c: VtdCtx, sid: number): bigint[] | undefined {
  if (!c.unit.rootScalable) return undefined;
  const rec = provenance();
  setProvenance(null);
  try {
    const ce = readContextEntry(c, sid);
    if (isFault(ce)) return undefined;
    const r = pasidEntry(c, ce, PASID_0);
    return r.fr === undefined ? r.pe : undefined;
  } finally {
    setProvenance(rec);
  }
}

/**
 * vtd_switch_address_space for the device's address space without PASID: pass-through
 * (the nodmar alias) when DMA remapping is enabled and vtd_as_pt_enabled, else the
 * IOMMU region. Its reads are not a DMA's (provenance is not recorded for them).
 */
export function vtdSwitchAddressSpace(c: VtdCtx, sid: number): void {
  const rec = provenance();
  setProvenance(null);
  try {
    if (vtdDmarEnabled(c.unit) && asPtEnabled(c, sid)) c.unit.nodmar.set(`${sid}`, true);
    else c.unit.nodmar.delete(`${sid}`);
  } finally {
    setProvenance(rec);
  }
}

/** vtd_switch_address_space_all (TE, SRTP, global context-cache invalidation), or the devices `match` selects. */
export function vtdSwitchAddressSpaces(c: VtdCtx, match: (sid: number) => boolean = () => true): void {
  for (const sid of c.sids ?? []) if (match(sid)) vtdSwitchAddressSpace(c, sid);
}

/** GSTS.TES: DMA remapping enabled. */
export const vtdDmarEnabled = (u: VtdUnit): boolean => (raw(u, DMAR_GSTS) & GCMD_TE) !== 0;
/** GSTS.IRES: interrupt remapping on (s->intr_enabled, vtd_handle_gcmd_ire). */
export const vtdIrEnabled = (u: VtdUnit): boolean => (raw(u, DMAR_GSTS) & GCMD_IRE) !== 0;
