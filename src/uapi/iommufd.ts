// iommufd user API: include/uapi/linux/iommufd.h (torvalds/linux @85e0d1de,
// commands 0x80..0x95), the IOCTL_OP table of drivers/iommu/iommufd/main.c
// (minimum members), and the selftest constants of
// drivers/iommu/iommufd/iommufd_test.h.
//
// Enum-valued fields carry `values` keyed by the full uAPI name
// ("IOMMU_HWPT_DATA_VTD_S1"); flag fields carry a flag table whose names drop
// the prefix common to all of its bits ("FIXED_IOVA" for IOMMU_IOAS_MAP_FIXED_IOVA;
// the full name is accepted too).

import type { UapiCommand } from "./commands.ts";
import { IO, IOMMUFD_CMD_BASE, IOMMUFD_TYPE } from "./ioctl.ts";
import { defineStruct, flagTable, type EnumTable, type StructDef } from "./layout.ts";

// ---------------------------------------------------------------------------
// Command numbers (the anonymous enum at the top of iommufd.h)

export const IOMMUFD_CMD = {
  DESTROY: IOMMUFD_CMD_BASE,
  IOAS_ALLOC: 0x81,
  IOAS_ALLOW_IOVAS: 0x82,
  IOAS_COPY: 0x83,
  IOAS_IOVA_RANGES: 0x84,
  IOAS_MAP: 0x85,
  IOAS_UNMAP: 0x86,
  OPTION: 0x87,
  VFIO_IOAS: 0x88,
  HWPT_ALLOC: 0x89,
  GET_HW_INFO: 0x8a,
  HWPT_SET_DIRTY_TRACKING: 0x8b,
  HWPT_GET_DIRTY_BITMAP: 0x8c,
  HWPT_INVALIDATE: 0x8d,
  FAULT_QUEUE_ALLOC: 0x8e,
  IOAS_MAP_FILE: 0x8f,
  VIOMMU_ALLOC: 0x90,
  VDEVICE_ALLOC: 0x91,
  IOAS_CHANGE_PROCESS: 0x92,
  VEVENTQ_ALLOC: 0x93,
  HW_QUEUE_ALLOC: 0x94,
  /** Merged name; seed 003 (no-IOMMU series V4) called it IOMMUFD_CMD_IOAS_GET_PA. */
  IOAS_NOIOMMU_GET_PA: 0x95,
} as const;

export const IOMMU_DESTROY = IO(IOMMUFD_TYPE, IOMMUFD_CMD.DESTROY);
export const IOMMU_IOAS_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_ALLOC);
export const IOMMU_IOAS_ALLOW_IOVAS = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_ALLOW_IOVAS);
export const IOMMU_IOAS_COPY = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_COPY);
export const IOMMU_IOAS_IOVA_RANGES = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_IOVA_RANGES);
export const IOMMU_IOAS_MAP = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_MAP);
export const IOMMU_IOAS_UNMAP = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_UNMAP);
export const IOMMU_OPTION = IO(IOMMUFD_TYPE, IOMMUFD_CMD.OPTION);
export const IOMMU_VFIO_IOAS = IO(IOMMUFD_TYPE, IOMMUFD_CMD.VFIO_IOAS);
export const IOMMU_HWPT_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.HWPT_ALLOC);
export const IOMMU_GET_HW_INFO = IO(IOMMUFD_TYPE, IOMMUFD_CMD.GET_HW_INFO);
export const IOMMU_HWPT_SET_DIRTY_TRACKING = IO(IOMMUFD_TYPE, IOMMUFD_CMD.HWPT_SET_DIRTY_TRACKING);
export const IOMMU_HWPT_GET_DIRTY_BITMAP = IO(IOMMUFD_TYPE, IOMMUFD_CMD.HWPT_GET_DIRTY_BITMAP);
export const IOMMU_HWPT_INVALIDATE = IO(IOMMUFD_TYPE, IOMMUFD_CMD.HWPT_INVALIDATE);
export const IOMMU_FAULT_QUEUE_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.FAULT_QUEUE_ALLOC);
export const IOMMU_IOAS_MAP_FILE = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_MAP_FILE);
export const IOMMU_VIOMMU_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.VIOMMU_ALLOC);
export const IOMMU_VDEVICE_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.VDEVICE_ALLOC);
export const IOMMU_IOAS_CHANGE_PROCESS = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_CHANGE_PROCESS);
export const IOMMU_VEVENTQ_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.VEVENTQ_ALLOC);
export const IOMMU_HW_QUEUE_ALLOC = IO(IOMMUFD_TYPE, IOMMUFD_CMD.HW_QUEUE_ALLOC);
export const IOMMU_IOAS_NOIOMMU_GET_PA = IO(IOMMUFD_TYPE, IOMMUFD_CMD.IOAS_NOIOMMU_GET_PA);

/**
 * iommufd_test.h: IOMMU_TEST_CMD = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32).
 * Only in the dispatch table with CONFIG_IOMMUFD_TEST (the model's kconfig.IOMMUFD_TEST).
 */
export const IOMMU_TEST_CMD = IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32);

// ---------------------------------------------------------------------------
// Limits and selftest constants the models need

/** hw_pagetable.c: IOMMU_HWPT_INVALIDATE rejects entry_num above this (EINVAL). */
export const IOMMU_HWPT_INVALIDATE_ENTRY_NUM_MAX = 1 << 19;

// iommufd_test.h
export const MOCK_PASID_WIDTH = 20;
export const MOCK_APERTURE_START = 1 << 24;
export const MOCK_APERTURE_LAST = 2 ** 31 - 1;
export const IOMMU_TEST_PASID_RESERVED = 1024;
export const IOMMU_HWPT_DATA_SELFTEST = 0xdead;
export const IOMMU_HW_INFO_TYPE_SELFTEST = 0xfeedbeef;
export const IOMMU_HW_INFO_SELFTEST_REGVAL = 0xdeadbeef;
export const IOMMU_TEST_IOTLB_DEFAULT = 0xbadbeef;
export const IOMMU_TEST_DEV_CACHE_DEFAULT = 0xbaddad;
export const IOMMU_HWPT_INVALIDATE_DATA_SELFTEST = 0xdeadbeef;
export const IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID = 0xdadbeef;
export const IOMMU_VIOMMU_TYPE_SELFTEST = 0xdeadbeef;
export const IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST = 0xdeadbeef;
export const IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID = 0xdadbeef;
export const IOMMU_VEVENTQ_TYPE_SELFTEST = 0xbeefbeef;
export const IOMMU_HW_QUEUE_TYPE_SELFTEST = 0xdeadbeef;
export const IOMMU_TEST_HW_QUEUE_MAX = 2;
export const IOMMU_TEST_INVALIDATE_FLAG_ALL = 1 << 0;
export const MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3;
export const MOCK_NESTED_DOMAIN_IOTLB_NUM = 4;
export const MOCK_DEV_CACHE_ID_MAX = 3;
export const MOCK_DEV_CACHE_NUM = 4;
/** iommufd_test.h: the mock page-table formats (iommu_hwpt_selftest.pagetable_type). */
export const MOCK_IOMMUPT_DEFAULT = 0;
export const MOCK_IOMMUPT_HUGE = 1;
/** iommufd_test.h: the mock domain's smallest page (MOCK_IOMMUPT_DEFAULT) and its huge page. */
export const MOCK_PAGE_SIZE = 2048;
export const MOCK_HUGE_PAGE_SIZE = 512 * MOCK_PAGE_SIZE;

// ---------------------------------------------------------------------------
// Flag tables (the flag enums of iommufd.h)

/** enum iommufd_ioas_map_flags (MAP, MAP_FILE and COPY). */
export const IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0;
export const IOMMU_IOAS_MAP_WRITEABLE = 1 << 1;
export const IOMMU_IOAS_MAP_READABLE = 1 << 2;
export const IOMMU_IOAS_MAP_FLAGS = flagTable("IOMMU_IOAS_MAP_", {
  FIXED_IOVA: IOMMU_IOAS_MAP_FIXED_IOVA,
  WRITEABLE: IOMMU_IOAS_MAP_WRITEABLE,
  READABLE: IOMMU_IOAS_MAP_READABLE,
});

/** enum iommufd_hwpt_alloc_flags; the common prefix is IOMMU_HWPT_ (FAULT_ID_VALID lacks ALLOC_). */
export const IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0;
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
export const IOMMU_HWPT_FAULT_ID_VALID = 1 << 2;
export const IOMMU_HWPT_ALLOC_PASID = 1 << 3;
export const IOMMU_HWPT_ALLOC_FLAGS = flagTable("IOMMU_HWPT_", {
  ALLOC_NEST_PARENT: IOMMU_HWPT_ALLOC_NEST_PARENT,
  ALLOC_DIRTY_TRACKING: IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  FAULT_ID_VALID: IOMMU_HWPT_FAULT_ID_VALID,
  ALLOC_PASID: IOMMU_HWPT_ALLOC_PASID,
});

/** enum iommu_hwpt_vtd_s1_flags. */
export const IOMMU_VTD_S1_FLAGS = flagTable("IOMMU_VTD_S1_", { SRE: 1 << 0, EAFE: 1 << 1, WPE: 1 << 2 });

/** enum iommu_hw_info_vtd_flags. */
export const IOMMU_HW_INFO_VTD_FLAGS = flagTable("IOMMU_HW_INFO_VTD_", { ERRATA_772415_SPR17: 1 << 0 });

/** enum iommu_hw_info_arm_smmuv3_flags. */
export const IOMMU_HW_INFO_ARM_SMMUV3_FLAGS = flagTable("IOMMU_HW_INFO_ARM_SMMUV3_", {
  ERRATA_REPEAT_TLBI_CFGI: 1 << 0,
});

/** enum iommufd_hw_info_flags. */
export const IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0;
export const IOMMU_HW_INFO_FLAGS = flagTable("IOMMU_HW_INFO_FLAG_", { INPUT_TYPE: IOMMU_HW_INFO_FLAG_INPUT_TYPE });

/** enum iommufd_hw_capabilities (iommu_hw_info.out_capabilities). */
export const IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0;
export const IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1;
export const IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2;
export const IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3;
export const IOMMU_HW_CAPS = flagTable("IOMMU_HW_CAP_", {
  DIRTY_TRACKING: IOMMU_HW_CAP_DIRTY_TRACKING,
  PCI_PASID_EXEC: IOMMU_HW_CAP_PCI_PASID_EXEC,
  PCI_PASID_PRIV: IOMMU_HW_CAP_PCI_PASID_PRIV,
  PCI_ATS_NOT_SUPPORTED: IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED,
});

/** enum iommufd_hwpt_set_dirty_tracking_flags. */
export const IOMMU_HWPT_DIRTY_TRACKING_FLAGS = flagTable("IOMMU_HWPT_DIRTY_TRACKING_", { ENABLE: 1 });

/** enum iommufd_hwpt_get_dirty_bitmap_flags. */
export const IOMMU_HWPT_GET_DIRTY_BITMAP_FLAGS = flagTable("IOMMU_HWPT_GET_DIRTY_BITMAP_", { NO_CLEAR: 1 });

/** enum iommu_hwpt_vtd_s1_invalidate_flags. */
export const IOMMU_VTD_INV_FLAGS = flagTable("IOMMU_VTD_INV_FLAGS_", { LEAF: 1 << 0 });

/** enum iommu_hwpt_pgfault_flags. */
export const IOMMU_PGFAULT_FLAGS = flagTable("IOMMU_PGFAULT_FLAGS_", { PASID_VALID: 1 << 0, LAST_PAGE: 1 << 1 });

/** enum iommu_hwpt_pgfault_perm. */
export const IOMMU_PGFAULT_PERM = flagTable("IOMMU_PGFAULT_PERM_", {
  READ: 1 << 0,
  WRITE: 1 << 1,
  EXEC: 1 << 2,
  PRIV: 1 << 3,
});

/** enum iommu_veventq_flag (iommufd_vevent_header.flags). */
export const IOMMU_VEVENTQ_FLAGS = flagTable("IOMMU_VEVENTQ_FLAG_", { LOST_EVENTS: 1 << 0 });

// ---------------------------------------------------------------------------
// Enums, as the `values` of the fields that take them

/** enum iommufd_option. */
export const IOMMU_OPTION_IDS: EnumTable = { IOMMU_OPTION_RLIMIT_MODE: 0, IOMMU_OPTION_HUGE_PAGES: 1 };

/** enum iommufd_option_ops. */
export const IOMMU_OPTION_OPS: EnumTable = { IOMMU_OPTION_OP_SET: 0, IOMMU_OPTION_OP_GET: 1 };

/** enum iommufd_vfio_ioas_op. */
export const IOMMU_VFIO_IOAS_OPS: EnumTable = {
  IOMMU_VFIO_IOAS_GET: 0,
  IOMMU_VFIO_IOAS_SET: 1,
  IOMMU_VFIO_IOAS_CLEAR: 2,
};

/** enum iommu_hwpt_data_type, plus the selftest's IOMMU_HWPT_DATA_SELFTEST. */
export const IOMMU_HWPT_DATA_NONE = 0;
export const IOMMU_HWPT_DATA_VTD_S1 = 1;
export const IOMMU_HWPT_DATA_ARM_SMMUV3 = 2;
export const IOMMU_HWPT_DATA_AMD_GUEST = 3;
export const IOMMU_HWPT_DATA_TYPES: EnumTable = {
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DATA_VTD_S1,
  IOMMU_HWPT_DATA_ARM_SMMUV3,
  IOMMU_HWPT_DATA_AMD_GUEST,
  IOMMU_HWPT_DATA_SELFTEST,
};

/** enum iommu_hw_info_type (NONE and DEFAULT are both 0), plus the selftest type. */
export const IOMMU_HW_INFO_TYPE_NONE = 0;
export const IOMMU_HW_INFO_TYPE_DEFAULT = 0;
export const IOMMU_HW_INFO_TYPE_INTEL_VTD = 1;
export const IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2;
export const IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3;
export const IOMMU_HW_INFO_TYPE_AMD = 4;
export const IOMMU_HW_INFO_TYPES: EnumTable = {
  IOMMU_HW_INFO_TYPE_NONE,
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HW_INFO_TYPE_INTEL_VTD,
  IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
  IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV,
  IOMMU_HW_INFO_TYPE_AMD,
  IOMMU_HW_INFO_TYPE_SELFTEST,
};

/** enum iommu_hwpt_invalidate_data_type, plus the selftest types. */
export const IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0;
export const IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1;
export const IOMMU_HWPT_INVALIDATE_DATA_TYPES: EnumTable = {
  IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
  IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3,
  IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
  IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
  IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
  IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
};

/** enum iommu_viommu_type, plus the selftest type. */
export const IOMMU_VIOMMU_TYPE_DEFAULT = 0;
export const IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1;
export const IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2;
export const IOMMU_VIOMMU_TYPES: EnumTable = {
  IOMMU_VIOMMU_TYPE_DEFAULT,
  IOMMU_VIOMMU_TYPE_ARM_SMMUV3,
  IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV,
  IOMMU_VIOMMU_TYPE_SELFTEST,
};

/** enum iommu_veventq_type, plus the selftest type. */
export const IOMMU_VEVENTQ_TYPE_DEFAULT = 0;
export const IOMMU_VEVENTQ_TYPES: EnumTable = {
  IOMMU_VEVENTQ_TYPE_DEFAULT,
  IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: 1,
  IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: 2,
  IOMMU_VEVENTQ_TYPE_SELFTEST,
};

/** enum iommu_hw_queue_type, plus the selftest type. */
export const IOMMU_HW_QUEUE_TYPE_DEFAULT = 0;
export const IOMMU_HW_QUEUE_TYPES: EnumTable = {
  IOMMU_HW_QUEUE_TYPE_DEFAULT,
  IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV: 1,
  IOMMU_HW_QUEUE_TYPE_SELFTEST,
};

/** enum iommufd_page_response_code. */
export const IOMMUFD_PAGE_RESP_CODES: EnumTable = { IOMMUFD_PAGE_RESP_SUCCESS: 0, IOMMUFD_PAGE_RESP_INVALID: 1 };

// ---------------------------------------------------------------------------
// Structs, in the order of iommufd.h

export const iommu_destroy = defineStruct("iommu_destroy", [
  ["u32", "size"],
  ["u32", "id"],
]);

export const iommu_ioas_alloc = defineStruct("iommu_ioas_alloc", [
  ["u32", "size"],
  ["u32", "flags"], // must be 0
  ["u32", "out_ioas_id"],
]);

/** Element of the allowed_iovas arrays. */
export const iommu_iova_range = defineStruct("iommu_iova_range", [
  ["u64", "start"],
  ["u64", "last"], // inclusive
]);

export const iommu_ioas_iova_ranges = defineStruct("iommu_ioas_iova_ranges", [
  ["u32", "size"],
  ["u32", "ioas_id"],
  ["u32", "num_iovas"],
  ["u32", "__reserved"],
  ["u64", "allowed_iovas"],
  ["u64", "out_iova_alignment"],
]);

export const iommu_ioas_allow_iovas = defineStruct("iommu_ioas_allow_iovas", [
  ["u32", "size"],
  ["u32", "ioas_id"],
  ["u32", "num_iovas"],
  ["u32", "__reserved"],
  ["u64", "allowed_iovas"],
]);

export const iommu_ioas_map = defineStruct("iommu_ioas_map", [
  ["u32", "size"],
  ["u32", "flags", { flags: IOMMU_IOAS_MAP_FLAGS }],
  ["u32", "ioas_id"],
  ["u32", "__reserved"],
  ["u64", "user_va"],
  ["u64", "length"],
  ["u64", "iova"],
]);

/**
 * struct iommu_ioas_noiommu_get_pa (merged). Seed 003's V4 named it
 * iommu_ioas_get_pa with `out_length` for `length`; an early standalone tool
 * spelled `out_phys` as `phys`. Same 40-byte layout in every version.
 */
export const iommu_ioas_noiommu_get_pa = defineStruct("iommu_ioas_noiommu_get_pa", [
  ["u32", "size"],
  ["u32", "flags"], // reserved, must be 0
  ["u32", "ioas_id"],
  ["u32", "__reserved"],
  ["u64", "iova"],
  ["u64", "length", { aliases: ["out_length"] }],
  ["u64", "out_phys", { aliases: ["phys"] }],
]);

export const iommu_ioas_map_file = defineStruct("iommu_ioas_map_file", [
  ["u32", "size"],
  ["u32", "flags", { flags: IOMMU_IOAS_MAP_FLAGS }],
  ["u32", "ioas_id"],
  ["s32", "fd"],
  ["u64", "start"],
  ["u64", "length"],
  ["u64", "iova"],
]);

export const iommu_ioas_copy = defineStruct("iommu_ioas_copy", [
  ["u32", "size"],
  ["u32", "flags", { flags: IOMMU_IOAS_MAP_FLAGS }],
  ["u32", "dst_ioas_id"],
  ["u32", "src_ioas_id"],
  ["u64", "length"],
  ["u64", "dst_iova"],
  ["u64", "src_iova"],
]);

export const iommu_ioas_unmap = defineStruct("iommu_ioas_unmap", [
  ["u32", "size"],
  ["u32", "ioas_id"],
  ["u64", "iova"],
  ["u64", "length"],
]);

export const iommu_option = defineStruct("iommu_option", [
  ["u32", "size"],
  ["u32", "option_id", { values: IOMMU_OPTION_IDS }],
  ["u16", "op", { values: IOMMU_OPTION_OPS }],
  ["u16", "__reserved"],
  ["u32", "object_id"],
  ["u64", "val64"],
]);

export const iommu_vfio_ioas = defineStruct("iommu_vfio_ioas", [
  ["u32", "size"],
  ["u32", "ioas_id"],
  ["u16", "op", { values: IOMMU_VFIO_IOAS_OPS }],
  ["u16", "__reserved"],
]);

/** HWPT_ALLOC data for IOMMU_HWPT_DATA_VTD_S1. */
export const iommu_hwpt_vtd_s1 = defineStruct("iommu_hwpt_vtd_s1", [
  ["u64", "flags", { flags: IOMMU_VTD_S1_FLAGS }],
  ["u64", "pgtbl_addr"],
  ["u32", "addr_width"],
  ["u32", "__reserved"],
]);

/** HWPT_ALLOC data for IOMMU_HWPT_DATA_ARM_SMMUV3 (__aligned_le64 ste[2]). */
export const iommu_hwpt_arm_smmuv3 = defineStruct("iommu_hwpt_arm_smmuv3", [["u64", "ste", { count: 2 }]]);

/** HWPT_ALLOC data for IOMMU_HWPT_DATA_AMD_GUEST. */
export const iommu_hwpt_amd_guest = defineStruct("iommu_hwpt_amd_guest", [["u64", "dte", { count: 4 }]]);

export const iommu_hwpt_alloc = defineStruct("iommu_hwpt_alloc", [
  ["u32", "size"],
  ["u32", "flags", { flags: IOMMU_HWPT_ALLOC_FLAGS }],
  ["u32", "dev_id"],
  ["u32", "pt_id"],
  ["u32", "out_hwpt_id"],
  ["u32", "__reserved"],
  ["u32", "data_type", { values: IOMMU_HWPT_DATA_TYPES }],
  ["u32", "data_len"],
  ["u64", "data_uptr"],
  ["u32", "fault_id"],
  ["u32", "__reserved2"],
]);

/** GET_HW_INFO data for IOMMU_HW_INFO_TYPE_INTEL_VTD. */
export const iommu_hw_info_vtd = defineStruct("iommu_hw_info_vtd", [
  ["u32", "flags", { flags: IOMMU_HW_INFO_VTD_FLAGS }],
  ["u32", "__reserved"],
  ["u64", "cap_reg"],
  ["u64", "ecap_reg"],
]);

/** GET_HW_INFO data for IOMMU_HW_INFO_TYPE_ARM_SMMUV3. */
export const iommu_hw_info_arm_smmuv3 = defineStruct("iommu_hw_info_arm_smmuv3", [
  ["u32", "flags", { flags: IOMMU_HW_INFO_ARM_SMMUV3_FLAGS }],
  ["u32", "__reserved"],
  ["u32", "idr", { count: 6 }],
  ["u32", "iidr"],
  ["u32", "aidr"],
]);

/** GET_HW_INFO data for IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV. */
export const iommu_hw_info_tegra241_cmdqv = defineStruct("iommu_hw_info_tegra241_cmdqv", [
  ["u32", "flags"],
  ["u8", "version"],
  ["u8", "log2vcmdqs"],
  ["u8", "log2vsids"],
  ["u8", "__reserved"],
]);

/** GET_HW_INFO data for IOMMU_HW_INFO_TYPE_AMD. */
export const iommu_hw_info_amd = defineStruct("iommu_hw_info_amd", [
  ["u64", "efr"],
  ["u64", "efr2"],
]);

/** struct iommu_hw_info; in_data_type and out_data_type are one union at 24. */
export const iommu_hw_info = defineStruct("iommu_hw_info", [
  ["u32", "size"],
  ["u32", "flags", { flags: IOMMU_HW_INFO_FLAGS }],
  ["u32", "dev_id"],
  ["u32", "data_len"],
  ["u64", "data_uptr"],
  ["u32", "in_data_type", { values: IOMMU_HW_INFO_TYPES }],
  ["u32", "out_data_type", { at: 24, values: IOMMU_HW_INFO_TYPES }],
  ["u8", "out_max_pasid_log2"],
  ["u8", "__reserved", { count: 3 }],
  ["u64", "out_capabilities", { flags: IOMMU_HW_CAPS }],
]);

export const iommu_hwpt_set_dirty_tracking = defineStruct("iommu_hwpt_set_dirty_tracking", [
  ["u32", "size"],
  ["u32", "flags", { flags: IOMMU_HWPT_DIRTY_TRACKING_FLAGS }],
  ["u32", "hwpt_id"],
  ["u32", "__reserved"],
]);

export const iommu_hwpt_get_dirty_bitmap = defineStruct("iommu_hwpt_get_dirty_bitmap", [
  ["u32", "size"],
  ["u32", "hwpt_id"],
  ["u32", "flags", { flags: IOMMU_HWPT_GET_DIRTY_BITMAP_FLAGS }],
  ["u32", "__reserved"],
  ["u64", "iova"],
  ["u64", "length"],
  ["u64", "page_size"],
  ["u64", "data"],
]);

/** Invalidation entry for IOMMU_HWPT_INVALIDATE_DATA_VTD_S1. */
export const iommu_hwpt_vtd_s1_invalidate = defineStruct("iommu_hwpt_vtd_s1_invalidate", [
  ["u64", "addr"],
  ["u64", "npages"],
  ["u32", "flags", { flags: IOMMU_VTD_INV_FLAGS }],
  ["u32", "__reserved"],
]);

/** Invalidation entry for IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 (__aligned_le64 cmd[2]). */
export const iommu_viommu_arm_smmuv3_invalidate = defineStruct("iommu_viommu_arm_smmuv3_invalidate", [["u64", "cmd", { count: 2 }]]);

export const iommu_hwpt_invalidate = defineStruct("iommu_hwpt_invalidate", [
  ["u32", "size"],
  ["u32", "hwpt_id"],
  ["u64", "data_uptr"],
  ["u32", "data_type", { values: IOMMU_HWPT_INVALIDATE_DATA_TYPES }],
  ["u32", "entry_len"],
  ["u32", "entry_num"],
  ["u32", "__reserved"],
]);

/** A record read from a fault fd. */
export const iommu_hwpt_pgfault = defineStruct("iommu_hwpt_pgfault", [
  ["u32", "flags", { flags: IOMMU_PGFAULT_FLAGS }],
  ["u32", "dev_id"],
  ["u32", "pasid"],
  ["u32", "grpid"],
  ["u32", "perm", { flags: IOMMU_PGFAULT_PERM }],
  ["u32", "__reserved"],
  ["u64", "addr"],
  ["u32", "length"],
  ["u32", "cookie"],
]);

/** A record written to a fault fd. */
export const iommu_hwpt_page_response = defineStruct("iommu_hwpt_page_response", [
  ["u32", "cookie"],
  ["u32", "code", { values: IOMMUFD_PAGE_RESP_CODES }],
]);

export const iommu_fault_alloc = defineStruct("iommu_fault_alloc", [
  ["u32", "size"],
  ["u32", "flags"], // must be 0
  ["u32", "out_fault_id"],
  ["u32", "out_fault_fd"],
]);

/** VIOMMU_ALLOC data for IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV (all out). */
export const iommu_viommu_tegra241_cmdqv = defineStruct("iommu_viommu_tegra241_cmdqv", [
  ["u64", "out_vintf_mmap_offset"],
  ["u64", "out_vintf_mmap_length"],
]);

export const iommu_viommu_alloc = defineStruct("iommu_viommu_alloc", [
  ["u32", "size"],
  ["u32", "flags"], // must be 0
  ["u32", "type", { values: IOMMU_VIOMMU_TYPES }],
  ["u32", "dev_id"],
  ["u32", "hwpt_id"],
  ["u32", "out_viommu_id"],
  ["u32", "data_len"],
  ["u32", "__reserved"],
  ["u64", "data_uptr"],
]);

export const iommu_vdevice_alloc = defineStruct("iommu_vdevice_alloc", [
  ["u32", "size"],
  ["u32", "viommu_id"],
  ["u32", "dev_id"],
  ["u32", "out_vdevice_id"],
  ["u64", "virt_id"],
]);

export const iommu_ioas_change_process = defineStruct("iommu_ioas_change_process", [
  ["u32", "size"],
  ["u32", "__reserved"],
]);

/** Header of every record read from a vEVENTQ fd. */
export const iommufd_vevent_header = defineStruct("iommufd_vevent_header", [
  ["u32", "flags", { flags: IOMMU_VEVENTQ_FLAGS }],
  ["u32", "sequence"],
]);

/** vEVENT payload for IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 (__aligned_le64 evt[4]). */
export const iommu_vevent_arm_smmuv3 = defineStruct("iommu_vevent_arm_smmuv3", [["u64", "evt", { count: 4 }]]);

/** vEVENT payload for IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV (__aligned_le64 lvcmdq_err_map[2]). */
export const iommu_vevent_tegra241_cmdqv = defineStruct("iommu_vevent_tegra241_cmdqv", [["u64", "lvcmdq_err_map", { count: 2 }]]);

export const iommu_veventq_alloc = defineStruct("iommu_veventq_alloc", [
  ["u32", "size"],
  ["u32", "flags"], // must be 0
  ["u32", "viommu_id"],
  ["u32", "type", { values: IOMMU_VEVENTQ_TYPES }],
  ["u32", "veventq_depth"],
  ["u32", "out_veventq_id"],
  ["u32", "out_veventq_fd"],
  ["u32", "__reserved"],
]);

export const iommu_hw_queue_alloc = defineStruct("iommu_hw_queue_alloc", [
  ["u32", "size"],
  ["u32", "flags"], // must be 0
  ["u32", "viommu_id"],
  ["u32", "type", { values: IOMMU_HW_QUEUE_TYPES }],
  ["u32", "index"],
  ["u32", "out_hw_queue_id"],
  ["u64", "nesting_parent_iova"],
  ["u64", "length"],
]);

// ---------------------------------------------------------------------------
// Selftest payloads (iommufd_test.h), used by the mock driver models

export const iommu_test_hw_info = defineStruct("iommu_test_hw_info", [
  ["u32", "flags"],
  ["u32", "test_reg"],
]);

/** iommufd_test.h: enum IOMMU_TEST_OP_* (struct iommu_test_cmd's op). */
export const IOMMU_TEST_OPS: Readonly<Record<string, number>> = {
  ADD_RESERVED: 1,
  MOCK_DOMAIN: 2,
  MD_CHECK_MAP: 3,
  MD_CHECK_REFS: 4,
  CREATE_ACCESS: 5,
  DESTROY_ACCESS_PAGES: 6,
  ACCESS_PAGES: 7,
  ACCESS_RW: 8,
  SET_TEMP_MEMORY_LIMIT: 9,
  MOCK_DOMAIN_REPLACE: 10,
  ACCESS_REPLACE_IOAS: 11,
  MOCK_DOMAIN_FLAGS: 12,
  DIRTY: 13,
  MD_CHECK_IOTLB: 14,
  TRIGGER_IOPF: 15,
  DEV_CHECK_CACHE: 16,
  TRIGGER_VEVENT: 17,
  PASID_ATTACH: 18,
  PASID_REPLACE: 19,
  PASID_DETACH: 20,
  PASID_CHECK_HWPT: 21,
  DMABUF_GET: 22,
  DMABUF_REVOKE: 23,
};

/** iommufd_test.h: MOCK_FLAGS_DEVICE_* (mock_domain_flags.dev_flags). */
export const MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0;
export const MOCK_FLAGS_DEVICE_PASID = 1 << 2;

/** iommufd_test.h: create_access.flags, access_pages.flags, access_rw.flags. */
export const MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0;
export const MOCK_FLAGS_ACCESS_WRITE = 1 << 0;
export const MOCK_FLAGS_ACCESS_SYZ = 1 << 16;
export const MOCK_ACCESS_RW_WRITE = 1 << 0;
export const MOCK_ACCESS_RW_SLOW_PATH = 1 << 2;

/**
 * struct iommu_test_cmd: the header, a union at 16 (the members the model answers are
 * laid out; the largest, dirty, ends at 64), then `last` at 64 (IOCTL_OP's minimum size).
 */
export const iommu_test_cmd = defineStruct("iommu_test_cmd", [
  ["u32", "size"],
  ["u32", "op", { values: IOMMU_TEST_OPS }],
  ["u32", "id"],
  ["u32", "__reserved"],
  ["u64", "add_reserved.start", { at: 16 }],
  ["u64", "add_reserved.length", { at: 24 }],
  ["u32", "mock_domain_flags.out_stdev_id", { at: 16, aliases: ["mock_domain.out_stdev_id"] }],
  ["u32", "mock_domain_flags.out_hwpt_id", { at: 20, aliases: ["mock_domain.out_hwpt_id"] }],
  ["u32", "mock_domain_flags.out_idev_id", { at: 24, aliases: ["mock_domain.out_idev_id"] }],
  ["u32", "mock_domain_flags.dev_flags", { at: 28 }],
  ["u32", "mock_domain_replace.pt_id", { at: 16 }],
  ["u32", "pasid_attach.pasid", { at: 16, aliases: ["pasid_replace.pasid", "pasid_detach.pasid", "pasid_check.pasid"] }],
  ["u32", "pasid_attach.pt_id", { at: 20, aliases: ["pasid_replace.pt_id"] }],
  ["u32", "pasid_check.hwpt_id", { at: 20 }],
  ["u64", "check_map.iova", { at: 16 }],
  ["u64", "check_map.length", { at: 24 }],
  ["u64", "check_map.uptr", { at: 32 }],
  ["u64", "check_refs.length", { at: 16 }],
  ["u64", "check_refs.uptr", { at: 24 }],
  ["u32", "check_refs.refs", { at: 32 }],
  ["u32", "memory_limit.limit", { at: 16 }],
  ["u32", "create_access.out_access_fd", { at: 16 }],
  ["u32", "create_access.flags", { at: 20 }],
  ["u32", "destroy_access_pages.access_pages_id", { at: 16 }],
  ["u32", "access_pages.flags", { at: 16 }],
  ["u32", "access_pages.out_access_pages_id", { at: 20 }],
  ["u64", "access_pages.iova", { at: 24 }],
  ["u64", "access_pages.length", { at: 32 }],
  ["u64", "access_pages.uptr", { at: 40 }],
  ["u64", "access_rw.iova", { at: 16 }],
  ["u64", "access_rw.length", { at: 24 }],
  ["u64", "access_rw.uptr", { at: 32 }],
  ["u32", "access_rw.flags", { at: 40 }],
  ["u32", "access_replace_ioas.ioas_id", { at: 16 }],
  ["u32", "check_iotlb.id", { at: 16 }],
  ["u32", "check_iotlb.iotlb", { at: 20 }],
  ["u32", "trigger_iopf.dev_id", { at: 16, aliases: ["trigger_vevent.dev_id"] }],
  ["u32", "trigger_iopf.pasid", { at: 20 }],
  ["u32", "trigger_iopf.grpid", { at: 24 }],
  ["u32", "trigger_iopf.perm", { at: 28 }],
  ["u64", "trigger_iopf.addr", { at: 32 }],
  ["u32", "check_dev_cache.id", { at: 16 }],
  ["u32", "check_dev_cache.cache", { at: 20 }],
  ["u32", "dirty.flags", { at: 16 }],
  ["u64", "dirty.iova", { at: 24 }],
  ["u64", "dirty.length", { at: 32 }],
  ["u64", "dirty.page_size", { at: 40 }],
  ["u64", "dirty.uptr", { at: 48 }],
  ["u64", "dirty.out_nr_dirty", { at: 56 }],
  ["u32", "dmabuf_get.length", { at: 16 }],
  ["u32", "dmabuf_get.open_flags", { at: 20 }],
  ["s32", "dmabuf_revoke.dmabuf_fd", { at: 16 }],
  ["u32", "dmabuf_revoke.revoked", { at: 20 }],
  ["u32", "last", { at: 64 }],
]);

/** pagetable_type (MOCK_IOMMUPT_*) came with the generic_pt mock; iotlb is the minimum (offsetofend). */
export const iommu_hwpt_selftest = defineStruct("iommu_hwpt_selftest", [
  ["u32", "iotlb"],
  ["u32", "pagetable_type"],
]);

export const iommu_hwpt_invalidate_selftest = defineStruct("iommu_hwpt_invalidate_selftest", [
  ["u32", "flags"],
  ["u32", "iotlb_id"],
]);

/** out_mmap_offset/length came with iommufd_viommu_alloc_mmap; out_data is the minimum (offsetofend). */
export const iommu_viommu_selftest = defineStruct("iommu_viommu_selftest", [
  ["u32", "in_data"],
  ["u32", "out_data"],
  ["u64", "out_mmap_offset"],
  ["u64", "out_mmap_length"],
]);

export const iommu_viommu_invalidate_selftest = defineStruct("iommu_viommu_invalidate_selftest", [
  ["u32", "flags"],
  ["u32", "vdev_id"],
  ["u32", "cache_id"],
]);

export const iommu_viommu_event_selftest = defineStruct("iommu_viommu_event_selftest", [["u32", "virt_id"]]);

/** Every struct above, for lookup by kernel name. */
export const IOMMUFD_STRUCTS: readonly StructDef[] = [
  iommu_destroy,
  iommu_ioas_alloc,
  iommu_iova_range,
  iommu_ioas_iova_ranges,
  iommu_ioas_allow_iovas,
  iommu_ioas_map,
  iommu_ioas_noiommu_get_pa,
  iommu_ioas_map_file,
  iommu_ioas_copy,
  iommu_ioas_unmap,
  iommu_option,
  iommu_vfio_ioas,
  iommu_hwpt_vtd_s1,
  iommu_hwpt_arm_smmuv3,
  iommu_hwpt_amd_guest,
  iommu_hwpt_alloc,
  iommu_hw_info_vtd,
  iommu_hw_info_arm_smmuv3,
  iommu_hw_info_tegra241_cmdqv,
  iommu_hw_info_amd,
  iommu_hw_info,
  iommu_hwpt_set_dirty_tracking,
  iommu_hwpt_get_dirty_bitmap,
  iommu_hwpt_vtd_s1_invalidate,
  iommu_viommu_arm_smmuv3_invalidate,
  iommu_hwpt_invalidate,
  iommu_hwpt_pgfault,
  iommu_hwpt_page_response,
  iommu_fault_alloc,
  iommu_viommu_tegra241_cmdqv,
  iommu_viommu_alloc,
  iommu_vdevice_alloc,
  iommu_ioas_change_process,
  iommufd_vevent_header,
  iommu_vevent_arm_smmuv3,
  iommu_vevent_tegra241_cmdqv,
  iommu_veventq_alloc,
  iommu_hw_queue_alloc,
  iommu_test_hw_info,
  iommu_test_cmd,
  iommu_hwpt_selftest,
  iommu_hwpt_invalidate_selftest,
  iommu_viommu_selftest,
  iommu_viommu_invalidate_selftest,
  iommu_viommu_event_selftest,
];

// ---------------------------------------------------------------------------
// The driver struct behind each data type (iommufd.h documents one per enum value)

/** enum iommu_hwpt_data_type -> the IOMMU_HWPT_ALLOC data struct. */
export const IOMMU_HWPT_DATA_STRUCTS: ReadonlyMap<number, StructDef> = new Map([
  [IOMMU_HWPT_DATA_VTD_S1, iommu_hwpt_vtd_s1],
  [IOMMU_HWPT_DATA_ARM_SMMUV3, iommu_hwpt_arm_smmuv3],
  [IOMMU_HWPT_DATA_AMD_GUEST, iommu_hwpt_amd_guest],
  [IOMMU_HWPT_DATA_SELFTEST, iommu_hwpt_selftest],
]);

/** enum iommu_hwpt_invalidate_data_type -> the entry struct, for IOMMU_HWPT_INVALIDATE of a nested HWPT. */
export const IOMMU_HWPT_INVALIDATE_STRUCTS: ReadonlyMap<number, StructDef> = new Map([
  [IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, iommu_hwpt_vtd_s1_invalidate],
  [IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, iommu_hwpt_invalidate_selftest],
]);

/** The entry struct for IOMMU_HWPT_INVALIDATE of a vIOMMU (the selftest's type shares its value with the HWPT one). */
export const IOMMU_VIOMMU_INVALIDATE_STRUCTS: ReadonlyMap<number, StructDef> = new Map([
  [IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, iommu_viommu_arm_smmuv3_invalidate],
  [IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, iommu_viommu_invalidate_selftest],
]);

/** enum iommu_viommu_type -> the IOMMU_VIOMMU_ALLOC data struct. */
export const IOMMU_VIOMMU_DATA_STRUCTS: ReadonlyMap<number, StructDef> = new Map([
  [IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, iommu_viommu_tegra241_cmdqv],
  [IOMMU_VIOMMU_TYPE_SELFTEST, iommu_viommu_selftest],
]);

// ---------------------------------------------------------------------------
// The commands (the IOMMU_* ioctl macros), in number order

function cmd(name: string, nr: number, struct: StructDef, aliases: readonly string[] = []): UapiCommand {
  return { name, aliases, number: IO(IOMMUFD_TYPE, nr), arg: { kind: "struct", struct, sizeField: "size" } };
}

/** Every iommufd command; IOMMU_IOAS_NOIOMMU_GET_PA (0x95) is seed 003's, IOMMU_IOAS_GET_PA as posted in V4. */
export const IOMMUFD_COMMANDS = {
  IOMMU_DESTROY: cmd("IOMMU_DESTROY", IOMMUFD_CMD.DESTROY, iommu_destroy),
  IOMMU_IOAS_ALLOC: cmd("IOMMU_IOAS_ALLOC", IOMMUFD_CMD.IOAS_ALLOC, iommu_ioas_alloc),
  IOMMU_IOAS_ALLOW_IOVAS: cmd("IOMMU_IOAS_ALLOW_IOVAS", IOMMUFD_CMD.IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas),
  IOMMU_IOAS_COPY: cmd("IOMMU_IOAS_COPY", IOMMUFD_CMD.IOAS_COPY, iommu_ioas_copy),
  IOMMU_IOAS_IOVA_RANGES: cmd("IOMMU_IOAS_IOVA_RANGES", IOMMUFD_CMD.IOAS_IOVA_RANGES, iommu_ioas_iova_ranges),
  IOMMU_IOAS_MAP: cmd("IOMMU_IOAS_MAP", IOMMUFD_CMD.IOAS_MAP, iommu_ioas_map),
  IOMMU_IOAS_UNMAP: cmd("IOMMU_IOAS_UNMAP", IOMMUFD_CMD.IOAS_UNMAP, iommu_ioas_unmap),
  IOMMU_OPTION: cmd("IOMMU_OPTION", IOMMUFD_CMD.OPTION, iommu_option),
  IOMMU_VFIO_IOAS: cmd("IOMMU_VFIO_IOAS", IOMMUFD_CMD.VFIO_IOAS, iommu_vfio_ioas),
  IOMMU_HWPT_ALLOC: cmd("IOMMU_HWPT_ALLOC", IOMMUFD_CMD.HWPT_ALLOC, iommu_hwpt_alloc),
  IOMMU_GET_HW_INFO: cmd("IOMMU_GET_HW_INFO", IOMMUFD_CMD.GET_HW_INFO, iommu_hw_info),
  IOMMU_HWPT_SET_DIRTY_TRACKING: cmd("IOMMU_HWPT_SET_DIRTY_TRACKING", IOMMUFD_CMD.HWPT_SET_DIRTY_TRACKING, iommu_hwpt_set_dirty_tracking),
  IOMMU_HWPT_GET_DIRTY_BITMAP: cmd("IOMMU_HWPT_GET_DIRTY_BITMAP", IOMMUFD_CMD.HWPT_GET_DIRTY_BITMAP, iommu_hwpt_get_dirty_bitmap),
  IOMMU_HWPT_INVALIDATE: cmd("IOMMU_HWPT_INVALIDATE", IOMMUFD_CMD.HWPT_INVALIDATE, iommu_hwpt_invalidate),
  IOMMU_FAULT_QUEUE_ALLOC: cmd("IOMMU_FAULT_QUEUE_ALLOC", IOMMUFD_CMD.FAULT_QUEUE_ALLOC, iommu_fault_alloc),
  IOMMU_IOAS_MAP_FILE: cmd("IOMMU_IOAS_MAP_FILE", IOMMUFD_CMD.IOAS_MAP_FILE, iommu_ioas_map_file),
  IOMMU_VIOMMU_ALLOC: cmd("IOMMU_VIOMMU_ALLOC", IOMMUFD_CMD.VIOMMU_ALLOC, iommu_viommu_alloc),
  IOMMU_VDEVICE_ALLOC: cmd("IOMMU_VDEVICE_ALLOC", IOMMUFD_CMD.VDEVICE_ALLOC, iommu_vdevice_alloc),
  IOMMU_IOAS_CHANGE_PROCESS: cmd("IOMMU_IOAS_CHANGE_PROCESS", IOMMUFD_CMD.IOAS_CHANGE_PROCESS, iommu_ioas_change_process),
  IOMMU_VEVENTQ_ALLOC: cmd("IOMMU_VEVENTQ_ALLOC", IOMMUFD_CMD.VEVENTQ_ALLOC, iommu_veventq_alloc),
  IOMMU_HW_QUEUE_ALLOC: cmd("IOMMU_HW_QUEUE_ALLOC", IOMMUFD_CMD.HW_QUEUE_ALLOC, iommu_hw_queue_alloc),
  IOMMU_IOAS_NOIOMMU_GET_PA: cmd("IOMMU_IOAS_NOIOMMU_GET_PA", IOMMUFD_CMD.IOAS_NOIOMMU_GET_PA, iommu_ioas_noiommu_get_pa, ["IOMMU_IOAS_GET_PA"]),
  IOMMU_TEST_CMD: cmd("IOMMU_TEST_CMD", IOMMUFD_CMD_BASE + 32, iommu_test_cmd),
} as const satisfies Record<string, UapiCommand>;
