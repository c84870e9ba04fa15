// The intel-iommu register model and its guest-side translation, after QEMU
// hw/i386/intel_iommu.c (vtd_mem_read / vtd_mem_write and the vtd_handle_*
// handlers, the invalidation queue vtd_fetch_inv_desc / vtd_process_inv_desc,
// fault recording vtd_report_fault / vtd_record_frcd, translation
// vtd_do_iommu_translate / vtd_dev_to_context_entry).
//
// State (plain data, immutable under immer, hashable):
// - `regs`: the 0x230-byte register file as 32-bit words by offset, raw (the
//   write-only bits included), written through QEMU's wmask / w1cmask and
//   read through its womask (vtd_define_long / vtd_define_quad in vtd_init);
// - the latched values QEMU keeps beside its register file: root table
//   (latched at SRTP), root_scalable, the invalidation queue (base, size,
//   descriptor width, head, tail, enabled);
// - `iotlb`: QEMU's IOTLB hash (s->iotlb) as a Map keyed as vtd_get_iotlb_key
//   does (source id, PASID, level, gfn at that level), each entry with its
//   domain id and PGTT (which invalidations select on). The pagewalk Iotlb
//   class is mutable and keyed by domain id (the spec's tag); QEMU keys by
//   source id, so the state keeps its own map and mirrors QEMU's semantics;
// - `ctxCache`: QEMU's context cache (vtd_as->context_cache_entry, valid while
//   its context_cache_gen equals s->context_cache_gen), one entry per address
//   space (source id, PASID or PCI_NO_PASID): the raw context entry as read by
//   vtd_dev_to_context_entry, filled on an IOTLB miss whose context (and PASID)
//   lookup succeeded, used instead of the root and context tables while
//   present. Emptied by global / domain-selective context-cache invalidation
//   (CCMD or the queue's context-cache descriptor: s->context_cache_gen++),
//   dropped per device by device-selective invalidation (source id under the
//   function mask), and emptied by vtd_reset_caches (SRTP, TE changes).
//
// Guest memory (root/context/PASID tables, page tables, descriptors, the wait
// descriptor's status) is read and written through the machine's RAM layout:
// gpa -> process va -> host physical memory. A gpa outside guest RAM is a DMA
// read error (QEMU's dma_memory_read failing: MEMTX_DECODE_ERROR).
//
// PASID entries (directory and table) are read from guest memory on every
// IOTLB miss, cached context entry or not, as QEMU does for emulated devices
// (its PASID cache, vtd_as->pasid_cache_entry, is only kept for IOMMUFD-backed
// devices; the PASID-cache descriptor is a no-op for the translation here).
//
// Not modelled: device-TLBs (ATS), interrupt remapping
// (IRE/SIRTP only set their status bits), the interrupts themselves (only the
// IP bits), page requests, SS reserved bits 11 (SNP) and 62 (TM).

import type { PhysReader } from "../../../pagewalk/index.ts";
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
import { TableMem } from "../../domain/tablemem.ts";
import { vaToPa } from "../../memory/reducers.ts";
import type { MemoryState } from "../../memory/state.ts";
import type { ProcessState } from "../../process/state.ts";
import type { GuestRam } from "../../qemu/state.ts";
import { VTD_CAP_FS1GP, VTD_ECAP_DT, VTD_ECAP_FSTS, VTD_ECAP_PDS, VTD_ECAP_PT, VTD_ECAP_SMTS, VTD_ECAP_SSTS, type VtdConfig } from "./regs.ts";

// --- register offsets (intel_iommu_internal.h) ---
export const DMAR_VER = 0x00;
export const DMAR_CAP = 0x08;
export const DMAR_ECAP = 0x10;
export const DMAR_GCMD = 0x18;
export const DMAR_GSTS = 0x1c;
export const DMAR_RTADDR = 0x20;
export const DMAR_CCMD = 0x28;
export const DMAR_FSTS = 0x34;
export const DMAR_FECTL = 0x38;
export const DMAR_FEDATA = 0x3c;
export const DMAR_FEADDR = 0x40;
export const DMAR_FEUADDR = 0x44;
export const DMAR_PMEN = 0x64;
export const DMAR_IQH = 0x80;
export const DMAR_IQT = 0x88;
export const DMAR_IQA = 0x90;
export const DMAR_ICS = 0x9c;
export const DMAR_IECTL = 0xa0;
export const DMAR_IEDATA = 0xa4;
export const DMAR_IEADDR = 0xa8;
export const DMAR_IRTA = 0xb8;
export const DMAR_IVA = 0xf0; // DMAR_IOTLB_REG_OFFSET (ECAP.IRO)
export const DMAR_IOTLB = 0xf8;
export const DMAR_FRCD = 0x220;
export const DMAR_REG_SIZE = 0x230;

// GCMD / GSTS bits
export const GCMD_TE = 1 << 31;
export const GCMD_SRTP = 1 << 30;
export const GCMD_QIE = 1 << 26;
export const GCMD_IRE = 1 << 25;
export const GCMD_SIRTP = 1 << 24;
// FSTS / FECTL / ICS / IECTL
export const FSTS_PFO = 1 << 0;
export const FSTS_PPF = 1 << 1;
export const FSTS_IQE = 1 << 4;
const FSTS_FRI_MASK = 0xff00;
const CTL_IM = 1 << 31;
const CTL_IP = 1 << 30;
const ICS_IWC = 1;

const INTR_LO = 0xfee00000n;
const INTR_HI = 0xfeefffffn;

/** (wmask, w1cmask, womask) of one 32-bit register word; an undefined word is 0/0/0 (read 0, writes ignored). */
type Masks = readonly [number, number, number];
const M = (w: number, w1c = 0, wo = 0): Masks => [w >>> 0, w1c >>> 0, wo >>> 0];
const MASKS: ReadonlyMap<number, Masks> = new Map<number, Masks>([
  [DMAR_GCMD, M(0xff800000, 0, 0xff800000)],
  [DMAR_RTADDR, M(0xfffffc00)],
  [DMAR_RTADDR + 4, M(0xffffffff)],
  [DMAR_CCMD, M(0xffffffff, 0, 0xffff0000)],
  [DMAR_CCMD + 4, M(0xe0000003, 0, 0x3)],
  [DMAR_FSTS, M(0, 0x11)],
  [DMAR_FECTL, M(0x80000000)],
  [DMAR_FEDATA, M(0xffff)],
  [DMAR_FEADDR, M(0xfffffffc)],
  [DMAR_IQT, M(0x7fff0)],
  [DMAR_IQA, M(0xfffff807)],
  [DMAR_IQA + 4, M(0xffffffff)],
  [DMAR_ICS, M(0, 0x1)],
  [DMAR_IECTL, M(0x80000000)],
  [DMAR_IEDATA, M(0xffffffff)],
  [DMAR_IEADDR, M(0xfffffffc)],
  [DMAR_IRTA, M(0xfffff80f)],
  [DMAR_IRTA + 4, M(0xffffffff)],
  [DMAR_IVA, M(0xfffff07f, 0, 0xfffff07f)],
  [DMAR_IVA + 4, M(0xffffffff, 0, 0xffffffff)],
  [DMAR_IOTLB + 4, M(0xb003ffff)],
  [DMAR_FRCD + 12, M(0, 0x80000000)],
]);

export type Pgtt = "fst" | "sst" | "pt";

export interface VtdIotlbEntry {
  did: number;
  pgtt: Pgtt;
  /** The output guest-physical address of the page base. */
  gpa: bigint;
  pageLg2: number;
  /** PERM_R | PERM_W as the walk ANDed them (QEMU access_flags). */
  perm: number;
}

export interface VtdUnit {
  /** Raw 32-bit register words by offset (a word never written and without a reset value is absent: 0). */
  regs: Map<number, number>;
  /** s->root, latched by SRTP. */
  root: bigint;
  rootScalable: boolean;
  qiEnabled: boolean;
  iqBase: bigint;
  iqSize: number;
  /** 256-bit descriptors (IQA.DW, honoured only with ECAP.SMTS). */
  iqDw: boolean;
  iqHead: number;
  iqTail: number;
  nextFrcd: number;
  /** key `${sid}:${pasid}:${level}:${gfn hex}`; pasid -1 is PCI_NO_PASID. */
  iotlb: Map<string, VtdIotlbEntry>;
  /**
   * The context cache: key `${sid}:${pasid}` (the address space; pasid -1 is
   * PCI_NO_PASID), value the raw context entry's 64-bit words (2 legacy, 4
   * scalable). Absent when not cached (context_cache_gen stale).
   */
  ctxCache: Map<string, bigint[]>;
}

export function newVtdUnit(cap: bigint, ecap: bigint): VtdUnit {
  const regs = new Map<number, number>();
  const quad = (off: number, v: bigint) => {
    regs.set(off, Number(v & 0xffffffffn));
    regs.set(off + 4, Number(v >> 32n));
  };
  regs.set(DMAR_VER, 0x10);
  quad(DMAR_CAP, cap);
  quad(DMAR_ECAP, ecap);
  regs.set(DMAR_FECTL, CTL_IM >>> 0);
  regs.set(DMAR_IECTL, CTL_IM >>> 0);
  return { regs, root: 0n, rootScalable: false, qiEnabled: false, iqBase: 0n, iqSize: 0, iqDw: false, iqHead: 0, iqTail: 0, nextFrcd: 0, iotlb: new Map(), ctxCache: new Map() };
}

/** What the unit needs beyond its own state: its config and registers, and guest memory. */
export interface VtdCtx {
  unit: VtdUnit;
  cfg: VtdConfig;
  cap: bigint;
  ecap: bigint;
  mem: GuestMem;
}

const raw = (u: VtdUnit, off: number): number => u.regs.get(off) ?? 0;
const setRaw = (u: VtdUnit, off: number, v: number): void => {
  v >>>= 0;
  if (v === 0) u.regs.delete(off);
  else u.regs.set(off, v);
};
const rawQuad = (u: VtdUnit, off: number): bigint => (BigInt(raw(u, off + 4)) << 32n) | BigInt(raw(u, off));
const setQuadRaw = (u: VtdUnit, off: number, v: bigint): void => {
  setRaw(u, off, Number(v & 0xffffffffn));
  setRaw(u, off + 4, Number((v >> 32n) & 0xffffffffn));
};
const setClear = (u: VtdUnit, off: number, clear: number, set: number): void => setRaw(u, off, (raw(u, off) & ~clear) | set);
/** vtd_set_long: through wmask and w1cmask. */
function setLong(u: VtdUnit, off: number, val: number): void {
  const [w, w1c] = MASKS.get(off) ?? [0, 0, 0];
  setRaw(u, off, ((raw(u, off) & ~w) | (val & w)) & ~(w1c & val));
}

const hawMask = (aw: number): bigint => (1n << BigInt(aw)) - 1n;

// --- guest memory -----------------------------------------------------------

/** Guest-physical memory through the machine's RAM layout; reads outside RAM set `bad` and read zero. */
export class GuestMem implements PhysReader {
  readonly tm: TableMem;
  bad = false;
  constructor(
    mem: MemoryState,
    private readonly proc: ProcessState | undefined,
    private readonly ram: readonly GuestRam[],
  ) {
    this.tm = new TableMem(mem);
  }
  /** The host physical address of a gpa, or undefined outside guest RAM (or where the process has nothing mapped). */
  hostPa(gpa: bigint): bigint | undefined {
    for (const r of this.ram)
      if (gpa >= r.gpa && gpa < r.gpa + r.size) return this.proc ? vaToPa(this.proc, r.va + (gpa - r.gpa)) : undefined;
    return undefined;
  }
  read32(gpa: number): number {
    const pa = this.hostPa(BigInt(gpa));
    if (pa === undefined) {
      this.bad = true;
      return 0;
    }
    return this.tm.read32(Number(pa));
  }
  write32(gpa: number, v: number): void {
    const pa = this.hostPa(BigInt(gpa));
    if (pa === undefined) {
      this.bad = true;
      return;
    }
    this.tm.write32(Number(pa), v);
  }
  /** A 64-bit read; undefined on a read error. */
  read64(gpa: bigint): bigint | undefined {
    const lo = this.hostPa(gpa);
    const hi = this.hostPa(gpa + 4n);
    if (lo === undefined || hi === undefined) return undefined;
    return (BigInt(this.tm.read32(Number(hi))) << 32n) | BigInt(this.tm.read32(Number(lo)));
  }
}

// --- MMIO ---------------------------------------------------------------------

/** vtd_mem_read: a long or a quad through the write-only masks; beyond DMAR_REG_SIZE, all ones. */
export function vtdMmioRead(u: VtdUnit, off: number, size: number): bigint {
  if (off + size > DMAR_REG_SIZE) return size === 8 ? (1n << 64n) - 1n : 0xffffffffn;
  const long = (o: number) => BigInt((raw(u, o) & ~(MASKS.get(o)?.[2] ?? 0)) >>> 0);
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
  switch (off) {
    case DMAR_GCMD:
      return handleGcmd(c);
    case DMAR_CCMD:
      if (size === 8) handleCcmd(c);
      return;
    case DMAR_CCMD + 4:
      return handleCcmd(c);
    case DMAR_FSTS:
      return handleFsts(u);
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
      return handleIotlb(c);
    case DMAR_IQT:
      return handleIqt(c);
    case DMAR_IQA:
    case DMAR_IQA + 4:
      // vtd_update_iq_dw
      u.iqDw = (c.ecap & VTD_ECAP_SMTS) !== 0n && (raw(u, DMAR_IQA) & (1 << 11)) !== 0;
      return;
    case DMAR_FRCD + 8:
    case DMAR_FRCD + 12:
      return updatePpf(u);
  }
}

/** vtd_reset_caches: vtd_reset_context_cache_locked + vtd_reset_iotlb_locked (+ the PASID cache of IOMMUFD devices). */
function resetCaches(u: VtdUnit): void {
  u.iotlb.clear();
  u.ctxCache.clear();
}

/** vtd_context_global_invalidate: s->context_cache_gen++ makes every cached context entry stale. */
function contextGlobal(u: VtdUnit): void {
  u.ctxCache.clear();
}

/** vtd_context_device_invalidate: every address space (any PASID) on the bus whose devfn matches under the function mask. */
function contextDevice(u: VtdUnit, sid: number, fm: number): void {
  const mask = ~[0, 4, 6, 7][fm & 3]! & 0xff;
  for (const k of u.ctxCache.keys()) {
    const esid = Number(k.split(":")[0]);
    if (esid >> 8 === sid >> 8 && (esid & mask) === (sid & 0xff & mask)) u.ctxCache.delete(k);
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
    resetCaches(u);
  }
  if (val & GCMD_SRTP) {
    // vtd_handle_gcmd_srtp -> vtd_root_table_setup
    const rt = rawQuad(u, DMAR_RTADDR);
    u.root = rt & ~0xfffn & hawMask(c.cfg.awBits);
    u.rootScalable = c.cfg.scalableMode && (rt & (1n << 10n)) !== 0n;
    resetCaches(u);
    setClear(u, DMAR_GSTS, 0, GCMD_SRTP);
  }
  if (changed & GCMD_QIE) {
    if (val & GCMD_QIE) {
      const iqa = rawQuad(u, DMAR_IQA);
      u.iqBase = iqa & ~0xfffn & hawMask(c.cfg.awBits);
      u.iqSize = 1 << (Number(iqa & 7n) + 8 - (u.iqDw ? 1 : 0));
      u.qiEnabled = true;
      setClear(u, DMAR_GSTS, 0, GCMD_QIE);
    } else if (u.iqHead === u.iqTail) {
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
    caig = 1n;
  } else if (cirg === 3n) {
    contextDevice(u, Number((val >> 16n) & 0xffffn), Number((val >> 32n) & 3n));
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

/** vtd_handle_fsts_write: clearing the last status bit clears FECTL.IP. */
function handleFsts(u: VtdUnit): void {
  if (raw(u, DMAR_FECTL) & CTL_IP && !(raw(u, DMAR_FSTS) & (FSTS_PFO | FSTS_PPF | FSTS_IQE))) setClear(u, DMAR_FECTL, CTL_IP, 0);
}

/** vtd_update_fsts_ppf: PPF = some fault recording register has F set. */
function updatePpf(u: VtdUnit): void {
  const f = (raw(u, DMAR_FRCD + 12) & 0x80000000) !== 0;
  setClear(u, DMAR_FSTS, FSTS_PPF, f ? FSTS_PPF : 0);
  handleFsts(u);
}

// --- IOTLB (vtd_hash_remove_by_*) ------------------------------------------------

const iotlbKey = (sid: number, pasid: number, level: number, gfn: bigint) => `${sid}:${pasid}:${level}:${gfn.toString(16)}`;

function removeWhere(u: VtdUnit, f: (e: VtdIotlbEntry, gfn: bigint, mask: bigint, pasid: number) => boolean): void {
  for (const [k, e] of u.iotlb) {
    const parts = k.split(":");
    const gfn = BigInt("0x" + parts[3]!);
    const mask = ~((1n << BigInt(e.pageLg2 - 12)) - 1n); // entry->mask, in gfn units
    if (f(e, gfn, mask, Number(parts[1]))) u.iotlb.delete(k);
  }
}
function iotlbGlobal(u: VtdUnit): void {
  u.iotlb.clear();
}
function iotlbDomain(u: VtdUnit, did: number): void {
  removeWhere(u, (e) => e.did === did);
}
/** vtd_hash_remove_by_page: a first-stage entry of the domain goes whatever its address. */
function iotlbPage(u: VtdUnit, did: number, addr: bigint, am: number): void {
  const imask = ~((1n << BigInt(am)) - 1n);
  const gfn = (addr >> 12n) & imask;
  removeWhere(u, (e, egfn, emask) => e.did === did && (e.pgtt === "fst" || (egfn & imask) === gfn || egfn === ((addr >> 12n) & emask)));
}
/** vtd_hash_remove_by_pasid / vtd_hash_remove_by_page_piotlb: first-stage entries of (did, pasid) only. */
function piotlb(u: VtdUnit, did: number, pasid: number, page?: { addr: bigint; am: number }): void {
  removeWhere(u, (e, egfn, emask, epasid) => {
    if (e.pgtt !== "fst" || e.did !== did || epasid !== pasid) return false;
    if (!page) return true;
    const imask = ~((1n << BigInt(page.am)) - 1n);
    return (egfn & imask) === ((page.addr >> 12n) & imask) || egfn === ((page.addr >> 12n) & emask);
  });
}

// --- invalidation queue ---------------------------------------------------------

/** vtd_handle_inv_queue_error + vtd_generate_fault_event. */
function iqError(u: VtdUnit): void {
  const pre = raw(u, DMAR_FSTS);
  setClear(u, DMAR_FSTS, 0, FSTS_IQE);
  faultEvent(u, pre);
}

/** vtd_generate_fault_event: only when nothing was pending; IM set leaves IP set. */
function faultEvent(u: VtdUnit, preFsts: number): void {
  if (preFsts & (FSTS_PPF | FSTS_PFO | FSTS_IQE)) return;
  if (raw(u, DMAR_FECTL) & CTL_IM) setClear(u, DMAR_FECTL, 0, CTL_IP);
  // else the MSI is sent (not modelled) and IP stays clear
}

/** vtd_handle_iqt_write + vtd_fetch_inv_desc. */
function handleIqt(c: VtdCtx): void {
  const u = c.unit;
  const val = rawQuad(u, DMAR_IQT);
  if (u.iqDw && val & 0x10n) return iqError(u); // "RSV bit is set"
  const qt = Number((val >> 4n) & 0x7fffn);
  u.iqTail = u.iqDw ? qt >> 1 : qt;
  if (!u.qiEnabled || raw(u, DMAR_FSTS) & FSTS_IQE) return;
  if (u.iqTail >= u.iqSize) return iqError(u); // "detected invalid QI tail"
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
    if (w === undefined) return false; // "read INV DESC failed"
    v.push(w);
  }
  const [lo, hi] = [v[0]!, v[1]!];
  const type = Number(((lo >> 5n) & 0x70n) | (lo & 0xfn));
  if (u.iqDw && (v[2] !== 0n || v[3] !== 0n)) return false;
  const rsvd = (mlo: bigint, mhi: bigint) => (lo & mlo) !== 0n || (hi & mhi) !== 0n;
  const g = Number((lo >> 4n) & 3n);
  const did = Number((lo >> 16n) & 0xffffn);
  const pasid = Number((lo >> 32n) & 0xfffffn);
  switch (type) {
    case 0x1: // vtd_process_context_cache_desc
      if (rsvd(0xfffc00000000f1c0n, (1n << 64n) - 1n)) return false;
      if (g === 1 || g === 2) contextGlobal(u);
      else if (g === 3) contextDevice(u, Number((lo >> 32n) & 0xffffn), Number((lo >> 48n) & 3n));
      else return false;
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
    case 0x7: // PASID cache: not modelled (entries are read on each miss)
      return u.iqDw && !rsvd(0xfff000000000f1c0n, (1n << 64n) - 1n) && g !== 2;
    case 0x8:
      return u.iqDw && !rsvd(0xfff000000000f000n, 0x7fen);
    case 0x9:
      return u.iqDw && !rsvd(0xfff00000000001e0n, 0xfffffffffffff003n);
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
  if (SW) {
    const addr = Number(hi);
    c.mem.bad = false;
    if (c.mem.hostPa(hi) === undefined) return false; // "wait write fail"
    c.mem.write32(addr, Number(lo >> 32n));
  }
  if (IF) {
    // vtd_generate_completion_event
    if (!(raw(u, DMAR_ICS) & ICS_IWC)) {
      setClear(u, DMAR_ICS, 0, ICS_IWC);
      if (raw(u, DMAR_IECTL) & CTL_IM) setClear(u, DMAR_IECTL, 0, CTL_IP);
    }
  }
  return SW || IF || FN;
}

// --- fault recording ---------------------------------------------------------------

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
/** vtd_qualified_faults[]: suppressed when FPD is set. */
const UNQUALIFIED = new Set([0x1, 0x8, 0x9, 0xa, 0xb, 0x50, 0x58]);

/** vtd_report_fault -> vtd_report_frcd_fault: record in FRCD0 unless FPD, PFO, compression or a full register says otherwise. */
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
  if (pasid !== undefined) hi |= (BigInt(pasid & 0xffff) << 40n) | (1n << 31n);
  if (!write) hi |= 1n << 62n;
  setQuadRaw(u, DMAR_FRCD, addr & ~0xfffn);
  setQuadRaw(u, DMAR_FRCD + 8, hi);
  if (fsts & FSTS_PPF) updatePpf(u); // "There are pending faults already, fault event is not generated"
  else {
    setClear(u, DMAR_FSTS, FSTS_FRI_MASK, u.nextFrcd << 8);
    updatePpf(u);
    faultEvent(u, fsts);
  }
  u.nextFrcd = 0; // DMAR_FRCD_REG_NR = 1
}

// --- translation ----------------------------------------------------------------

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
