// src/uapi/pointers.ts: every pointer member is a u64 member of its struct, and
// the lengths are what the kernel touches behind it.
import { describe, expect, it } from "vitest";
import { decodeStruct, encodeStruct, structByName } from "../../src/uapi/index.ts";
import { POINTER_MEMBERS, pointerMembers } from "../../src/uapi/pointers.ts";

describe("uAPI pointer members", () => {
  it("each names a u64 member of a known struct", () => {
    for (const [name, members] of Object.entries(POINTER_MEMBERS)) {
      const def = structByName(name);
      expect(def, name).toBeDefined();
      for (const m of members) expect(def!.byName.get(m.member)?.type, `${name}.${m.member}`).toBe("u64");
    }
  });

  const len = (struct: string, fields: Record<string, number | bigint>) => {
    const def = structByName(struct)!;
    return pointerMembers(def).map((p) => p.length(decodeStruct(def, encodeStruct(def, fields))));
  };

  it("iommufd_ioas_iova_ranges copies num_iovas struct iommu_iova_range (16 bytes each)", () => {
    expect(len("iommu_ioas_iova_ranges", { num_iovas: 3 })).toEqual([48n]);
  });

  it("iommufd_hwpt_invalidate reads entry_num entries of entry_len bytes", () => {
    expect(len("iommu_hwpt_invalidate", { entry_len: 24, entry_num: 5 })).toEqual([120n]);
  });

  it("iommufd_hwpt_get_dirty_bitmap: one bit per page_size unit, in u64 words (iova_bitmap)", () => {
    expect(len("iommu_hwpt_get_dirty_bitmap", { length: 64 * 4096, page_size: 4096 })).toEqual([8n]);
    expect(len("iommu_hwpt_get_dirty_bitmap", { length: 65 * 4096, page_size: 4096 })).toEqual([16n]);
    expect(len("iommu_hwpt_get_dirty_bitmap", { length: 4096, page_size: 0 })).toEqual([0n]);
  });

  it("iommufd_vfio_map_dma pins size bytes at vaddr (iopt_map_user_pages), as IOMMU_IOAS_MAP does at user_va", () => {
    expect(len("vfio_iommu_type1_dma_map", { vaddr: 0x7f0000000000n, size: 0x10000n })).toEqual([0x10000n]);
    expect(pointerMembers(structByName("vfio_iommu_type1_dma_map")!).map((p) => [p.member, p.dir])).toEqual([["vaddr", "pin"]]);
  });

  it("a struct without pointers has none (iommu_ioas_alloc)", () => {
    expect(pointerMembers(structByName("iommu_ioas_alloc")!)).toEqual([]);
  });
});
