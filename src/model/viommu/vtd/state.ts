// The intel-iommu unit's state, the part of QEMU's IntelIOMMUState
// (hw/i386/intel_iommu.c) that the model keeps: its reset (vtd_init) and the
// raw register accessors (vtd_get_long_raw / vtd_set_long / vtd_set_clear_mask_long
// and their quad forms).
//
// State (plain data, immutable under immer, hashable):
// - `regs`: the 0x230-byte register file as 32-bit words by offset, raw (the
//   write-only bits included), written through QEMU's wmask / w1cmask and
//   read through its womask (vtd_define_long / vtd_define_quad in vtd_init;
//   registers.ts);
// - the latched values QEMU keeps beside its register file: root table
//   (latched at SRTP), root_scalable, the invalidation queue (base, size,
//   descriptor width, head, tail, enabled);
// - `iotlb`: QEMU's IOTLB hash (s->iotlb) as the page-walk core's Iotlb
//   (src/pagewalk/iotlb.ts), keyed as vtd_get_iotlb_key by source id, PASID,
//   level (page size) and gfn (page base), each entry with its domain id and
//   whether it is first stage (entry->pgtt), which invalidations select on. An
//   Iotlb is a class instance, not drafted by immer: it is copy-on-write
//   (iotlbForWrite) and stands for its entries as plain data in hashes,
//   checkpoints and JSON (toStateData);
// - `ctxCache`: QEMU's context cache (vtd_as->context_cache_entry, valid while
//   its context_cache_gen equals s->context_cache_gen), one entry per address
//   space (source id, PASID or PCI_NO_PASID): the raw context entry as read by
//   vtd_dev_to_context_entry, filled on an IOTLB miss whose context (and PASID)
//   lookup succeeded, used instead of the root and context tables while
//   present (caches.ts for its invalidation);
// - `nodmar`: the devices switched to pass-through (vtd_switch_address_space).

import { isDraft, original } from "immer";
import { Iotlb } from "../../../pagewalk/index.ts";
import type { GuestMem } from "./guest_mem.ts";
import { CTL_IM, DMAR_CAP, DMAR_ECAP, DMAR_FECTL, DMAR_IECTL, DMAR_VER, MASKS } from "./registers.ts";
import type { VtdConfig } from "./regs.ts";

export type Pgtt = "fst" | "sst" | "pt";

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
  /** s->iq_last_desc_type: the type of the last descriptor fetched (0, VTD_INV_DESC_NONE, when a fetch failed). */
  iqLastDescType: number;
  nextFrcd: number;
  /** Tagged by source id; PASID -1 is PCI_NO_PASID. Written only through iotlbForWrite. */
  iotlb: Iotlb;
  /**
   * The context cache: key `${sid}:${pasid}` (the address space; pasid -1 is
   * PCI_NO_PASID), value the raw context entry's 64-bit words (2 legacy, 4
   * scalable). Absent when not cached (context_cache_gen stale).
   */
  ctxCache: Map<string, bigint[]>;
  /**
   * The devices whose address space without PASID QEMU has switched to pass-through
   * (vtd_switch_address_space: its nodmar alias enabled, the IOMMU region off), by
   * source id as text: their DMA is not translated until the next switch.
   */
  nodmar: Map<string, true>;
  /**
   * The PASID cache of the address spaces without PASID (vtd_as->pasid_cache_entry): PASID_0's
   * entry words by source id as text, filled and compared by vtd_pasid_cache_sync_locked.
   */
  pcCache: Map<string, bigint[]>;
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
  return {
    regs,
    root: 0n,
    rootScalable: false,
    qiEnabled: false,
    iqBase: 0n,
    iqSize: 0,
    iqDw: false,
    iqHead: 0,
    iqTail: 0,
    iqLastDescType: 0,
    nextFrcd: 0,
    iotlb: new Iotlb(),
    ctxCache: new Map(),
    nodmar: new Map(),
    pcCache: new Map(),
  };
}

/**
 * The unit's IOTLB, ready to be written. In the fold the working copy has
 * cloned it already (src/model/working.ts). Under an immer produce (a state
 * derived outside the fold) the unit is a draft whose IOTLB is still shared
 * with the state before (immer does not draft a class instance), so the
 * first write clones it. A unit that is not a draft is its own.
 */
export function iotlbForWrite(u: VtdUnit): Iotlb {
  if (isDraft(u) && original(u)!.iotlb === u.iotlb) u.iotlb = u.iotlb.clone();
  return u.iotlb;
}

/** What the unit needs beyond its own state: its config and registers, and guest memory. */
export interface VtdCtx {
  unit: VtdUnit;
  cfg: VtdConfig;
  cap: bigint;
  ecap: bigint;
  mem: GuestMem;
  /** The source ids of the machine's devices (their address spaces without PASID), for vtd_switch_address_space_all. */
  sids?: readonly number[];
}

export const raw = (u: VtdUnit, off: number): number => u.regs.get(off) ?? 0;
const setRaw = (u: VtdUnit, off: number, v: number): void => {
  v >>>= 0;
  if (v === 0) u.regs.delete(off);
  else u.regs.set(off, v);
};
export const rawQuad = (u: VtdUnit, off: number): bigint => (BigInt(raw(u, off + 4)) << 32n) | BigInt(raw(u, off));
export const setQuadRaw = (u: VtdUnit, off: number, v: bigint): void => {
  setRaw(u, off, Number(v & 0xffffffffn));
  setRaw(u, off + 4, Number((v >> 32n) & 0xffffffffn));
};
export const setClear = (u: VtdUnit, off: number, clear: number, set: number): void => setRaw(u, off, (raw(u, off) & ~clear) | set);
/** vtd_set_long: through wmask and w1cmask. */
export function setLong(u: VtdUnit, off: number, val: number): void {
  const [w, w1c] = MASKS.get(off) ?? [0, 0, 0];
  setRaw(u, off, ((raw(u, off) & ~w) | (val & w)) & ~(w1c & val));
}
