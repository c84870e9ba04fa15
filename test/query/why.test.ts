// `iorr why` (src/query/why.ts, src/model/provenance.ts): the events that established
// every piece a DMA's translation depends on, each by the last write (a write later
// overwritten is not one), with the vIOMMU's registers, cache fills and invalidations.

import { Effect, Either } from "effect";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ProfileService } from "../../src/model/framework.ts";
import { provenance } from "../../src/model/provenance.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { parseProbe } from "../../src/query/probe.ts";
import { why, type WhyResult } from "../../src/query/why.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
import { vtdLongTrace } from "../../tools/gen/vtd-long.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-why-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function whyOf(file: string, probe: Record<string, unknown>, at?: number): WhyResult {
  const t = Effect.runSync(readJsonlTrace(file));
  const p = t.header.profile;
  const profile = resolveProfile(p === undefined ? undefined : typeof p === "string" ? [p] : p);
  const ev = Either.getOrThrow(parseProbe(JSON.stringify(probe), "--probe"));
  return Effect.runSync(
    why(ev, at ?? t.events.length).pipe(Effect.provideService(ProfileService, profile), Effect.provideService(Trace, memorySource(file, t.header, t.events))),
  );
}
const pairs = (r: WhyResult) => r.events.map((e) => [e.seq, e.role] as const);
const seqs = (r: WhyResult) => r.events.map((e) => e.seq);

describe("guest DMA through guest-built VT-d tables (intel-iommu legacy mode)", () => {
  // tools/gen/vtd-long.ts: setup 1-5, root entry 6, context entry 7, L3 8, L2 9, leaf of page p at 10 + p,
  // RTADDR 266, GCMD.SRTP 267, GCMD.TE 268; round k: leaf rewrite 269+4k, IVA 270+4k, IOTLB page
  // invalidation 271+4k, DMA 272+4k, of page (97 k) % 256. Page 97 is round 1.
  const file = join(dir, "long.jsonl");
  writeFileSync(file, `${vtdLongTrace(281).lines.join("\n")}\n`);
  const probe = { op: "dma", pid: 1, guest_bdf: "00:03.0", iova: "0x61010", access: "read" };

  it("a cached translation: the leaf's final write (not the first), the page invalidation after it, the IOTLB fill, root, context, RTADDR, SRTP, TE", () => {
    const r = whyOf(file, probe);
    expect(r.outcome).toEqual({ pa: "0x1861010", page_size: "0x1000", perm: "r", hpa: "0x101861010" });
    expect(pairs(r)).toEqual([
      [2, "process memory map (pid 1 va 0x7f0000000000, backing 0x101861010)"],
      [6, "guest root entry (bus 0) at 0x10000"],
      [7, "context entry (devfn 0x18) at 0x11180"],
      [8, "second-stage PTE (level 3) at 0x12000"],
      [9, "second-stage PTE (level 2) at 0x13000"],
      [266, "root-table pointer write (RTADDR)"],
      [267, "root-table pointer latch (GCMD.SRTP)"],
      [268, "translation enable (GCMD.TE)"],
      // The context cache was emptied by vtd_handle_gcmd_te's vtd_reset_caches after the context entry was written.
      [268, "invalidation (context cache reset by GCMD.TE)"],
      [272, "context-cache entry (filled by this DMA)"],
      [273, "second-stage PTE (level 1) at 0x14308"],
      [275, "invalidation (IOTLB, domain 1 page 0x61000 am 0)"],
      [276, "IOTLB entry (the cached translation, filled by this DMA)"],
    ]);
    expect(seqs(r)).not.toContain(10 + 97); // the leaf's first write, overwritten at 273
  });

  it("between the rewrite and its invalidation: the walk reads the new leaf, and no invalidation came after it", () => {
    const r = whyOf(file, probe, 274);
    expect(r.outcome.pa).toBe("0x1861010");
    expect(pairs(r)).toContainEqual([273, "second-stage PTE (level 1) at 0x14308"]);
    expect(r.events.filter((e) => e.role.startsWith("invalidation (IOTLB"))).toEqual([]);
    expect(seqs(r)).not.toContain(107);
  });

  it("before the rewrite: the first write is the dependency", () => {
    const r = whyOf(file, probe, 272);
    expect(r.outcome.pa).toBe("0x1061010");
    expect(pairs(r)).toContainEqual([107, "second-stage PTE (level 1) at 0x14308"]);
  });

  it("a context entry rewritten: the final write, the context-cache and IOTLB invalidations that made it visible (test/traces/vtd/stale_context_entry.jsonl)", () => {
    const r = whyOf("test/traces/vtd/stale_context_entry.jsonl", { ...probe, iova: "0x1010" });
    expect(r.outcome.pa).toBe("0x300010");
    expect(pairs(r)).toEqual(
      expect.arrayContaining([
        [6, "guest root entry (bus 0) at 0x10000"],
        [19, "context entry (devfn 0x18) at 0x11180"],
        [13, "second-stage PTE (level 1) at 0x17008"],
        [14, "root-table pointer write (RTADDR)"],
        [15, "root-table pointer latch (GCMD.SRTP)"],
        [16, "translation enable (GCMD.TE)"],
        [23, "invalidation (context cache, device 00:03.0)"],
        [25, "invalidation (IOTLB, global)"],
      ]),
    );
    expect(seqs(r)).not.toContain(7); // the context entry's first write
    expect(seqs(r)).not.toContain(20); // an IOTLB invalidation the stale context entry outlived (the DMA at 22 refilled it)
  });

  it("the stale translation: the cached context entry's fill and what it read then, not the rewrite", () => {
    const r = whyOf("test/traces/vtd/stale_context_entry.jsonl", { ...probe, iova: "0x1010" }, 21);
    expect(r.outcome.pa).toBe("0x200010");
    expect(pairs(r)).toEqual(
      expect.arrayContaining([
        [7, "context entry (devfn 0x18) at 0x11180"],
        [10, "second-stage PTE (level 1) at 0x14008"],
        [18, "context-cache entry (filled by this DMA)"],
        [20, "invalidation (IOTLB, global)"],
      ]),
    );
    expect(seqs(r)).not.toContain(19);
  });
});

describe("host DMA through an iommufd IOAS (traces/05-map-and-dma.jsonl)", () => {
  const FILE = "traces/05-map-and-dma.jsonl";
  const probe = { op: "dma", bdf: "0000:01:00.0", iova: "0x100010", access: "write" };

  it("the map, the attach and its domain, each domain page-table entry, the process memory map", () => {
    const r = whyOf(FILE, probe, 12);
    expect(r.outcome).toEqual({ pa: "0x40000010", page_size: "0x1000", perm: "rw" });
    expect(r.events).toEqual([
      { seq: 4, op: "mem.map", role: "process memory map (pid 100 va 0x7f0000000000, backing 0x40000010)" },
      { seq: 9, op: "ioctl", cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", role: "attach" },
      { seq: 9, op: "ioctl", cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", role: "domain allocation" },
      { seq: 12, op: "ioctl", cmd: "IOMMU_IOAS_MAP", role: "domain page-table entry (level 3) at 0x1000000000" },
      { seq: 12, op: "ioctl", cmd: "IOMMU_IOAS_MAP", role: "domain page-table entry (level 2) at 0x1000001000" },
      { seq: 12, op: "ioctl", cmd: "IOMMU_IOAS_MAP", role: "domain page-table entry (level 1) at 0x1000002800" },
      { seq: 12, op: "ioctl", cmd: "IOMMU_IOAS_MAP", role: "map (IOAS 2 area 0x100000-0x2fffff)" },
    ]);
  });

  it("after the unmap the DMA faults, and the unmap's write of the leaf is why", () => {
    const r = whyOf(FILE, { ...probe, access: "read" }, 18);
    expect(r.outcome).toEqual({ fault: "VTD_FR_READ" });
    expect(pairs(r)).toContainEqual([18, "domain page-table entry (level 1) at 0x1000002800"]);
    expect(seqs(r)).not.toContain(4);
  });

  it("provenance is recorded only while why runs: plain replay has none installed", () => {
    whyOf(FILE, probe, 12);
    expect(provenance()).toBeNull();
  });
});

describe("host DMA through a nested HWPT (test/traces/vtd/host_nested_vtd_s1.jsonl: IOMMU_HWPT_DATA_VTD_S1 over a NEST_PARENT)", () => {
  // 4 mem.map, 5-8 the stage-1 PML4 / PDPT / PD / PT entries (mem.write), 13 IOMMU_IOAS_MAP of GPA 0-0x1fffff,
  // 14 the nesting parent (its second stage filled from the IOAS: 2 MiB leaf), 15 the nested HWPT, 16 attach.
  const FILE = "test/traces/vtd/host_nested_vtd_s1.jsonl";
  const probe = { op: "dma", bdf: "0000:01:00.0", iova: "0x10000010", access: "write" };
  const parentWalk = [
    [14, "second-stage PTE (level 4, nesting parent) at 0x1000000000"],
    [14, "second-stage PTE (level 3, nesting parent) at 0x1000001000"],
    [14, "second-stage PTE (level 2, nesting parent) at 0x1000002000"],
  ] as const;

  it("both stages: each stage-1 entry at its GPA (written by the process), the parent's entries every stage-1 table and the output went through (written once each), the IOAS map", () => {
    const r = whyOf(FILE, probe, 16);
    expect(r.outcome).toEqual({ pa: "0x40100010", page_size: "0x1000", perm: "rwx" });
    expect(pairs(r)).toEqual([
      [4, "process memory map (pid 100 va 0x7f0000000000, backing 0x40100010)"],
      [5, "first-stage PTE (level 4) at GPA 0x1000 (host 0x40001000)"],
      [6, "first-stage PTE (level 3) at GPA 0x2000 (host 0x40002000)"],
      [7, "first-stage PTE (level 2) at GPA 0x3400 (host 0x40003400)"],
      [8, "first-stage PTE (level 1) at GPA 0x4000 (host 0x40004000)"],
      [13, "map (IOAS 2 area 0x0-0x1fffff)"],
      [14, "domain allocation (nesting parent)"],
      ...parentWalk,
      [15, "hwpt-alloc"],
      [16, "attach"],
    ]);
  });

  it("a first-stage fault: the stage-1 entries read up to the not-present one, which no event wrote", () => {
    const r = whyOf(FILE, { ...probe, iova: "0x20000000", access: "read" }, 16);
    expect(r.outcome).toEqual({ fault: "VTD_FR_FS_PAGING_ENTRY_P" });
    const roles = r.events.map((e) => e.role);
    expect(roles.filter((x) => x.startsWith("first-stage"))).toEqual([
      "first-stage PTE (level 4) at GPA 0x1000 (host 0x40001000)",
      "first-stage PTE (level 3) at GPA 0x2000 (host 0x40002000)",
    ]);
    expect(roles.some((x) => x.startsWith("process memory map"))).toBe(false); // no output
  });

  it("a second-stage fault on the output GPA: the parent's not-present entry, zeroed by the allocation of its table", () => {
    const r = whyOf(FILE, { ...probe, iova: "0x10001000", access: "read" }, 16);
    expect(r.outcome).toEqual({ fault: "VTD_FR_READ" });
    expect(pairs(r)).toEqual(expect.arrayContaining([[8, "first-stage PTE (level 1) at GPA 0x4008 (host 0x40004008)"], ...parentWalk]));
    expect(pairs(r)).toContainEqual([14, "second-stage PTE (level 2, nesting parent) at 0x1000002008"]);
  });

  it("across a page boundary: both pages' stage-1 leaves, the second page's second-stage fault (the trace's last DMA)", () => {
    const r = whyOf(FILE, { ...probe, iova: "0x10000ff0", size: 32, access: "read" }, 16);
    expect(r.outcome).toEqual({ fault: "VTD_FR_READ" });
    expect(pairs(r)).toEqual(
      expect.arrayContaining([
        [8, "first-stage PTE (level 1) at GPA 0x4000 (host 0x40004000)"],
        [8, "first-stage PTE (level 1) at GPA 0x4008 (host 0x40004008)"],
        [14, "second-stage PTE (level 2, nesting parent) at 0x1000002008"],
        [4, "process memory map (pid 100 va 0x7f0000000000, backing 0x40100ff0)"],
      ]),
    );
  });
});

describe("a guest DMA that faults (intel-iommu legacy mode, tools/gen/vtd-long.ts then a teardown)", () => {
  const base = vtdLongTrace(281).lines; // 280 events; page 97's leaf last written at 273, read and cached by the DMA at 276
  const probe = { op: "dma", pid: 1, guest_bdf: "00:03.0", iova: "0x61010", access: "read" };
  const mmio = (off: string, value: string) => JSON.stringify({ op: "guest.mmio.write", pid: 1, dev: "intel-iommu", off, size: 8, value });

  it("the guest clears the PTE and invalidates the page: the clearing write and that invalidation, not the earlier ones", () => {
    const file = join(dir, "clear-pte.jsonl");
    const clear = JSON.stringify({ op: "guest.mem.write", pid: 1, gpa: "0x14308", u64: ["0x0"] });
    // 281 the leaf cleared, 282 IVA = page 0x61000, 283 IOTLB page-selective invalidation of domain 1.
    writeFileSync(file, `${[...base, clear, mmio("0xf0", "0x61000"), mmio("0xf8", "0xb000000100000000")].join("\n")}\n`);
    const r = whyOf(file, probe);
    expect(r.outcome).toEqual({ fault: "VTD_FR_READ" });
    expect(pairs(r)).toEqual([
      [6, "guest root entry (bus 0) at 0x10000"],
      [7, "context entry (devfn 0x18) at 0x11180"],
      [8, "second-stage PTE (level 3) at 0x12000"],
      [9, "second-stage PTE (level 2) at 0x13000"],
      [266, "root-table pointer write (RTADDR)"],
      [267, "root-table pointer latch (GCMD.SRTP)"],
      [268, "translation enable (GCMD.TE)"],
      [268, "invalidation (context cache reset by GCMD.TE)"],
      [272, "context-cache entry (filled by this DMA)"],
      [281, "second-stage PTE (level 1) at 0x14308"],
      [283, "invalidation (IOTLB, domain 1 page 0x61000 am 0)"],
    ]);
    expect(seqs(r)).not.toContain(275); // the page's invalidation before the clear
  });

  it("the context entry cleared: the context-cache invalidation, and the domain invalidation that removed the page's IOTLB entry (its domain from that entry)", () => {
    const file = join(dir, "clear-ctx.jsonl");
    const clear = JSON.stringify({ op: "guest.mem.write", pid: 1, gpa: "0x11180", u64: ["0x0", "0x0"] });
    // 281 the context entry cleared, 282 CCMD device-selective (00:03.0), 283 IOTLB domain-selective (domain 1).
    writeFileSync(file, `${[...base, clear, mmio("0x28", "0xe000000000180000"), mmio("0xf8", "0xa000000100000000")].join("\n")}\n`);
    const r = whyOf(file, probe);
    expect(r.outcome).toEqual({ fault: "VTD_FR_CONTEXT_ENTRY_P" });
    expect(pairs(r)).toEqual(
      expect.arrayContaining([
        [281, "context entry (devfn 0x18) at 0x11180"],
        [282, "invalidation (context cache, device 00:03.0)"],
        [283, "invalidation (IOTLB, domain 1)"],
      ]),
    );
    expect(seqs(r)).not.toContain(7);
    // Page 0x62000 was never cached: no IOTLB entry gives its domain, so the domain invalidation does not cover it.
    const never = whyOf(file, { ...probe, iova: "0x62010" });
    expect(never.outcome).toEqual({ fault: "VTD_FR_CONTEXT_ENTRY_P" });
    expect(seqs(never)).toContain(282);
    expect(seqs(never)).not.toContain(283);
  });
});

describe("a DMA across a page boundary: every page it touched, each entry once", () => {
  it("host: both leaves, the table entries above them once, the area and the memory map once", () => {
    const r = whyOf("traces/05-map-and-dma.jsonl", { op: "dma", bdf: "0000:01:00.0", iova: "0x100ff0", size: 32, access: "write" }, 12);
    expect(r.outcome).toEqual({ pa: "0x40000ff0", page_size: "0x1000", perm: "rw" });
    expect(pairs(r)).toEqual([
      [4, "process memory map (pid 100 va 0x7f0000000000, backing 0x40000ff0 and 1 more page)"],
      [9, "attach"],
      [9, "domain allocation"],
      [12, "domain page-table entry (level 3) at 0x1000000000"],
      [12, "domain page-table entry (level 2) at 0x1000001000"],
      [12, "domain page-table entry (level 1) at 0x1000002800"],
      [12, "domain page-table entry (level 1) at 0x1000002808"],
      [12, "map (IOAS 2 area 0x100000-0x2fffff)"],
    ]);
  });

  it("host: past the area's end the second page faults; its not-present leaf was zeroed by the map that allocated its table", () => {
    const r = whyOf("traces/05-map-and-dma.jsonl", { op: "dma", bdf: "0000:01:00.0", iova: "0x2ffff0", size: 32, access: "write" }, 12);
    expect(r.outcome).toEqual({ fault: "VTD_FR_WRITE" });
    expect(pairs(r)).toEqual(
      expect.arrayContaining([
        [12, "domain page-table entry (level 1) at 0x10000037f8"],
        [12, "domain page-table entry (level 1) at 0x1000003800"],
        [4, "process memory map (pid 100 va 0x7f0000000000, backing 0x401ffff0)"],
      ]),
    );
  });

  it("guest: the cached page (its fill, its rewrite, its invalidation) and the walked one (its first write, the TE reset after it)", () => {
    const file = join(dir, "long-cross.jsonl");
    writeFileSync(file, `${vtdLongTrace(281).lines.join("\n")}\n`);
    const r = whyOf(file, { op: "dma", pid: 1, guest_bdf: "00:03.0", iova: "0x61ff0", size: 32, access: "read" }, 280);
    expect(r.outcome).toEqual({ pa: "0x1861ff0", page_size: "0x1000", perm: "r", hpa: "0x101861ff0" });
    expect(pairs(r)).toEqual([
      [2, "process memory map (pid 1 va 0x7f0000000000, backing 0x101861ff0 and 1 more page)"],
      [6, "guest root entry (bus 0) at 0x10000"],
      [7, "context entry (devfn 0x18) at 0x11180"],
      [8, "second-stage PTE (level 3) at 0x12000"],
      [9, "second-stage PTE (level 2) at 0x13000"],
      [108, "second-stage PTE (level 1) at 0x14310"], // page 0x62: its only write
      [266, "root-table pointer write (RTADDR)"],
      [267, "root-table pointer latch (GCMD.SRTP)"],
      [268, "translation enable (GCMD.TE)"],
      [268, "invalidation (context cache reset by GCMD.TE)"],
      [268, "invalidation (IOTLB reset by GCMD.TE)"], // page 0x62: the last IOTLB invalidation after its leaf was written
      [272, "context-cache entry (filled by this DMA)"],
      [273, "second-stage PTE (level 1) at 0x14308"],
      [275, "invalidation (IOTLB, domain 1 page 0x61000 am 0)"],
      [276, "IOTLB entry (the cached translation, filled by this DMA)"],
    ]);
  });
});
