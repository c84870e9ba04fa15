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
// Not modelled: SS reserved bits 11 (SNP) and 62 (TM).

import {
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_ADDRESS,
  FAULT_NON_CANONICAL,
  FAULT_NONE,
  FAULT_NOT_PRESENT,
  FAULT_PERMISSION,
  FAULT_PRIVILEGE,
  newWalkResult,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  walkVtdSs,
  walkX86FsSetAD,
  X86FS_SP_1G,
  type PageTable,
} from "../../../pagewalk/index.ts";
import { iotlbKey } from "./caches.ts";
import { vtdReportFault, VTD_FR } from "./faults.ts";
import type { GuestMem } from "./guest_mem.ts";
import { DMAR_GSTS, GCMD_TE, hawMask } from "./registers.ts";
import { VTD_CAP_FS1GP, VTD_ECAP_DT, VTD_ECAP_FSTS, VTD_ECAP_PT, VTD_ECAP_SSTS } from "./regs.ts";
import { raw, type Pgtt, type VtdCtx, type VtdUnit } from "./state.ts";

const INTR_LO = 0xfee00000n;
const INTR_HI = 0xfeefffffn;

export type VtdXlate = { gpa: bigint; pageLg2: number; perm: number } | { fault: string };

const walk = newWalkResult();
const levelSupported = (cap: bigint, level: number) => level >= 2 && (cap & (1n << BigInt(level - 2 + 8))) !== 0n;

function ssFault(f: number, write: boolean, mem: GuestMem, top: boolean): string {
  if (mem.bad) return top ? "VTD_FR_CONTEXT_ENTRY_INV" : "VTD_FR_PAGING_ENTRY_INV";
  if (f === FAULT_NOT_PRESENT || f === FAULT_PERMISSION) return write ? "VTD_FR_WRITE" : "VTD_FR_READ";
  if (f === FAULT_ADDRESS) return "VTD_FR_ADDR_BEYOND_MGAW";
  return "VTD_FR_PAGING_ENTRY_RSVD";
}
function fsFault(f: number, mem: GuestMem, top: boolean): string {
  if (mem.bad) return top ? "VTD_FR_PASID_ENTRY_FSPTPTR_INV" : "VTD_FR_FS_PAGING_ENTRY_INV";
  switch (f) {
    case FAULT_NOT_PRESENT:
      return "VTD_FR_FS_PAGING_ENTRY_P";
    case FAULT_PRIVILEGE:
      return "VTD_FR_FS_PAGING_ENTRY_US";
    case FAULT_PERMISSION:
      return "VTD_FR_SM_WRITE";
    case FAULT_NON_CANONICAL:
      return "VTD_FR_FS_NON_CANONICAL";
    default:
      return "VTD_FR_FS_PAGING_ENTRY_RSVD";
  }
}

interface Ctx2 {
  did: number;
  pgtt: Pgtt;
  pt?: PageTable;
  /** is_fpd_set: the context entry's FPD (scalable: or the PASID directory / table entry's). */
  fpd: boolean;
}
type CtxFault = { fr: string; fpd: boolean };
const bad = (fr: string, fpd = false): CtxFault => ({ fr, fpd });

/**
 * vtd_do_iommu_translate's context lookup: the context entry from the context
 * cache when cached (context_cache_gen current), else from guest memory
 * (vtd_dev_to_context_entry), cached once the lookup succeeded; then (scalable)
 * the PASID entry, always read from guest memory. What translates (sid,
 * pasid), or the fault with the FPD that qualifies it.
 */
function contextOf(c: VtdCtx, sid: number, pasid: number, asKey: string): Ctx2 | CtxFault {
  const u = c.unit;
  let ce = u.ctxCache.get(asKey);
  let fill = false;
  if (!ce) {
    const r = readContextEntry(c, sid);
    if (!Array.isArray(r)) return r;
    ce = r;
    fill = true;
  }
  const d = decodeContextEntry(c, ce, pasid);
  if (fill && !("fr" in d)) u.ctxCache.set(asKey, ce); // "Update context-cache"
  return d;
}

/** vtd_dev_to_context_entry's reads and entry checks: the raw context entry (2 or 4 words), or the fault. */
function readContextEntry(c: VtdCtx, sid: number): bigint[] | CtxFault {
  const u = c.unit;
  const haw = hawMask(c.cfg.awBits);
  const bus = sid >> 8;
  const devfn = sid & 0xff;
  const rootRsvd = 0xffen | ~haw;
  const reAt = u.root + BigInt(bus) * 16n + (u.rootScalable && devfn >= 128 ? 8n : 0n);
  const re = c.mem.read64(reAt);
  const reHi = u.rootScalable ? 0n : c.mem.read64(reAt + 8n);
  if (re === undefined || reHi === undefined) return bad("VTD_FR_ROOT_TABLE_INV");
  if (!(re & 1n)) return bad("VTD_FR_ROOT_ENTRY_P");
  if (re & (rootRsvd & ((1n << 64n) - 1n)) || reHi !== 0n) return bad("VTD_FR_ROOT_ENTRY_RSVD");
  const ctp = re & ~0xfffn & haw;
  if (!u.rootScalable) {
    const lo = c.mem.read64(ctp + BigInt(devfn) * 16n);
    const hi = c.mem.read64(ctp + BigInt(devfn) * 16n + 8n);
    if (lo === undefined || hi === undefined) return bad("VTD_FR_CONTEXT_TABLE_INV");
    const fpd = (lo & 2n) !== 0n;
    if (!(lo & 1n)) return bad("VTD_FR_CONTEXT_ENTRY_P", fpd);
    if (hi & 0xffffffffff000080n || lo & ((0xff0n | ~haw) & ((1n << 64n) - 1n))) return bad("VTD_FR_CONTEXT_ENTRY_RSVD", fpd);
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
  return v;
}

/** What a (valid) raw context entry translates to for `pasid`: legacy type / level checks, or (scalable) the PASID directory and table. */
function decodeContextEntry(c: VtdCtx, ce: readonly bigint[], pasid: number): Ctx2 | CtxFault {
  const aw = c.cfg.awBits;
  const haw = hawMask(aw);
  if (ce.length === 2) {
    const [lo, hi] = [ce[0]!, ce[1]!];
    const fpd = (lo & 2n) !== 0n;
    const levels = Number(hi & 7n) + 2;
    if (!levelSupported(c.cap, levels)) return bad("VTD_FR_CONTEXT_ENTRY_INV", fpd);
    const tt = Number((lo >> 2n) & 3n);
    const did = Number((hi >> 8n) & 0xffffn);
    if (tt === 2) return c.ecap & VTD_ECAP_PT ? { did, pgtt: "pt", fpd } : bad("VTD_FR_CONTEXT_ENTRY_INV", fpd);
    if (tt === 1 && !(c.ecap & VTD_ECAP_DT)) return bad("VTD_FR_CONTEXT_ENTRY_INV", fpd);
    if (tt === 3) return bad("VTD_FR_CONTEXT_ENTRY_INV", fpd);
    const agaw = 30 + 9 * Number(hi & 7n);
    return { did, pgtt: "sst", fpd, pt: { root: Number(lo & ~0xfffn & haw), levels, vaBits: Math.min(agaw, aw), oaBits: aw, granuleLg2: 12, superpages: 3 } };
  }
  // The PASID directory and table, from the (possibly cached) scalable-mode context entry.
  const v = ce;
  let fpd = (v[0]! & 2n) !== 0n;
  const dire = c.mem.read64((v[0]! & ~0xfffn & haw) + BigInt(pasid >> 6) * 8n);
  if (dire === undefined) return bad("VTD_FR_PASID_DIR_ACCESS_ERR", fpd);
  fpd ||= (dire & 2n) !== 0n;
  if (!(dire & 1n)) return bad("VTD_FR_PASID_DIR_ENTRY_P", fpd);
  const peAt = (dire & ~0xfffn & haw) + BigInt(pasid & 0x3f) * 64n;
  const pe: bigint[] = [];
  for (let i = 0n; i < 3n; i++) {
    const w = c.mem.read64(peAt + i * 8n);
    if (w === undefined) return bad("VTD_FR_PASID_TABLE_ACCESS_ERR", fpd);
    pe.push(w);
  }
  fpd ||= (pe[0]! & 2n) !== 0n;
  if (!(pe[0]! & 1n)) return bad("VTD_FR_PASID_ENTRY_P", fpd);
  const pgtt = Number((pe[0]! >> 6n) & 7n);
  const did = Number(pe[1]! & 0xffffn);
  const inv = bad("VTD_FR_PASID_TABLE_ENTRY_INV", fpd);
  if (pgtt === 1) {
    if (!(c.ecap & VTD_ECAP_FSTS) || ((pe[2]! >> 2n) & 3n) !== 0n) return inv; // FS level must be 4
    return { did, pgtt: "fst", fpd, pt: { root: Number(pe[2]! & ~0xfffn & haw), levels: 4, vaBits: Math.min(48, aw), oaBits: aw, granuleLg2: 12, superpages: c.cap & VTD_CAP_FS1GP ? X86FS_SP_1G : 0 } };
  }
  if (pgtt === 2) {
    const awf = Number((pe[0]! >> 2n) & 7n);
    if (!(c.ecap & VTD_ECAP_SSTS) || !levelSupported(c.cap, awf + 2)) return inv;
    return { did, pgtt: "sst", fpd, pt: { root: Number(pe[0]! & ~0xfffn & haw), levels: awf + 2, vaBits: Math.min(30 + 9 * awf, aw), oaBits: aw, granuleLg2: 12, superpages: 3 } };
  }
  if (pgtt === 4 && c.ecap & VTD_ECAP_PT) return { did, pgtt: "pt", fpd };
  return inv; // NESTED and unknown types
}

/**
 * vtd_do_iommu_translate for one request: IOTLB lookup (skipped for a
 * request without PASID in scalable mode, as QEMU's rid2pasid path), the
 * context / PASID entry, pass-through or the walk (first stage when x-flts,
 * with A/D updates), the interrupt-range check, the IOTLB fill; a fault is
 * reported (FPD permitting) and returned by name.
 */
export function vtdTranslate(c: VtdCtx, sid: number, pasidIn: number | undefined, iova: bigint, write: boolean): VtdXlate {
  const u = c.unit;
  const rid2pasid = pasidIn === undefined && u.rootScalable;
  const pasid = pasidIn ?? (u.rootScalable ? 0 : -1);
  const access = write ? ACCESS_WRITE : ACCESS_READ;
  if (!rid2pasid) {
    for (let level = 1; level <= 3; level++) {
      const lg2 = 12 + 9 * (level - 1);
      const e = u.iotlb.get(iotlbKey(sid, pasid, level, (iova >> BigInt(lg2)) << BigInt(lg2 - 12)));
      if (e) return { gpa: e.gpa | (iova & ((1n << BigInt(lg2)) - 1n)), pageLg2: e.pageLg2, perm: e.perm };
    }
  }
  const ctx = contextOf(c, sid, pasid < 0 ? 0 : pasid, `${sid}:${pasidIn ?? -1}`);
  const report = (fr: string, fpd: boolean): VtdXlate => {
    vtdReportFault(u, VTD_FR[fr]!, fpd, sid, iova, write, pasidIn);
    return { fault: fr };
  };
  if ("fr" in ctx) return report(ctx.fr, ctx.fpd);
  if (ctx.pgtt === "pt" || !ctx.pt) return { gpa: iova, pageLg2: 12, perm: 3 };
  const fs = c.cfg.flts && u.rootScalable;
  c.mem.bad = false;
  const f = fs ? walkX86FsSetAD(c.mem, ctx.pt, Number(iova >> 32n), Number(iova & 0xffffffffn), access, walk) : walkVtdSs(c.mem, ctx.pt, Number(iova >> 32n), Number(iova & 0xffffffffn), access, walk);
  if (f !== FAULT_NONE) {
    const top = walk[R_STEPS]! <= 1 && walk[R_LEVEL] === ctx.pt.levels;
    const fr = fs ? fsFault(f, c.mem, top) : ssFault(f, write, c.mem, top);
    return report(fr, ctx.fpd);
  }
  const pageLg2 = walk[R_PAGE_LG2]!;
  const out = BigInt(walk[R_PA]!);
  const base = (out >> BigInt(pageLg2)) << BigInt(pageLg2);
  const last = base + (1n << BigInt(pageLg2)) - 1n;
  if (base <= INTR_HI && last >= INTR_LO) return report(c.cfg.scalableMode ? "VTD_FR_SM_INTERRUPT_ADDR" : "VTD_FR_INTERRUPT_ADDR", ctx.fpd);
  const perm = walk[R_PERM]! & 3;
  const level = (pageLg2 - 12) / 9 + 1;
  u.iotlb.set(iotlbKey(sid, pasid, level, (iova >> BigInt(pageLg2)) << BigInt(pageLg2 - 12)), { did: ctx.did, pgtt: ctx.pgtt, gpa: base, pageLg2, perm });
  return { gpa: out, pageLg2, perm };
}

/** GSTS.TES: DMA remapping enabled. */
export const vtdDmarEnabled = (u: VtdUnit): boolean => (raw(u, DMAR_GSTS) & GCMD_TE) !== 0;
