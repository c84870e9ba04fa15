// iommufd codecs against include/uapi/linux/iommufd.h (torvalds/linux @85e0d1de),
// and
// drivers/iommu/iommufd/iommufd_test.h. Offsets and sizes below are worked out
// by hand from the header (every u64 there is __aligned_u64 / __aligned_le64).
import { describe, expect, it } from "vitest";
import { pinLayouts } from "./pin.ts";
import {
  decodeStruct,
  encodeStruct,
  IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX,
  IOMMU_IOAS_MAP,
  IOMMU_TEST_CMD,
  commandByName,
  commandsByNumber,
  IOMMUFD_COMMANDS,
  IOMMUFD_STRUCTS,
  iommu_hw_info,
  iommu_hwpt_alloc,
  iommu_ioas_map,
  iommu_ioas_noiommu_get_pa,
  MOCK_PASID_WIDTH,
  structByName,
  writeField,
} from "../../src/uapi/index.ts";
import * as iommufd from "../../src/uapi/iommufd.ts";

/** struct name -> [sizeof, { member: offset }] from iommufd.h / iommufd_test.h. */
const LAYOUTS: Record<string, [number, Record<string, number>]> = {
  iommu_destroy: [8, { size: 0, id: 4 }],
  iommu_ioas_alloc: [12, { size: 0, flags: 4, out_ioas_id: 8 }],
  iommu_iova_range: [16, { start: 0, last: 8 }],
  iommu_ioas_iova_ranges: [32, { size: 0, ioas_id: 4, num_iovas: 8, __reserved: 12, allowed_iovas: 16, out_iova_alignment: 24 }],
  iommu_ioas_allow_iovas: [24, { size: 0, ioas_id: 4, num_iovas: 8, __reserved: 12, allowed_iovas: 16 }],
  iommu_ioas_map: [40, { size: 0, flags: 4, ioas_id: 8, __reserved: 12, user_va: 16, length: 24, iova: 32 }],
  iommu_ioas_noiommu_get_pa: [40, { size: 0, flags: 4, ioas_id: 8, __reserved: 12, iova: 16, length: 24, out_phys: 32 }],
  iommu_ioas_map_file: [40, { size: 0, flags: 4, ioas_id: 8, fd: 12, start: 16, length: 24, iova: 32 }],
  iommu_ioas_copy: [40, { size: 0, flags: 4, dst_ioas_id: 8, src_ioas_id: 12, length: 16, dst_iova: 24, src_iova: 32 }],
  iommu_ioas_unmap: [24, { size: 0, ioas_id: 4, iova: 8, length: 16 }],
  iommu_option: [24, { size: 0, option_id: 4, op: 8, __reserved: 10, object_id: 12, val64: 16 }],
  iommu_vfio_ioas: [12, { size: 0, ioas_id: 4, op: 8, __reserved: 10 }],
  iommu_hwpt_vtd_s1: [24, { flags: 0, pgtbl_addr: 8, addr_width: 16, __reserved: 20 }],
  iommu_hwpt_arm_smmuv3: [16, { ste: 0 }],
  iommu_hwpt_amd_guest: [32, { dte: 0 }],
  iommu_hwpt_alloc: [
    48,
    {
      size: 0,
      flags: 4,
      dev_id: 8,
      pt_id: 12,
      out_hwpt_id: 16,
      __reserved: 20,
      data_type: 24,
      data_len: 28,
      data_uptr: 32,
      fault_id: 40,
      __reserved2: 44,
    },
  ],
  iommu_hw_info_vtd: [24, { flags: 0, __reserved: 4, cap_reg: 8, ecap_reg: 16 }],
  iommu_hw_info_arm_smmuv3: [40, { flags: 0, __reserved: 4, idr: 8, iidr: 32, aidr: 36 }],
  iommu_hw_info_tegra241_cmdqv: [8, { flags: 0, version: 4, log2vcmdqs: 5, log2vsids: 6, __reserved: 7 }],
  iommu_hw_info_amd: [16, { efr: 0, efr2: 8 }],
  iommu_hw_info: [
    40,
    {
      size: 0,
      flags: 4,
      dev_id: 8,
      data_len: 12,
      data_uptr: 16,
      in_data_type: 24,
      out_data_type: 24,
      out_max_pasid_log2: 28,
      __reserved: 29,
      out_capabilities: 32,
    },
  ],
  iommu_hwpt_set_dirty_tracking: [16, { size: 0, flags: 4, hwpt_id: 8, __reserved: 12 }],
  iommu_hwpt_get_dirty_bitmap: [48, { size: 0, hwpt_id: 4, flags: 8, __reserved: 12, iova: 16, length: 24, page_size: 32, data: 40 }],
  iommu_hwpt_vtd_s1_invalidate: [24, { addr: 0, npages: 8, flags: 16, __reserved: 20 }],
  iommu_viommu_arm_smmuv3_invalidate: [16, { cmd: 0 }],
  iommu_hwpt_invalidate: [32, { size: 0, hwpt_id: 4, data_uptr: 8, data_type: 16, entry_len: 20, entry_num: 24, __reserved: 28 }],
  iommu_hwpt_pgfault: [40, { flags: 0, dev_id: 4, pasid: 8, grpid: 12, perm: 16, __reserved: 20, addr: 24, length: 32, cookie: 36 }],
  iommu_hwpt_page_response: [8, { cookie: 0, code: 4 }],
  iommu_fault_alloc: [16, { size: 0, flags: 4, out_fault_id: 8, out_fault_fd: 12 }],
  iommu_viommu_tegra241_cmdqv: [16, { out_vintf_mmap_offset: 0, out_vintf_mmap_length: 8 }],
  iommu_viommu_alloc: [
    40,
    {
      size: 0,
      flags: 4,
      type: 8,
      dev_id: 12,
      hwpt_id: 16,
      out_viommu_id: 20,
      data_len: 24,
      __reserved: 28,
      data_uptr: 32,
    },
  ],
  iommu_vdevice_alloc: [24, { size: 0, viommu_id: 4, dev_id: 8, out_vdevice_id: 12, virt_id: 16 }],
  iommu_ioas_change_process: [8, { size: 0, __reserved: 4 }],
  iommufd_vevent_header: [8, { flags: 0, sequence: 4 }],
  iommu_vevent_arm_smmuv3: [32, { evt: 0 }],
  iommu_vevent_tegra241_cmdqv: [16, { lvcmdq_err_map: 0 }],
  iommu_veventq_alloc: [
    32,
    {
      size: 0,
      flags: 4,
      viommu_id: 8,
      type: 12,
      veventq_depth: 16,
      out_veventq_id: 20,
      out_veventq_fd: 24,
      __reserved: 28,
    },
  ],
  iommu_hw_queue_alloc: [40, { size: 0, flags: 4, viommu_id: 8, type: 12, index: 16, out_hw_queue_id: 20, nesting_parent_iova: 24, length: 32 }],
  // iommufd_test.h
  iommu_test_hw_info: [8, { flags: 0, test_reg: 4 }],
  iommu_test_cmd: [
    72,
    {
      size: 0,
      op: 4,
      id: 8,
      __reserved: 12,
      "add_reserved.start": 16,
      "add_reserved.length": 24,
      "mock_domain_flags.out_stdev_id": 16,
      "mock_domain_flags.out_hwpt_id": 20,
      "mock_domain_flags.out_idev_id": 24,
      "mock_domain_flags.dev_flags": 28,
      "mock_domain_replace.pt_id": 16,
      "pasid_attach.pasid": 16,
      "pasid_attach.pt_id": 20,
      "pasid_check.hwpt_id": 20,
      "check_map.iova": 16,
      "check_map.length": 24,
      "check_map.uptr": 32,
      "check_refs.length": 16,
      "check_refs.uptr": 24,
      "check_refs.refs": 32,
      "memory_limit.limit": 16,
      "create_access.out_access_fd": 16,
      "create_access.flags": 20,
      "destroy_access_pages.access_pages_id": 16,
      "access_pages.flags": 16,
      "access_pages.out_access_pages_id": 20,
      "access_pages.iova": 24,
      "access_pages.length": 32,
      "access_pages.uptr": 40,
      "access_rw.iova": 16,
      "access_rw.length": 24,
      "access_rw.uptr": 32,
      "access_rw.flags": 40,
      "access_replace_ioas.ioas_id": 16,
      "check_iotlb.id": 16,
      "check_iotlb.iotlb": 20,
      "trigger_iopf.dev_id": 16,
      "trigger_iopf.pasid": 20,
      "trigger_iopf.grpid": 24,
      "trigger_iopf.perm": 28,
      "trigger_iopf.addr": 32,
      "check_dev_cache.id": 16,
      "check_dev_cache.cache": 20,
      "dirty.flags": 16,
      "dirty.iova": 24,
      "dirty.length": 32,
      "dirty.page_size": 40,
      "dirty.uptr": 48,
      "dmabuf_get.length": 16,
      "dmabuf_get.open_flags": 20,
      "dmabuf_revoke.dmabuf_fd": 16,
      "dmabuf_revoke.revoked": 20,
      "dirty.out_nr_dirty": 56,
      last: 64,
    },
  ],
  iommu_hwpt_selftest: [8, { iotlb: 0, pagetable_type: 4 }],
  iommu_hwpt_invalidate_selftest: [8, { flags: 0, iotlb_id: 4 }],
  iommu_viommu_selftest: [24, { in_data: 0, out_data: 4, out_mmap_offset: 8, out_mmap_length: 16 }],
  iommu_viommu_invalidate_selftest: [12, { flags: 0, vdev_id: 4, cache_id: 8 }],
  iommu_viommu_event_selftest: [4, { virt_id: 0 }],
};

pinLayouts("iommufd.h", LAYOUTS, IOMMUFD_STRUCTS);

describe("iommufd.h arrays", () => {
  it("sizes the arrays as the header declares them (idr[6], ste[2], dte[4], evt[4], __reserved[3])", () => {
    const count = (s: string, m: string) => structByName(s)!.byName.get(m)!.count;
    expect(count("iommu_hw_info_arm_smmuv3", "idr")).toBe(6);
    expect(count("iommu_hwpt_arm_smmuv3", "ste")).toBe(2);
    expect(count("iommu_hwpt_amd_guest", "dte")).toBe(4);
    expect(count("iommu_vevent_arm_smmuv3", "evt")).toBe(4);
    expect(count("iommu_viommu_arm_smmuv3_invalidate", "cmd")).toBe(2);
    expect(count("iommu_hw_info", "__reserved")).toBe(3);
  });
});

/** Each _IO(';', IOMMUFD_CMD_x) value from the enum in iommufd.h. */
const NUMBERS: Record<string, number> = {
  IOMMU_DESTROY: 0x3b80,
  IOMMU_IOAS_ALLOC: 0x3b81,
  IOMMU_IOAS_ALLOW_IOVAS: 0x3b82,
  IOMMU_IOAS_COPY: 0x3b83,
  IOMMU_IOAS_IOVA_RANGES: 0x3b84,
  IOMMU_IOAS_MAP: 0x3b85,
  IOMMU_IOAS_UNMAP: 0x3b86,
  IOMMU_OPTION: 0x3b87,
  IOMMU_VFIO_IOAS: 0x3b88,
  IOMMU_HWPT_ALLOC: 0x3b89,
  IOMMU_GET_HW_INFO: 0x3b8a,
  IOMMU_HWPT_SET_DIRTY_TRACKING: 0x3b8b,
  IOMMU_HWPT_GET_DIRTY_BITMAP: 0x3b8c,
  IOMMU_HWPT_INVALIDATE: 0x3b8d,
  IOMMU_FAULT_QUEUE_ALLOC: 0x3b8e,
  IOMMU_IOAS_MAP_FILE: 0x3b8f,
  IOMMU_VIOMMU_ALLOC: 0x3b90,
  IOMMU_VDEVICE_ALLOC: 0x3b91,
  IOMMU_IOAS_CHANGE_PROCESS: 0x3b92,
  IOMMU_VEVENTQ_ALLOC: 0x3b93,
  IOMMU_HW_QUEUE_ALLOC: 0x3b94,
  IOMMU_IOAS_NOIOMMU_GET_PA: 0x3b95,
  IOMMU_TEST_CMD: 0x3ba0,
};

describe("iommufd commands (iommufd.h)", () => {
  it("numbers every command as _IO(';', nr) and exports the same value", () => {
    expect(Object.keys(IOMMUFD_COMMANDS).sort()).toEqual(Object.keys(NUMBERS).sort());
    for (const [name, n] of Object.entries(NUMBERS)) {
      expect(commandByName(name)!.number, name).toBe(n);
      expect((iommufd as unknown as Record<string, number>)[name], name).toBe(n);
    }
    expect(IOMMU_IOAS_MAP).toBe(0x3b85);
  });

  it("gives every command a `size`-prefixed struct", () => {
    for (const c of Object.values(IOMMUFD_COMMANDS)) {
      expect(c.arg.kind).toBe("struct");
      if (c.arg.kind === "struct") expect(c.arg.sizeField).toBe("size");
    }
  });

  it("names 0x95 IOMMU_IOAS_NOIOMMU_GET_PA, accepting seed 003's V4 name IOMMU_IOAS_GET_PA", () => {
    const def = commandByName("IOMMU_IOAS_NOIOMMU_GET_PA")!;
    expect(commandByName("IOMMU_IOAS_GET_PA")).toBe(def);
    expect(def.aliases).toEqual(["IOMMU_IOAS_GET_PA"]);
    expect(commandsByNumber(0x3b95)).toEqual([def]);
    expect(def.arg.kind === "struct" && def.arg.struct).toBe(iommu_ioas_noiommu_get_pa);
  });

  it("has IOMMU_TEST_CMD (_IO(';', IOMMUFD_CMD_BASE + 32)) with iommufd_test.h's struct iommu_test_cmd: last at 64, 72 bytes", () => {
    expect(IOMMU_TEST_CMD).toBe(0x3ba0);
    expect(commandsByNumber(0x3ba0).map((c) => c.name)).toEqual(["IOMMU_TEST_CMD"]);
    const def = structByName("iommu_test_cmd")!;
    expect(def.byName.get("last")!.offset).toBe(64);
    expect(def.size).toBe(72);
    expect(def.byName.get("check_refs.uptr")!.offset).toBe(24);
    expect(def.byName.get("mock_domain.out_idev_id")!.offset).toBe(24);
  });

  it("matches names exactly (no short forms, no case folding)", () => {
    expect(commandByName("IOAS_MAP")).toBeUndefined();
    expect(commandByName("iommu_ioas_map")).toBeUndefined();
  });
});

describe("iommufd constants", () => {
  it("hw_pagetable.c: IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX = 1 << 19", () => {
    expect(IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX).toBe(524288);
  });

  it("iommufd_test.h selftest values", () => {
    expect(MOCK_PASID_WIDTH).toBe(20);
    expect(iommufd.IOMMU_HWPT_DATA_SELFTEST).toBe(0xdead);
    expect(iommufd.IOMMU_HW_INFO_TYPE_SELFTEST).toBe(0xfeedbeef);
    expect(iommufd.IOMMU_HW_INFO_SELFTEST_REGVAL).toBe(0xdeadbeef);
    expect(iommufd.IOMMU_VIOMMU_TYPE_SELFTEST).toBe(0xdeadbeef);
    expect(iommufd.IOMMU_HWPT_INVALIDATE_DATA_SELFTEST).toBe(0xdeadbeef);
    expect(iommufd.IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID).toBe(0xdadbeef);
    expect(iommufd.IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST).toBe(0xdeadbeef);
    expect(iommufd.IOMMU_VEVENTQ_TYPE_SELFTEST).toBe(0xbeefbeef);
    expect(iommufd.IOMMU_HW_QUEUE_TYPE_SELFTEST).toBe(0xdeadbeef);
    expect(iommufd.MOCK_APERTURE_START).toBe(0x1000000);
    expect(iommufd.MOCK_APERTURE_LAST).toBe(0x7fffffff);
  });

  it("enum values as iommufd.h defines them, on the fields that take them", () => {
    const values = (s: string, m: string) => structByName(s)!.byName.get(m)!.values;
    expect(values("iommu_hwpt_alloc", "data_type")).toEqual({
      IOMMU_HWPT_DATA_NONE: 0,
      IOMMU_HWPT_DATA_VTD_S1: 1,
      IOMMU_HWPT_DATA_ARM_SMMUV3: 2,
      IOMMU_HWPT_DATA_AMD_GUEST: 3,
      IOMMU_HWPT_DATA_SELFTEST: 0xdead,
    });
    expect(values("iommu_hw_info", "out_data_type")).toEqual({
      IOMMU_HW_INFO_TYPE_NONE: 0,
      IOMMU_HW_INFO_TYPE_DEFAULT: 0,
      IOMMU_HW_INFO_TYPE_INTEL_VTD: 1,
      IOMMU_HW_INFO_TYPE_ARM_SMMUV3: 2,
      IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: 3,
      IOMMU_HW_INFO_TYPE_AMD: 4,
      IOMMU_HW_INFO_TYPE_SELFTEST: 0xfeedbeef,
    });
    expect(values("iommu_viommu_alloc", "type")).toMatchObject({
      IOMMU_VIOMMU_TYPE_DEFAULT: 0,
      IOMMU_VIOMMU_TYPE_ARM_SMMUV3: 1,
      IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV: 2,
      IOMMU_VIOMMU_TYPE_SELFTEST: 0xdeadbeef,
    });
    expect(values("iommu_hwpt_invalidate", "data_type")).toMatchObject({
      IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: 0,
      IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3: 1,
    });
    expect(values("iommu_veventq_alloc", "type")).toMatchObject({
      IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: 1,
      IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: 2,
    });
    expect(values("iommu_hw_queue_alloc", "type")).toMatchObject({ IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV: 1 });
    expect(values("iommu_option", "option_id")).toEqual({ IOMMU_OPTION_RLIMIT_MODE: 0, IOMMU_OPTION_HUGE_PAGES: 1 });
    expect(values("iommu_option", "op")).toEqual({ IOMMU_OPTION_OP_SET: 0, IOMMU_OPTION_OP_GET: 1 });
    expect(values("iommu_vfio_ioas", "op")).toEqual({
      IOMMU_VFIO_IOAS_GET: 0,
      IOMMU_VFIO_IOAS_SET: 1,
      IOMMU_VFIO_IOAS_CLEAR: 2,
    });
  });

  it("flag bits as iommufd.h defines them", () => {
    const bits = (s: string, m: string) => structByName(s)!.byName.get(m)!.flags!.bits;
    expect(bits("iommu_ioas_map", "flags")).toEqual({ FIXED_IOVA: 1, WRITEABLE: 2, READABLE: 4 });
    expect(bits("iommu_hwpt_alloc", "flags")).toEqual({
      ALLOC_NEST_PARENT: 1,
      ALLOC_DIRTY_TRACKING: 2,
      FAULT_ID_VALID: 4,
      ALLOC_PASID: 8,
    });
    expect(bits("iommu_hw_info", "flags")).toEqual({ INPUT_TYPE: 1 });
    expect(bits("iommu_hw_info", "out_capabilities")).toEqual({
      DIRTY_TRACKING: 1,
      PCI_PASID_EXEC: 2,
      PCI_PASID_PRIV: 4,
      PCI_ATS_NOT_SUPPORTED: 8,
    });
    expect(bits("iommu_hwpt_set_dirty_tracking", "flags")).toEqual({ ENABLE: 1 });
    expect(bits("iommu_hwpt_get_dirty_bitmap", "flags")).toEqual({ NO_CLEAR: 1 });
    expect(bits("iommu_hwpt_vtd_s1", "flags")).toEqual({ SRE: 1, EAFE: 2, WPE: 4 });
    expect(bits("iommu_hwpt_vtd_s1_invalidate", "flags")).toEqual({ LEAF: 1 });
    expect(bits("iommu_hwpt_pgfault", "flags")).toEqual({ PASID_VALID: 1, LAST_PAGE: 2 });
    expect(bits("iommu_hwpt_pgfault", "perm")).toEqual({ READ: 1, WRITE: 2, EXEC: 4, PRIV: 8 });
    expect(bits("iommufd_vevent_header", "flags")).toEqual({ LOST_EVENTS: 1 });
    expect(bits("iommu_hw_info_vtd", "flags")).toEqual({ ERRATA_772415_SPR17: 1 });
    expect(bits("iommu_hw_info_arm_smmuv3", "flags")).toEqual({ ERRATA_REPEAT_TLBI_CFGI: 1 });
  });
});

describe("iommufd encode/decode", () => {
  it("IOMMU_IOAS_MAP: flags by short and full name, u64 above 2^53 as bigint (docs/trace-format.md, Values)", () => {
    const userVa = 0xffff_8000_1234_5000n;
    const a = encodeStruct(iommu_ioas_map, {
      size: 40,
      flags: ["FIXED_IOVA", "READABLE"],
      ioas_id: 2,
      user_va: userVa,
      length: "0x200000",
      iova: "0x100000",
    });
    const b = encodeStruct(iommu_ioas_map, {
      size: 40,
      flags: ["IOMMU_IOAS_MAP_FIXED_IOVA", "IOMMU_IOAS_MAP_READABLE"],
      ioas_id: 2,
      user_va: userVa,
      length: 0x200000,
      iova: 0x100000,
    });
    expect(a).toEqual(b);
    expect(Array.from(a.slice(0, 12))).toEqual([40, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0]);
    expect(Array.from(a.slice(16, 24))).toEqual([0x00, 0x50, 0x34, 0x12, 0x00, 0x80, 0xff, 0xff]);
    expect(decodeStruct(iommu_ioas_map, a)).toEqual({
      size: 40,
      flags: 5,
      ioas_id: 2,
      __reserved: 0,
      user_va: userVa,
      length: 0x200000n,
      iova: 0x100000n,
    });
  });

  it("IOMMU_GET_HW_INFO: in_data_type and out_data_type are one union member at 24", () => {
    const bytes = encodeStruct(iommu_hw_info, {
      flags: ["INPUT_TYPE"],
      dev_id: 3,
      in_data_type: "IOMMU_HW_INFO_TYPE_INTEL_VTD",
    });
    expect(bytes[24]).toBe(1);
    writeField(iommu_hw_info, bytes, "out_data_type", 0xfeedbeef);
    const d = decodeStruct(iommu_hw_info, bytes);
    expect(d.in_data_type).toBe(0xfeedbeef);
    expect(d.out_data_type).toBe(0xfeedbeef);
  });

  it("IOMMU_GET_HW_INFO from a 32-byte caller (before out_capabilities): no byte past 32", () => {
    const bytes = encodeStruct(iommu_hw_info, { size: 32, dev_id: 1, out_capabilities: ["DIRTY_TRACKING"] }, 32);
    expect(bytes.length).toBe(32);
    expect(decodeStruct(iommu_hw_info, bytes).out_capabilities).toBe(0n);
    writeField(iommu_hw_info, bytes, "out_capabilities", 1n); // the kernel only copies min(size, sizeof) back
    expect(bytes.length).toBe(32);
  });

  it("IOMMU_HWPT_ALLOC at its 24-byte minimum: data_type/fault_id are not sent", () => {
    const bytes = encodeStruct(iommu_hwpt_alloc, { size: 24, flags: ["ALLOC_NEST_PARENT", "IOMMU_HWPT_FAULT_ID_VALID"], dev_id: 1, pt_id: 2 }, 24);
    expect(bytes.length).toBe(24);
    expect(decodeStruct(iommu_hwpt_alloc, bytes)).toMatchObject({ size: 24, flags: 5, fault_id: 0, data_type: 0 });
    const sel = encodeStruct(iommu_hwpt_alloc, { data_type: "IOMMU_HWPT_DATA_SELFTEST" });
    expect(Array.from(sel.slice(24, 28))).toEqual([0xad, 0xde, 0, 0]);
  });

  it("IOMMU_IOAS_NOIOMMU_GET_PA: V4 spelling out_length and tool spelling phys write the same bytes", () => {
    const merged = encodeStruct(iommu_ioas_noiommu_get_pa, { ioas_id: 2, iova: 0x1000, length: 0x2000, out_phys: 7 });
    const v4 = encodeStruct(iommu_ioas_noiommu_get_pa, { ioas_id: 2, iova: 0x1000, out_length: 0x2000, phys: 7 });
    expect(v4).toEqual(merged);
    expect(merged[24]).toBe(0x00);
    expect(merged[25]).toBe(0x20);
    expect(merged[32]).toBe(7);
    expect(decodeStruct(iommu_ioas_noiommu_get_pa, v4).length).toBe(0x2000n);
  });

  it("arrays: iommu_hw_info_arm_smmuv3.idr[6] round-trips", () => {
    const s = structByName("iommu_hw_info_arm_smmuv3")!;
    const bytes = encodeStruct(s, { idr: [1, 2, 3, 4, 5, 6], iidr: 0x43b, aidr: 2 });
    expect(decodeStruct(s, bytes)).toEqual({ flags: 0, __reserved: 0, idr: [1, 2, 3, 4, 5, 6], iidr: 0x43b, aidr: 2 });
    expect(bytes[28]).toBe(6);
  });
});
