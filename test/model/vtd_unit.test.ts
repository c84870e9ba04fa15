// The intel-iommu register model and guest-side translation (src/model/viommu/vtd/: mmio.ts, inv_queue.ts, faults.ts, translate.ts).
import { describe, expect, it } from "vitest";
import { run } from "../helpers.ts";
import { VTD_GUEST } from "./qemu_fixtures.ts";

const base = VTD_GUEST;
const mw = (off: number, size: number, value: bigint) => ({ op: "guest.mmio.write", pid: 1, dev: "intel-iommu", off, size, value: `0x${value.toString(16)}` });
const mr = (off: number, size = 4) => ({ op: "guest.mmio.read", pid: 1, dev: "intel-iommu", off, size });
const w = (gpa: number, ...u64: bigint[]) => ({ op: "guest.mem.write", pid: 1, gpa, u64: u64.map((v) => `0x${v.toString(16)}`) });
const dma = (iova: number, access = "read") => ({ op: "dma", pid: 1, guest_bdf: "00:03.0", iova, access });
// Legacy tables: root 0x10000, context 0x11000 (devfn 0x18, DID 5, 3-level), SS 0x12000 -> 0x13000 -> 0x14000.
const tables = [w(0x10000, 0x11001n), w(0x11000 + 0x18 * 16, 0x12001n, 0x501n), w(0x12000, 0x13003n), w(0x13000, 0x14003n), w(0x14000 + 8, 0x200001n)];
const enable = [mw(0x20, 8, 0x10000n), mw(0x18, 4, 0x40000000n), mw(0x18, 4, 0x80000000n)];

describe("vtd_mem_write / vtd_handle_gcmd_write", () => {
  it("SRTP latches RTADDR and sets RTPS; TE sets TES; GCMD reads back 0 (write-only)", () => {
    const r = run([...base, ...enable, mr(0x1c), mr(0x18)]);
    expect(r.outcomes.slice(-2)).toEqual([{ value: "0xc0000000" }, { value: "0x0" }]);
    expect(r.result.state.qemu.get(1)!.viommu!.unit.root).toBe(0x10000n);
  });
  it("vtd_handle_ccmd_write: ICC clears and CAIG reports device-selective", () => {
    const r = run([...base, mw(0x28, 8, (1n << 63n) | (3n << 61n)), mr(0x28, 8)]);
    expect(r.outcomes.at(-1)).toEqual({ value: "0x7800000000000000" });
  });
});

describe("vtd_do_iommu_translate (legacy mode)", () => {
  it("translates through root/context/SS and fills the IOTLB; a page-selective IOTLB_REG invalidation (vtd_iotlb_page_invalidate) drops it", () => {
    const r = run([
      ...base,
      ...tables,
      ...enable,
      dma(0x1010),
      w(0x14008, 0x300001n),
      dma(0x1010),
      mw(0xf0, 8, 0x1000n),
      mw(0xf8, 8, (1n << 63n) | (3n << 60n) | (5n << 32n)),
      mr(0xf8, 8),
      dma(0x1010),
    ]);
    const o = r.outcomes.slice(-7);
    expect(o[0]).toEqual({ pa: "0x200010", page_size: "0x1000", perm: "r", hpa: "0x100200010" });
    expect(o[2]).toMatchObject({ pa: "0x200010" });
    expect(o[5]).toEqual({ value: "0x3600000500000000" });
    expect(o[6]).toMatchObject({ pa: "0x300010" });
  });
  it("vtd_do_iommu_translate's context cache (cc_entry->context_cache_gen == s->context_cache_gen): a rewritten context entry is not seen until a context-cache invalidation (vtd_context_device_invalidate by SID under FM)", () => {
    // Second SS table 0x15000 -> 0x16000 -> 0x17000: iova 0x1000 -> 0x300000.
    const second = [w(0x15000, 0x16003n), w(0x16000, 0x17003n), w(0x17008, 0x300001n)];
    const iotlbGlobal = mw(0xf8, 8, (1n << 63n) | (1n << 60n));
    const ccDev = (sid: number, fm: bigint) => mw(0x28, 8, (1n << 63n) | (3n << 61n) | (fm << 32n) | (BigInt(sid) << 16n));
    const r = run([
      ...base,
      ...tables,
      ...second,
      ...enable,
      dma(0x1010),
      w(0x11000 + 0x18 * 16, 0x15001n),
      iotlbGlobal,
      dma(0x1010), // stale: the cached context entry
      ccDev(0x20, 0n),
      iotlbGlobal,
      dma(0x1010), // another device: still stale
      ccDev(0x1b, 3n),
      mr(0x28, 8),
      iotlbGlobal,
      dma(0x1010), // FM 3 masks the function: 00:03.3 covers 00:03.0
    ]);
    const pas = r.outcomes.filter((x) => "pa" in x).map((x) => (x as { pa: string }).pa);
    expect(pas).toEqual(["0x200010", "0x200010", "0x200010", "0x300010"]);
    expect(r.outcomes.filter((x) => "value" in x)).toEqual([{ value: "0x7800000000000000" }]);
    expect(r.result.state.qemu.get(1)!.viommu!.unit.ctxCache.get("24:-1")).toEqual([0x15001n, 0x501n]);
  });
  it("context cache: a global CCMD invalidation, SRTP and a TE change all drop the cached context entry (s->context_cache_gen++, vtd_reset_caches)", () => {
    const iotlbGlobal = mw(0xf8, 8, (1n << 63n) | (1n << 60n));
    const rewrite = [w(0x15000, 0x16003n), w(0x16000, 0x17003n), w(0x17008, 0x300001n), w(0x11000 + 0x18 * 16, 0x15001n), iotlbGlobal];
    for (const drop of [[mw(0x28, 8, (1n << 63n) | (1n << 61n))], [mw(0x18, 4, 0xc0000000n)], [mw(0x18, 4, 0n), mw(0x18, 4, 0x80000000n)]]) {
      const r = run([...base, ...tables, ...enable, dma(0x1010), ...rewrite, dma(0x1010), ...drop, iotlbGlobal, dma(0x1010)]);
      const pas = r.outcomes.filter((x) => "pa" in x).map((x) => (x as { pa: string }).pa);
      expect(pas).toEqual(["0x200010", "0x200010", "0x300010"]);
    }
  });
  it("vtd_report_fault / vtd_record_frcd: a write to a read-only page records VTD_FR_WRITE in FRCD0 with PPF; FPD suppresses it", () => {
    const r = run([...base, ...tables, ...enable, dma(0x1000, "write"), mr(0x34), mr(0x228, 8)]);
    // PV 0xffff, PP clear: a legacy-mode request has PCI_NO_PASID, and VTD_FRCD_PV keeps its low 16 bits (vtd_report_dmar_fault).
    expect(r.outcomes.slice(-3)).toEqual([{ fault: "VTD_FR_WRITE" }, { value: "0x2" }, { value: "0x80ffff0500000018" }]);
    const f = run([...base, ...tables, w(0x11000 + 0x18 * 16, 0x12003n), ...enable, dma(0x1000, "write"), mr(0x34)]);
    expect(f.outcomes.slice(-2)).toEqual([{ fault: "VTD_FR_WRITE" }, { value: "0x0" }]);
  });
  it("vtd_dev_to_context_entry: a missing root entry is VTD_FR_ROOT_ENTRY_P (not qualified)", () => {
    const r = run([...base, ...enable, dma(0x1000), mr(0x228, 8)]);
    expect(r.outcomes.slice(-2)).toEqual([{ fault: "VTD_FR_ROOT_ENTRY_P" }, { value: "0xc000000100000018" }]);
  });
  it("guest.mem.write outside guest RAM is EFAULT", () => {
    const r = run([...base, w(0x400000, 1n)]);
    expect(r.outcomes.at(-1)).toEqual({ errno: "EFAULT" });
  });
  it("vtd_do_iommu_translate's IOMMUTLBEntry.perm: a read gets access_flags & ~IOMMU_WO, walked or from the IOTLB (which keeps both rights); a write all of them; pass-through IOMMU_RW", () => {
    const rwPage = w(0x14010, 0x201003n); // iova 0x2000 -> 0x201000, read-write
    const pt = [{ op: "qemu.device", pid: 1, guest_bdf: "00:04.0", model: "e1000e" }, w(0x11000 + 0x20 * 16, 0x9n, 0x501n)]; // TT 2
    const iotlbGlobal = mw(0xf8, 8, (1n << 63n) | (1n << 60n));
    const r = run([
      ...base,
      ...tables,
      rwPage,
      ...pt,
      ...enable,
      dma(0x2010),
      dma(0x2010),
      dma(0x2010, "write"),
      iotlbGlobal,
      dma(0x2010, "write"),
      dma(0x2010),
    ]);
    const perms = r.outcomes
      .slice(-6)
      .filter((x) => "pa" in x)
      .map((x) => (x as { perm: string }).perm);
    expect(perms).toEqual(["r", "r", "rw", "rw", "r"]);
    expect(
      r.result.state.qemu
        .get(1)!
        .viommu!.unit.iotlb.entries()
        .map((e) => e.perm),
    ).toEqual([3]);
    const p = run([...base, ...tables, ...pt, ...enable, { op: "dma", pid: 1, guest_bdf: "00:04.0", iova: 0x5010, access: "read" }]);
    expect(p.outcomes.at(-1)).toEqual({ pa: "0x5010", page_size: "0x1000", perm: "rw", hpa: "0x100005010" });
  });
});

describe("vtd_process_piotlb_desc (scalable mode, second stage, 256-bit queue)", () => {
  // Root 0x10000 (TTM scalable), context 0x11000, PASID directory 0x12000, PASID table 0x13000:
  // PASID 0 in domain 5 and PASID 5 in domain 7, both second stage (PGTT 2, AW 1) over 0x14000 -> 0x15000 -> 0x16000,
  // iova 0x1000 -> 0x200000 read-write. Invalidation queue at 0x17000.
  const pe = (did: number) => [0x14000n | (2n << 6n) | (1n << 2n) | 1n, BigInt(did), 0n];
  const sm = [
    ...base.slice(0, 3),
    { op: "qemu.viommu", pid: 1, model: "intel-iommu", props: { "x-scalable-mode": true } },
    base[4]!,
    w(0x10000, 0x11001n),
    w(0x11000 + 0x18 * 32, 0x12001n, 0n, 0n, 0n),
    w(0x12000, 0x13001n),
    w(0x13000, ...pe(5)),
    w(0x13000 + 5 * 64, ...pe(7)),
    w(0x14000, 0x15003n),
    w(0x15000, 0x16003n),
    w(0x16008, 0x200003n),
    mw(0x20, 8, 0x10400n),
    mw(0x18, 4, 0x40000000n),
    mw(0x90, 8, 0x17000n | (1n << 11n)),
    mw(0x18, 4, 0x84000000n),
  ];
  let tail = 0;
  /** Queue one PASID-based IOTLB descriptor (type 6) and move IQT past it. */
  const piotlb = (g: bigint, did: number, pasid: number, addr = 0n) => {
    const at = 0x17000 + tail * 32;
    tail++;
    return [w(at, 0x6n | (g << 4n) | (BigInt(did) << 16n) | (BigInt(pasid) << 32n), addr, 0n, 0n), mw(0x88, 8, BigInt(tail) << 5n)];
  };
  const dmaPasid = (pasid?: number) => ({ ...dma(0x1010), ...(pasid === undefined ? {} : { pasid }) });

  it("vtd_piotlb_pasid_invalidate (granularity 2, vtd_hash_remove_by_pasid) drops that domain and PASID's second-stage entries too; page-selective (vtd_hash_remove_by_page_piotlb) only first-stage ones", () => {
    tail = 0;
    const r = run([
      ...sm,
      dmaPasid(),
      dmaPasid(5),
      w(0x16008, 0x300003n), // both cached, then remapped
      ...piotlb(3n, 7, 5, 0x1000n),
      dmaPasid(5), // page-selective: a second-stage entry stays
      ...piotlb(2n, 7, 0),
      dmaPasid(),
      dmaPasid(5), // (domain 7, PASID 0): no such entry
      ...piotlb(2n, 5, 0),
      dmaPasid(),
      dmaPasid(5), // (domain 5, PASID 0): PASID_0's entry goes, PASID 5's stays
      ...piotlb(2n, 7, 5),
      dmaPasid(5),
      mr(0x34),
    ]);
    const pas = r.outcomes.filter((x) => "pa" in x).map((x) => (x as { pa: string }).pa);
    expect(pas).toEqual(["0x200010", "0x200010", "0x200010", "0x200010", "0x200010", "0x300010", "0x200010", "0x300010"]);
    expect(r.outcomes.at(-1)).toEqual({ value: "0x0" }); // no invalidation queue error
    expect(
      r.result.state.qemu
        .get(1)!
        .viommu!.unit.iotlb.entries()
        .map((e) => [e.pasid, e.did, e.firstStage]),
    ).toEqual([
      [0, 5, false],
      [5, 7, false],
    ]);
  });
});
