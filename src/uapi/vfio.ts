// VFIO user API: include/uapi/linux/vfio.h as in v6.19 / mainline (torvalds/linux
// @02256acf, plus VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 and
// VFIO_PRECOPY_INFO_REINIT from the upstream blob 5de618a3a5ee), restricted to
// what the cdev, group and type1 container paths use. Seed 004 (vfio.h history)
// is reflected as follows:
//   - 86624ba3b522 "Do vf_token checks for VFIO_DEVICE_BIND_IOMMUFD": bind grew
//     from 16 to 24 bytes (token_uuid_ptr, VFIO_DEVICE_BIND_FLAG_TOKEN);
//   - ad744ed5dd8b "VFIO_DEVICE_[AT|DE]TACH_IOMMUFD_PT support pasid": attach
//     grew from 12 to 16 bytes and detach from 8 to 12 (pasid + PASID flags);
//   - 35890f85573c "Remove VFIO_TYPE1_NESTING_IOMMU": extension 6 is now spelled
//     __VFIO_RESERVED_TYPE1_NESTING_IOMMU; SET_IOMMU(6) is a no-op, CHECK_EXTENSION
//     no longer advertises it;
//   - 5d74781ebc86 "Add dma-buf export support for MMIO regions":
//     VFIO_DEVICE_FEATURE_DMA_BUF (11);
//   - 2023 __aligned_u64 series: ioeventfd and gfx_plane_info use __aligned_u64
//     (x86_64 layout unchanged).
// The handlers' minimum sizes (minsz) are in the model's command table
// (src/model/ioctl/table.ts).

import type { UapiCommand } from "./commands.ts";
import { IO, VFIO_BASE, VFIO_TYPE } from "./ioctl.ts";
import { defineStruct, flagTable, type EnumTable, type StructDef } from "./layout.ts";

export const VFIO_API_VERSION = 0;

// ---------------------------------------------------------------------------
// Extensions: the argument of VFIO_CHECK_EXTENSION and VFIO_SET_IOMMU

export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_TYPE1v2_IOMMU = 3;
export const VFIO_DMA_CC_IOMMU = 4;
export const VFIO_EEH = 5;
/** Removed by 35890f85573c (seed 004); the current header keeps only __VFIO_RESERVED_TYPE1_NESTING_IOMMU. */
export const VFIO_TYPE1_NESTING_IOMMU = 6;
export const __VFIO_RESERVED_TYPE1_NESTING_IOMMU = 6;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 10;

export const VFIO_EXTENSIONS: EnumTable = {
  VFIO_TYPE1_IOMMU,
  VFIO_SPAPR_TCE_IOMMU,
  VFIO_TYPE1v2_IOMMU,
  VFIO_DMA_CC_IOMMU,
  VFIO_EEH,
  VFIO_TYPE1_NESTING_IOMMU,
  __VFIO_RESERVED_TYPE1_NESTING_IOMMU,
  VFIO_SPAPR_TCE_v2_IOMMU,
  VFIO_NOIOMMU_IOMMU,
  VFIO_UNMAP_ALL,
  VFIO_UPDATE_VADDR,
};

// ---------------------------------------------------------------------------
// ioctl numbers: _IO(VFIO_TYPE, VFIO_BASE + n). Device and container numbers
// overlap (n = 12..17); the fd they are issued on tells them apart.

const vfioIo = (n: number): number => IO(VFIO_TYPE, VFIO_BASE + n);

// container (/dev/vfio/vfio, and /dev/iommu through iommufd's vfio_compat)
export const VFIO_GET_API_VERSION = vfioIo(0);
export const VFIO_CHECK_EXTENSION = vfioIo(1);
export const VFIO_SET_IOMMU = vfioIo(2);
// group (/dev/vfio/$GROUP)
export const VFIO_GROUP_GET_STATUS = vfioIo(3);
export const VFIO_GROUP_SET_CONTAINER = vfioIo(4);
export const VFIO_GROUP_UNSET_CONTAINER = vfioIo(5);
export const VFIO_GROUP_GET_DEVICE_FD = vfioIo(6);
// device
export const VFIO_DEVICE_GET_INFO = vfioIo(7);
export const VFIO_DEVICE_GET_REGION_INFO = vfioIo(8);
export const VFIO_DEVICE_GET_IRQ_INFO = vfioIo(9);
export const VFIO_DEVICE_SET_IRQS = vfioIo(10);
export const VFIO_DEVICE_RESET = vfioIo(11);
export const VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = vfioIo(12);
export const VFIO_DEVICE_PCI_HOT_RESET = vfioIo(13);
export const VFIO_DEVICE_QUERY_GFX_PLANE = vfioIo(14);
export const VFIO_DEVICE_GET_GFX_DMABUF = vfioIo(15);
export const VFIO_DEVICE_IOEVENTFD = vfioIo(16);
export const VFIO_DEVICE_FEATURE = vfioIo(17);
export const VFIO_DEVICE_BIND_IOMMUFD = vfioIo(18);
export const VFIO_DEVICE_ATTACH_IOMMUFD_PT = vfioIo(19);
export const VFIO_DEVICE_DETACH_IOMMUFD_PT = vfioIo(20);
/** Issued on the migration data fd (not a device fd). */
export const VFIO_MIG_GET_PRECOPY_INFO = vfioIo(21);
// type1 container commands sharing numbers with device commands
export const VFIO_IOMMU_GET_INFO = vfioIo(12);
export const VFIO_IOMMU_MAP_DMA = vfioIo(13);
export const VFIO_IOMMU_UNMAP_DMA = vfioIo(14);
export const VFIO_IOMMU_DIRTY_PAGES = vfioIo(17);
/**
 * Seed 002 ("[PATCH v1 1/8] vfio: Add VFIO_IOMMU_PASID_REQUEST(alloc/free)",
 * Liu Yi L, 2020-03-22), never merged: _IO(VFIO_TYPE, VFIO_BASE + 22). The
 * patch's doc comment says _IOWR but the #define is _IO.
 */
export const VFIO_IOMMU_PASID_REQUEST = vfioIo(22);

// ---------------------------------------------------------------------------
// Fixed vfio-pci region and IRQ indices (the anonymous enums of vfio.h)

export const VFIO_PCI_REGION_INDICES: EnumTable = {
  VFIO_PCI_BAR0_REGION_INDEX: 0,
  VFIO_PCI_BAR1_REGION_INDEX: 1,
  VFIO_PCI_BAR2_REGION_INDEX: 2,
  VFIO_PCI_BAR3_REGION_INDEX: 3,
  VFIO_PCI_BAR4_REGION_INDEX: 4,
  VFIO_PCI_BAR5_REGION_INDEX: 5,
  VFIO_PCI_ROM_REGION_INDEX: 6,
  VFIO_PCI_CONFIG_REGION_INDEX: 7,
  VFIO_PCI_VGA_REGION_INDEX: 8,
};
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
/** Fixed user ABI: indices from 9 on are device-specific regions described by caps. */
export const VFIO_PCI_NUM_REGIONS = 9;

export const VFIO_PCI_IRQ_INDICES: EnumTable = {
  VFIO_PCI_INTX_IRQ_INDEX: 0,
  VFIO_PCI_MSI_IRQ_INDEX: 1,
  VFIO_PCI_MSIX_IRQ_INDEX: 2,
  VFIO_PCI_ERR_IRQ_INDEX: 3,
  VFIO_PCI_REQ_IRQ_INDEX: 4,
};
export const VFIO_PCI_NUM_IRQS = 5;

// ---------------------------------------------------------------------------
// Device features (the low 16 bits of vfio_device_feature.flags)

export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
export const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0;
export const VFIO_DEVICE_FEATURE_MIGRATION = 1;
export const VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
export const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8;
export const VFIO_DEVICE_FEATURE_MIG_DATA_SIZE = 9;
export const VFIO_DEVICE_FEATURE_BUS_MASTER = 10;
/** v6.19 (seed 004, 5d74781ebc86). GET only; returns the new dma-buf fd. */
export const VFIO_DEVICE_FEATURE_DMA_BUF = 11;
/** Newest mainline: SET opts in to VFIO_PRECOPY_INFO_REINIT reporting. */
export const VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 = 12;

export const VFIO_DEVICE_FEATURES: EnumTable = {
  VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
  VFIO_DEVICE_FEATURE_MIGRATION,
  VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY,
  VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP,
  VFIO_DEVICE_FEATURE_LOW_POWER_EXIT,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_START,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP,
  VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT,
  VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
  VFIO_DEVICE_FEATURE_BUS_MASTER,
  VFIO_DEVICE_FEATURE_DMA_BUF,
  VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
};

/** enum vfio_device_mig_state. */
export const VFIO_DEVICE_MIG_STATES: EnumTable = {
  VFIO_DEVICE_STATE_ERROR: 0,
  VFIO_DEVICE_STATE_STOP: 1,
  VFIO_DEVICE_STATE_RUNNING: 2,
  VFIO_DEVICE_STATE_STOP_COPY: 3,
  VFIO_DEVICE_STATE_RESUMING: 4,
  VFIO_DEVICE_STATE_RUNNING_P2P: 5,
  VFIO_DEVICE_STATE_PRE_COPY: 6,
  VFIO_DEVICE_STATE_PRE_COPY_P2P: 7,
};

// Capability ids
export const VFIO_DEVICE_INFO_CAP_ZPCI_BASE = 1;
export const VFIO_DEVICE_INFO_CAP_ZPCI_GROUP = 2;
export const VFIO_DEVICE_INFO_CAP_ZPCI_UTIL = 3;
export const VFIO_DEVICE_INFO_CAP_ZPCI_PFIP = 4;
export const VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP = 5;
export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;

/** vfio_pci_dependent_device.devid values for cdev callers. */
export const VFIO_PCI_DEVID_OWNED = 0;
export const VFIO_PCI_DEVID_NOT_OWNED = -1;

// ---------------------------------------------------------------------------
// Flag tables (the #defines inside each struct)

export const VFIO_GROUP_FLAGS = flagTable("VFIO_GROUP_FLAGS_", { VIABLE: 1 << 0, CONTAINER_SET: 1 << 1 });

export const VFIO_DEVICE_FLAGS = flagTable("VFIO_DEVICE_FLAGS_", {
  RESET: 1 << 0,
  PCI: 1 << 1,
  PLATFORM: 1 << 2,
  AMBA: 1 << 3,
  CCW: 1 << 4,
  AP: 1 << 5,
  FSL_MC: 1 << 6,
  CAPS: 1 << 7,
  CDX: 1 << 8,
});

export const VFIO_REGION_INFO_FLAGS = flagTable("VFIO_REGION_INFO_FLAG_", {
  READ: 1 << 0,
  WRITE: 1 << 1,
  MMAP: 1 << 2,
  CAPS: 1 << 3,
});

export const VFIO_IRQ_INFO_FLAGS = flagTable("VFIO_IRQ_INFO_", {
  EVENTFD: 1 << 0,
  MASKABLE: 1 << 1,
  AUTOMASKED: 1 << 2,
  NORESIZE: 1 << 3,
});

export const VFIO_IRQ_SET_FLAGS = flagTable("VFIO_IRQ_SET_", {
  DATA_NONE: 1 << 0,
  DATA_BOOL: 1 << 1,
  DATA_EVENTFD: 1 << 2,
  ACTION_MASK: 1 << 3,
  ACTION_UNMASK: 1 << 4,
  ACTION_TRIGGER: 1 << 5,
});
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 0x7;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

export const VFIO_PCI_HOT_RESET_FLAGS = flagTable("VFIO_PCI_HOT_RESET_FLAG_", {
  DEV_ID: 1 << 0,
  DEV_ID_OWNED: 1 << 1,
});

/** vfio_device_gfx_plane_info.flags. */
export const VFIO_GFX_PLANE_TYPE_FLAGS = flagTable("VFIO_GFX_PLANE_TYPE_", {
  PROBE: 1 << 0,
  DMABUF: 1 << 1,
  REGION: 1 << 2,
});

/** vfio_device_ioeventfd.flags; named IOEVENTFD_8.. so that no flag name looks like a number. */
export const VFIO_DEVICE_IOEVENTFD_FLAGS = flagTable("VFIO_DEVICE_", {
  IOEVENTFD_8: 1 << 0,
  IOEVENTFD_16: 1 << 1,
  IOEVENTFD_32: 1 << 2,
  IOEVENTFD_64: 1 << 3,
});
export const VFIO_DEVICE_IOEVENTFD_SIZE_MASK = 0xf;

/** vfio_device_feature.flags above the 16-bit feature number (which takes VFIO_DEVICE_FEATURES names). */
export const VFIO_DEVICE_FEATURE_FLAGS = flagTable("VFIO_DEVICE_FEATURE_", {
  GET: 1 << 16,
  SET: 1 << 17,
  PROBE: 1 << 18,
});

export const VFIO_DEVICE_BIND_FLAGS = flagTable("VFIO_DEVICE_BIND_FLAG_", { TOKEN: 1 << 0 });
export const VFIO_DEVICE_ATTACH_FLAGS = flagTable("VFIO_DEVICE_ATTACH_", { PASID: 1 << 0 });
export const VFIO_DEVICE_DETACH_FLAGS = flagTable("VFIO_DEVICE_DETACH_", { PASID: 1 << 0 });

/** vfio_device_feature_migration.flags. */
export const VFIO_MIGRATION_FLAGS = flagTable("VFIO_MIGRATION_", {
  STOP_COPY: 1 << 0,
  P2P: 1 << 1,
  PRE_COPY: 1 << 2,
});

/** vfio_precopy_info.flags (an output only after MIG_PRECOPY_INFOv2 is set). */
export const VFIO_PRECOPY_INFO_FLAGS = flagTable("VFIO_PRECOPY_INFO_", { REINIT: 1 << 0 });

export const VFIO_IOMMU_INFO_FLAGS = flagTable("VFIO_IOMMU_INFO_", { PGSIZES: 1 << 0, CAPS: 1 << 1 });

export const VFIO_DMA_MAP_FLAGS = flagTable("VFIO_DMA_MAP_FLAG_", { READ: 1 << 0, WRITE: 1 << 1, VADDR: 1 << 2 });

export const VFIO_DMA_UNMAP_FLAGS = flagTable("VFIO_DMA_UNMAP_FLAG_", {
  GET_DIRTY_BITMAP: 1 << 0,
  ALL: 1 << 1,
  VADDR: 1 << 2,
});

export const VFIO_IOMMU_DIRTY_PAGES_FLAGS = flagTable("VFIO_IOMMU_DIRTY_PAGES_FLAG_", {
  START: 1 << 0,
  STOP: 1 << 1,
  GET_BITMAP: 1 << 2,
});

/** Seed 002: VFIO_IOMMU_PASID_ALLOC / VFIO_IOMMU_PASID_FREE (VFIO_PASID_REQUEST_MASK = both). */
export const VFIO_IOMMU_PASID_REQUEST_FLAGS = flagTable("VFIO_IOMMU_PASID_", { ALLOC: 1 << 0, FREE: 1 << 1 });
export const VFIO_PASID_REQUEST_MASK = 0x3;

// ---------------------------------------------------------------------------
// Structs

/** Capability chain header; nested as `header.*` in the cap structs below. */
export const vfio_info_cap_header = defineStruct("vfio_info_cap_header", [
  ["u16", "id"],
  ["u16", "version"],
  ["u32", "next"],
]);

const CAP_HEADER = [
  ["u16", "header.id"],
  ["u16", "header.version"],
  ["u32", "header.next"],
] as const;

export const vfio_group_status = defineStruct("vfio_group_status", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_GROUP_FLAGS }],
]);

export const vfio_device_info = defineStruct("vfio_device_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DEVICE_FLAGS }],
  ["u32", "num_regions"],
  ["u32", "num_irqs"],
  ["u32", "cap_offset"],
  ["u32", "pad"],
]);

export const vfio_device_info_cap_pci_atomic_comp = defineStruct("vfio_device_info_cap_pci_atomic_comp", [
  ...CAP_HEADER,
  ["u32", "flags"], // VFIO_PCI_ATOMIC_COMP32/64/128 = 1 << 0/1/2
  ["u32", "reserved"],
]);

export const vfio_region_info = defineStruct("vfio_region_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_REGION_INFO_FLAGS }],
  ["u32", "index", { values: VFIO_PCI_REGION_INDICES }],
  ["u32", "cap_offset"],
  ["u64", "size"],
  ["u64", "offset"],
]);

export const vfio_region_sparse_mmap_area = defineStruct("vfio_region_sparse_mmap_area", [
  ["u64", "offset"],
  ["u64", "size"],
]);

/** Header of VFIO_REGION_INFO_CAP_SPARSE_MMAP; nr_areas vfio_region_sparse_mmap_area follow at 16. */
export const vfio_region_info_cap_sparse_mmap = defineStruct("vfio_region_info_cap_sparse_mmap", [...CAP_HEADER, ["u32", "nr_areas"], ["u32", "reserved"]]);

export const vfio_region_info_cap_type = defineStruct("vfio_region_info_cap_type", [...CAP_HEADER, ["u32", "type"], ["u32", "subtype"]]);

export const vfio_irq_info = defineStruct("vfio_irq_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_IRQ_INFO_FLAGS }],
  ["u32", "index", { values: VFIO_PCI_IRQ_INDICES }],
  ["u32", "count"],
]);

/** 20-byte header; `__u8 data[]` (bools or __s32 eventfds) follows at 20. */
export const vfio_irq_set = defineStruct("vfio_irq_set", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_IRQ_SET_FLAGS }],
  ["u32", "index", { values: VFIO_PCI_IRQ_INDICES }],
  ["u32", "start"],
  ["u32", "count"],
]);

/** Element of vfio_pci_hot_reset_info.devices[]; group_id (group path) and devid (cdev) share offset 0. */
export const vfio_pci_dependent_device = defineStruct("vfio_pci_dependent_device", [
  ["u32", "group_id"],
  ["u32", "devid", { at: 0 }],
  ["u16", "segment"],
  ["u8", "bus"],
  ["u8", "devfn"],
]);

/** 12-byte header; count vfio_pci_dependent_device follow at 12. */
export const vfio_pci_hot_reset_info = defineStruct("vfio_pci_hot_reset_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_PCI_HOT_RESET_FLAGS }],
  ["u32", "count"],
]);

/** 12-byte header; count __s32 group_fds follow at 12 (empty for cdev callers). */
export const vfio_pci_hot_reset = defineStruct("vfio_pci_hot_reset", [
  ["u32", "argsz"],
  ["u32", "flags"],
  ["u32", "count"],
]);

export const vfio_device_gfx_plane_info = defineStruct("vfio_device_gfx_plane_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_GFX_PLANE_TYPE_FLAGS }],
  ["u32", "drm_plane_type"],
  ["u32", "drm_format"],
  ["u64", "drm_format_mod"],
  ["u32", "width"],
  ["u32", "height"],
  ["u32", "stride"],
  ["u32", "size"],
  ["u32", "x_pos"],
  ["u32", "y_pos"],
  ["u32", "x_hot"],
  ["u32", "y_hot"],
  ["u32", "region_index"],
  ["u32", "dmabuf_id", { at: 56 }],
  ["u32", "reserved"],
]);

export const vfio_device_ioeventfd = defineStruct("vfio_device_ioeventfd", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DEVICE_IOEVENTFD_FLAGS }],
  ["u64", "offset"],
  ["u64", "data"],
  ["s32", "fd"],
  ["u32", "reserved"],
]);

/** 8-byte header; the feature's own struct follows at 8. */
export const vfio_device_feature = defineStruct("vfio_device_feature", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DEVICE_FEATURE_FLAGS, values: VFIO_DEVICE_FEATURES }],
]);

export const vfio_device_bind_iommufd = defineStruct("vfio_device_bind_iommufd", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DEVICE_BIND_FLAGS }],
  ["s32", "iommufd"],
  ["u32", "out_devid"],
  ["u64", "token_uuid_ptr"], // since 86624ba3b522 (seed 004)
]);

export const vfio_device_attach_iommufd_pt = defineStruct("vfio_device_attach_iommufd_pt", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DEVICE_ATTACH_FLAGS }],
  ["u32", "pt_id"],
  ["u32", "pasid"], // since ad744ed5dd8b (seed 004); read only with VFIO_DEVICE_ATTACH_PASID
]);

export const vfio_device_detach_iommufd_pt = defineStruct("vfio_device_detach_iommufd_pt", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DEVICE_DETACH_FLAGS }],
  ["u32", "pasid"], // since ad744ed5dd8b (seed 004); read only with VFIO_DEVICE_DETACH_PASID
]);

// Feature payloads (after the 8-byte vfio_device_feature header)

export const vfio_device_feature_migration = defineStruct("vfio_device_feature_migration", [["u64", "flags", { flags: VFIO_MIGRATION_FLAGS }]]);

export const vfio_device_feature_mig_state = defineStruct("vfio_device_feature_mig_state", [
  ["u32", "device_state", { values: VFIO_DEVICE_MIG_STATES }],
  ["s32", "data_fd"],
]);

export const vfio_device_low_power_entry_with_wakeup = defineStruct("vfio_device_low_power_entry_with_wakeup", [
  ["s32", "wakeup_eventfd"],
  ["u32", "reserved"],
]);

export const vfio_device_feature_dma_logging_control = defineStruct("vfio_device_feature_dma_logging_control", [
  ["u64", "page_size"],
  ["u32", "num_ranges"],
  ["u32", "__reserved"],
  ["u64", "ranges"],
]);

export const vfio_device_feature_dma_logging_range = defineStruct("vfio_device_feature_dma_logging_range", [
  ["u64", "iova"],
  ["u64", "length"],
]);

export const vfio_device_feature_dma_logging_report = defineStruct("vfio_device_feature_dma_logging_report", [
  ["u64", "iova"],
  ["u64", "length"],
  ["u64", "page_size"],
  ["u64", "bitmap"],
]);

export const vfio_device_feature_mig_data_size = defineStruct("vfio_device_feature_mig_data_size", [["u64", "stop_copy_length"]]);

export const vfio_device_feature_bus_master = defineStruct("vfio_device_feature_bus_master", [
  ["u32", "op", { values: { VFIO_DEVICE_FEATURE_CLEAR_MASTER: 0, VFIO_DEVICE_FEATURE_SET_MASTER: 1 } }],
]);

/** Element of vfio_device_feature_dma_buf.dma_ranges[] (plain __u64, 8-aligned on x86_64). */
export const vfio_region_dma_range = defineStruct("vfio_region_dma_range", [
  ["u64", "offset"],
  ["u64", "length"],
]);

/** VFIO_DEVICE_FEATURE_DMA_BUF payload: 16-byte header, nr_ranges vfio_region_dma_range at 16. */
export const vfio_device_feature_dma_buf = defineStruct("vfio_device_feature_dma_buf", [
  ["u32", "region_index", { values: VFIO_PCI_REGION_INDICES }],
  ["u32", "open_flags"], // O_RDWR, O_CLOEXEC, ... for the new dma-buf file
  ["u32", "flags"], // must be 0
  ["u32", "nr_ranges"],
]);

/** VFIO_MIG_GET_PRECOPY_INFO, on the migration data fd. */
export const vfio_precopy_info = defineStruct("vfio_precopy_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_PRECOPY_INFO_FLAGS }],
  ["u64", "initial_bytes"],
  ["u64", "dirty_bytes"],
]);

// Type1 container structs

export const vfio_iommu_type1_info = defineStruct("vfio_iommu_type1_info", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_IOMMU_INFO_FLAGS }],
  ["u64", "iova_pgsizes"],
  ["u32", "cap_offset"],
  ["u32", "pad"],
]);

export const vfio_iova_range = defineStruct("vfio_iova_range", [
  ["u64", "start"],
  ["u64", "end"],
]);

/** Header of VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE; nr_iovas vfio_iova_range follow at 16. */
export const vfio_iommu_type1_info_cap_iova_range = defineStruct("vfio_iommu_type1_info_cap_iova_range", [
  ...CAP_HEADER,
  ["u32", "nr_iovas"],
  ["u32", "reserved"],
]);

export const vfio_iommu_type1_info_cap_migration = defineStruct("vfio_iommu_type1_info_cap_migration", [
  ...CAP_HEADER,
  ["u32", "flags"],
  ["u64", "pgsize_bitmap"],
  ["u64", "max_dirty_bitmap_size"],
]);

export const vfio_iommu_type1_info_dma_avail = defineStruct("vfio_iommu_type1_info_dma_avail", [...CAP_HEADER, ["u32", "avail"]]);

export const vfio_iommu_type1_dma_map = defineStruct("vfio_iommu_type1_dma_map", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DMA_MAP_FLAGS }],
  ["u64", "vaddr"],
  ["u64", "iova"],
  ["u64", "size"],
]);

export const vfio_bitmap = defineStruct("vfio_bitmap", [
  ["u64", "pgsize"],
  ["u64", "size"],
  ["u64", "data"],
]);

/** 24 bytes; with GET_DIRTY_BITMAP a struct vfio_bitmap follows in data[] at 24. */
export const vfio_iommu_type1_dma_unmap = defineStruct("vfio_iommu_type1_dma_unmap", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_DMA_UNMAP_FLAGS }],
  ["u64", "iova"],
  ["u64", "size"],
]);

/** 8-byte header; with GET_BITMAP a vfio_iommu_type1_dirty_bitmap_get follows at 8. */
export const vfio_iommu_type1_dirty_bitmap = defineStruct("vfio_iommu_type1_dirty_bitmap", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_IOMMU_DIRTY_PAGES_FLAGS }],
]);

export const vfio_iommu_type1_dirty_bitmap_get = defineStruct("vfio_iommu_type1_dirty_bitmap_get", [
  ["u64", "iova"],
  ["u64", "size"],
  ["u64", "bitmap.pgsize"],
  ["u64", "bitmap.size"],
  ["u64", "bitmap.data"],
]);

/**
 * Seed 002 (never merged), exactly as [PATCH v1 1/8] defines it:
 *   struct vfio_iommu_type1_pasid_request {
 *     __u32 argsz; __u32 flags;
 *     union { struct { __u32 min; __u32 max; __u32 result; } alloc_pasid; __u32 free_pasid; };
 *   };
 * 20 bytes; the handler's minsz is offsetofend(flags) = 8.
 */
export const vfio_iommu_type1_pasid_request = defineStruct("vfio_iommu_type1_pasid_request", [
  ["u32", "argsz"],
  ["u32", "flags", { flags: VFIO_IOMMU_PASID_REQUEST_FLAGS }],
  ["u32", "alloc_pasid.min", { at: 8 }],
  ["u32", "alloc_pasid.max", { at: 12 }],
  ["u32", "alloc_pasid.result", { at: 16 }],
  ["u32", "free_pasid", { at: 8 }],
]);

/** Every struct above, for lookup by kernel name. */
export const VFIO_STRUCTS: readonly StructDef[] = [
  vfio_info_cap_header,
  vfio_group_status,
  vfio_device_info,
  vfio_device_info_cap_pci_atomic_comp,
  vfio_region_info,
  vfio_region_sparse_mmap_area,
  vfio_region_info_cap_sparse_mmap,
  vfio_region_info_cap_type,
  vfio_irq_info,
  vfio_irq_set,
  vfio_pci_dependent_device,
  vfio_pci_hot_reset_info,
  vfio_pci_hot_reset,
  vfio_device_gfx_plane_info,
  vfio_device_ioeventfd,
  vfio_device_feature,
  vfio_device_bind_iommufd,
  vfio_device_attach_iommufd_pt,
  vfio_device_detach_iommufd_pt,
  vfio_device_feature_migration,
  vfio_device_feature_mig_state,
  vfio_device_low_power_entry_with_wakeup,
  vfio_device_feature_dma_logging_control,
  vfio_device_feature_dma_logging_range,
  vfio_device_feature_dma_logging_report,
  vfio_device_feature_mig_data_size,
  vfio_device_feature_bus_master,
  vfio_region_dma_range,
  vfio_device_feature_dma_buf,
  vfio_precopy_info,
  vfio_iommu_type1_info,
  vfio_iova_range,
  vfio_iommu_type1_info_cap_iova_range,
  vfio_iommu_type1_info_cap_migration,
  vfio_iommu_type1_info_dma_avail,
  vfio_iommu_type1_dma_map,
  vfio_bitmap,
  vfio_iommu_type1_dma_unmap,
  vfio_iommu_type1_dirty_bitmap,
  vfio_iommu_type1_dirty_bitmap_get,
  vfio_iommu_type1_pasid_request,
];

// ---------------------------------------------------------------------------
// The commands (the VFIO_* ioctl macros). Numbers 0x3b70..0x3b75 are defined
// twice, once for a device fd and once for a type1 container: the model's
// command table says which file kind means which.

function structCmd(name: string, number: number, struct: StructDef): UapiCommand {
  return { name, aliases: [], number, arg: { kind: "struct", struct, sizeField: "argsz" } };
}

function plainCmd(name: string, number: number, kind: "int" | "int-ptr" | "string" | "none"): UapiCommand {
  return { name, aliases: [], number, arg: { kind } };
}

export const VFIO_COMMANDS = {
  VFIO_GET_API_VERSION: plainCmd("VFIO_GET_API_VERSION", VFIO_GET_API_VERSION, "none"),
  VFIO_CHECK_EXTENSION: plainCmd("VFIO_CHECK_EXTENSION", VFIO_CHECK_EXTENSION, "int"),
  VFIO_SET_IOMMU: plainCmd("VFIO_SET_IOMMU", VFIO_SET_IOMMU, "int"),
  VFIO_GROUP_GET_STATUS: structCmd("VFIO_GROUP_GET_STATUS", VFIO_GROUP_GET_STATUS, vfio_group_status),
  VFIO_GROUP_SET_CONTAINER: plainCmd("VFIO_GROUP_SET_CONTAINER", VFIO_GROUP_SET_CONTAINER, "int-ptr"),
  VFIO_GROUP_UNSET_CONTAINER: plainCmd("VFIO_GROUP_UNSET_CONTAINER", VFIO_GROUP_UNSET_CONTAINER, "none"),
  VFIO_GROUP_GET_DEVICE_FD: plainCmd("VFIO_GROUP_GET_DEVICE_FD", VFIO_GROUP_GET_DEVICE_FD, "string"),
  VFIO_DEVICE_GET_INFO: structCmd("VFIO_DEVICE_GET_INFO", VFIO_DEVICE_GET_INFO, vfio_device_info),
  VFIO_DEVICE_GET_REGION_INFO: structCmd("VFIO_DEVICE_GET_REGION_INFO", VFIO_DEVICE_GET_REGION_INFO, vfio_region_info),
  VFIO_DEVICE_GET_IRQ_INFO: structCmd("VFIO_DEVICE_GET_IRQ_INFO", VFIO_DEVICE_GET_IRQ_INFO, vfio_irq_info),
  VFIO_DEVICE_SET_IRQS: structCmd("VFIO_DEVICE_SET_IRQS", VFIO_DEVICE_SET_IRQS, vfio_irq_set),
  VFIO_DEVICE_RESET: plainCmd("VFIO_DEVICE_RESET", VFIO_DEVICE_RESET, "none"),
  VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: structCmd("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, vfio_pci_hot_reset_info),
  VFIO_DEVICE_PCI_HOT_RESET: structCmd("VFIO_DEVICE_PCI_HOT_RESET", VFIO_DEVICE_PCI_HOT_RESET, vfio_pci_hot_reset),
  VFIO_DEVICE_QUERY_GFX_PLANE: structCmd("VFIO_DEVICE_QUERY_GFX_PLANE", VFIO_DEVICE_QUERY_GFX_PLANE, vfio_device_gfx_plane_info),
  VFIO_DEVICE_GET_GFX_DMABUF: plainCmd("VFIO_DEVICE_GET_GFX_DMABUF", VFIO_DEVICE_GET_GFX_DMABUF, "int-ptr"),
  VFIO_DEVICE_IOEVENTFD: structCmd("VFIO_DEVICE_IOEVENTFD", VFIO_DEVICE_IOEVENTFD, vfio_device_ioeventfd),
  VFIO_DEVICE_FEATURE: structCmd("VFIO_DEVICE_FEATURE", VFIO_DEVICE_FEATURE, vfio_device_feature),
  VFIO_DEVICE_BIND_IOMMUFD: structCmd("VFIO_DEVICE_BIND_IOMMUFD", VFIO_DEVICE_BIND_IOMMUFD, vfio_device_bind_iommufd),
  VFIO_DEVICE_ATTACH_IOMMUFD_PT: structCmd("VFIO_DEVICE_ATTACH_IOMMUFD_PT", VFIO_DEVICE_ATTACH_IOMMUFD_PT, vfio_device_attach_iommufd_pt),
  VFIO_DEVICE_DETACH_IOMMUFD_PT: structCmd("VFIO_DEVICE_DETACH_IOMMUFD_PT", VFIO_DEVICE_DETACH_IOMMUFD_PT, vfio_device_detach_iommufd_pt),
  VFIO_MIG_GET_PRECOPY_INFO: structCmd("VFIO_MIG_GET_PRECOPY_INFO", VFIO_MIG_GET_PRECOPY_INFO, vfio_precopy_info),
  VFIO_IOMMU_GET_INFO: structCmd("VFIO_IOMMU_GET_INFO", VFIO_IOMMU_GET_INFO, vfio_iommu_type1_info),
  VFIO_IOMMU_MAP_DMA: structCmd("VFIO_IOMMU_MAP_DMA", VFIO_IOMMU_MAP_DMA, vfio_iommu_type1_dma_map),
  VFIO_IOMMU_UNMAP_DMA: structCmd("VFIO_IOMMU_UNMAP_DMA", VFIO_IOMMU_UNMAP_DMA, vfio_iommu_type1_dma_unmap),
  VFIO_IOMMU_DIRTY_PAGES: structCmd("VFIO_IOMMU_DIRTY_PAGES", VFIO_IOMMU_DIRTY_PAGES, vfio_iommu_type1_dirty_bitmap),
  VFIO_IOMMU_PASID_REQUEST: structCmd("VFIO_IOMMU_PASID_REQUEST", VFIO_IOMMU_PASID_REQUEST, vfio_iommu_type1_pasid_request),
} as const satisfies Record<string, UapiCommand>;
