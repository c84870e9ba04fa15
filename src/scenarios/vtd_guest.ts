// The guest kernel's intel-iommu driver in scalable mode, as trace events of one VMM
// process: tables built in guest RAM (guest.mem.write), registers programmed through
// the vIOMMU's MMIO (guest.mmio.*), invalidations through the 256-bit queue. Names
// follow drivers/iommu/intel/: iommu_alloc_root_entry, intel_pasid_alloc_table,
// intel_pasid_setup_first_level, qi_submit_sync.

import { hex, type RawEvent, type ScenarioRun } from "./scenario.ts";

// VT-d registers (hw/i386/intel_iommu_internal.h).
const DMAR_GCMD = 0x18;
const DMAR_GSTS = 0x1c;
const DMAR_RTADDR = 0x20;
const DMAR_IQT = 0x88;
const DMAR_IQA = 0x90;
const GCMD_TE = 0x80000000;
const GCMD_SRTP = 0x40000000;
const GCMD_QIE = 0x04000000;
/** RTADDR_REG.TTM = 01b: scalable-mode root table. */
const RTADDR_SMT = 0x400;
/** IQA_REG.DW: 256-bit descriptors; QS 0: one 4 KiB page, 128 descriptors. */
const IQA_DW = 0x800;
const QUEUE_BYTES = 0x1000;
/** PASID entry PGTT (bits 8:6): first-stage, second-stage, pass-through. */
export const PGTT_FS = 1;
export const PGTT_SS = 2;
export const PGTT_PT = 4;
/** x86 first-stage entry: present, writable, user (the driver's default for DMA). */
const FS_PRW = 0x7n;
/** VT-d second-stage entry: read, write. */
const SS_RW = 0x3n;

/** A guest's view: its VMM pid and a bump allocator of 4 KiB pages in guest RAM for the driver's tables. */
export class VtdGuest {
  private next: number;
  private tail = 0;
  private readonly iq: number;
  private readonly status: number;
  constructor(
    readonly pid: number,
    /** First guest-physical page the driver allocates from (page aligned). */
    tablesAt: number,
  ) {
    this.next = tablesAt;
    this.iq = this.page();
    this.status = this.page();
  }

  /** alloc_pgtable_page: a zeroed guest page (guest RAM starts zeroed). */
  page(): number {
    const p = this.next;
    this.next += 0x1000;
    return p;
  }

  write(gpa: number | bigint, words: readonly bigint[]): RawEvent {
    return { op: "guest.mem.write", pid: this.pid, gpa: hex(gpa), u64: words.map(hex) };
  }

  mmioWrite(off: number, size: 4 | 8, value: number): RawEvent {
    // Register values composed with 32-bit bitwise operators: as unsigned.
    return { op: "guest.mmio.write", pid: this.pid, dev: "intel-iommu", off: hex(off), size, value: hex(value < 0 ? value >>> 0 : value) };
  }

  /**
   * intel_iommu_init: the scalable-mode root table (iommu_alloc_root_entry,
   * iommu_set_root_entry: RTADDR then GCMD.SRTP), queued invalidation
   * (dmar_enable_qi: IQA then GCMD.QIE), then translation (iommu_enable_translation).
   */
  *enable(root: number): ScenarioRun {
    yield this.mmioWrite(DMAR_RTADDR, 8, root | RTADDR_SMT);
    yield this.mmioWrite(DMAR_GCMD, 4, GCMD_SRTP);
    yield this.mmioWrite(DMAR_IQA, 8, this.iq | IQA_DW);
    yield this.mmioWrite(DMAR_GCMD, 4, GCMD_QIE);
    yield this.mmioWrite(DMAR_GCMD, 4, GCMD_QIE | GCMD_TE);
    // The driver polls GSTS until the status bits follow (IOMMU_WAIT_OP).
    yield { op: "guest.mmio.read", pid: this.pid, dev: "intel-iommu", off: hex(DMAR_GSTS), size: 4 };
  }

  /** Disable translation and the queue (intel_iommu_shutdown: iommu_disable_translation, dmar_disable_qi). */
  *disable(): ScenarioRun {
    yield this.mmioWrite(DMAR_GCMD, 4, GCMD_QIE);
    yield this.mmioWrite(DMAR_GCMD, 4, 0);
  }

  /**
   * qi_submit_sync: the descriptors then a wait descriptor (status write) at the tail,
   * one IQT write; the queue wraps at its end.
   */
  *submit(descs: readonly (readonly [bigint, bigint])[]): ScenarioRun {
    const all = [...descs, [0x20n | 0x5n | (1n << 32n), BigInt(this.status)] as const]; // QI_IWD_STATUS_DATA(1) | QI_IWD_STATUS_WRITE | QI_IWD_TYPE
    for (const [lo, hi] of all) {
      yield this.write(this.iq + this.tail, [lo, hi, 0n, 0n]);
      this.tail = (this.tail + 32) % QUEUE_BYTES;
    }
    yield this.mmioWrite(DMAR_IQT, 8, this.tail);
  }

  /** qi_flush_piotlb: PASID-based IOTLB invalidation of npages (a power of two) at addr, or of the whole PASID. */
  static piotlb(did: number, pasid: number, addr?: number, am = 0): readonly [bigint, bigint] {
    const g = addr === undefined ? 2n : 3n;
    return [0x6n | (g << 4n) | (BigInt(did) << 16n) | (BigInt(pasid) << 32n), addr === undefined ? 0n : BigInt(addr) | BigInt(am)];
  }

  /** qi_flush_iotlb: page-selective IOTLB invalidation (granularity 3) of a domain, for second-stage mappings. */
  static iotlbPage(did: number, addr: number, am = 0): readonly [bigint, bigint] {
    return [0x2n | (3n << 4n) | (BigInt(did) << 16n), BigInt(addr) | BigInt(am)];
  }

  /** qi_flush_pasid_cache: PASID-selective (granularity 1) PASID-cache invalidation. */
  static pasidCache(did: number, pasid: number): readonly [bigint, bigint] {
    return [0x7n | (1n << 4n) | (BigInt(did) << 16n) | (BigInt(pasid) << 32n), 0n];
  }

  /** qi_flush_context: global context-cache invalidation. */
  static contextGlobal(): readonly [bigint, bigint] {
    return [0x1n | (1n << 4n), 0n];
  }
}

/**
 * The scalable-mode tables of one bus: a root table, the bus's lower context table,
 * and per device a PASID directory with one PASID table (PASIDs 0-63).
 */
export class VtdTables {
  readonly root: number;
  private readonly ctx: number;
  private readonly pasidTables = new Map<number, number>();
  constructor(private readonly g: VtdGuest) {
    this.root = g.page();
    this.ctx = g.page();
  }

  /** The root entry of bus 0: its lower (devfn 0-127) scalable context table, present. */
  *setupRoot(): ScenarioRun {
    yield this.g.write(this.root, [BigInt(this.ctx) | 1n]);
  }

  /** intel_pasid_alloc_table + domain_context_mapping_one: the device's context entry points at its PASID directory. */
  *setupDevice(devfn: number): ScenarioRun {
    const dir = this.g.page();
    const table = this.g.page();
    this.pasidTables.set(devfn, table);
    yield this.g.write(dir, [BigInt(table) | 1n]);
    yield this.g.write(this.ctx + devfn * 32, [BigInt(dir) | 1n, 0n, 0n, 0n]);
  }

  /** intel_pasid_setup_first_level / _pass_through: the PASID entry (64 bytes) of a device. */
  *setPasid(devfn: number, pasid: number, pgtt: number, did: number, table0 = 0): ScenarioRun {
    const table = this.pasidTables.get(devfn)!;
    // Second stage: SSPTPTR and AW 2 (48-bit, 4-level) in the first qword; first stage: FSPTPTR in the third.
    const lo = 1n | (BigInt(pgtt) << 6n) | (pgtt === PGTT_SS ? BigInt(table0) | (2n << 2n) : 0n);
    yield this.g.write(table + pasid * 64, [lo, BigInt(did), pgtt === PGTT_FS ? BigInt(table0) : 0n]);
  }

  /** intel_pasid_tear_down_entry: the entry cleared. */
  *clearPasid(devfn: number, pasid: number): ScenarioRun {
    const table = this.pasidTables.get(devfn)!;
    yield this.g.write(table + pasid * 64, [0n, 0n, 0n]);
  }
}

/**
 * A 4-level table in guest RAM mapping 4 KiB pages in one 2 MiB IOVA window: x86
 * first-stage entries (P|RW|US) or VT-d second-stage ones (R|W), as the guest's
 * intel-iommu driver builds them (pfn_to_dma_pte, __domain_mapping).
 */
export class PageTable {
  readonly root: number;
  private readonly pt: number;
  constructor(
    private readonly g: VtdGuest,
    /** The IOVA window's base (2 MiB aligned, below 512 GiB). */
    readonly base: number,
    /** Second-stage format (else first-stage). */
    private readonly second = false,
  ) {
    this.root = g.page();
    const pdpt = g.page();
    const pd = g.page();
    this.pt = g.page();
    this.links = [
      [this.root + ((base / 2 ** 39) & 511) * 8, pdpt],
      [pdpt + (Math.floor(base / 2 ** 30) & 511) * 8, pd],
      [pd + (Math.floor(base / 2 ** 21) & 511) * 8, this.pt],
    ];
  }
  private readonly links: [number, number][];

  /** The upper levels (pfn_to_dma_pte of each level on the first map). */
  *build(): ScenarioRun {
    for (const [at, next] of this.links) yield this.g.write(at, [BigInt(next) | this.perm()]);
  }

  /** __domain_mapping: the PTE of page `i` of the window -> gpa; 0 clears it (dma_pte_clear_range). */
  *set(i: number, gpa: number): ScenarioRun {
    yield this.g.write(this.pt + i * 8, [gpa === 0 ? 0n : BigInt(gpa) | this.perm()]);
  }

  private perm(): bigint {
    return this.second ? SS_RW : FS_PRW;
  }
}
