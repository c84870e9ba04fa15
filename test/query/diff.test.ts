// docs/architecture.md "Queries": a diff names what changed between two states as the
// paths `state --path` reads, memory per 8-byte word at its physical address.
import { describe, expect, it } from "vitest";
import { diffStates } from "../../src/query/diff.ts";
import { selectStatePath } from "../../src/query/memory.ts";
import { fileSource, inlineSource, states } from "./timeline_fixture.ts";

const dma = states(fileSource("traces/05-map-and-dma.jsonl"));

describe("diffStates (src/query/diff.ts)", () => {
  it("from an event to itself there is no change", () => {
    expect(diffStates(dma(12), dma(12))).toEqual([]);
    expect(diffStates(dma(0), dma(0))).toEqual([]);
  });

  it("IOMMU_IOAS_MAP of 2 MiB at IOVA 0x100000 adds the area and 512 second-stage leaf PTEs (iopt_map_user_pages -> iommu_map)", () => {
    const changes = diffStates(dma(11), dma(12));
    const area = changes.filter((c) => c.path.startsWith("iommufd."));
    expect(area).toMatchObject([{ path: "iommufd.1.objects.2.areas.0", kind: "added", after: { iova: 0x100000n, last: 0x2fffffn } }]);
    // VT-d second-stage leaves: the page's address | DMA_PTE_READ | DMA_PTE_WRITE (intel_iommu pfn_to_dma_pte, __domain_mapping).
    const leaves = changes.filter((c) => c.path.startsWith("memory.0x") && /^0x40[01][0-9a-f]{2}003$/.test(c.after as string));
    expect(leaves).toHaveLength(512);
    expect(leaves.every((c) => c.kind === "added")).toBe(true);
    expect(leaves.map((c) => c.after)).toContain("0x401ff003");
    // Each change's path reads its value back.
    for (const c of leaves.slice(0, 3)) expect(selectStatePath(dma(12), c.path)).toEqual({ found: true, value: c.after });
  });

  it("the reverse diff swaps added and removed: undoing IOMMU_IOAS_UNMAP puts the area back", () => {
    const fwd = diffStates(dma(17), dma(18));
    const back = diffStates(dma(18), dma(17));
    expect(fwd.find((c) => c.path === "iommufd.1.objects.2.areas.0")).toMatchObject({ kind: "removed" });
    expect(back.find((c) => c.path === "iommufd.1.objects.2.areas.0")).toMatchObject({ kind: "added" });
    expect(back.map((c) => c.path)).toEqual(fwd.map((c) => c.path));
    // Unmapping zeroes the leaves (dma_pte_clear_range): changed words, not removed frames.
    expect(fwd.find((c) => c.after === "0x0")).toMatchObject({ kind: "changed" });
  });

  it("IOMMU_DESTROY of an unused IOAS removes the object and nothing else (iommufd_destroy -> iommufd_object_remove)", () => {
    const at = states(
      inlineSource([
        { op: "process", pid: 1 },
        { op: "open", pid: 1, path: "/dev/iommu" },
        { op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_ALLOC" },
        { op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_DESTROY", arg: { id: 1 } },
      ]),
    );
    const changes = diffStates(at(3), at(4));
    expect(changes).toMatchObject([{ path: expect.stringMatching(/^iommufd\.\d+\.objects\.1$/), kind: "removed", before: { type: "ioas", id: 1 } }]);
    expect(changes[0]).not.toHaveProperty("after");
  });

  it("a guest page-table write over an entry changes one word at its host physical address", () => {
    const at = states(
      inlineSource([
        { op: "process", pid: 1 },
        { op: "mem.map", pid: 1, va: "0x7f0000000000", length: "0x4000000", pa: "0x100000000" },
        { op: "qemu.machine", pid: 1, ram: [{ gpa: "0x0", size: "0x4000000", va: "0x7f0000000000" }] },
        { op: "guest.mem.write", pid: 1, gpa: "0x100008", u64: ["0x101001"] },
        { op: "guest.mem.write", pid: 1, gpa: "0x100008", u64: ["0x201001"] },
      ]),
    );
    // Guest RAM gpa 0 is host 0x100000000: the frame appears with its one non-zero word...
    expect(diffStates(at(3), at(4))).toEqual([{ path: "memory.0x100100008", kind: "added", after: "0x101001" }]);
    // ...and the rewrite changes exactly that word.
    expect(diffStates(at(4), at(5))).toEqual([{ path: "memory.0x100100008", kind: "changed", before: "0x101001", after: "0x201001" }]);
  });

  it("skips a subtree that is the same object on both sides without reading it", () => {
    const shared = {
      get trap(): never {
        throw new Error("read a shared subtree");
      },
    };
    expect(diffStates({ a: shared, b: new Map([[1, "x"]]) }, { a: shared, b: new Map([[1, "y"]]) })).toEqual([
      { path: "b.1", kind: "changed", before: "x", after: "y" },
    ]);
  });

  it("arrays: an item inserted in the middle is one added item at its index", () => {
    const a = { t: [{ i: 1 }, { i: 3 }] };
    const b = { t: [{ i: 1 }, { i: 2 }, { i: 3 }] };
    expect(diffStates(a, b)).toEqual([{ path: "t.1", kind: "added", after: { i: 2 } }]);
  });
});
