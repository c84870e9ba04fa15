// The `dma` op (docs/trace-format.md "Device"): a host device's DMA through the
// domain its RID or PASID is attached to, the fault names of each IOMMU, and
// the A/D bits an IOMMU writes while dirty tracking is on.
import { describe, expect, it } from "vitest";
import { iommuAttach } from "../../src/model/domain/attach.ts";
import { domainReadDirty, domainSetDirtyTracking } from "../../src/model/domain/dirty.ts";
import { domainAllocNested, domainAllocPaging } from "../../src/model/domain/domain.ts";
import { defaultParams } from "../../src/model/domain/params.ts";
import { NO_PASID } from "../../src/model/domain/state.ts";
import { SimulatorFault } from "../../src/model/framework.ts";
import { parseTraceEvent, reducerFor } from "../../src/model/ops.ts";
import type { State } from "../../src/model/state.ts";
import { area, attached, BDF, dma1, dmas, entryAt, env, hostState, mapArea, VTD_LEGACY, VTD_SM } from "./domainfix.ts";

const KERNEL_BASE = 64n << 30n;
/** The leaf of a 4 KiB mapping at IOVA 0x1000 in a fresh 4-level VT-d domain: the L1 table is the fourth frame. */
const VTD_LEAF = KERNEL_BASE + 0x3000n + 8n;

function faultOf(s: State, r: Record<string, unknown>): SimulatorFault {
  const out = reducerFor("dma")(s, parseTraceEvent({ op: "dma", ...r }, 1), env);
  if (!(out instanceof SimulatorFault)) throw new Error(`expected a simulator fault, got ${JSON.stringify(out)}`);
  return out;
}

describe("dma through a VT-d second-stage domain", () => {
  const vtd = () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x1000n, 0x4000_1000n, 0x1000n]]));
    mapArea(x, area([[0x2000n, 0x4000_5000n, 0x1000n]], 1)); // IOMMU_READ only
    mapArea(x, area([[0x40_0000n, 0x8000_0000n, 0x20_0000n]]));
    return x;
  };

  it("translates to {pa, page_size, perm} (hex), 4 KiB and 2 MiB pages", () => {
    const { s } = vtd();
    expect(dma1(s, { iova: "0x1010", access: "write" })).toEqual({ pa: "0x40001010", page_size: "0x1000", perm: "rw" });
    expect(dma1(s, { iova: "0x5abcde", access: "read" })).toEqual({ pa: "0x801abcde", page_size: "0x200000", perm: "rw" });
  });

  it("faults with QEMU's VTDFaultReason names: a missing right (not present included) is VTD_FR_WRITE / VTD_FR_READ", () => {
    const { s } = vtd();
    expect(dma1(s, { iova: "0x2000", access: "write" })).toEqual({ fault: "VTD_FR_WRITE" });
    expect(dma1(s, { iova: "0x2000", access: "read" })).toEqual({ pa: "0x40005000", page_size: "0x1000", perm: "r" });
    expect(dma1(s, { iova: "0x9000", access: "read" })).toEqual({ fault: "VTD_FR_READ" });
    expect(dma1(s, { iova: "0x9000", access: "write" })).toEqual({ fault: "VTD_FR_WRITE" });
    expect(dma1(s, { iova: "0x1000000000000", access: "read" })).toEqual({ fault: "VTD_FR_ADDR_BEYOND_MGAW" });
    expect(dma1(s, { iova: "0xffffffffffffffff", access: "read" })).toEqual({ fault: "VTD_FR_ADDR_BEYOND_MGAW" });
  });

  it("an access crossing pages is one translation per page: the first page's answer, or the first page that faults", () => {
    const { s } = vtd();
    expect(dma1(s, { iova: "0x1ff0", size: 0x20, access: "read" })).toEqual({ pa: "0x40001ff0", page_size: "0x1000", perm: "rw" });
    expect(dma1(s, { iova: "0x1ff0", size: 0x20, access: "write" })).toEqual({ fault: "VTD_FR_WRITE" });
    expect(dma1(s, { iova: "0x2ff0", size: 0x20, access: "read" })).toEqual({ fault: "VTD_FR_READ" });
    expect(dma1(s, { iova: "0x1000", size: 0x1000, access: "read" })).toEqual({ pa: "0x40001000", page_size: "0x1000", perm: "rw" });
  });

  it("a PASID attachment translates requests with that PASID; the RID's does not serve other PASIDs", () => {
    const x = attached(hostState(VTD_SM), [5]);
    mapArea(x, area([[0x1000n, 0x4000_1000n, 0x1000n]]));
    expect(dma1(x.s, { iova: "0x1000", pasid: 5, access: "read" })).toMatchObject({ pa: "0x40001000" });
    expect(dma1(x.s, { iova: "0x1000", access: "read" })).toEqual({ fault: "VTD_FR_PASID_ENTRY_P" });
    expect(dma1(x.s, { iova: "0x1000", pasid: 6, access: "read" })).toEqual({ fault: "VTD_FR_PASID_ENTRY_P" });
  });
});

describe("dma of a device nothing translates for", () => {
  it("bound but not attached, or not bound: blocked; scalable-mode VT-d has no PASID entry, legacy no context entry", () => {
    const bound = attached(hostState(VTD_SM), []);
    expect(dma1(bound.s, { iova: "0x1000", access: "read" })).toEqual({ fault: "VTD_FR_PASID_ENTRY_P" });
    expect(dma1(hostState(VTD_SM), { iova: "0x1000", access: "read" })).toEqual({ fault: "VTD_FR_PASID_ENTRY_P" });
    expect(dma1(hostState(VTD_LEGACY), { iova: "0x1000", access: "write" })).toEqual({ fault: "VTD_FR_CONTEXT_ENTRY_P" });
  });

  it("AMD: the blocking DTE (mode 0, IR = IW = 0) denies it: IO_PAGE_FAULT_PE", () => {
    expect(dma1(hostState({ op: "host.iommu", type: "amd" }), { iova: "0x1000", access: "read" })).toEqual({ fault: "IO_PAGE_FAULT_PE" });
  });

  it("a no-IOMMU device is not translated: the DMA address is the physical address", () => {
    const s = hostState(VTD_SM, [
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: true },
      { op: "host.device", bdf: "0000:02:00.0", iommu: false },
    ]);
    expect(dma1(s, { bdf: "0000:02:00.0", iova: "0xfedcba9876543210", size: 0x10000, access: "write" })).toEqual({ pa: "0xfedcba9876543210" });
  });

  it("a nested HWPT other than VT-d stage 1 is not modelled (test/traces/vtd/host_nested_vtd_s1.jsonl covers VTD_S1); an unknown bdf, or a guest_bdf with no emulated device there, is bad input (vtd_unit.test.ts covers guest_bdf)", () => {
    const x = attached(hostState(VTD_SM));
    // IOMMU_HWPT_DATA_SELFTEST: the mock's nested domain holds only a fake IOTLB, nothing to walk.
    iommuAttach(x.s, BDF, NO_PASID, domainAllocNested(x.s, x.domain, 0xdead, {}));
    expect(faultOf(x.s, { bdf: BDF, iova: 0, access: "read" }).kind).toBe("not-modelled");
    expect(faultOf(x.s, { guest_bdf: "00:03.0", pid: 1, iova: 0, access: "read" }).kind).toBe("bad-input");
    expect(faultOf(x.s, { bdf: "0000:09:00.0", iova: 0, access: "read" })).toMatchObject({ kind: "bad-input" });
  });
});

describe("dma through AMDv1 domains (AMD host, selftest mock)", () => {
  it("AMD: IO_PAGE_FAULT where nothing is mapped, IO_PAGE_FAULT_PE for a write to a read-only page", () => {
    const x = attached(hostState({ op: "host.iommu", type: "amd" }));
    mapArea(x, area([[0x10_0000n, 0x20_0000n, 0x4000n]], 1));
    expect(dma1(x.s, { iova: "0x102345", access: "read" })).toEqual({ pa: "0x202345", page_size: "0x4000", perm: "r" });
    expect(dma1(x.s, { iova: "0x102345", access: "write" })).toEqual({ fault: "IO_PAGE_FAULT_PE" });
    expect(dma1(x.s, { iova: "0x104000", access: "read" })).toEqual({ fault: "IO_PAGE_FAULT" });
    expect(dma1(x.s, { iova: "0x1000000000000", access: "read" })).toEqual({ fault: "IO_PAGE_FAULT" }); // beyond mode 3
  });

  it("the mock translates in 2 KiB units: an 8 KiB page is four NextLevel-7 entries", () => {
    const x = attached(hostState({ op: "host.iommu", type: "selftest_mock" }));
    mapArea(x, area([[0x100_0000n, 0x4000_0000n, 0x2000n]]));
    expect(dma1(x.s, { iova: "0x1001abc", access: "write" })).toEqual({ pa: "0x40001abc", page_size: "0x2000", perm: "rw" });
  });
});

describe("dirty tracking: the A/D bits the IOMMU writes on DMA, read and cleared by read_and_clear_dirty", () => {
  it("VT-d (SSADE): a write sets D (bit 9) in the leaf and A (bit 8) in every entry walked; a read sets A only", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x1000n, 0x4000_1000n, 0x2000n]]));
    domainSetDirtyTracking(x.s, x.domain, true);
    const leaf = entryAt(x.s, VTD_LEAF);
    const r = dmas(x.s, [
      { iova: "0x1000", access: "write" },
      { iova: "0x2000", access: "read" },
    ]);
    expect(entryAt(r.state, VTD_LEAF)).toBe(leaf | (1n << 9n) | (1n << 8n));
    expect(entryAt(r.state, VTD_LEAF + 8n)).toBe(leaf + 0x1000n + (1n << 8n));
    expect(entryAt(r.state, KERNEL_BASE) & (1n << 8n)).toBe(1n << 8n);
    // Copy-on-write: the state before the DMA keeps its clean entries.
    expect(entryAt(x.s, VTD_LEAF)).toBe(leaf);
    expect(domainReadDirty(r.state, x.domain, 0x1000n, 0x2000n, 0x1000n, false)).toEqual([true, false]);
  });

  it("without dirty tracking the IOMMU writes no A/D bits", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x1000n, 0x4000_1000n, 0x1000n]]));
    const leaf = entryAt(x.s, VTD_LEAF);
    expect(entryAt(dmas(x.s, [{ iova: "0x1000", access: "write" }]).state, VTD_LEAF)).toBe(leaf);
  });

  it("read with clear returns then clears the bits (a second read is clean); IOMMU_DIRTY_NO_CLEAR keeps them", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x1000n, 0x4000_1000n, 0x3000n]]));
    domainSetDirtyTracking(x.s, x.domain, true);
    const s = dmas(x.s, [
      { iova: "0x1000", access: "write" },
      { iova: "0x3800", access: "write" },
    ]).state;
    const d = x.domain;
    expect(domainReadDirty(s, d, 0x1000n, 0x3000n, 0x1000n, false)).toEqual([true, false, true]);
    expect(domainReadDirty(s, d, 0x1000n, 0x3000n, 0x1000n, true)).toEqual([true, false, true]);
    expect(domainReadDirty(s, d, 0x1000n, 0x3000n, 0x1000n, true)).toEqual([false, false, false]);
  });

  it("a dirty large page marks every unit it overlaps; enabling tracking again clears stale D bits (iopt_clear_dirty_data)", () => {
    const x = attached(hostState(VTD_SM));
    mapArea(x, area([[0x20_0000n, 0x4000_0000n, 0x20_0000n]]));
    const d = x.domain;
    domainSetDirtyTracking(x.s, d, true);
    const s = dmas(x.s, [{ iova: "0x210000", access: "write" }]).state;
    expect(domainReadDirty(s, d, 0x20_0000n, 0x20_0000n, 0x8_0000n, false)).toEqual([true, true, true, true]);
    domainSetDirtyTracking(s, d, true);
    expect(domainReadDirty(s, d, 0x20_0000n, 0x20_0000n, 0x8_0000n, false)).toEqual([false, false, false, false]);
  });

  it("the mock: D (bit 6) goes into the entry of the contiguous page the IOVA indexes; reading checks and clears them all, and record_dirty reports all but the page's last entry", () => {
    const s = hostState({ op: "host.iommu", type: "selftest_mock" });
    const domain = domainAllocPaging(s, defaultParams("selftest", 0));
    const x = attached(s, undefined, domain);
    mapArea(x, area([[0x100_0000n, 0x4000_0000n, 0x2000n]]));
    domainSetDirtyTracking(s, domain, true);
    const after = dmas(s, [{ iova: "0x1001800", access: "write" }]).state;
    const l1 = KERNEL_BASE + 0x2000n; // top, L2 at +1, L1 at +2
    expect(entryAt(after, l1 + 3n * 8n) & (1n << 6n)).toBe(1n << 6n);
    expect(entryAt(after, l1) & ((1n << 6n) | (1n << 5n))).toBe(0n); // no A bit in the mock
    // record_dirty (iommu_pt.h): an 8 KiB page of four entries marks (log2_set_mod_max(0, 2) - 0) = 3 entries
    expect(domainReadDirty(after, domain, 0x100_0000n, 0x2000n, 0x800n, true)).toEqual([true, true, true, false]);
    expect(entryAt(after, l1 + 3n * 8n) & (1n << 6n)).toBe(0n);
  });
});
