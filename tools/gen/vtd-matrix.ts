// Conformance traces for QEMU's intel-iommu as a guest programs it: legacy and
// scalable-mode tables built in guest RAM, every translation type, 4 KiB /
// 2 MiB / 1 GiB pages, 3-, 4- and (refused) 5-level tables, the fault reasons
// and the IOTLB with and without invalidation.
//
//   node --import tsx tools/gen/vtd-matrix.ts [outdir]   (default test/traces/vtd)
//
// Every expectation follows from how the trace builds the tables (the gpa a
// mapping was given) or from QEMU's source (hw/i386/intel_iommu.c, cited next
// to the event), never from running the model.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { mapPage } from "./page_tables.ts";

const RAM_VA = 0x7f00_0000_0000n;
const RAM_HPA = 0x1_0000_0000n; // guest RAM gpa 0.. is backed from this host address
const RAM_SIZE = 0x400_0000n; // 64 MiB
const hex = (v: bigint | number) => `0x${BigInt(v).toString(16)}`;

// Register offsets and bits (intel_iommu_internal.h).
const RTADDR = 0x20,
  GCMD = 0x18,
  GSTS = 0x1c,
  CCMD = 0x28,
  FSTS = 0x34,
  FECTL = 0x38,
  FEDATA = 0x3c,
  FEADDR = 0x40,
  IVA = 0xf0,
  IOTLB = 0xf8,
  FRCD = 0x220,
  IQT = 0x88,
  IQA = 0x90,
  IQH = 0x80;
const TE = 0x8000_0000n,
  SRTP = 0x4000_0000n,
  QIE = 0x0400_0000n;

class Trace {
  readonly lines: string[] = [];
  constructor(title: string, profile: string | string[]) {
    this.lines.push(JSON.stringify({ format: "iorr-trace", version: 1, profile, title, source: "synthetic", generator: "tools/gen/vtd-matrix.ts" }));
  }
  note(s: string) {
    this.lines.push(`// ${s}`);
  }
  ev(e: Record<string, unknown>, expect: Record<string, unknown> = { ok: true }) {
    this.lines.push(JSON.stringify({ ...e, expect }));
  }
}

/** One guest: a QEMU process with 64 MiB of RAM, an intel-iommu and emulated devices. */
class Guest {
  private next = 0x10_0000n; // table pages are taken from 1 MiB up
  private readonly written = new Map<bigint, bigint>();
  constructor(
    readonly t: Trace,
    readonly pid: number,
    props: Record<string, unknown>,
    devices: string[],
  ) {
    t.ev({ op: "process", pid });
    t.ev({ op: "mem.map", pid, va: hex(RAM_VA), length: hex(RAM_SIZE), pa: hex(RAM_HPA + BigInt(pid - 1) * RAM_SIZE) });
    t.ev({ op: "qemu.machine", pid, ram: [{ gpa: "0x0", size: hex(RAM_SIZE), va: hex(RAM_VA) }] });
    t.ev({ op: "qemu.viommu", pid, model: "intel-iommu", props });
    for (const d of devices) t.ev({ op: "qemu.device", pid, guest_bdf: d, model: "e1000e" });
  }
  get hpaBase() {
    return RAM_HPA + BigInt(this.pid - 1) * RAM_SIZE;
  }
  page(): bigint {
    const p = this.next;
    this.next += 0x1000n;
    return p;
  }
  write(gpa: bigint, ...u64: bigint[]) {
    for (const [i, v] of u64.entries()) this.written.set(gpa + BigInt(i) * 8n, v);
    this.t.ev({ op: "guest.mem.write", pid: this.pid, gpa: hex(gpa), u64: u64.map(hex) });
  }
  read(gpa: bigint): bigint {
    return this.written.get(gpa) ?? 0n;
  }
  mw(off: number, size: number, value: bigint) {
    this.t.ev({ op: "guest.mmio.write", pid: this.pid, dev: "intel-iommu", off: hex(off), size, value: hex(value) });
  }
  mr(off: number, size: number, value: bigint) {
    this.t.ev({ op: "guest.mmio.read", pid: this.pid, dev: "intel-iommu", off: hex(off), size }, { value: hex(value) });
  }
  /** Root table pointer (TTM in bits 11:10), SRTP, then TE, as a guest driver does. */
  enable(rtaddr: bigint) {
    this.mw(RTADDR, 8, rtaddr);
    this.mw(GCMD, 4, SRTP);
    this.mw(GCMD, 4, TE);
    this.mr(GSTS, 4, TE | SRTP);
  }
  dma(bdf: string, iova: bigint, access: "read" | "write", expect: Record<string, unknown>, pasid?: number) {
    this.t.ev({ op: "dma", pid: this.pid, guest_bdf: bdf, ...(pasid === undefined ? {} : { pasid }), iova: hex(iova), access }, expect);
  }
  /**
   * The outcome of a translation to `gpa` in a page of 2^lg2 bytes; `perm` is QEMU's
   * IOMMUTLBEntry.perm (vtd_do_iommu_translate): the page's rights for a write, without
   * W for a read (`access_flags & ~IOMMU_WO`), IOMMU_RW for pass-through.
   */
  hit(gpa: bigint, lg2: number, perm: string) {
    const o: Record<string, unknown> = { pa: hex(gpa), page_size: hex(1n << BigInt(lg2)), perm };
    if (gpa < RAM_SIZE) o.hpa = hex(this.hpaBase + gpa);
    return o;
  }
  /**
   * Map iova -> gpa with a page of 2^lg2 in a table of `levels` levels rooted at `root`:
   * non-leaf entries get `tableBits`, the leaf `leafBits` (plus PS above level 1).
   */
  map(root: bigint, levels: number, iova: bigint, gpa: bigint, lg2: number, leafBits: bigint, tableBits: bigint) {
    return mapPage(this, root, levels, iova, gpa, lg2, leafBits, tableBits);
  }
}

const SS_RW = 3n,
  SS_R = 1n;
const FS_RW = 7n /* P | RW | US */,
  FS_R = 5n;

/** Legacy context entry: lo = SLPTPTR | TT << 2 | P, hi = DID << 8 | AW. */
const legacyCe = (slptptr: bigint, tt: number, aw: number, did: number): [bigint, bigint] => [
  slptptr | (BigInt(tt) << 2n) | 1n,
  (BigInt(did) << 8n) | BigInt(aw),
];
const devfn = (bdf: string) => {
  const [, df] = bdf.split(":") as [string, string];
  const [d, f] = df.split(".") as [string, string];
  return (parseInt(d, 16) << 3) | parseInt(f, 16);
};

function legacy(): Trace {
  const t = new Trace(
    "intel-iommu legacy mode built by the guest: TT multi-level with 4 KiB / 2 MiB / 1 GiB pages, pass-through, the context-entry faults, SS faults, fault recording and overflow, the IOTLB with and without invalidation",
    "linux-mainline",
  );
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0", "00:05.0", "00:06.0", "00:07.0", "01:00.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n); // bus 0 -> context table
  const ce = (bdf: string, v: [bigint, bigint]) => g.write(ctx + BigInt(devfn(bdf)) * 16n, ...v);
  ce("00:03.0", legacyCe(pml4, 0, 2, 1)); // multi-level, 4-level (AW 2), domain 1
  ce("00:04.0", legacyCe(0n, 2, 2, 2)); // pass-through (ECAP.PT: QEMU's pt=on)
  ce("00:06.0", legacyCe(pml4, 1, 2, 1)); // TT 1: device-TLB, but device-iotlb=off
  ce("00:07.0", legacyCe(pml4, 0, 3, 1)); // AW 3: 5-level, not in SAGAW
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  g.map(pml4, 4, 0x2000n, 0x20_1000n, 12, SS_R, SS_RW);
  g.map(pml4, 4, 0x40_0000n, 0x80_0000n, 21, SS_RW, SS_RW);
  g.map(pml4, 4, 0x8000_0000n, 0x0n, 30, SS_RW, SS_RW);
  g.map(pml4, 4, 0x60_0000n, 0xa0_0000n | 0x2000n, 21, SS_RW, SS_RW); // bit 13 of a 2 MiB leaf: reserved
  g.map(pml4, 4, 0x3000n, 0x1_0000_0000_0000n, 12, SS_RW, SS_RW); // address bit 48 with aw-bits 48: reserved
  g.map(pml4, 4, 0x1_0000_0000n, 0xfee0_0000n, 21, SS_RW, SS_RW); // into the interrupt range
  g.map(pml4, 4, 0x4000n, 0x20_4000n, 12, SS_RW | 0x800n, SS_RW); // SNP in a leaf: reserved without snoop-control
  g.map(pml4, 4, 0x2_0000_0000n, 0x20_5000n, 12, SS_RW, SS_RW | (1n << 62n)); // TM in the new table entries: reserved
  t.note("Before TE, DMA is not translated: pa = iova.");
  g.dma("00:03.0", 0x1010n, "read", { pa: "0x1010", hpa: hex(g.hpaBase + 0x1010n) });
  g.enable(root);
  t.note(
    "4 KiB, read-only 4 KiB, 2 MiB and 1 GiB pages (vtd_iova_to_slpte; CAP.SLLPS has both superpage sizes). A read's perm lacks W (vtd_do_iommu_translate: access_flags & ~IOMMU_WO), a hit's as a walk's.",
  );
  g.dma("00:03.0", 0x1010n, "write", g.hit(0x20_0010n, 12, "rw"));
  g.dma("00:03.0", 0x41_2345n, "read", g.hit(0x81_2345n, 21, "r"));
  g.dma("00:03.0", 0x8012_3456n, "write", g.hit(0x12_3456n, 30, "rw"));
  t.note(
    "A write to the read-only page: VTD_FR_WRITE, recorded in FRCD0 (F, FR 5, T clear for a write, SID 00:03.0) with FSTS.PPF; PV 0xffff, PP clear: vtd_report_dmar_fault's VTD_FRCD_PV(PCI_NO_PASID) for a legacy-mode request.",
  );
  g.dma("00:03.0", 0x2008n, "write", { fault: "VTD_FR_WRITE" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FRCD, 8, 0x2000n);
  g.mr(FRCD + 8, 8, 0x80ff_ff05_0000_0018n);
  t.note(
    "A read caches the read-only page; a write then hits that IOTLB entry, which QEMU returns without checking the access: the memory core refuses it (MEMTX_DECODE_ERROR) and no fault is recorded.",
  );
  g.dma("00:03.0", 0x2008n, "read", g.hit(0x20_1008n, 12, "r"));
  g.dma("00:03.0", 0x2008n, "write", { fault: "MEMTX_DECODE_ERROR" });
  g.mr(FRCD + 8, 8, 0x80ff_ff05_0000_0018n);
  t.note("One fault recording register (NFR 0): a fault from another source while F is set sets FSTS.PFO and is lost.");
  g.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x3n);
  t.note("Software clears F (write 1 to bit 127) and PFO; the next fault is recorded (T set: a read).");
  g.mw(FRCD + 12, 4, 0x8000_0000n);
  g.mw(FSTS, 4, 0x1n);
  g.mr(FSTS, 4, 0x0n);
  g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_READ" });
  g.mr(FRCD + 8, 8, 0xc0ff_ff06_0000_0018n);
  t.note(
    "Faults of the walk: beyond the 48-bit width, reserved bits (a 2 MiB leaf's bit 13, address bit 48, SNP in a leaf without snoop-control, TM in a table entry: vtd_spte_rsvd), the interrupt range (VTD_FR_INTERRUPT_ADDR in legacy mode).",
  );
  g.dma("00:03.0", 0x1_0000_0000_0000n, "read", { fault: "VTD_FR_ADDR_BEYOND_MGAW" });
  g.dma("00:03.0", 0x60_0000n, "read", { fault: "VTD_FR_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x3000n, "read", { fault: "VTD_FR_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x4000n, "read", { fault: "VTD_FR_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x2_0000_0000n, "read", { fault: "VTD_FR_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x1_0000_0000n, "write", { fault: "VTD_FR_INTERRUPT_ADDR" });
  t.note(
    "Context entries: pass-through (4 KiB granule, rw, no IOTLB), TT 1 without device-iotlb and a 5-level AW are VTD_FR_CONTEXT_ENTRY_INV, no root entry for bus 1.",
  );
  g.dma("00:04.0", 0x12_3456n, "write", g.hit(0x12_3456n, 12, "rw"));
  g.dma("00:06.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  g.dma("00:07.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  g.dma("01:00.0", 0x1000n, "read", { fault: "VTD_FR_ROOT_ENTRY_P" });
  t.note("The IOTLB: the guest remaps 0x1000 and the 2 MiB page without invalidating; the device keeps the old translations.");
  g.map(pml4, 4, 0x1000n, 0x30_0000n, 12, SS_RW, SS_RW);
  g.map(pml4, 4, 0x40_0000n, 0xc0_0000n, 21, SS_RW, SS_RW);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x20_0010n, 12, "r"));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  t.note("Page-selective IOTLB invalidation of 0x1000 in domain 1 (IVA = addr | AM 0; IOTLB_REG: IVT, IIRG page, DID 1): only that page is refetched.");
  g.mw(IVA, 8, 0x1000n);
  g.mw(IOTLB, 8, (1n << 63n) | (3n << 60n) | (1n << 32n));
  g.mr(IOTLB, 8, (3n << 60n) | (3n << 57n) | (1n << 32n)); // IVT clear, IAIG page, IIRG kept
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x30_0010n, 12, "r"));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  t.note("A domain-selective invalidation of another domain changes nothing; of domain 1 it drops the 2 MiB entry too.");
  g.mw(IOTLB, 8, (1n << 63n) | (2n << 60n) | (7n << 32n));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  g.mw(IOTLB, 8, (1n << 63n) | (2n << 60n) | (1n << 32n));
  g.mr(IOTLB, 8, (2n << 60n) | (2n << 57n) | (1n << 32n));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0xc0_0010n, 21, "r"));
  t.note("The context cache: the device is moved to pass-through without a context-cache invalidation; its cached context entry still translates.");
  ce("00:03.0", legacyCe(0n, 2, 2, 1));
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n)); // global IOTLB invalidation
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x30_0010n, 12, "r"));
  t.note(
    "Device-selective context-cache invalidation (CCMD: ICC, CIRG device, SID 00:03.0), then the IOTLB: pass-through now (perm IOMMU_RW whatever the access).",
  );
  g.mw(CCMD, 8, (1n << 63n) | (3n << 61n) | (0x18n << 16n));
  g.mr(CCMD, 8, (3n << 61n) | (3n << 59n)); // ICC clear, CAIG device; SID and FM are write-only
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x1010n, 12, "rw"));
  return t;
}

function legacyAw39(): Trace {
  const t = new Trace(
    "intel-iommu aw-bits=39 legacy mode: a 3-level second stage (SAGAW 39-bit only) with 4 KiB, 2 MiB and 1 GiB pages; a 4-level context entry is invalid; IOVAs from 2^39 overflow",
    "linux-mainline",
  );
  const g = new Guest(t, 1, { "aw-bits": 39 }, ["00:03.0", "00:04.0"]);
  const root = g.page(),
    ctx = g.page(),
    pdpt = g.page();
  g.write(root, ctx | 1n);
  g.write(ctx + BigInt(devfn("00:03.0")) * 16n, ...legacyCe(pdpt, 0, 1, 3));
  g.write(ctx + BigInt(devfn("00:04.0")) * 16n, ...legacyCe(pdpt, 0, 2, 3));
  g.map(pdpt, 3, 0x7000n, 0x30_7000n, 12, SS_RW, SS_RW);
  g.map(pdpt, 3, 0x20_0000n, 0x40_0000n, 21, SS_R, SS_RW);
  g.map(pdpt, 3, 0x40_0000_0000n, 0x4000_0000n, 30, SS_RW, SS_RW);
  g.enable(root);
  t.note("A read's perm lacks W (vtd_do_iommu_translate: access_flags & ~IOMMU_WO).");
  g.dma("00:03.0", 0x7ff8n, "write", g.hit(0x30_7ff8n, 12, "rw"));
  g.dma("00:03.0", 0x3f_fff0n, "write", { fault: "VTD_FR_WRITE" });
  g.dma("00:03.0", 0x3f_fff0n, "read", g.hit(0x5f_fff0n, 21, "r"));
  g.dma("00:03.0", 0x40_1234_5678n, "read", g.hit(0x5234_5678n, 30, "r"));
  g.dma("00:03.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_ADDR_BEYOND_MGAW" });
  g.dma("00:04.0", 0x7000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  return t;
}

/** Scalable-mode context entry (32 bytes): PASIDDIRPTR | P, the rest zero (RID_PASID 0). */
const smCe = (pasidDir: bigint) => [pasidDir | 1n, 0n, 0n, 0n];
/** PASID entry words 0..2: P, AW, PGTT, SSPTPTR / DID / FSPTPTR, FSPM. */
const pe = (o: { p?: boolean; pgtt: number; aw?: number; ss?: bigint; did: number; fs?: bigint; fspm?: number }) => [
  (o.ss ?? 0n) | (BigInt(o.pgtt) << 6n) | (BigInt(o.aw ?? 2) << 2n) | (o.p === false ? 0n : 1n),
  BigInt(o.did),
  (o.fs ?? 0n) | (BigInt(o.fspm ?? 0) << 2n),
];

/** A guest in scalable mode: root (TTM scalable), context table, one PASID directory and table per device. */
function scalableGuest(t: Trace, pid: number, props: Record<string, unknown>, devices: string[]) {
  const g = new Guest(t, pid, { "x-scalable-mode": true, ...props }, devices);
  const root = g.page(),
    ctx = g.page();
  g.write(root, ctx | 1n); // lower context table (devfn < 128)
  const tables = new Map<string, bigint>();
  for (const d of devices) {
    const dir = g.page(),
      table = g.page();
    g.write(dir, table | 1n); // PASIDs 0-63
    g.write(ctx + BigInt(devfn(d)) * 32n, ...smCe(dir));
    tables.set(d, table);
  }
  const setPe = (d: string, pasid: number, words: bigint[]) => g.write(tables.get(d)! + BigInt(pasid) * 64n, ...words);
  return { g, rtaddr: root | (1n << 10n), setPe };
}

/** Queue an invalidation descriptor (256-bit queue at `iq`) and move the tail past it (IQT.QT counts 128-bit units). */
function queue(g: Guest, iq: bigint, state: { tail: number }, lo: bigint, hi: bigint) {
  g.write(iq + BigInt(state.tail) * 32n, lo, hi, 0n, 0n);
  state.tail++;
  g.mw(IQT, 8, BigInt(state.tail) << 5n);
}

function scalableSs(): Trace {
  const t = new Trace(
    "intel-iommu scalable mode, second stage (x-flts=off): PGTT second stage with 4 KiB / 2 MiB / 1 GiB pages through PASID_0 and PASID 5, pass-through, the PASID-entry faults (nested, first stage without FSTS, 5-level, PASID_0 missing), IOTLB and PASID-based IOTLB invalidation through the queue",
    "linux-mainline",
  );
  const devs = ["00:03.0", "00:04.0", "00:05.0", "00:06.0", "00:07.0", "00:08.0"];
  const { g, rtaddr, setPe } = scalableGuest(t, 1, {}, devs);
  const s0 = g.page(),
    s5 = g.page();
  setPe("00:03.0", 0, pe({ pgtt: 2, ss: s0, did: 2 }));
  setPe("00:03.0", 5, pe({ pgtt: 2, ss: s5, did: 9 }));
  setPe("00:04.0", 0, pe({ pgtt: 4, did: 3 }));
  setPe("00:05.0", 0, pe({ pgtt: 3, ss: s0, did: 4 })); // NESTED: "Not support NESTED page table type yet"
  setPe("00:06.0", 0, pe({ pgtt: 1, fs: s0, did: 4 })); // first stage without ECAP.FSTS
  setPe("00:07.0", 0, pe({ pgtt: 2, aw: 3, ss: s0, did: 4 })); // 5-level: not in SAGAW
  // 00:08.0 has no PASID_0 entry: its PASID 1 entry alone does not make the context entry valid.
  setPe("00:08.0", 1, pe({ pgtt: 2, ss: s0, did: 4 }));
  g.map(s0, 4, 0x1000n, 0x21_0000n, 12, SS_RW, SS_RW);
  g.map(s0, 4, 0x20_0000n, 0x60_0000n, 21, SS_R, SS_RW);
  g.map(s0, 4, 0xc000_0000n, 0x4000_0000n, 30, SS_RW, SS_RW);
  g.map(s5, 4, 0x1000n, 0x22_0000n, 12, SS_RW, SS_RW);
  g.map(s0, 4, 0x8000n, 0x23_0000n, 12, SS_RW | 0x800n, SS_RW); // SNP in a leaf: allowed in scalable mode
  g.map(s0, 4, 0x1_0000_0000n, 0x23_1000n, 12, SS_RW, SS_RW | 0x800n); // SNP in the new table entries: still reserved
  g.enable(rtaddr);
  t.note(
    "A request without PASID uses PASID_0; with PASID 5 its own entry and domain. A read's perm lacks W (vtd_do_iommu_translate: access_flags & ~IOMMU_WO).",
  );
  g.dma("00:03.0", 0x1abcn, "write", g.hit(0x21_0abcn, 12, "rw"));
  g.dma("00:03.0", 0x2f_fffcn, "write", { fault: "VTD_FR_WRITE" });
  g.dma("00:03.0", 0x2f_fffcn, "read", g.hit(0x6f_fffcn, 21, "r"));
  g.dma("00:03.0", 0xc000_1000n, "read", g.hit(0x4000_1000n, 30, "r"));
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x22_0abcn, 12, "r"), 5);
  t.note("vtd_spte_rsvd in scalable mode: SNP is allowed in a leaf, reserved in a table entry.");
  g.dma("00:03.0", 0x8010n, "read", g.hit(0x23_0010n, 12, "r"));
  g.dma("00:03.0", 0x1_0000_0000n, "read", { fault: "VTD_FR_PAGING_ENTRY_RSVD" });
  t.note("PASID 6 has a zeroed entry: the type check fails before the present bit is looked at. PASID 64 has no directory entry.");
  g.dma("00:03.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" }, 6);
  g.dma("00:03.0", 0x1000n, "read", { fault: "VTD_FR_PASID_DIR_ENTRY_P" }, 64);
  t.note(
    "PGTT pass-through (perm IOMMU_RW); nested, first stage without x-flts and a 5-level AW are VTD_FR_PASID_TABLE_ENTRY_INV; so is a context entry without a PASID_0 entry.",
  );
  g.dma("00:04.0", 0x4321n, "write", g.hit(0x4321n, 12, "rw"));
  for (const d of ["00:05.0", "00:06.0", "00:07.0"]) g.dma(d, 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" });
  g.dma("00:08.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" }, 1);
  t.note("The queue (IQA: 256-bit descriptors, DW; QIE). Remapped pages stay stale until a descriptor that selects their IOTLB entry.");
  const iq = g.page();
  const q = { tail: 0 };
  g.mw(IQA, 8, iq | (1n << 11n));
  g.mw(GCMD, 4, TE | QIE);
  g.mr(GSTS, 4, TE | SRTP | QIE);
  g.map(s0, 4, 0x1000n, 0x31_0000n, 12, SS_RW, SS_RW);
  g.map(s5, 4, 0x1000n, 0x32_0000n, 12, SS_RW, SS_RW);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x21_0abcn, 12, "r"));
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x22_0abcn, 12, "r"), 5);
  t.note(
    "A page-selective PASID-based IOTLB descriptor (type 6, granularity 3: vtd_piotlb_page_invalidate) flushes first-stage entries only: PASID 5's second-stage entry of 0x1000 (domain 9) stays.",
  );
  queue(g, iq, q, 0x6n | (3n << 4n) | (9n << 16n) | (5n << 32n), 0x1000n);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x22_0abcn, 12, "r"), 5);
  t.note(
    "A PASID-selective one (granularity 2: vtd_piotlb_pasid_invalidate, vtd_hash_remove_by_pasid) flushes every entry of its domain and PASID, second stage too (QEMU ad0a7f1e1e): (domain 9, PASID 0) selects nothing; (domain 2, PASID 0) drops PASID_0's entry, not PASID 5's.",
  );
  queue(g, iq, q, 0x6n | (2n << 4n) | (9n << 16n), 0n);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x21_0abcn, 12, "r"));
  queue(g, iq, q, 0x6n | (2n << 4n) | (2n << 16n), 0n);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x31_0abcn, 12, "r"));
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x22_0abcn, 12, "r"), 5);
  t.note("The guest remaps PASID_0's page again; an IOTLB descriptor (type 2), domain-selective for domain 2, refetches it, not PASID 5's (domain 9).");
  g.map(s0, 4, 0x1000n, 0x33_0000n, 12, SS_RW, SS_RW);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x31_0abcn, 12, "r"));
  queue(g, iq, q, 0x2n | (2n << 4n) | (2n << 16n), 0n);
  g.mr(IQH, 8, 4n << 5n);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x33_0abcn, 12, "r"));
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x22_0abcn, 12, "r"), 5);
  t.note("Page-selective IOTLB descriptor (granularity 3) for domain 9, address 0x1000, AM 0.");
  queue(g, iq, q, 0x2n | (3n << 4n) | (9n << 16n), 0x1000n);
  g.dma("00:03.0", 0x1abcn, "read", g.hit(0x32_0abcn, 12, "r"), 5);
  return t;
}

function scalableFs(): Trace {
  const t = new Trace(
    "intel-iommu scalable mode with x-flts=on: first-stage tables (4-level) with 4 KiB / 2 MiB / 1 GiB pages, the first-stage faults (P, U/S, R/W, reserved, canonical, interrupt range), 5-level and second-stage PASID entries refused, fs1gp=off (ignored by the walker)",
    ["linux-mainline", "qemu-flts-final"],
  );
  const { g, rtaddr, setPe } = scalableGuest(t, 1, { "x-flts": true }, ["00:03.0", "00:04.0", "00:05.0", "00:06.0"]);
  const fs = g.page();
  setPe("00:03.0", 0, pe({ pgtt: 1, fs, did: 2 }));
  setPe("00:04.0", 0, pe({ pgtt: 1, fs, fspm: 1, did: 2 })); // 5-level first stage: QEMU walks 4 levels only
  setPe("00:05.0", 0, pe({ pgtt: 2, ss: fs, did: 2 })); // second stage: no ECAP.SSTS with x-flts
  setPe("00:06.0", 0, pe({ pgtt: 4, did: 3 }));
  g.map(fs, 4, 0x1000n, 0x21_0000n, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x2000n, 0x21_1000n, 12, FS_R, FS_RW);
  g.map(fs, 4, 0x3000n, 0x21_2000n, 12, 3n /* P | RW, supervisor only */, FS_RW);
  g.map(fs, 4, 0x40_0000n, 0x80_0000n, 21, FS_RW, FS_RW);
  g.map(fs, 4, 0x8000_0000n, 0x4000_0000n, 30, FS_RW, FS_RW);
  g.map(fs, 4, 0x60_0000n, 0xa0_0000n | 0x4000n, 21, FS_RW, FS_RW); // bit 14 of a 2 MiB leaf: reserved
  g.map(fs, 4, 0x7fff_ffff_f000n, 0xfee0_0000n, 12, FS_RW, FS_RW); // the interrupt range, at the top of the lower half
  g.enable(rtaddr);
  g.dma("00:03.0", 0x1004n, "write", g.hit(0x21_0004n, 12, "rw"));
  t.note("A read's perm lacks W (vtd_do_iommu_translate: access_flags & ~IOMMU_WO); pass-through's is IOMMU_RW.");

  g.dma("00:03.0", 0x4f_0000n, "read", g.hit(0x8f_0000n, 21, "r"));
  g.dma("00:03.0", 0xbfff_fff0n, "write", g.hit(0x7fff_fff0n, 30, "rw"));
  t.note(
    "First-stage faults in QEMU's order: P, U/S (requests are user-mode), R/W, reserved bits; the IOVA must be canonical at the PASID entry's width (AW 2: 48 bits).",
  );
  g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_P" });
  g.dma("00:03.0", 0x3000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_US" });
  g.dma("00:03.0", 0x2000n, "write", { fault: "VTD_FR_SM_WRITE" });
  g.dma("00:03.0", 0x2004n, "read", g.hit(0x21_1004n, 12, "r"));
  g.dma("00:03.0", 0x60_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x8000_0000_0000n, "read", { fault: "VTD_FR_FS_NON_CANONICAL" });
  g.dma("00:03.0", 0xffff_8000_0000_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_P" });
  g.dma("00:03.0", 0x7fff_ffff_f000n, "read", { fault: "VTD_FR_SM_INTERRUPT_ADDR" });
  t.note(
    "FRCD0 holds the first of these faults (the later ones, from the same source id, are collapsed into it): FR 0x71, read, recorded with PASID_0 and PV as scalable-mode walk faults are.",
  );
  g.mr(FRCD + 8, 8, 0xc000_0071_8000_0018n);
  t.note("5-level (FSPM 1) and second-stage PASID entries are invalid with x-flts; pass-through is offered (ECAP.PT).");
  g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" });
  g.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" });
  g.dma("00:06.0", 0x9876n, "read", g.hit(0x9876n, 12, "rw"));

  t.note(
    "A second guest with fs1gp=off: the property only clears CAP.FS1GP (vtd_cap_init); the walker's level-3 large-page mask (vtd_fpte_rsvd_large, vtd_init) does not consult it, so a 1 GiB first-stage page still translates.",
  );
  const h = scalableGuest(t, 2, { "x-flts": true, fs1gp: false }, ["00:03.0"]);
  const fs2 = h.g.page();
  h.setPe("00:03.0", 0, pe({ pgtt: 1, fs: fs2, did: 1 }));
  h.g.map(fs2, 4, 0x4000_0000n, 0x0n, 30, FS_RW, FS_RW);
  h.g.map(fs2, 4, 0x20_0000n, 0x20_0000n, 21, FS_RW, FS_RW);
  h.g.enable(h.rtaddr);
  h.g.dma("00:03.0", 0x4000_0000n, "read", h.g.hit(0x0n, 30, "r"));
  h.g.dma("00:03.0", 0x20_0000n, "read", h.g.hit(0x20_0000n, 21, "r"));
  return t;
}

// --- Queued invalidation and the invalidation granularities (QEMU's vtd_handle_gcmd_qie,
// vtd_handle_iqt_write, vtd_fetch_inv_desc, vtd_process_*_desc, vtd_hash_remove_by_*).

const ICS = 0x9c,
  IECTL = 0xa0;
/** Descriptors (intel_iommu_internal.h VTD_INV_DESC_*): [lo, hi]. */
const dCc = (g: number, did = 0, sid = 0, fm = 0): [bigint, bigint] => [
  0x1n | (BigInt(g) << 4n) | (BigInt(did) << 16n) | (BigInt(sid) << 32n) | (BigInt(fm) << 48n),
  0n,
];
const dIotlb = (g: number, did: number, addr = 0n, am = 0): [bigint, bigint] => [0x2n | (BigInt(g) << 4n) | (BigInt(did) << 16n), addr | BigInt(am)];
const dWait = (o: { sw?: [bigint, number]; iF?: boolean; fn?: boolean }): [bigint, bigint] => [
  0x5n | (o.iF ? 0x10n : 0n) | (o.sw ? 0x20n : 0n) | (o.fn ? 0x40n : 0n) | (BigInt(o.sw?.[1] ?? 0) << 32n),
  o.sw?.[0] ?? 0n,
];
const dPiotlb = (g: number, did: number, pasid: number, addr = 0n, am = 0): [bigint, bigint] => [
  0x6n | (BigInt(g) << 4n) | (BigInt(did) << 16n) | (BigInt(pasid) << 32n),
  addr | BigInt(am),
];

/** An invalidation queue at `base` of 128-bit (dw false) or 256-bit descriptors: put() writes one, tail() moves IQT. */
class Queue {
  n = 0;
  constructor(
    readonly g: Guest,
    readonly base: bigint,
    readonly dw: boolean,
  ) {}
  put(d: [bigint, bigint]) {
    const at = this.base + BigInt(this.n) * (this.dw ? 32n : 16n);
    if (this.dw) this.g.write(at, d[0], d[1], 0n, 0n);
    else this.g.write(at, d[0], d[1]);
    this.n++;
  }
  /** IQT.QT counts 128-bit units (VTD_IQT_QT). */
  tail(n = this.n) {
    this.g.mw(IQT, 8, BigInt(n) << (this.dw ? 5n : 4n));
  }
  iqh(n: number) {
    this.g.mr(IQH, 8, BigInt(n) << (this.dw ? 5n : 4n));
  }
  submit(...ds: [bigint, bigint][]) {
    for (const d of ds) this.put(d);
    this.tail();
  }
}

function qiLegacy(): Trace {
  const t = new Trace(
    "intel-iommu queued invalidation, legacy mode (128-bit descriptors): IQA read back (vtd_mem_read: s->iq), QIE enabled with a pending tail and disabled (vtd_handle_gcmd_qie, vtd_queued_inv_disable_check), the wait descriptor's status write and IWC (vtd_process_wait_desc), IQE on a bad descriptor and a bad tail (vtd_fetch_inv_desc, vtd_handle_iqt_write), page- and domain-selective IOTLB invalidation of second-stage 4 KiB / 2 MiB entries (vtd_iotlb_page_invalidate, vtd_hash_remove_by_page), context-cache invalidation (vtd_context_global_invalidate, vtd_context_device_invalidate)",
    "linux-mainline",
  );
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page(),
    pml4b = g.page();
  g.write(root, ctx | 1n);
  const ce = (bdf: string, v: [bigint, bigint]) => g.write(ctx + BigInt(devfn(bdf)) * 16n, ...v);
  ce("00:03.0", legacyCe(pml4, 0, 2, 1));
  ce("00:04.0", legacyCe(pml4, 0, 2, 1));
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  g.map(pml4, 4, 0x40_0000n, 0x80_0000n, 21, SS_RW, SS_RW);
  const leaf5 = g.map(pml4, 4, 0x5000n, 0x21_0000n, 12, SS_RW, SS_RW);
  g.map(pml4b, 4, 0x1000n, 0x24_0000n, 12, SS_RW, SS_RW);
  g.enable(root);
  const iq = g.page();
  const q = new Queue(g, iq, false);
  t.note("IQA reads back s->iq, set only when QIE is enabled (vtd_mem_read DMAR_IQA_REG, vtd_handle_gcmd_qie): before, only QS shows.");
  g.mw(IQA, 8, iq | 1n);
  g.mr(IQA, 8, 1n);
  g.mr(IQA + 4, 4, 0n);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x20_0010n, 12, "r"));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  g.map(pml4, 4, 0x1000n, 0x30_0000n, 12, SS_RW, SS_RW);
  g.map(pml4, 4, 0x40_0000n, 0xc0_0000n, 21, SS_RW, SS_RW);
  t.note("A page-selective IOTLB descriptor queued before QIE: the tail is recorded (vtd_handle_iqt_write), nothing is processed.");
  q.submit(dIotlb(3, 1, 0x1000n));
  q.iqh(0);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x20_0010n, 12, "r"));
  t.note("Enabling QIE with a pending tail processes it at once (vtd_handle_gcmd_qie: 'Windows guests are known to set up Queued Invalidation this way').");
  g.mw(GCMD, 4, TE | QIE);
  g.mr(GSTS, 4, TE | SRTP | QIE);
  q.iqh(1);
  g.mr(IQA, 8, iq | 1n);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x30_0010n, 12, "r"));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  t.note("With QIE on, register-based invalidation is ignored (vtd_handle_iotlb_write): IVT stays set, the 2 MiB entry stays.");
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.mr(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  t.note("Disabling QIE after a non-wait descriptor is refused (vtd_queued_inv_disable_check: iq_last_desc_type must be VTD_INV_DESC_WAIT): QIES stays.");
  g.mw(GCMD, 4, TE);
  g.mr(GSTS, 4, TE | SRTP | QIE);
  t.note(
    "A page-selective descriptor at an address inside the 2 MiB page drops it (vtd_hash_remove_by_page: entry->gfn == (addr & entry->mask) >> 12); then a wait descriptor: SW writes its status dword where hi points (here the leaf entry of 0x5000, not cached yet), IF sets ICS.IWC and IECTL.IP (IM set).",
  );
  q.submit(dIotlb(3, 1, 0x45_6000n), dWait({ sw: [leaf5, 0x22_0003], iF: true }));
  q.iqh(3);
  g.mr(ICS, 4, 1n);
  g.mr(IECTL, 4, 0xc000_0000n);
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0xc0_0010n, 21, "r"));
  g.dma("00:03.0", 0x5010n, "read", g.hit(0x22_0010n, 12, "r"));
  t.note("After a wait descriptor, disabling QIE is done: QIES clears and IQH is reset to 0; IQA still reads s->iq; register-based invalidation works again.");
  g.mw(GCMD, 4, TE);
  g.mr(GSTS, 4, TE | SRTP);
  q.iqh(0);
  g.mr(IQA, 8, iq | 1n);
  g.map(pml4, 4, 0x1000n, 0x31_0000n, 12, SS_RW, SS_RW);
  g.mw(IVA, 8, 0x1000n);
  g.mw(IOTLB, 8, (1n << 63n) | (3n << 60n) | (1n << 32n));
  g.mr(IOTLB, 8, (3n << 60n) | (3n << 57n) | (1n << 32n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  t.note(
    "Re-enabling QIE: the head restarts at 0 but the tail kept its value, so the three descriptors are processed again; the wait descriptor rewrites the leaf of 0x5000 the guest had changed meanwhile (IWC was already set: no new completion event).",
  );
  g.map(pml4, 4, 0x5000n, 0x23_0000n, 12, SS_RW, SS_RW);
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.mw(GCMD, 4, TE | QIE);
  q.iqh(3);
  g.dma("00:03.0", 0x5010n, "read", g.hit(0x22_0010n, 12, "r"));
  t.note("An IOTLB descriptor of granularity 0 is invalid: FSTS.IQE, IQH stays on it, FECTL.IP set (IM set); later tail writes are ignored while IQE is set.");
  q.submit(dIotlb(0, 1));
  g.mr(FSTS, 4, 0x10n);
  g.mr(FECTL, 4, 0xc000_0000n);
  q.iqh(3);
  g.write(iq + 3n * 16n, ...dWait({ fn: true }));
  q.tail();
  q.iqh(3);
  t.note("Clearing IQE (write 1) clears FECTL.IP but fetches nothing (vtd_handle_fsts_write); the next tail write does.");
  g.mw(FSTS, 4, 0x10n);
  g.mr(FSTS, 4, 0n);
  g.mr(FECTL, 4, 0x8000_0000n);
  q.iqh(3);
  q.tail();
  q.iqh(4);
  t.note(
    "Context cache: 00:03.0 is moved to another table. A domain-selective context-cache descriptor is done as global (vtd_process_context_cache_desc); a device-selective one for 00:04.0 leaves 00:03.0's cached entry.",
  );
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  ce("00:03.0", legacyCe(pml4b, 0, 2, 1));
  ce("00:04.0", legacyCe(pml4b, 0, 2, 1));
  q.submit(dCc(3, 0, 0x20), dIotlb(1, 0));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x24_0010n, 12, "r"));
  q.submit(dCc(2, 1), dIotlb(2, 1));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x24_0010n, 12, "r"));
  t.note("A tail beyond the queue (256 entries with QS 0) is an invalidation queue error (vtd_fetch_inv_desc).");
  g.mw(IQT, 8, 0x100n << 4n);
  g.mr(FSTS, 4, 0x10n);
  q.iqh(q.n);
  return t;
}

function qiScalableFs(): Trace {
  const t = new Trace(
    "intel-iommu scalable mode (x-flts=on), 256-bit queue: invalidation granularities against first-stage IOTLB entries: page-selective IOTLB (vtd_iotlb_page_invalidate / vtd_hash_remove_by_page drops every first-stage entry of the domain), PASID-based page-selective (vtd_piotlb_page_invalidate / vtd_hash_remove_by_page_piotlb) and PASID-selective (vtd_piotlb_pasid_invalidate / vtd_hash_remove_by_pasid), domain-selective (vtd_iotlb_domain_invalidate); the IQT reserved bit (vtd_handle_iqt_write) and IQA read back with DW",
    ["linux-mainline", "qemu-flts-final"],
  );
  const { g, rtaddr, setPe } = scalableGuest(t, 1, { "x-flts": true }, ["00:03.0", "00:04.0"]);
  const fs = g.page();
  setPe("00:03.0", 0, pe({ pgtt: 1, fs, did: 2 }));
  setPe("00:04.0", 0, pe({ pgtt: 1, fs, did: 3 }));
  g.map(fs, 4, 0x1000n, 0x21_0000n, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x2000n, 0x21_1000n, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x40_0000n, 0x80_0000n, 21, FS_RW, FS_RW);
  g.enable(rtaddr);
  const iq = g.page();
  const q = new Queue(g, iq, true);
  t.note("IQA before QIE shows DW and QS only (s->iq is 0); after, the base too (vtd_mem_read).");
  g.mw(IQA, 8, iq | (1n << 11n));
  g.mr(IQA, 8, 1n << 11n);
  g.mw(GCMD, 4, TE | QIE);
  g.mr(GSTS, 4, TE | SRTP | QIE);
  g.mr(IQA, 8, iq | (1n << 11n));
  const prime = () => {
    g.dma("00:03.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
    g.dma("00:03.0", 0x2010n, "read", g.hit(0x21_1010n, 12, "r"));
    g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
    g.dma("00:04.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  };
  prime();
  const remap = (a: bigint, b: bigint, c: bigint) => {
    g.map(fs, 4, 0x1000n, a, 12, FS_RW, FS_RW);
    g.map(fs, 4, 0x2000n, b, 12, FS_RW, FS_RW);
    g.map(fs, 4, 0x40_0000n, c, 21, FS_RW, FS_RW);
  };
  remap(0x31_0000n, 0x31_1000n, 0xc0_0000n);
  t.note("A page-selective IOTLB descriptor (domain 2, 0x1000): every first-stage entry of domain 2 goes, whatever its address; domain 3's stays.");
  q.submit(dIotlb(3, 2, 0x1000n));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x31_1010n, 12, "r"));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0xc0_0010n, 21, "r"));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  remap(0x41_0000n, 0x41_1000n, 0x80_0000n);
  t.note("A PASID-based page-selective descriptor (domain 2, PASID_0, 0x1000, AM 0) drops that page only.");
  q.submit(dPiotlb(3, 2, 0, 0x1000n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x41_0010n, 12, "r"));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x31_1010n, 12, "r"));
  t.note(
    "At an address inside the 2 MiB page it drops the 2 MiB entry (entry->gfn == (addr & entry->mask) >> 12); for PASID 1 or domain 3 it drops nothing of (domain 2, PASID_0).",
  );
  q.submit(dPiotlb(3, 2, 0, 0x5f_f000n));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  remap(0x51_0000n, 0x51_1000n, 0xc0_0000n);
  q.submit(dPiotlb(3, 2, 1, 0x1000n), dPiotlb(3, 3, 0, 0x8000n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x41_0010n, 12, "r"));
  t.note("AM 1 at 0x2000 covers 0x2000-0x3fff: 0x2000 goes, 0x1000 stays.");
  q.submit(dPiotlb(3, 2, 0, 0x2000n, 1));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x51_1010n, 12, "r"));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x41_0010n, 12, "r"));
  t.note("PASID-selective (domain 2, PASID_0): every entry of it; domain 3's stays until a domain-selective IOTLB descriptor.");
  q.submit(dPiotlb(2, 2, 0));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x51_0010n, 12, "r"));
  g.dma("00:03.0", 0x40_0010n, "read", g.hit(0xc0_0010n, 21, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  q.submit(dIotlb(2, 3));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x51_0010n, 12, "r"));
  q.iqh(q.n);
  t.note("A PASID-based descriptor of granularity 1 is invalid (vtd_process_piotlb_desc): IQE, IQH stays on it.");
  q.submit(dPiotlb(1, 2, 0));
  g.mr(FSTS, 4, 0x10n);
  q.iqh(q.n - 1);
  g.mw(FSTS, 4, 0x10n);
  t.note("With 256-bit descriptors, IQT bit 4 is reserved: IQE, the tail is not taken (vtd_handle_iqt_write).");
  g.mw(IQT, 8, (BigInt(q.n) << 5n) | 0x10n);
  g.mr(FSTS, 4, 0x10n);
  t.note("A wait descriptor whose status write fails (no memory at 64 GiB) is an IQE, but its IF still sets ICS.IWC (vtd_process_wait_desc).");
  g.mw(FSTS, 4, 0x10n);
  g.write(iq + BigInt(q.n - 1) * 32n, ...dWait({ sw: [0x10_0000_0000n, 1], iF: true }), 0n, 0n);
  q.tail();
  g.mr(FSTS, 4, 0x10n);
  g.mr(ICS, 4, 1n);
  q.iqh(q.n - 1);
  return t;
}

function qiScalableSs(): Trace {
  const t = new Trace(
    "intel-iommu scalable mode, second stage (PGTT 010b) through PASID_0, 256-bit queue: a PASID-based page-selective descriptor keeps second-stage entries (vtd_hash_remove_by_page_piotlb), a PASID-selective one drops them (vtd_hash_remove_by_pasid), a page-selective IOTLB descriptor drops only the pages it covers (vtd_hash_remove_by_page), a changed PASID entry read on the next IOTLB miss, QIE disabled after a wait descriptor (vtd_queued_inv_disable_check)",
    "linux-mainline",
  );
  const { g, rtaddr, setPe } = scalableGuest(t, 1, {}, ["00:03.0", "00:04.0"]);
  const ss = g.page(),
    ss2 = g.page();
  setPe("00:03.0", 0, pe({ pgtt: 2, ss, did: 2 }));
  setPe("00:04.0", 0, pe({ pgtt: 2, ss, did: 2 }));
  g.map(ss, 4, 0x1000n, 0x21_0000n, 12, SS_RW, SS_RW);
  g.map(ss, 4, 0x2000n, 0x21_1000n, 12, SS_RW, SS_RW);
  g.map(ss2, 4, 0x1000n, 0x26_0000n, 12, SS_RW, SS_RW);
  g.enable(rtaddr);
  const iq = g.page();
  const q = new Queue(g, iq, true);
  g.mw(IQA, 8, iq | (1n << 11n));
  g.mw(GCMD, 4, TE | QIE);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x21_1010n, 12, "r"));
  g.map(ss, 4, 0x1000n, 0x31_0000n, 12, SS_RW, SS_RW);
  g.map(ss, 4, 0x2000n, 0x31_1000n, 12, SS_RW, SS_RW);
  t.note("PASID-based page-selective (domain 2, PASID_0, 0x1000): second-stage entries stay.");
  q.submit(dPiotlb(3, 2, 0, 0x1000n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  t.note("Page-selective IOTLB (domain 2, 0x1000): the second-stage entry of 0x1000 goes, 0x2000's stays.");
  q.submit(dIotlb(3, 2, 0x1000n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x21_1010n, 12, "r"));
  t.note("PASID-selective (domain 2, PASID_0): every entry of it, second stage too.");
  q.submit(dPiotlb(2, 2, 0));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x31_1010n, 12, "r"));
  t.note("00:03.0's PASID_0 entry now points to another table: the IOTLB still answers, a domain-selective descriptor makes the walk read the new entry.");
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  setPe("00:03.0", 0, pe({ pgtt: 2, ss: ss2, did: 2 }));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  q.submit(dIotlb(2, 2));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x26_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  t.note("A wait descriptor (FN only) drains the queue; disabling QIE then succeeds.");
  q.submit(dWait({ fn: true }));
  q.iqh(q.n);
  g.mw(GCMD, 4, TE);
  g.mr(GSTS, 4, TE | SRTP);
  q.iqh(0);
  return t;
}

const CCMD_GLOBAL = (1n << 63n) | (1n << 61n);
const ccmdDevice = (sid: number) => (1n << 63n) | (3n << 61n) | (BigInt(sid) << 16n);
const ALL_ONES = 0xffff_ffff_ffff_ffffn;

function faultRecording(): Trace {
  const t = new Trace(
    "intel-iommu fault recording as the guest sees it: FSTS (PPF, PFO, FRI), FECTL.IP / IM, FRCD.F and its clearing, collapsing, FPD, PV / PP of a walk fault and of a context-lookup fault (vtd_report_dmar_fault, vtd_report_frcd_fault, vtd_try_collapse_fault, vtd_update_fsts_ppf, vtd_generate_fault_event, vtd_handle_fsts_write, vtd_handle_fectl_write)",
    "linux-mainline",
  );
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0", "00:05.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n);
  g.write(ctx + BigInt(devfn("00:03.0")) * 16n, ...legacyCe(pml4, 0, 2, 1));
  g.write(ctx + BigInt(devfn("00:05.0")) * 16n, 0x2n, 0n); // not present, FPD set
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_R, SS_RW);
  g.enable(root);
  t.note("After reset (vtd_init): FECTL.IM set, FSTS clear.");
  g.mr(FECTL, 4, 0x8000_0000n);
  g.mr(FSTS, 4, 0n);
  t.note(
    "A walk fault (legacy mode: PV 0xffff = PCI_NO_PASID, PP clear) sets F, PPF with FRI 0, and FECTL.IP: IM is set, so no interrupt (vtd_generate_fault_event).",
  );
  g.dma("00:03.0", 0x5008n, "read", { fault: "VTD_FR_READ" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FECTL, 4, 0xc000_0000n);
  g.mr(FRCD, 8, 0x5000n);
  g.mr(FRCD + 8, 8, 0xc0ff_ff06_0000_0018n);
  t.note("A second fault from the same source id while F is set is collapsed (vtd_try_collapse_fault): nothing changes, no PFO.");
  g.dma("00:03.0", 0x1000n, "write", { fault: "VTD_FR_WRITE" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FRCD + 8, 8, 0xc0ff_ff06_0000_0018n);
  t.note("00:05.0's context entry is not present with FPD set: VTD_FR_CONTEXT_ENTRY_P is qualified, so it is not reported (vtd_report_fault).");
  g.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x2n);
  t.note("00:04.0 has no context entry (FPD clear): the only recording register is in use, so PFO is set.");
  g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x3n);
  t.note("Clearing PFO (write 1) leaves PPF, so FECTL.IP stays (vtd_handle_fsts_write). Writing 0 to F changes nothing.");
  g.mw(FSTS, 4, 0x1n);
  g.mr(FSTS, 4, 0x2n);
  g.mr(FECTL, 4, 0xc000_0000n);
  g.mw(FRCD + 12, 4, 0n);
  g.mr(FSTS, 4, 0x2n);
  t.note("An 8-byte write of bit 63 to FRCD's high half clears F and PPF (vtd_update_fsts_ppf); the rest of the record stays; IP stays until FSTS is written.");
  g.mw(FRCD + 8, 8, 0x8000_0000_0000_0000n);
  g.mr(FSTS, 4, 0n);
  g.mr(FRCD + 8, 8, 0x40ff_ff06_0000_0018n);
  g.mr(FECTL, 4, 0xc000_0000n);
  g.mw(FSTS, 4, 0n);
  g.mr(FECTL, 4, 0x8000_0000n);
  t.note("A context-lookup fault is recorded without PASID: PV 0, PP clear (vtd_report_fault(..., false, 0)); a write, so T clear.");
  g.dma("00:04.0", 0x7123n, "write", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FRCD, 8, 0x7000n);
  g.mr(FRCD + 8, 8, 0x8000_0002_0000_0020n);
  t.note("Clear F (4-byte write), then FSTS; unmask (IM clear): the next fault sends the interrupt and leaves IP clear.");
  g.mw(FRCD + 12, 4, 0x8000_0000n);
  g.mw(FSTS, 4, 0n);
  g.mw(FEDATA, 4, 0x30n);
  g.mw(FEADDR, 4, 0xfee0_0000n);
  g.mw(FECTL, 4, 0n);
  g.mr(FECTL, 4, 0n);
  g.dma("00:03.0", 0x6000n, "read", { fault: "VTD_FR_READ" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FECTL, 4, 0n);
  g.mr(FRCD + 8, 8, 0xc0ff_ff06_0000_0018n);
  return t;
}

function scalableEntryChecks(): Trace {
  const t = new Trace(
    "intel-iommu scalable mode: root entry halves (LP for devfn < 128, UP above; both checked for reserved bits: vtd_root_entry_rsvd_bits_check), table pointers beyond guest RAM (vtd_get_pe_from_pasid_table, vtd_iova_to_sspte, vtd_iova_to_fspte), entries read as all ones (vtd_get_pte)",
    ["linux-mainline", "qemu-flts-final"],
  );
  const g = new Guest(t, 1, { "x-scalable-mode": true }, ["00:03.0", "00:04.0", "00:05.0", "00:10.0"]);
  const root = g.page(),
    lctx = g.page(),
    uctx = g.page(),
    dir = g.page(),
    tbl = g.page(),
    ss = g.page();
  g.write(root, lctx | 1n, uctx | 1n);
  g.write(dir, tbl | 1n);
  g.write(tbl, ...pe({ pgtt: 2, ss, did: 1 }));
  g.write(lctx + BigInt(devfn("00:03.0")) * 32n, ...smCe(dir));
  g.write(uctx, ...smCe(dir)); // devfn 0x80: entry 0 of the upper context table
  t.note("00:04.0: its PASID directory entry points to a table with bit 50 set (beyond guest RAM; QEMU masks it with ~0xfff only).");
  const dir4 = g.page();
  g.write(dir4, tbl | (1n << 50n) | 1n);
  g.write(lctx + BigInt(devfn("00:04.0")) * 32n, ...smCe(dir4));
  t.note("00:05.0: its PASID_0 entry's SSPTPTR has bit 50 set (VTD_SM_PASID_ENTRY_SSPTPTR is ~0xfff).");
  const dir5 = g.page(),
    tbl5 = g.page();
  g.write(dir5, tbl5 | 1n);
  g.write(tbl5, ...pe({ pgtt: 2, ss: ss | (1n << 50n), did: 1 }));
  g.write(lctx + BigInt(devfn("00:05.0")) * 32n, ...smCe(dir5));
  g.map(ss, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  g.map(ss, 4, 0x2000n, 0x20_1000n, 12, SS_RW, SS_RW);
  g.map(ss, 4, 0x3000n, 0x20_2000n, 12, SS_RW, SS_RW);
  const leaf = g.map(ss, 4, 0x5000n, 0x20_5000n, 12, SS_RW, SS_RW);
  g.write(leaf, ALL_ONES);
  g.write(ss + 8n, ALL_ONES); // PML4 entry 1 (iova 2^39)
  g.enable(root | (1n << 10n));
  g.dma("00:03.0", 0x1000n, "write", g.hit(0x20_0000n, 12, "rw"));
  g.dma("00:10.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  t.note("An entry read as all ones is a read error (vtd_get_pte returns -1): at the top level VTD_FR_CONTEXT_ENTRY_INV, below VTD_FR_PAGING_ENTRY_INV.");
  g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_PAGING_ENTRY_INV" });
  g.dma("00:03.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  t.note("A PASID table beyond guest RAM: VTD_FR_PASID_TABLE_ACCESS_ERR (vtd_ce_pasid_0_check); a second-stage table beyond it: the top-level read fails.");
  g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ACCESS_ERR" });
  g.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  t.note(
    "A reserved bit in the root entry's UP half faults devfn < 128 too: both halves are checked in scalable mode (after a global context-cache invalidation).",
  );
  g.write(root + 8n, uctx | 0x10n | 1n);
  g.mw(CCMD, 8, CCMD_GLOBAL);
  g.dma("00:03.0", 0x2000n, "read", { fault: "VTD_FR_ROOT_ENTRY_RSVD" });
  g.dma("00:10.0", 0x2000n, "read", { fault: "VTD_FR_ROOT_ENTRY_RSVD" });
  t.note("And one in the LP half faults devfn >= 128.");
  g.write(root, lctx | 0x10n | 1n, uctx | 1n);
  g.dma("00:10.0", 0x3000n, "read", { fault: "VTD_FR_ROOT_ENTRY_RSVD" });
  t.note("UP not present: devfn >= 128 has no context table (VTD_FR_ROOT_ENTRY_P); devfn < 128 translates.");
  g.write(root, lctx | 1n, 0n);
  g.dma("00:10.0", 0x3000n, "read", { fault: "VTD_FR_ROOT_ENTRY_P" });
  g.dma("00:03.0", 0x3000n, "read", g.hit(0x20_2000n, 12, "r"));

  t.note(
    "x-flts: an all-ones first-stage entry is VTD_FR_PASID_ENTRY_FSPTPTR_INV at the top, VTD_FR_FS_PAGING_ENTRY_INV below; an FSPTPTR beyond guest RAM is the former.",
  );
  const h = scalableGuest(t, 2, { "x-flts": true }, ["00:03.0", "00:04.0"]);
  const fs = h.g.page();
  h.setPe("00:03.0", 0, pe({ pgtt: 1, fs, did: 1 }));
  h.setPe("00:04.0", 0, pe({ pgtt: 1, fs: fs | (1n << 50n), did: 1 }));
  h.g.map(fs, 4, 0x1000n, 0x21_0000n, 12, FS_RW, FS_RW);
  const fleaf = h.g.map(fs, 4, 0x5000n, 0x21_5000n, 12, FS_RW, FS_RW);
  h.g.write(fleaf, ALL_ONES);
  h.g.write(fs + 8n, ALL_ONES);
  h.g.enable(h.rtaddr);
  h.g.dma("00:03.0", 0x1000n, "read", h.g.hit(0x21_0000n, 12, "r"));
  h.g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_INV" });
  h.g.dma("00:03.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_PASID_ENTRY_FSPTPTR_INV" });
  h.g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_PASID_ENTRY_FSPTPTR_INV" });
  return t;
}

function ptAddressSpace(): Trace {
  const t = new Trace(
    "intel-iommu pass-through address-space switch: QEMU decides pass-through per device when TE, SRTP or a context-cache invalidation switches address spaces, and on the first pass-through translation (vtd_switch_address_space, vtd_as_pt_enabled, vtd_dev_pt_enabled, vtd_pt_enable_fast_path); a switched device is not translated until the next switch",
    "linux-mainline",
  );
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n);
  const ce = (bdf: string, v: [bigint, bigint]) => g.write(ctx + BigInt(devfn(bdf)) * 16n, ...v);
  ce("00:03.0", legacyCe(0n, 2, 2, 1));
  ce("00:04.0", legacyCe(pml4, 0, 2, 2));
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  g.map(pml4, 4, 0x3000n, 0x20_3000n, 12, SS_RW, SS_RW);
  g.enable(root);
  t.note(
    "TE switched 00:03.0 to pass-through (vtd_handle_gcmd_te -> vtd_switch_address_space_all). The guest makes it translated without a context-cache invalidation: still pass-through, even after an IOTLB invalidation.",
  );
  ce("00:03.0", legacyCe(pml4, 0, 2, 1));
  g.dma("00:03.0", 0x1000n, "read", g.hit(0x1000n, 12, "rw"));
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.dma("00:03.0", 0x1000n, "read", g.hit(0x1000n, 12, "rw"));
  t.note("A device-selective context-cache invalidation switches it back (vtd_context_device_invalidate).");
  g.mw(CCMD, 8, ccmdDevice(devfn("00:03.0")));
  g.dma("00:03.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  t.note("00:04.0 translates; made pass-through without invalidation, its cached context entry still translates a new page.");
  g.dma("00:04.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  ce("00:04.0", legacyCe(0n, 2, 2, 2));
  g.dma("00:04.0", 0x3000n, "read", g.hit(0x20_3000n, 12, "r"));
  t.note(
    "After its invalidation it is pass-through; made translated again without one, it stays pass-through; SRTP switches every device (vtd_handle_gcmd_srtp).",
  );
  g.mw(CCMD, 8, ccmdDevice(devfn("00:04.0")));
  g.dma("00:04.0", 0x3000n, "read", g.hit(0x3000n, 12, "rw"));
  ce("00:04.0", legacyCe(pml4, 0, 2, 2));
  g.dma("00:04.0", 0x1000n, "read", g.hit(0x1000n, 12, "rw"));
  g.mw(GCMD, 4, TE | SRTP);
  g.dma("00:04.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));

  t.note("Scalable mode: PASID_0's PGTT decides (vtd_dev_pt_enabled with PCI_NO_PASID).");
  const h = scalableGuest(t, 2, {}, ["00:03.0"]);
  const ss = h.g.page();
  h.g.map(ss, 4, 0x1000n, 0x21_0000n, 12, SS_RW, SS_RW);
  h.g.map(ss, 4, 0x2000n, 0x21_1000n, 12, SS_RW, SS_RW);
  h.g.map(ss, 4, 0x3000n, 0x21_2000n, 12, SS_RW, SS_RW);
  h.setPe("00:03.0", 0, pe({ pgtt: 4, did: 1 }));
  h.g.enable(h.rtaddr);
  t.note("Pass-through at TE; PASID_0 made second stage without invalidation: still pass-through.");
  h.setPe("00:03.0", 0, pe({ pgtt: 2, ss, did: 1 }));
  h.g.dma("00:03.0", 0x1000n, "read", h.g.hit(0x1000n, 12, "rw"));
  t.note("A global context-cache invalidation switches it back (vtd_context_global_invalidate -> vtd_address_space_refresh_all).");
  h.g.mw(CCMD, 8, CCMD_GLOBAL);
  h.g.dma("00:03.0", 0x1000n, "read", h.g.hit(0x21_0000n, 12, "r"));
  t.note(
    "PASID_0 made pass-through without invalidation: a new page misses the IOTLB, the PASID entry is read again: pass-through, and the fast path switches the device (vtd_pt_enable_fast_path).",
  );
  h.setPe("00:03.0", 0, pe({ pgtt: 4, did: 1 }));
  h.g.dma("00:03.0", 0x2000n, "read", h.g.hit(0x2000n, 12, "rw"));
  t.note("Second stage again without invalidation: the switched device is not translated, even for a page in the IOTLB.");
  h.setPe("00:03.0", 0, pe({ pgtt: 2, ss, did: 1 }));
  h.g.dma("00:03.0", 0x3000n, "read", h.g.hit(0x3000n, 12, "rw"));
  h.g.dma("00:03.0", 0x1000n, "read", h.g.hit(0x1000n, 12, "rw"));
  return t;
}

const BEYOND_RAM = 0x1000_0000n; // 256 MiB: above the 64 MiB of guest RAM, under every address width

/** A scalable-mode context entry for `bdf` pointing to a PASID directory whose entry 0 points to `table` (with `dirBits`). */
function smDevice(g: Guest, ctx: bigint, bdf: string, table: bigint, dirBits = 1n): bigint {
  const dir = g.page();
  g.write(dir, table | dirBits);
  g.write(ctx + BigInt(devfn(bdf)) * 32n, ...smCe(dir));
  return dir;
}

function beyondRam(): Trace {
  const t = new Trace(
    "intel-iommu table reads beyond guest RAM (under the address width): vtd_get_root_entry (VTD_FR_ROOT_TABLE_INV), vtd_get_context_entry_from_root (VTD_FR_CONTEXT_TABLE_INV), vtd_get_pte in vtd_iova_to_sspte / vtd_iova_to_fspte, vtd_get_pdire_from_pdir_table (VTD_FR_PASID_DIR_ACCESS_ERR), vtd_get_pe_from_pdire (VTD_FR_PASID_TABLE_ACCESS_ERR)",
    ["linux-mainline", "qemu-flts-final"],
  );
  t.note("Legacy mode; 01:00.0's context table (bus 1) is beyond guest RAM.");
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0", "00:05.0", "01:00.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n, 0n, BEYOND_RAM | 1n);
  const ce = (bdf: string, v: [bigint, bigint]) => g.write(ctx + BigInt(devfn(bdf)) * 16n, ...v);
  ce("00:03.0", legacyCe(BEYOND_RAM, 0, 2, 1)); // SLPTPTR beyond RAM
  ce("00:04.0", legacyCe(pml4, 0, 2, 1));
  ce("00:05.0", legacyCe(pml4, 0, 2, 1));
  g.write(pml4 + 8n, BEYOND_RAM | SS_RW); // PML4 entry 1 (iova 2^39): a page-directory-pointer table beyond RAM
  g.map(pml4, 4, 0x1000n, BEYOND_RAM, 12, SS_RW, SS_RW); // a leaf beyond RAM: the vIOMMU translates it
  g.enable(root);
  g.dma("01:00.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_TABLE_INV" });
  g.dma("00:03.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  g.dma("00:04.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_PAGING_ENTRY_INV" });
  g.dma("00:05.0", 0x1010n, "read", g.hit(BEYOND_RAM + 0x10n, 12, "r"));
  t.note("FRCD0 holds the first fault (context table, 01:00.0: SID 0x100, FR 9, a read; PV 0: a context-lookup fault); the rest overflow (PFO).");
  g.mr(FSTS, 4, 0x3n);
  g.mr(FRCD + 8, 8, 0xc000_0009_0000_0100n);
  t.note("The root table beyond RAM: VTD_FR_ROOT_TABLE_INV (vtd_get_root_entry), after SRTP.");
  g.mw(FRCD + 12, 4, 0x8000_0000n);
  g.mw(FSTS, 4, 0x1n);
  g.mw(RTADDR, 8, BEYOND_RAM);
  g.mw(GCMD, 4, TE | SRTP);
  g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_ROOT_TABLE_INV" });
  g.mr(FRCD + 8, 8, 0xc000_0008_0000_0020n);

  t.note("Scalable mode: a PASID directory, a PASID table, a second-stage table and a lower-level table beyond RAM.");
  const s = new Guest(t, 2, { "x-scalable-mode": true }, ["00:03.0", "00:04.0", "00:05.0", "00:06.0"]);
  const sroot = s.page(),
    sctx = s.page(),
    ss = s.page(),
    tbl = s.page();
  s.write(sroot, sctx | 1n);
  s.write(sctx + BigInt(devfn("00:03.0")) * 32n, ...smCe(BEYOND_RAM));
  smDevice(s, sctx, "00:04.0", BEYOND_RAM);
  const tbl5 = s.page();
  smDevice(s, sctx, "00:05.0", tbl5);
  s.write(tbl5, ...pe({ pgtt: 2, ss: BEYOND_RAM, did: 1 }));
  smDevice(s, sctx, "00:06.0", tbl);
  s.write(tbl, ...pe({ pgtt: 2, ss, did: 1 }));
  s.write(ss + 8n, BEYOND_RAM | SS_RW);
  s.map(ss, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  s.enable(sroot | (1n << 10n));
  s.dma("00:03.0", 0x1000n, "read", { fault: "VTD_FR_PASID_DIR_ACCESS_ERR" });
  s.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ACCESS_ERR" });
  s.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_INV" });
  s.dma("00:06.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_PAGING_ENTRY_INV" });
  s.dma("00:06.0", 0x1000n, "read", s.hit(0x20_0000n, 12, "r"));

  t.note("First stage (x-flts): FSPTPTR beyond RAM, and a lower-level table beyond it.");
  const h = scalableGuest(t, 3, { "x-flts": true }, ["00:03.0", "00:04.0"]);
  const fs = h.g.page();
  h.setPe("00:03.0", 0, pe({ pgtt: 1, fs: BEYOND_RAM, did: 1 }));
  h.setPe("00:04.0", 0, pe({ pgtt: 1, fs, did: 1 }));
  h.g.write(fs + 8n, BEYOND_RAM | FS_RW);
  h.g.enable(h.rtaddr);
  h.g.dma("00:03.0", 0x1000n, "read", { fault: "VTD_FR_PASID_ENTRY_FSPTPTR_INV" });
  h.g.dma("00:04.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_INV" });
  return t;
}

const FPD = 2n;

function faultProcessingDisable(): Trace {
  const t = new Trace(
    "intel-iommu FPD in the context entry, the PASID directory entry and the PASID entry: vtd_do_iommu_translate's is_fpd_set, vtd_ce_get_pasid_fpd, vtd_report_fault (vtd_qualified_faults; trace vtd_fault_disabled), FSTS/FRCD after them",
    ["linux-mainline", "qemu-flts-final"],
  );
  t.note("Legacy: FPD set in 00:03.0's context entry (a non-present leaf), in 00:04.0's non-present one, in 00:05.0's with a reserved bit.");
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0", "00:05.0", "00:06.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n);
  const ce = (bdf: string, v: [bigint, bigint]) => g.write(ctx + BigInt(devfn(bdf)) * 16n, ...v);
  const [lo3, hi3] = legacyCe(pml4, 0, 2, 1);
  ce("00:03.0", [lo3 | FPD, hi3]);
  ce("00:04.0", [FPD, 0n]);
  const [lo5, hi5] = legacyCe(pml4, 0, 2, 1);
  ce("00:05.0", [lo5 | FPD | 0x800n, hi5]);
  ce("00:06.0", legacyCe(pml4, 0, 2, 1));
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_R, SS_RW);
  g.enable(root);
  g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_READ" });
  g.dma("00:03.0", 0x1000n, "write", { fault: "VTD_FR_WRITE" });
  g.dma("00:03.0", 0x80_0000_0000n, "read", { fault: "VTD_FR_READ" });
  g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_RSVD" });
  g.dma("00:03.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  t.note(
    "Only the reserved bit is recorded: VTD_FR_CONTEXT_ENTRY_RSVD has no entry in vtd_qualified_faults (false), so FPD does not suppress it (FRCD0: FR 0xb, SID 00:05.0, PV 0). 00:06.0's fault then overflows (PFO).",
  );
  g.mr(FSTS, 4, 0x2n);
  g.mr(FRCD + 8, 8, 0xc000_000b_0000_0028n);
  g.dma("00:06.0", 0x5000n, "read", { fault: "VTD_FR_READ" });
  g.mr(FSTS, 4, 0x3n);
  g.mr(FRCD + 8, 8, 0xc000_000b_0000_0028n);

  t.note("Scalable: FPD in a PASID directory entry (its PASID table not present, beyond RAM, or a non-present PASID entry), and in a PASID entry.");
  const s = new Guest(t, 2, { "x-scalable-mode": true }, ["00:03.0", "00:04.0", "00:05.0", "00:06.0", "00:07.0"]);
  const sroot = s.page(),
    sctx = s.page(),
    ss = s.page();
  s.write(sroot, sctx | 1n);
  const t3 = s.page(),
    t5 = s.page(),
    t6 = s.page(),
    t7 = s.page();
  smDevice(s, sctx, "00:03.0", t3, FPD); // directory entry not present, FPD set
  smDevice(s, sctx, "00:04.0", BEYOND_RAM, FPD | 1n); // PASID table beyond RAM
  smDevice(s, sctx, "00:05.0", t5, FPD | 1n); // PASID_0 all zero
  smDevice(s, sctx, "00:06.0", t6);
  s.write(t6, ...pe({ pgtt: 2, ss, did: 1 }).map((w, i) => (i === 0 ? w | FPD : w))); // PASID entry FPD: a non-present leaf
  smDevice(s, sctx, "00:07.0", t7);
  s.write(t7, ...pe({ pgtt: 5, ss, did: 1 }).map((w, i) => (i === 0 ? w | FPD : w))); // PASID entry FPD, PGTT reserved
  s.map(ss, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  s.enable(sroot | (1n << 10n));
  s.dma("00:03.0", 0x1000n, "read", { fault: "VTD_FR_PASID_DIR_ENTRY_P" });
  s.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ACCESS_ERR" });
  s.dma("00:05.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" }); // an all-zero PASID entry: PGTT 0 (vtd_get_pe_from_pdire checks it before P)
  s.dma("00:06.0", 0x5000n, "read", { fault: "VTD_FR_READ" });
  s.dma("00:06.0", 0x1000n, "read", s.hit(0x20_0000n, 12, "r"));
  s.dma("00:07.0", 0x1000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" });
  t.note(
    "The directory entry's FPD does not hide its own P fault: vtd_dev_to_context_entry's PASID_0 check (vtd_ce_pasid_0_check) fails first, before vtd_ce_get_pasid_fpd is consulted; FRCD0 has it (FR 0x51, SID 00:03.0), the rest overflow.",
  );
  s.mr(FSTS, 4, 0x3n);
  s.mr(FRCD + 8, 8, 0xc000_0051_0000_0018n);
  return t;
}

function translationTypes(): Trace {
  const t = new Trace(
    "intel-iommu translation types: PGTT in PASID_0 with and without x-flts and pt (vtd_pe_type_check, vtd_get_pe_from_pdire's level checks), legacy TT with and without pt / device-iotlb (vtd_ce_type_check), the context entry's AW against SAGAW for aw-bits 48 and 39 (vtd_is_ss_level_supported in vtd_dev_to_context_entry)",
    ["linux-mainline", "qemu-flts-final"],
  );
  const scalable = (pid: number, props: Record<string, unknown>, note: string) => {
    t.note(note);
    const devs = ["00:03.0", "00:04.0", "00:05.0", "00:06.0", "00:07.0", "00:08.0", "00:09.0", "00:0a.0"];
    const h = scalableGuest(t, pid, props, devs);
    const ss = h.g.page(),
      ss3 = h.g.page(),
      fs = h.g.page();
    h.g.map(ss, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
    h.g.map(ss3, 3, 0x1000n, 0x20_1000n, 12, SS_RW, SS_RW);
    h.g.map(fs, 4, 0x1000n, 0x20_2000n, 12, FS_RW, FS_RW);
    const cases: [number, Record<string, unknown>][] = [
      [1, { fs }],
      [2, { ss }],
      [3, { ss, fs }],
      [4, {}],
      [0, { ss }],
      [5, { ss }],
      [2, { ss: ss3, aw: 1 }],
      [2, { ss, aw: 3 }],
    ];
    for (const [i, [pgtt, o]] of cases.entries()) h.setPe(devs[i]!, 0, pe({ pgtt, did: 1, ...o }));
    h.g.enable(h.rtaddr);
    return h.g;
  };
  const inv = { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" };
  let g = scalable(
    1,
    {},
    "Scalable, second stage only (ECAP.SSTS, PT): PGTT 1 (first stage) and 3 (nested) are invalid, 4 passes through, 0 and 5 are reserved; SS levels 3 and 4 (SAGAW), not 5.",
  );
  g.dma("00:03.0", 0x1000n, "read", inv);
  g.dma("00:04.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  g.dma("00:05.0", 0x1000n, "read", inv);
  g.dma("00:06.0", 0x1000n, "read", g.hit(0x1000n, 12, "rw"));
  g.dma("00:07.0", 0x1000n, "read", inv);
  g.dma("00:08.0", 0x1000n, "read", inv);
  g.dma("00:09.0", 0x1000n, "read", g.hit(0x20_1000n, 12, "r"));
  g.dma("00:0a.0", 0x1000n, "read", inv);
  g = scalable(2, { "x-flts": true }, "x-flts (ECAP.FSTS, no SSTS): PGTT 1 translates, 2 (second stage) and 3 are invalid, 4 passes through.");
  g.dma("00:03.0", 0x1000n, "read", g.hit(0x20_2000n, 12, "r"));
  g.dma("00:04.0", 0x1000n, "read", inv);
  g.dma("00:05.0", 0x1000n, "read", inv);
  g.dma("00:06.0", 0x1000n, "read", g.hit(0x1000n, 12, "rw"));
  g.dma("00:07.0", 0x1000n, "read", inv);
  g = scalable(3, { pt: false }, "pt=off (no ECAP.PT): PGTT 4 is invalid.");
  g.dma("00:06.0", 0x1000n, "read", inv);
  g.dma("00:04.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));

  const legacyGuest = (pid: number, props: Record<string, unknown>, note: string) => {
    t.note(note);
    const devs = ["00:03.0", "00:04.0", "00:05.0", "00:06.0", "00:07.0", "00:08.0", "00:09.0"];
    const g = new Guest(t, pid, props, devs);
    const root = g.page(),
      ctx = g.page(),
      pml4 = g.page(),
      l3 = g.page();
    g.write(root, ctx | 1n);
    g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
    g.map(l3, 3, 0x1000n, 0x20_1000n, 12, SS_RW, SS_RW);
    const ces: [bigint, number, number][] = [
      [pml4, 0, 2],
      [pml4, 1, 2],
      [0n, 2, 2],
      [pml4, 3, 2],
      [l3, 0, 1],
      [pml4, 0, 0],
      [pml4, 0, 3],
    ];
    for (const [i, [table, tt, aw]] of ces.entries()) g.write(ctx + BigInt(devfn(devs[i]!)) * 16n, ...legacyCe(table, tt, aw, 1));
    g.enable(root);
    return g;
  };
  const ceInv = { fault: "VTD_FR_CONTEXT_ENTRY_INV" };
  g = legacyGuest(
    4,
    {},
    "Legacy: TT 0 translates, TT 1 (device-TLB) is invalid without device-iotlb, TT 2 passes through (ECAP.PT), TT 3 is reserved; AW 1 (3 levels) translates, AW 0 (2 levels) and AW 3 (5 levels) are not in SAGAW.",
  );
  g.dma("00:03.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  g.dma("00:04.0", 0x1000n, "read", ceInv);
  g.dma("00:05.0", 0x1000n, "read", g.hit(0x1000n, 12, "rw"));
  g.dma("00:06.0", 0x1000n, "read", ceInv);
  g.dma("00:07.0", 0x1000n, "read", g.hit(0x20_1000n, 12, "r"));
  g.dma("00:08.0", 0x1000n, "read", ceInv);
  g.dma("00:09.0", 0x1000n, "read", ceInv);
  g = legacyGuest(5, { pt: false, "device-iotlb": true }, "pt=off: TT 2 is invalid; device-iotlb=on: TT 1 translates.");
  g.dma("00:05.0", 0x1000n, "read", ceInv);
  g.dma("00:04.0", 0x1000n, "read", g.hit(0x20_0000n, 12, "r"));
  g = legacyGuest(6, { "aw-bits": 39 }, "aw-bits=39: SAGAW has 3 levels only: AW 2 (4 levels) is invalid, AW 1 translates.");
  g.dma("00:03.0", 0x1000n, "read", ceInv);
  g.dma("00:07.0", 0x1000n, "read", g.hit(0x20_1000n, 12, "r"));
  return t;
}

function firstStageWalker(): Trace {
  const t = new Trace(
    "intel-iommu first-stage walker (vtd_iova_to_fspte): 4 KiB / 2 MiB / 1 GiB leaves, a non-present entry at each level (VTD_FR_FS_PAGING_ENTRY_P), a reserved bit at each level (vtd_fspte_nonzero_rsvd), a supervisor-only entry (VTD_FR_FS_PAGING_ENTRY_US: requests are never privileged), a read-only page written (VTD_FR_SM_WRITE), a non-canonical iova (vtd_iova_fs_check_canonical), A/D set by vtd_set_flag_in_pte leaving the translation alone",
    ["linux-mainline", "qemu-flts-final"],
  );
  const h = scalableGuest(t, 1, { "x-flts": true }, ["00:03.0"]);
  const g = h.g;
  const fs = g.page();
  h.setPe("00:03.0", 0, pe({ pgtt: 1, fs, did: 1 }));
  const RSVD = 1n << 51n; // above aw-bits 48: reserved at every level
  g.map(fs, 4, 0x1000n, 0x21_0000n, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x2000n, 0x21_1000n, 12, FS_R, FS_RW);
  g.map(fs, 4, 0x3000n, 0x21_2000n, 12, 3n /* P | RW, no US */, FS_RW);
  g.map(fs, 4, 0xa000n, 0x21_a000n | RSVD, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x40_0000n, 0x80_0000n, 21, FS_RW, FS_RW);
  g.map(fs, 4, 0x8000_0000n, 0x0n, 30, FS_RW, FS_RW);
  const mask = 0x000f_ffff_ffff_f000n;
  const pdpt = g.read(fs) & mask,
    pd = g.read(pdpt) & mask;
  g.write(fs + 3n * 8n, g.page() | FS_RW | RSVD); // PML4 entry 3 (iova 0x180_0000_0000)
  g.write(pdpt + 6n * 8n, g.page() | FS_RW | RSVD); // PDPT entry 6 (iova 0x1_8000_0000)
  g.write(pd + 8n * 8n, g.page() | FS_RW | RSVD); // PD entry 8 (iova 0x100_0000)
  g.enable(h.rtaddr);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  g.dma("00:03.0", 0x1020n, "write", g.hit(0x21_0020n, 12, "rw"));
  g.dma("00:03.0", 0x41_2345n, "read", g.hit(0x81_2345n, 21, "r"));
  g.dma("00:03.0", 0x8012_3456n, "read", g.hit(0x12_3456n, 30, "r"));
  g.dma("00:03.0", 0x2000n, "write", { fault: "VTD_FR_SM_WRITE" });
  g.dma("00:03.0", 0x2000n, "read", g.hit(0x21_1000n, 12, "r"));
  g.dma("00:03.0", 0x3000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_US" });
  t.note("Non-present at level 4, 3, 2, 1.");
  g.dma("00:03.0", 0x100_0000_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_P" });
  g.dma("00:03.0", 0x1_4000_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_P" });
  g.dma("00:03.0", 0xe0_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_P" });
  g.dma("00:03.0", 0x9000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_P" });
  t.note("A reserved bit at level 4, 3, 2, 1.");
  g.dma("00:03.0", 0x180_0000_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x1_8000_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0x100_0000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_RSVD" });
  g.dma("00:03.0", 0xa000n, "read", { fault: "VTD_FR_FS_PAGING_ENTRY_RSVD" });
  t.note("A non-canonical iova (bit 47 set, bits 63:48 clear).");
  g.dma("00:03.0", 0x8000_0000_0000n, "read", { fault: "VTD_FR_FS_NON_CANONICAL" });
  t.note("The walk set A (and D for the write) in the entries it read; a new page through the same tables still translates.");
  g.map(fs, 4, 0x4000n, 0x21_4000n, 12, FS_RW, FS_RW);
  g.dma("00:03.0", 0x4000n, "write", g.hit(0x21_4000n, 12, "rw"));
  return t;
}

// --- The descriptors not driven above, the queue's wraparound, register-based invalidation and the
// fault / invalidation event registers (vtd_process_inv_desc, vtd_fetch_inv_desc, vtd_handle_ccmd_write,
// vtd_handle_iotlb_write, vtd_handle_fsts_write, vtd_handle_fectl_write, vtd_handle_iectl_write).

const ECAP = 0x10,
  FEUADDR = 0x44,
  IEDATA = 0xa4,
  IEADDR = 0xa8,
  IEUADDR = 0xac;
const dPc = (g: number, did: number, pasid = 0): [bigint, bigint] => [0x7n | (BigInt(g) << 4n) | (BigInt(did) << 16n) | (BigInt(pasid) << 32n), 0n];

/**
 * A descriptor the queue refuses (vtd_process_inv_desc returns false): FSTS.IQE, IQH stays on it;
 * software clears IQE, puts a wait descriptor (FN) in its place and moves the tail again.
 */
function refused(q: Queue, d: bigint[]) {
  const g = q.g;
  const at = q.base + BigInt(q.n) * (q.dw ? 32n : 16n);
  g.write(at, ...d);
  q.n++;
  q.tail();
  g.mr(FSTS, 4, 0x10n);
  q.iqh(q.n - 1);
  g.mw(FSTS, 4, 0x10n);
  const w = dWait({ fn: true });
  g.write(at, ...(q.dw ? [w[0], w[1], 0n, 0n] : w));
  q.tail();
  q.iqh(q.n);
}

function qiDescriptorsLegacy(): Trace {
  const t = new Trace(
    "intel-iommu legacy mode, 128-bit queue: global and domain-selective IOTLB descriptors against cached second-stage entries (vtd_iotlb_global_invalidate, vtd_iotlb_domain_invalidate), the interrupt entry cache (vtd_process_inv_iec_desc) and device-TLB (vtd_process_device_iotlb_desc) descriptors, the page group response (vtd_process_page_group_response_desc), reserved bits in each type and 256-bit-only types in a 128-bit queue (vtd_inv_desc_reserved_check), an unknown type (vtd_process_inv_desc), IQA.DW ignored without scalable mode (vtd_update_iq_dw), the tail wrapping past the end of the queue (vtd_fetch_inv_desc)",
    "linux-mainline",
  );
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page(),
    pml4b = g.page();
  g.write(root, ctx | 1n);
  g.write(ctx + BigInt(devfn("00:03.0")) * 16n, ...legacyCe(pml4, 0, 2, 1));
  g.write(ctx + BigInt(devfn("00:04.0")) * 16n, ...legacyCe(pml4b, 0, 2, 2));
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  g.map(pml4b, 4, 0x1000n, 0x24_0000n, 12, SS_RW, SS_RW);
  g.enable(root);
  const iq = g.page();
  const q = new Queue(g, iq, false);
  t.note("IQA.DW without scalable mode: the queue stays 128-bit (vtd_update_iq_dw needs ECAP.SMTS); IQA reads DW back as written.");
  g.mw(IQA, 8, iq | (1n << 11n));
  g.mw(GCMD, 4, TE | QIE);
  g.mr(GSTS, 4, TE | SRTP | QIE);
  g.mr(IQA, 8, iq | (1n << 11n));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x20_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x24_0010n, 12, "r"));
  g.map(pml4, 4, 0x1000n, 0x30_0000n, 12, SS_RW, SS_RW);
  g.map(pml4b, 4, 0x1000n, 0x34_0000n, 12, SS_RW, SS_RW);
  t.note("A domain-selective IOTLB descriptor for domain 1 (vtd_iotlb_domain_invalidate): 00:03.0 sees its new page, 00:04.0 (domain 2) its stale one.");
  q.submit(dIotlb(2, 1));
  q.iqh(1);
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x30_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x24_0010n, 12, "r"));
  g.map(pml4, 4, 0x1000n, 0x31_0000n, 12, SS_RW, SS_RW);
  t.note("A global IOTLB descriptor (vtd_iotlb_global_invalidate, the DID ignored): both domains refetch.");
  q.submit(dIotlb(1, 7));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x34_0010n, 12, "r"));
  t.note(
    "Interrupt entry cache descriptors, global and index-selective (IM 2, index 5), are accepted without interrupt remapping (vtd_iec_notify_all only notifies); so are device-TLB descriptors (S set, SID of 00:03.0: no ATS, nothing to flush), and a page group response with PP set for a source without an address space.",
  );
  q.submit(
    [0x4n, 0n],
    [0x4n | 0x10n | (2n << 27n) | (5n << 32n), 0n],
    [0x3n | (0x18n << 32n), 0x3000n | 1n],
    [0x9n | 0x10n | (0x99n << 16n) | (1n << 32n), 0n],
  );
  q.iqh(q.n);
  t.note(
    "Refused, each an invalidation queue error: reserved bits (context cache lo bit 6 and hi, IOTLB hi bit 7 and AM 19 > MAMV, wait lo bit 8 and no SW/IF/FN, IEC bit 5, device-TLB hi bit 1, page group response bit 5 and PP clear), the 256-bit-only PASID-cache, PASID-based IOTLB and PASID-based device-TLB descriptors in a 128-bit queue, an unknown type (0xf; 0x11 through the high type bits 11:9).",
  );
  for (const d of [
    [0x11n | 0x40n, 0n],
    [0x11n, 1n],
    [0x12n, 0x80n],
    [0x32n | (1n << 16n), 0x1000n | 19n],
    [0x65n | 0x100n, 0n],
    [0x5n, 0n],
    [0x4n | 0x20n, 0n],
    [0x3n, 0x2n],
    [0x9n | 0x10n | 0x20n, 0n],
    [0x9n, 0n],
    dPc(3, 0),
    dPiotlb(2, 1, 0),
    [0x8n, 0n],
    [0xfn, 0n],
    [0x201n, 0n],
  ])
    refused(q, d);
  t.note("A context-cache descriptor of granularity 0 is refused too (vtd_process_context_cache_desc).");
  refused(q, [0x1n, 0n]);
  t.note(
    "The tail wraps: the queue (QS 0: 256 descriptors) is filled with wait descriptors up to its end; a tail of 255 then a tail of 1 processes 255 and 0 (iq_head wraps at iq_size, vtd_process_inv_desc).",
  );
  const waits: bigint[] = [];
  for (let i = 0; i < 256; i++) waits.push(...dWait({ fn: true }));
  g.write(iq, ...waits);
  g.mw(IQT, 8, 255n << 4n);
  q.iqh(255);
  g.mr(IQT, 8, 255n << 4n);
  g.mw(IQT, 8, 1n << 4n);
  q.iqh(1);
  g.mr(FSTS, 4, 0n);
  t.note("IQT keeps only QT (bits 18:4): bits 3:0 and above 18 are dropped (the register's write mask); a tail of 256 is beyond the queue: IQE.");
  g.mw(IQT, 8, (1n << 32n) | (2n << 4n) | 0xfn);
  g.mr(IQT, 8, 2n << 4n);
  q.iqh(2);
  g.mw(IQT, 8, 256n << 4n);
  g.mr(FSTS, 4, 0x10n);
  q.iqh(2);
  return t;
}

function qiDescriptorsScalable(): Trace {
  const t = new Trace(
    "intel-iommu scalable mode (x-flts=on): the PASID-cache descriptor at each granularity (vtd_process_pasid_desc, vtd_pasid_cache_sync), the global IOTLB descriptor against first-stage entries, PASID-based IOTLB page-selective with AM and IH (vtd_piotlb_page_invalidate), reserved bits in 256-bit descriptors (their upper 128 bits included: vtd_inv_desc_reserved_check), a 128-bit queue in scalable mode (the PASID-based descriptors refused), QS 1 with 256-bit descriptors (128 << QS entries: vtd_handle_gcmd_qie) and its wraparound",
    ["linux-mainline", "qemu-flts-final"],
  );
  const { g, rtaddr, setPe } = scalableGuest(t, 1, { "x-flts": true }, ["00:03.0", "00:04.0"]);
  const fs = g.page();
  setPe("00:03.0", 0, pe({ pgtt: 1, fs, did: 2 }));
  setPe("00:04.0", 0, pe({ pgtt: 1, fs, did: 3 }));
  g.map(fs, 4, 0x1000n, 0x21_0000n, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x2000n, 0x21_1000n, 12, FS_RW, FS_RW);
  g.map(fs, 4, 0x3000n, 0x21_2000n, 12, FS_RW, FS_RW);
  g.enable(rtaddr);
  const iq = g.page();
  g.page(); // the queue's second page (QS 1)
  const q = new Queue(g, iq, true);
  g.mw(IQA, 8, iq | (1n << 11n) | 1n);
  g.mw(GCMD, 4, TE | QIE);
  g.mr(IQA, 8, iq | (1n << 11n) | 1n);
  const prime = (a: bigint, b: bigint, c: bigint, d: bigint) => {
    g.dma("00:03.0", 0x1010n, "read", g.hit(a + 0x10n, 12, "r"));
    g.dma("00:03.0", 0x2010n, "read", g.hit(b + 0x10n, 12, "r"));
    g.dma("00:03.0", 0x3010n, "read", g.hit(c + 0x10n, 12, "r"));
    g.dma("00:04.0", 0x1010n, "read", g.hit(d + 0x10n, 12, "r"));
  };
  const remap = (a: bigint, b: bigint, c: bigint) => {
    g.map(fs, 4, 0x1000n, a, 12, FS_RW, FS_RW);
    g.map(fs, 4, 0x2000n, b, 12, FS_RW, FS_RW);
    g.map(fs, 4, 0x3000n, c, 12, FS_RW, FS_RW);
  };
  prime(0x21_0000n, 0x21_1000n, 0x21_2000n, 0x21_0000n);
  remap(0x31_0000n, 0x31_1000n, 0x31_2000n);
  t.note(
    "PASID-cache descriptors, domain-selective (domain 2), PASID-selective (domain 2, PASID_0) and global: accepted; they flush no IOTLB entry (vtd_pasid_cache_sync only refreshes the cached PASID entries and address spaces), so every page stays stale.",
  );
  q.submit(dPc(0, 2), dPc(1, 2, 0), dPc(3, 0));
  q.iqh(3);
  prime(0x21_0000n, 0x21_1000n, 0x21_2000n, 0x21_0000n);
  t.note("A PASID-cache descriptor of granularity 2 is refused.");
  refused(q, [...dPc(2, 2), 0n, 0n]);
  t.note("PASID-based page-selective with IH set (domain 2, PASID_0, 0x2000, AM 0): IH changes nothing in QEMU's IOTLB, 0x2000 goes.");
  q.submit(dPiotlb(3, 2, 0, 0x2000n | 0x40n));
  g.dma("00:03.0", 0x2010n, "read", g.hit(0x31_1010n, 12, "r"));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  t.note("AM 2 at 0x0 covers 0x0-0x3fff: 0x1000 and 0x3000 go; 00:04.0 (domain 3) keeps its entry.");
  q.submit(dPiotlb(3, 2, 0, 0x0n, 2));
  g.dma("00:03.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  g.dma("00:03.0", 0x3010n, "read", g.hit(0x31_2010n, 12, "r"));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x21_0010n, 12, "r"));
  t.note("A global IOTLB descriptor drops first-stage entries of every domain.");
  q.submit(dIotlb(1, 0));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x31_0010n, 12, "r"));
  t.note(
    "Refused in a 256-bit queue: a nonzero upper half (bits 191:128 or 255:192) in IOTLB, wait, context-cache and PASID-based IOTLB descriptors; PASID-based IOTLB reserved lo bit 6 and hi bit 7, granularity 0; PASID-cache hi nonzero.",
  );
  for (const d of [
    [...dIotlb(1, 0), 1n, 0n],
    [...dWait({ fn: true }), 0n, 1n << 63n],
    [...dCc(1), 0n, 1n],
    [...dPiotlb(2, 2, 0), 0n, 4n],
    [dPiotlb(2, 2, 0)[0] | 0x40n, 0n, 0n, 0n],
    [...dPiotlb(3, 2, 0, 0x1000n | 0x80n), 0n, 0n],
    [...dPiotlb(0, 2, 0), 0n, 0n],
    [dPc(3, 0)[0], 1n, 0n, 0n],
  ])
    refused(q, d);
  t.note("QS 1 with 256-bit descriptors: 256 entries (128 << QS); a tail of 255 is in the queue, 256 is not (vtd_fetch_inv_desc).");
  const waits: bigint[] = [];
  for (let i = 0; i < 256; i++) waits.push(...dWait({ fn: true }), 0n, 0n);
  g.write(iq, ...waits);
  g.mw(IQT, 8, 255n << 5n);
  q.iqh(255);
  g.mr(FSTS, 4, 0n);
  g.mw(IQT, 8, 2n << 5n);
  q.iqh(2);
  g.mw(IQT, 8, 256n << 5n);
  g.mr(FSTS, 4, 0x10n);
  g.mw(FSTS, 4, 0x10n);
  t.note(
    "A second guest in scalable mode keeps a 128-bit queue (IQA.DW clear): IOTLB and wait descriptors work, the PASID-based IOTLB and PASID-cache descriptors are 256-bit only (vtd_inv_desc_reserved_check).",
  );
  const h = scalableGuest(t, 2, { "x-flts": true }, ["00:03.0"]);
  const fs2 = h.g.page();
  h.setPe("00:03.0", 0, pe({ pgtt: 1, fs: fs2, did: 1 }));
  h.g.map(fs2, 4, 0x1000n, 0x20_0000n, 12, FS_RW, FS_RW);
  h.g.enable(h.rtaddr);
  const iq2 = h.g.page();
  const q2 = new Queue(h.g, iq2, false);
  h.g.mw(IQA, 8, iq2);
  h.g.mw(GCMD, 4, TE | QIE);
  h.g.dma("00:03.0", 0x1010n, "read", h.g.hit(0x20_0010n, 12, "r"));
  h.g.map(fs2, 4, 0x1000n, 0x30_0000n, 12, FS_RW, FS_RW);
  refused(q2, dPiotlb(2, 1, 0));
  refused(q2, dPc(3, 0));
  q2.submit(dIotlb(2, 1));
  q2.iqh(q2.n);
  h.g.dma("00:03.0", 0x1010n, "read", h.g.hit(0x30_0010n, 12, "r"));
  t.note(
    "A third guest (second stage): the PASID-cache descriptor switches address spaces (vtd_pasid_cache_sync_locked -> vtd_switch_address_space) when PASID_0's entry is not cached yet or differs from the cached one, for the descriptors that select it: domain-selective by the cached entry's DID (else the entry's in memory), PASID-selective for PASID 0 (pasid ?: PCI_NO_PASID), global.",
  );
  const k = scalableGuest(t, 3, {}, ["00:03.0"]);
  const ss3 = k.g.page();
  k.g.map(ss3, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  k.setPe("00:03.0", 0, pe({ pgtt: 4, did: 1 }));
  k.g.enable(k.rtaddr);
  const iq3 = k.g.page();
  const q3 = new Queue(k.g, iq3, true);
  k.g.mw(IQA, 8, iq3 | (1n << 11n));
  k.g.mw(GCMD, 4, TE | QIE);
  k.g.dma("00:03.0", 0x1010n, "read", k.g.hit(0x1010n, 12, "rw"));
  t.note("PASID_0 becomes second stage without invalidation: DMA still bypasses (the nodmar alias, vtd_switch_address_space at TE).");
  k.setPe("00:03.0", 0, pe({ pgtt: 2, ss: ss3, did: 1 }));
  k.g.dma("00:03.0", 0x1010n, "read", k.g.hit(0x1010n, 12, "rw"));
  t.note(
    "TE cached the pass-through entry (vtd_reset_caches, vtd_replay_pasid_bindings_all): a domain-selective descriptor for domain 5 and a PASID-selective one for PASID 1 select nothing; for domain 1 and PASID 0 the entry differs: switched, translated.",
  );
  q3.submit(dPc(0, 5), dPc(1, 1, 1));
  k.g.dma("00:03.0", 0x1010n, "read", k.g.hit(0x1010n, 12, "rw"));
  q3.submit(dPc(1, 1, 0));
  k.g.dma("00:03.0", 0x1010n, "read", k.g.hit(0x20_0010n, 12, "r"));
  t.note(
    "Back to pass-through with domain 7: a domain-selective descriptor for domain 7 selects nothing (the cached entry's DID is 1); one for domain 1 switches to the nodmar alias.",
  );
  k.setPe("00:03.0", 0, pe({ pgtt: 4, did: 7 }));
  k.g.dma("00:03.0", 0x1010n, "read", k.g.hit(0x20_0010n, 12, "r"));
  q3.submit(dPc(0, 7));
  k.g.dma("00:03.0", 0x1010n, "read", k.g.hit(0x20_0010n, 12, "r"));
  q3.submit(dPc(0, 1));
  k.g.dma("00:03.0", 0x2010n, "read", k.g.hit(0x2010n, 12, "rw"));
  t.note("A zeroed PASID_0 entry: the global descriptor drops the cached entry and switches back to the IOMMU region: the DMA faults.");
  k.setPe("00:03.0", 0, [0n, 0n, 0n]);
  q3.submit(dPc(3, 0));
  k.g.dma("00:03.0", 0x3010n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" });
  return t;
}

function invRegisters(): Trace {
  const t = new Trace(
    "intel-iommu register-based invalidation: CCMD global, domain-selective (done as global) and device-selective with a function mask (vtd_handle_ccmd_write, vtd_context_cache_invalidate, vtd_context_device_invalidate), CAIG read back; IOTLB_REG at ECAP.IRO at each granularity with IAIG read back, AM beyond MAMV (vtd_handle_iotlb_write, vtd_iotlb_flush); the registers ignored while QI is enabled",
    "linux-mainline",
  );
  const g = new Guest(t, 1, { eim: "off" }, ["00:03.0", "00:04.0"]);
  const root = g.page(),
    ctx = g.page(),
    pa = g.page(),
    pb = g.page();
  g.write(root, ctx | 1n);
  const ce = (bdf: string, v: [bigint, bigint]) => g.write(ctx + BigInt(devfn(bdf)) * 16n, ...v);
  ce("00:03.0", legacyCe(pa, 0, 2, 1));
  ce("00:04.0", legacyCe(pa, 0, 2, 2));
  g.map(pa, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  g.map(pa, 4, 0x2000n, 0x20_1000n, 12, SS_RW, SS_RW);
  g.map(pa, 4, 0x40_0000n, 0x80_0000n, 21, SS_RW, SS_RW);
  g.map(pb, 4, 0x1000n, 0x28_0000n, 12, SS_RW, SS_RW);
  g.map(pb, 4, 0x2000n, 0x28_1000n, 12, SS_RW, SS_RW);
  g.map(pb, 4, 0x40_0000n, 0xc0_0000n, 21, SS_RW, SS_RW);
  g.enable(root);
  t.note(
    "ECAP.IRO (bits 17:8) = 0xf places IVA at 0xf0 and IOTLB_REG at 0xf8 (VTD_ECAP_IRO). eim=off: with eim=auto QEMU resolves EIM from kvm_irqchip_in_kernel() (vtd_decide_config), which iorr takes as KVM with kernel-irqchip=split and the oracle's qtest QEMU does not have.",
  );
  g.mr(ECAP, 8, 0xf00f4an);
  const prime = (a: bigint, b: bigint) => {
    g.dma("00:03.0", 0x1010n, "read", g.hit(a + 0x10n, 12, "r"));
    g.dma("00:04.0", 0x1010n, "read", g.hit(b + 0x10n, 12, "r"));
  };
  prime(0x20_0000n, 0x20_0000n);
  t.note("Both devices move to table pb; IOTLB_REG global (IIRG 1): IVT clears, IAIG 1 (vtd_iotlb_flush); the context cache still answers with pa.");
  ce("00:03.0", legacyCe(pb, 0, 2, 1));
  ce("00:04.0", legacyCe(pb, 0, 2, 2));
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.mr(IOTLB, 8, (1n << 60n) | (1n << 57n));
  prime(0x20_0000n, 0x20_0000n);
  t.note(
    "CCMD device-selective (CIRG 3): the function mask drops SID bits from 2 down (FM 1: bit 2, FM 2: bits 2:1, FM 3: bits 2:0) before comparing with 00:04.0 (vtd_context_device_invalidate). SID 00:04.4 with FM 0 and 00:04.6 with FM 1 miss it, 00:04.6 with FM 2 reaches it; then 00:04.7 with FM 2 misses, with FM 3 reaches. CAIG 3; SID and FM read as 0 (write-only).",
  );
  const ccDev = (sid: number, fm: number, a: bigint, b: bigint) => {
    g.mw(CCMD, 8, ccmdDevice(sid) | (BigInt(fm) << 32n));
    g.mr(CCMD, 8, (3n << 61n) | (3n << 59n));
    g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
    prime(a, b);
  };
  ccDev(0x24, 0, 0x20_0000n, 0x20_0000n);
  ccDev(0x26, 1, 0x20_0000n, 0x20_0000n);
  ccDev(0x26, 2, 0x20_0000n, 0x28_0000n);
  ce("00:04.0", legacyCe(pa, 0, 2, 2));
  ccDev(0x27, 2, 0x20_0000n, 0x28_0000n);
  ccDev(0x27, 3, 0x20_0000n, 0x20_0000n);
  t.note("CCMD domain-selective (CIRG 2, domain 1) is done as global: CAIG 1 (vtd_context_cache_invalidate), the DID reads back.");
  g.mw(CCMD, 8, (1n << 63n) | (2n << 61n) | 1n);
  g.mr(CCMD, 8, (2n << 61n) | (1n << 59n) | 1n);
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  prime(0x28_0000n, 0x20_0000n);
  t.note("CCMD with CIRG 0 is invalid: ICC clears, CAIG 0.");
  g.mw(CCMD, 8, 1n << 63n);
  g.mr(CCMD, 8, 0n);
  t.note("IOTLB_REG domain-selective (IIRG 2, DID 1): IAIG 2; 00:04.0 (domain 2) keeps its stale entry.");
  g.map(pb, 4, 0x1000n, 0x29_0000n, 12, SS_RW, SS_RW);
  g.map(pa, 4, 0x1000n, 0x2a_0000n, 12, SS_RW, SS_RW);
  g.mw(IOTLB, 8, (1n << 63n) | (2n << 60n) | (1n << 32n));
  g.mr(IOTLB, 8, (2n << 60n) | (2n << 57n) | (1n << 32n));
  prime(0x29_0000n, 0x20_0000n);
  t.note("IOTLB_REG page-selective (IIRG 3) with IVA = 0x0 | AM 1: 0x1000 of domain 2 goes, 0x40_0000 stays; IVA is write-only (reads 0).");
  g.dma("00:04.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  g.map(pa, 4, 0x40_0000n, 0xa0_0000n, 21, SS_RW, SS_RW);
  g.mw(IVA, 8, 1n);
  g.mr(IVA, 8, 0n);
  g.mw(IOTLB, 8, (1n << 63n) | (3n << 60n) | (2n << 32n));
  g.mr(IOTLB, 8, (3n << 60n) | (3n << 57n) | (2n << 32n));
  g.dma("00:04.0", 0x1010n, "read", g.hit(0x2a_0010n, 12, "r"));
  g.dma("00:04.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  t.note("AM 19 is beyond MAMV (18): nothing is flushed, IAIG 0; IIRG 0 is invalid: IAIG 0.");
  g.mw(IVA, 8, 0x40_0000n | 19n);
  g.mw(IOTLB, 8, (1n << 63n) | (3n << 60n) | (2n << 32n));
  g.mr(IOTLB, 8, (3n << 60n) | (2n << 32n));
  g.dma("00:04.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  g.mw(IOTLB, 8, 1n << 63n);
  g.mr(IOTLB, 8, 0n);
  t.note("With QI enabled both registers are ignored (vtd_handle_ccmd_write, vtd_handle_iotlb_write): ICC and IVT stay set, nothing is flushed.");
  const iq = g.page();
  g.mw(IQA, 8, iq);
  g.mw(GCMD, 4, TE | QIE);
  g.mw(CCMD, 8, CCMD_GLOBAL);
  g.mr(CCMD, 8, CCMD_GLOBAL);
  g.mw(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.mr(IOTLB, 8, (1n << 63n) | (1n << 60n));
  g.dma("00:04.0", 0x40_0010n, "read", g.hit(0x80_0010n, 21, "r"));
  return t;
}

function faultEvents(): Trace {
  const t = new Trace(
    "intel-iommu fault and invalidation event registers: FECTL.IM masking and unmasking with IP pending (vtd_handle_fectl_write), FEDATA / FEADDR / FEUADDR and IEDATA / IEADDR / IEUADDR read back (their write masks, vtd_init), FSTS write-one-to-clear of PFO / IQE only (ICE / ITE not writable: vtd_handle_fsts_write), recording overflow with one FRCD (PFO, faults dropped while PFO is set, FRI: vtd_report_frcd_fault), the same fault twice (vtd_try_collapse_fault), ICS.IWC and IECTL (vtd_generate_completion_event, vtd_handle_ics_write, vtd_handle_iectl_write). Interrupt messages are not compared by the oracle: only IP shows whether one was sent.",
    "linux-mainline",
  );
  const g = new Guest(t, 1, {}, ["00:03.0", "00:04.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n);
  g.write(ctx + BigInt(devfn("00:03.0")) * 16n, ...legacyCe(pml4, 0, 2, 1));
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_R, SS_RW);
  g.enable(root);
  t.note("FEDATA keeps bits 15:0, FEADDR 31:2, FEUADDR nothing (RsvdZ without EIM); IEDATA all, IEADDR 31:2, IEUADDR nothing.");
  g.mw(FEDATA, 4, 0xabcd_1234n);
  g.mr(FEDATA, 4, 0x1234n);
  g.mw(FEADDR, 4, 0xfee0_1003n);
  g.mr(FEADDR, 4, 0xfee0_1000n);
  g.mw(FEUADDR, 4, 0x1n);
  g.mr(FEUADDR, 4, 0n);
  g.mr(IECTL, 4, 0x8000_0000n);
  g.mw(IEDATA, 4, 0xabcd_1234n);
  g.mr(IEDATA, 4, 0xabcd_1234n);
  g.mw(IEADDR, 4, 0xfee0_2003n);
  g.mr(IEADDR, 4, 0xfee0_2000n);
  g.mw(IEUADDR, 4, 0x1n);
  g.mr(IEUADDR, 4, 0n);
  t.note("A fault while masked: PPF, FECTL.IP. Unmasking sends the pending interrupt and clears IP; masking again leaves IP clear.");
  g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_READ" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FECTL, 4, 0xc000_0000n);
  g.mw(FECTL, 4, 0n);
  g.mr(FECTL, 4, 0n);
  g.mw(FECTL, 4, 0x8000_0000n);
  g.mr(FECTL, 4, 0x8000_0000n);
  t.note("The same fault again while F is set is collapsed: no PFO, IP stays clear.");
  g.dma("00:03.0", 0x5000n, "read", { fault: "VTD_FR_READ" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FECTL, 4, 0x8000_0000n);
  t.note(
    "Another source while the only FRCD is in use: PFO, but no fault event, so IP stays clear (vtd_report_dmar_fault sets PFO without vtd_generate_fault_event). Clearing F leaves PFO; while PFO is set a new fault is dropped.",
  );
  g.dma("00:04.0", 0x1000n, "read", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x3n);
  g.mr(FECTL, 4, 0x8000_0000n);
  g.mw(FRCD + 12, 4, 0x8000_0000n);
  g.mr(FSTS, 4, 0x1n);
  g.dma("00:04.0", 0x2000n, "write", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x1n);
  g.mr(FRCD + 8, 8, 0x40ff_ff06_0000_0018n);
  t.note("Writing 1 to ICE, ITE and the RO PPF bit changes nothing; writing PFO clears it.");
  g.mw(FSTS, 4, 0x62n);
  g.mr(FSTS, 4, 0x1n);
  g.mr(FECTL, 4, 0x8000_0000n);
  g.mw(FSTS, 4, 0x1n);
  g.mr(FSTS, 4, 0n);
  g.mr(FECTL, 4, 0x8000_0000n);
  t.note("With PFO clear the next fault is recorded in FRCD0 again (FRI wraps to 0 with one register).");
  g.dma("00:04.0", 0x2000n, "write", { fault: "VTD_FR_CONTEXT_ENTRY_P" });
  g.mr(FSTS, 4, 0x2n);
  g.mr(FRCD + 8, 8, 0x8000_0002_0000_0020n);
  g.mr(FECTL, 4, 0xc000_0000n);
  t.note("Clearing F clears PPF but not IP; an FSTS write with no status left clears IP (vtd_handle_fsts_write).");
  g.mw(FRCD + 12, 4, 0x8000_0000n);
  g.mr(FECTL, 4, 0xc000_0000n);
  g.mw(FSTS, 4, 0n);
  g.mr(FECTL, 4, 0x8000_0000n);
  t.note("Invalidation completion: a wait descriptor with IF sets ICS.IWC and, masked, IECTL.IP; unmasking sends it and clears IP; ICS write 1 clears IWC.");
  const iq = g.page();
  const q = new Queue(g, iq, false);
  g.mw(IQA, 8, iq);
  g.mw(GCMD, 4, TE | QIE);
  q.submit(dWait({ iF: true }));
  g.mr(ICS, 4, 1n);
  g.mr(IECTL, 4, 0xc000_0000n);
  g.mw(IECTL, 4, 0n);
  g.mr(IECTL, 4, 0n);
  g.mw(ICS, 4, 1n);
  g.mr(ICS, 4, 0n);
  t.note("Unmasked, the next completion sends its interrupt at once: IWC set, IP clear. Masked again with IWC still set, a completion changes nothing.");
  q.submit(dWait({ iF: true }));
  g.mr(ICS, 4, 1n);
  g.mr(IECTL, 4, 0n);
  g.mw(IECTL, 4, 0x8000_0000n);
  q.submit(dWait({ iF: true }));
  g.mr(IECTL, 4, 0x8000_0000n);
  t.note("Clearing IWC with IP clear, then a masked completion: IP set; clearing IWC clears IP too (vtd_handle_ics_write).");
  g.mw(ICS, 4, 1n);
  q.submit(dWait({ iF: true }));
  g.mr(IECTL, 4, 0xc000_0000n);
  g.mw(ICS, 4, 1n);
  g.mr(ICS, 4, 0n);
  g.mr(IECTL, 4, 0x8000_0000n);
  t.note("An IQE while FECTL is masked sets FECTL.IP; clearing IQE clears it.");
  q.submit([0x0n, 0n]);
  g.mr(FSTS, 4, 0x10n);
  g.mr(FECTL, 4, 0xc000_0000n);
  g.mw(FSTS, 4, 0x10n);
  g.mr(FSTS, 4, 0n);
  g.mr(FECTL, 4, 0x8000_0000n);
  return t;
}

function interruptWindowAndCachedPasid(): Trace {
  const t = new Trace(
    "intel-iommu findings of the random programs (npm run fuzz:oracle): a request without PASID to 0xfeexxxxx never reaches translation (vtd_find_add_as's vtd-ir region over the DMAR and no-DMAR address spaces; vtd_mem_ir_read / vtd_mem_ir_write, vtd_interrupt_remap_msi with interrupt remapping off), and a cached context entry whose PASID directory entry has FPD walks with a PASID entry that no longer passes vtd_pe_type_check (vtd_ce_get_pasid_fpd stops at the directory's FPD; vtd_get_iova_pgtbl_base / vtd_get_iova_level ignore the lookup's error)",
    ["linux-mainline", "qemu-flts-final"],
  );
  t.note("Legacy mode, 00:03.0 translated by a table that maps nothing at 0xfee00000.");
  const g = new Guest(t, 1, {}, ["00:03.0"]);
  const root = g.page(),
    ctx = g.page(),
    pml4 = g.page();
  g.write(root, ctx | 1n);
  g.write(ctx + BigInt(devfn("00:03.0")) * 16n, ...legacyCe(pml4, 0, 2, 1));
  g.map(pml4, 4, 0x1000n, 0x20_0000n, 12, SS_RW, SS_RW);
  t.note("DMAR off: the window is the same (mr_nodmar has vtd-ir over it): the request reaches the address.");
  g.dma("00:03.0", 0xfee0_0000n, "read", { pa: "0xfee00000" });
  g.enable(root);
  t.note("DMAR on: no walk, no fault; a read answers MEMTX_OK, a write is an MSI passed on as it is (interrupt remapping off).");
  g.dma("00:03.0", 0xfee0_0000n, "read", { pa: "0xfee00000" });
  g.dma("00:03.0", 0xfeef_fff8n, "write", { pa: "0xfeeffff8" });
  g.mr(FSTS, 4, 0n);
  t.note("Just below and above the window the walk runs: VTD_FR_READ (nothing mapped there: vtd_iova_to_slpte finds neither R nor W).");
  g.dma("00:03.0", 0xfedf_f000n, "read", { fault: "VTD_FR_READ" });
  g.dma("00:03.0", 0xfef0_0000n, "read", { fault: "VTD_FR_READ" });

  t.note("Scalable mode with x-flts: 00:03.0's PASID directory entry has FPD; its PASID_0 entry (first stage) is valid when the context entry is cached.");
  const s = new Guest(t, 2, { "x-scalable-mode": true, "x-flts": true }, ["00:03.0"]);
  const sroot = s.page(),
    sctx = s.page(),
    table = s.page(),
    fs = s.page();
  s.write(sroot, sctx | 1n);
  smDevice(s, sctx, "00:03.0", table, FPD | 1n);
  s.write(table, ...pe({ pgtt: 1, fs, did: 5 }));
  s.map(fs, 4, 0x1000n, 0x20_0000n, 12, FS_RW, FS_RW);
  s.map(fs, 4, 0x2000n, 0x20_1000n, 12, FS_RW, FS_RW);
  s.enable(sroot | (1n << 10n));
  s.dma("00:03.0", 0x1000n, "read", s.hit(0x20_0000n, 12, "r"));
  t.note(
    "The guest makes PASID_0 nested (PGTT 3: vtd_pe_type_check fails) without invalidating. The context entry is cached, the directory's FPD skips the PASID entry's checks, and the first-stage walk uses the entry's FSPTPTR still: a new page translates.",
  );
  s.write(table, pe({ pgtt: 3, fs, did: 5 })[0]!);
  s.dma("00:03.0", 0x2000n, "read", s.hit(0x20_1000n, 12, "r"));
  t.note(
    "A global context-cache invalidation: the next lookup reads the context entry again, and vtd_ce_pasid_0_check refuses the nested PASID_0 (reported: the context entry has no FPD).",
  );
  s.mw(CCMD, 8, (1n << 63n) | (1n << 61n));
  s.mw(IOTLB, 8, (1n << 63n) | (1n << 60n)); // and a global IOTLB invalidation: 0x2000 is cached
  s.dma("00:03.0", 0x2000n, "read", { fault: "VTD_FR_PASID_TABLE_ENTRY_INV" });
  s.mr(FSTS, 4, 0x2n);
  return t;
}

const out = process.argv[2] ?? "test/traces/vtd";
const traces: [string, () => Trace][] = [
  ["matrix_legacy.jsonl", legacy],
  ["matrix_legacy_aw39.jsonl", legacyAw39],
  ["matrix_scalable_ss.jsonl", scalableSs],
  ["matrix_scalable_fs.jsonl", scalableFs],
  ["qi_legacy.jsonl", qiLegacy],
  ["qi_scalable_fs.jsonl", qiScalableFs],
  ["qi_scalable_ss.jsonl", qiScalableSs],
  ["fault_recording.jsonl", faultRecording],
  ["scalable_entry_checks.jsonl", scalableEntryChecks],
  ["pt_address_space.jsonl", ptAddressSpace],
  ["beyond_ram.jsonl", beyondRam],
  ["fault_processing_disable.jsonl", faultProcessingDisable],
  ["translation_types.jsonl", translationTypes],
  ["fs_walker.jsonl", firstStageWalker],
  ["qi_descriptors_legacy.jsonl", qiDescriptorsLegacy],
  ["qi_descriptors_scalable.jsonl", qiDescriptorsScalable],
  ["inv_registers.jsonl", invRegisters],
  ["fault_events.jsonl", faultEvents],
  ["interrupt_window.jsonl", interruptWindowAndCachedPasid],
];
for (const [name, build] of traces) writeFileSync(join(out, name), `${build().lines.join("\n")}\n`);
console.log(`wrote ${traces.length} traces to ${out}`);
