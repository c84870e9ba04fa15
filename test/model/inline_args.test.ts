// Inline payloads of an ioctl `arg` (docs/trace-format.md "Kernel system calls"):
// checked when the trace is read, member by member, with the encoder the handler
// uses, so a malformed payload is bad input naming arg.data.MEMBER, never a
// TypeError, a fault halfway through a replay, or silently ignored.
import { describe, expect, it } from "vitest";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { io, refusal } from "../helpers.ts";

const accepts = (raw: Record<string, unknown>) => expect(() => parseTraceEvent(raw, 1), JSON.stringify(raw)).not.toThrow();

const BAD_FLAGS = [[null], [true], [[]], {}, true, null, ["NOPE"]];

describe("driver data (struct iommu_user_data: IOMMU_HWPT_ALLOC, IOMMU_VIOMMU_ALLOC, IOMMU_HWPT_INVALIDATE)", () => {
  it("IOMMU_HWPT_ALLOC data is the data_type's struct: iommu_hwpt_vtd_s1.flags takes IOMMU_VTD_S1_* names, anything else is bad input naming arg.data.flags", () => {
    const alloc = (data: unknown) => io("IOMMU_HWPT_ALLOC", { dev_id: 1, pt_id: 2, data_type: "VTD_S1", data });
    for (const bad of BAD_FLAGS) expect(refusal(alloc({ flags: bad }))).toMatch(/^arg\.data\.flags: /);
    expect(refusal(alloc({ pgtbl_addr: "0x" }))).toMatch(/^arg\.data\.pgtbl_addr: /);
    expect(refusal(alloc({ nope: 1 }))).toMatch(/^arg\.data\.nope: iommu_hwpt_vtd_s1 has no member "nope"/);
    expect(refusal(alloc([1]))).toMatch(/^arg\.data: expected an object/);
    accepts(alloc({ flags: ["SRE", "WPE"], pgtbl_addr: "0x1000", addr_width: 48 }));
    accepts(alloc({ hex: "00".repeat(24) }));
  });

  it("a data_type with no driver struct here: the members of some struct of the command (the selftest's IOMMU_HWPT_DATA_NONE with a mock struct, refused by the kernel before it reads it), or raw bytes", () => {
    const alloc = (data: unknown) => io("IOMMU_HWPT_ALLOC", { dev_id: 1, pt_id: 2, data_type: "IOMMU_HWPT_DATA_NONE", data_len: 8, data });
    accepts(alloc({ iotlb: "0xbadbeef", pagetable_type: 0 }));
    expect(refusal(alloc({ nope: 1 }))).toMatch(/^arg\.data: no driver struct is known for this data type/);
    // no data_type at all (IOMMU_HWPT_DATA_NONE): a member of some struct with a value it cannot take is named
    expect(refusal(io("IOMMU_HWPT_ALLOC", { data: { flags: [null] } }))).toMatch(/^arg\.data\.flags: element 0: /);
  });

  it("IOMMU_VIOMMU_ALLOC data is the vIOMMU type's struct (iommu_viommu_selftest)", () => {
    const alloc = (data: unknown) => io("IOMMU_VIOMMU_ALLOC", { dev_id: 1, hwpt_id: 2, type: "IOMMU_VIOMMU_TYPE_SELFTEST", data });
    for (const bad of [[null], {}, true, "0x", 1.5]) expect(refusal(alloc({ in_data: bad }))).toMatch(/^arg\.data\.in_data: /);
    accepts(alloc({ in_data: "0xcafe" }));
  });

  it("IOMMU_HWPT_INVALIDATE data is a list of entries of the data_type's entry struct, each named arg.data[i]", () => {
    const inv = (data: unknown) => io("IOMMU_HWPT_INVALIDATE", { hwpt_id: 3, data_type: "IOMMU_HWPT_INVALIDATE_DATA_VTD_S1", data });
    for (const bad of BAD_FLAGS) expect(refusal(inv([{ addr: 0, npages: 1 }, { flags: bad }]))).toMatch(/^arg\.data\[1\]\.flags: /);
    expect(refusal(inv([null]))).toMatch(/^arg\.data\[0\]: expected an object/);
    accepts(inv([{ addr: "0x1000", npages: 1, flags: ["LEAF"] }]));
    // the selftest type is a nested HWPT's or a vIOMMU's entry, as hwpt_id decides: either struct's members
    const selftest = (e: unknown) => io("IOMMU_HWPT_INVALIDATE", { hwpt_id: 3, data_type: "IOMMU_HWPT_INVALIDATE_DATA_SELFTEST", data: [e] });
    accepts(selftest({ flags: 0, iotlb_id: 1 }));
    accepts(selftest({ flags: 0, vdev_id: 1, cache_id: 0 }));
    expect(refusal(selftest({ flags: [null] }))).toMatch(/^arg\.data\[0\]\.flags: /);
  });
});

describe("other inline payloads", () => {
  it("IOMMU_IOAS_ALLOW_IOVAS allowed_iovas: a list of {start, last}, 64-bit each", () => {
    const allow = (allowed_iovas: unknown) => io("IOMMU_IOAS_ALLOW_IOVAS", { ioas_id: 2, allowed_iovas });
    expect(refusal(allow([{ start: "0x", last: 1 }]))).toMatch(/^arg\.allowed_iovas\[0\]\.start: /);
    expect(refusal(allow([{ start: 0, end: 1 }]))).toBe("arg.allowed_iovas[0].end: unknown field (known: start, last)");
    expect(refusal(allow([[0, 1]]))).toMatch(/^arg\.allowed_iovas\[0\]: expected \{"start","last"\}/);
    accepts(allow([{ start: 0, last: "0xffffffffffffffff" }]));
  });

  it("VFIO_DEVICE_FEATURE data: the feature's struct (vfio_device_feature_dma_buf and its dma_ranges, low_power_entry_with_wakeup, ...)", () => {
    const feat = (flags: unknown, data: unknown) => ({ ...io("VFIO_DEVICE_FEATURE", { flags, data }), fd: 4 });
    expect(refusal(feat(["GET", "DMA_BUF"], { region_index: [null] }))).toMatch(/^arg\.data\.region_index: /);
    expect(refusal(feat(["GET", "DMA_BUF"], { dma_ranges: "x" }))).toMatch(/^arg\.data\.dma_ranges: expected a list/);
    expect(refusal(feat(["GET", "DMA_BUF"], { dma_ranges: [{ offset: "zz" }] }))).toMatch(/^arg\.data\.dma_ranges\[0\]\.offset: /);
    expect(refusal(feat(["SET", "LOW_POWER_ENTRY_WITH_WAKEUP"], { wakeup_eventfd: {} }))).toMatch(/^arg\.data\.wakeup_eventfd: /);
    expect(refusal(feat(["SET", "MIGRATION"], { flags: [null] }))).toMatch(/^arg\.data\.flags: /);
    expect(refusal(feat(["SET", "LOW_POWER_ENTRY"], { x: 1 }))).toMatch(/^arg\.data: feature 3 has no payload struct/);
    accepts(feat(["GET", "DMA_BUF"], { region_index: 0, dma_ranges: [{ offset: 0, length: "0x1000" }] }));
    accepts(feat(["SET", "LOW_POWER_ENTRY"], {}));
  });

  it("VFIO_DEVICE_SET_IRQS data: a list of bools or eventfd numbers; VFIO_DEVICE_BIND_IOMMUFD token: a UUID; IOMMU_GET_HW_INFO data: {} (the kernel fills it)", () => {
    const irqs = (data: unknown) => ({ ...io("VFIO_DEVICE_SET_IRQS", { index: 4, count: 1, flags: ["DATA_EVENTFD", "ACTION_TRIGGER"], data }), fd: 4 });
    for (const bad of [[null], [{}], ["x"], [1.5], [2 ** 32]]) expect(refusal(irqs(bad))).toMatch(/^arg\.data\[0\]: /);
    expect(refusal(irqs({ fd: 5 }))).toMatch(/^arg\.data: expected a list/);
    accepts(irqs([-1]));
    accepts(irqs([true]));
    const bind = (token: unknown) => ({ ...io("VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3, flags: ["TOKEN"], token }), fd: 4 });
    expect(refusal(bind("not-a-uuid"))).toMatch(/^arg\.token: expected a UUID/);
    expect(refusal(bind({ hex: "00" }))).toMatch(/^arg\.token: expected a UUID/);
    accepts(bind("00000000-0000-0000-0000-000000000001"));
    expect(refusal(io("IOMMU_GET_HW_INFO", { dev_id: 1, data: { flags: 1 } }))).toMatch(/^arg\.data: the kernel fills data: give \{\}/);
    accepts(io("IOMMU_GET_HW_INFO", { dev_id: 1, data: {} }));
  });
});

describe("integer arguments (the unsigned long of the ioctl)", () => {
  it("VFIO_CHECK_EXTENSION takes an integer; VFIO_GET_API_VERSION none (the kernel ignores it): 1.5, a string or 2^64 is bad input naming arg", () => {
    for (const cmd of ["VFIO_CHECK_EXTENSION", "VFIO_GET_API_VERSION"]) {
      for (const bad of [1.5, "x", "0x", "0x10000000000000000", [1], {}, true]) expect(refusal(io(cmd, bad))).toMatch(new RegExp(`^arg: ${cmd} takes `));
      for (const ok of [1, "0x1", -1, "18446744073709551615"]) accepts(io(cmd, ok));
    }
  });
});
