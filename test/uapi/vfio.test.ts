// VFIO codecs against include/uapi/linux/vfio.h (v6.19 / mainline), the
// handlers' minsz checks (device_cdev.c, vfio_main.c, group.c, vfio_pci_core.c,
// vfio_iommu_type1.c, iommufd vfio_compat.c), seed 002 (VFIO_IOMMU_PASID_REQUEST
// [PATCH v1 1/8]) and seed 004 (vfio.h history up to v6.19).
import { describe, expect, it } from "vitest";
import { pinLayouts } from "./pin.ts";
import {
  decodeStruct,
  encodeStruct,
  commandByName,
  commandsByNumber,
  structByName,
  VFIO_COMMANDS,
  VFIO_STRUCTS,
  vfio_device_bind_iommufd,
  vfio_device_feature,
  vfio_iommu_type1_pasid_request,
} from "../../src/uapi/index.ts";
import * as vfio from "../../src/uapi/vfio.ts";

/** struct name -> [sizeof, { member: offset }], by hand from vfio.h. */
const LAYOUTS: Record<string, [number, Record<string, number>]> = {
  vfio_info_cap_header: [8, { id: 0, version: 2, next: 4 }],
  vfio_group_status: [8, { argsz: 0, flags: 4 }],
  vfio_device_info: [24, { argsz: 0, flags: 4, num_regions: 8, num_irqs: 12, cap_offset: 16, pad: 20 }],
  vfio_device_info_cap_pci_atomic_comp: [16, { "header.id": 0, "header.version": 2, "header.next": 4, flags: 8, reserved: 12 }],
  vfio_region_info: [32, { argsz: 0, flags: 4, index: 8, cap_offset: 12, size: 16, offset: 24 }],
  vfio_region_sparse_mmap_area: [16, { offset: 0, size: 8 }],
  vfio_region_info_cap_sparse_mmap: [16, { "header.id": 0, "header.version": 2, "header.next": 4, nr_areas: 8, reserved: 12 }],
  vfio_region_info_cap_type: [16, { "header.id": 0, "header.version": 2, "header.next": 4, type: 8, subtype: 12 }],
  vfio_irq_info: [16, { argsz: 0, flags: 4, index: 8, count: 12 }],
  vfio_irq_set: [20, { argsz: 0, flags: 4, index: 8, start: 12, count: 16 }],
  vfio_pci_dependent_device: [8, { group_id: 0, devid: 0, segment: 4, bus: 6, devfn: 7 }],
  vfio_pci_hot_reset_info: [12, { argsz: 0, flags: 4, count: 8 }],
  vfio_pci_hot_reset: [12, { argsz: 0, flags: 4, count: 8 }],
  vfio_device_gfx_plane_info: [
    64,
    {
      argsz: 0,
      flags: 4,
      drm_plane_type: 8,
      drm_format: 12,
      drm_format_mod: 16,
      width: 24,
      height: 28,
      stride: 32,
      size: 36,
      x_pos: 40,
      y_pos: 44,
      x_hot: 48,
      y_hot: 52,
      region_index: 56,
      dmabuf_id: 56,
      reserved: 60,
    },
  ],
  vfio_device_ioeventfd: [32, { argsz: 0, flags: 4, offset: 8, data: 16, fd: 24, reserved: 28 }],
  vfio_device_feature: [8, { argsz: 0, flags: 4 }],
  vfio_device_bind_iommufd: [24, { argsz: 0, flags: 4, iommufd: 8, out_devid: 12, token_uuid_ptr: 16 }],
  vfio_device_attach_iommufd_pt: [16, { argsz: 0, flags: 4, pt_id: 8, pasid: 12 }],
  vfio_device_detach_iommufd_pt: [12, { argsz: 0, flags: 4, pasid: 8 }],
  vfio_device_feature_migration: [8, { flags: 0 }],
  vfio_device_feature_mig_state: [8, { device_state: 0, data_fd: 4 }],
  vfio_device_low_power_entry_with_wakeup: [8, { wakeup_eventfd: 0, reserved: 4 }],
  vfio_device_feature_dma_logging_control: [24, { page_size: 0, num_ranges: 8, __reserved: 12, ranges: 16 }],
  vfio_device_feature_dma_logging_range: [16, { iova: 0, length: 8 }],
  vfio_device_feature_dma_logging_report: [32, { iova: 0, length: 8, page_size: 16, bitmap: 24 }],
  vfio_device_feature_mig_data_size: [8, { stop_copy_length: 0 }],
  vfio_device_feature_bus_master: [4, { op: 0 }],
  vfio_region_dma_range: [16, { offset: 0, length: 8 }],
  vfio_device_feature_dma_buf: [16, { region_index: 0, open_flags: 4, flags: 8, nr_ranges: 12 }],
  vfio_precopy_info: [24, { argsz: 0, flags: 4, initial_bytes: 8, dirty_bytes: 16 }],
  vfio_iommu_type1_info: [24, { argsz: 0, flags: 4, iova_pgsizes: 8, cap_offset: 16, pad: 20 }],
  vfio_iova_range: [16, { start: 0, end: 8 }],
  vfio_iommu_type1_info_cap_iova_range: [16, { "header.id": 0, "header.version": 2, "header.next": 4, nr_iovas: 8, reserved: 12 }],
  vfio_iommu_type1_info_cap_migration: [32, { "header.id": 0, "header.version": 2, "header.next": 4, flags: 8, pgsize_bitmap: 16, max_dirty_bitmap_size: 24 }],
  vfio_iommu_type1_info_dma_avail: [12, { "header.id": 0, "header.version": 2, "header.next": 4, avail: 8 }],
  vfio_iommu_type1_dma_map: [32, { argsz: 0, flags: 4, vaddr: 8, iova: 16, size: 24 }],
  vfio_bitmap: [24, { pgsize: 0, size: 8, data: 16 }],
  vfio_iommu_type1_dma_unmap: [24, { argsz: 0, flags: 4, iova: 8, size: 16 }],
  vfio_iommu_type1_dirty_bitmap: [8, { argsz: 0, flags: 4 }],
  vfio_iommu_type1_dirty_bitmap_get: [40, { iova: 0, size: 8, "bitmap.pgsize": 16, "bitmap.size": 24, "bitmap.data": 32 }],
  // seed 002
  vfio_iommu_type1_pasid_request: [20, { argsz: 0, flags: 4, "alloc_pasid.min": 8, "alloc_pasid.max": 12, "alloc_pasid.result": 16, free_pasid: 8 }],
};

pinLayouts("vfio.h", LAYOUTS, VFIO_STRUCTS);

describe("VFIO commands (vfio.h)", () => {
  it("numbers every command as _IO(';', VFIO_BASE + n) and exports the same value", () => {
    const numbers: Record<string, number> = {
      VFIO_GET_API_VERSION: 0x3b64,
      VFIO_CHECK_EXTENSION: 0x3b65,
      VFIO_SET_IOMMU: 0x3b66,
      VFIO_GROUP_GET_STATUS: 0x3b67,
      VFIO_GROUP_SET_CONTAINER: 0x3b68,
      VFIO_GROUP_UNSET_CONTAINER: 0x3b69,
      VFIO_GROUP_GET_DEVICE_FD: 0x3b6a,
      VFIO_DEVICE_GET_INFO: 0x3b6b,
      VFIO_DEVICE_GET_REGION_INFO: 0x3b6c,
      VFIO_DEVICE_GET_IRQ_INFO: 0x3b6d,
      VFIO_DEVICE_SET_IRQS: 0x3b6e,
      VFIO_DEVICE_RESET: 0x3b6f,
      VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: 0x3b70,
      VFIO_DEVICE_PCI_HOT_RESET: 0x3b71,
      VFIO_DEVICE_QUERY_GFX_PLANE: 0x3b72,
      VFIO_DEVICE_GET_GFX_DMABUF: 0x3b73,
      VFIO_DEVICE_IOEVENTFD: 0x3b74,
      VFIO_DEVICE_FEATURE: 0x3b75,
      VFIO_DEVICE_BIND_IOMMUFD: 0x3b76,
      VFIO_DEVICE_ATTACH_IOMMUFD_PT: 0x3b77,
      VFIO_DEVICE_DETACH_IOMMUFD_PT: 0x3b78,
      VFIO_MIG_GET_PRECOPY_INFO: 0x3b79,
      VFIO_IOMMU_GET_INFO: 0x3b70,
      VFIO_IOMMU_MAP_DMA: 0x3b71,
      VFIO_IOMMU_UNMAP_DMA: 0x3b72,
      VFIO_IOMMU_DIRTY_PAGES: 0x3b75,
      VFIO_IOMMU_PASID_REQUEST: 0x3b7a,
    };
    expect(Object.keys(VFIO_COMMANDS).sort()).toEqual(Object.keys(numbers).sort());
    for (const [name, n] of Object.entries(numbers)) {
      expect(commandByName(name)!.number, name).toBe(n);
      expect((vfio as unknown as Record<string, number>)[name], name).toBe(n);
      const arg = commandByName(name)!.arg;
      if (arg.kind === "struct") expect(arg.sizeField, name).toBe("argsz");
    }
  });

  it("defines the overlapping device and type1 numbers twice (0x3b70..0x3b72, 0x3b75)", () => {
    expect(
      commandsByNumber(0x3b70)
        .map((d) => d.name)
        .sort(),
    ).toEqual(["VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", "VFIO_IOMMU_GET_INFO"]);
    expect(
      commandsByNumber(0x3b75)
        .map((d) => d.name)
        .sort(),
    ).toEqual(["VFIO_DEVICE_FEATURE", "VFIO_IOMMU_DIRTY_PAGES"]);
  });
});

describe("vfio.h constants", () => {
  it("API version and extensions (VFIO_TYPE1_IOMMU 1 .. VFIO_UPDATE_VADDR 10)", () => {
    expect(vfio.VFIO_API_VERSION).toBe(0);
    expect(vfio.VFIO_EXTENSIONS).toEqual({
      VFIO_TYPE1_IOMMU: 1,
      VFIO_SPAPR_TCE_IOMMU: 2,
      VFIO_TYPE1v2_IOMMU: 3,
      VFIO_DMA_CC_IOMMU: 4,
      VFIO_EEH: 5,
      VFIO_TYPE1_NESTING_IOMMU: 6,
      __VFIO_RESERVED_TYPE1_NESTING_IOMMU: 6, // seed 004: 35890f85573c
      VFIO_SPAPR_TCE_v2_IOMMU: 7,
      VFIO_NOIOMMU_IOMMU: 8,
      VFIO_UNMAP_ALL: 9,
      VFIO_UPDATE_VADDR: 10,
    });
  });

  it("vfio-pci region and irq indices", () => {
    expect(vfio.VFIO_PCI_REGION_INDICES.VFIO_PCI_BAR0_REGION_INDEX).toBe(0);
    expect(vfio.VFIO_PCI_REGION_INDICES.VFIO_PCI_BAR5_REGION_INDEX).toBe(5);
    expect(vfio.VFIO_PCI_ROM_REGION_INDEX).toBe(6);
    expect(vfio.VFIO_PCI_CONFIG_REGION_INDEX).toBe(7);
    expect(vfio.VFIO_PCI_VGA_REGION_INDEX).toBe(8);
    expect(vfio.VFIO_PCI_NUM_REGIONS).toBe(9);
    expect(vfio.VFIO_PCI_IRQ_INDICES).toEqual({
      VFIO_PCI_INTX_IRQ_INDEX: 0,
      VFIO_PCI_MSI_IRQ_INDEX: 1,
      VFIO_PCI_MSIX_IRQ_INDEX: 2,
      VFIO_PCI_ERR_IRQ_INDEX: 3,
      VFIO_PCI_REQ_IRQ_INDEX: 4,
    });
    expect(vfio.VFIO_PCI_NUM_IRQS).toBe(5);
  });

  it("device feature numbers, DMA_BUF 11 (seed 004) and MIG_PRECOPY_INFOv2 12", () => {
    expect(vfio.VFIO_DEVICE_FEATURES).toEqual({
      VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: 0,
      VFIO_DEVICE_FEATURE_MIGRATION: 1,
      VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE: 2,
      VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY: 3,
      VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP: 4,
      VFIO_DEVICE_FEATURE_LOW_POWER_EXIT: 5,
      VFIO_DEVICE_FEATURE_DMA_LOGGING_START: 6,
      VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP: 7,
      VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT: 8,
      VFIO_DEVICE_FEATURE_MIG_DATA_SIZE: 9,
      VFIO_DEVICE_FEATURE_BUS_MASTER: 10,
      VFIO_DEVICE_FEATURE_DMA_BUF: 11,
      VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2: 12,
    });
    expect(vfio.VFIO_DEVICE_FEATURE_MASK).toBe(0xffff);
    expect(vfio_device_feature.byName.get("flags")!.flags!.bits).toEqual({ GET: 0x10000, SET: 0x20000, PROBE: 0x40000 });
  });

  it("flag bits of the cdev structs and the irq, region and map structs", () => {
    const bits = (s: string, m = "flags") => structByName(s)!.byName.get(m)!.flags!.bits;
    expect(bits("vfio_device_bind_iommufd")).toEqual({ TOKEN: 1 });
    expect(bits("vfio_device_attach_iommufd_pt")).toEqual({ PASID: 1 });
    expect(bits("vfio_device_detach_iommufd_pt")).toEqual({ PASID: 1 });
    expect(bits("vfio_device_info")).toEqual({
      RESET: 1,
      PCI: 2,
      PLATFORM: 4,
      AMBA: 8,
      CCW: 16,
      AP: 32,
      FSL_MC: 64,
      CAPS: 128,
      CDX: 256,
    });
    expect(bits("vfio_region_info")).toEqual({ READ: 1, WRITE: 2, MMAP: 4, CAPS: 8 });
    expect(bits("vfio_irq_info")).toEqual({ EVENTFD: 1, MASKABLE: 2, AUTOMASKED: 4, NORESIZE: 8 });
    expect(bits("vfio_irq_set")).toEqual({
      DATA_NONE: 1,
      DATA_BOOL: 2,
      DATA_EVENTFD: 4,
      ACTION_MASK: 8,
      ACTION_UNMASK: 16,
      ACTION_TRIGGER: 32,
    });
    expect(bits("vfio_pci_hot_reset_info")).toEqual({ DEV_ID: 1, DEV_ID_OWNED: 2 });
    expect(bits("vfio_group_status")).toEqual({ VIABLE: 1, CONTAINER_SET: 2 });
    expect(bits("vfio_iommu_type1_info")).toEqual({ PGSIZES: 1, CAPS: 2 });
    expect(bits("vfio_iommu_type1_dma_map")).toEqual({ READ: 1, WRITE: 2, VADDR: 4 });
    expect(bits("vfio_iommu_type1_dma_unmap")).toEqual({ GET_DIRTY_BITMAP: 1, ALL: 2, VADDR: 4 });
    expect(bits("vfio_iommu_type1_dirty_bitmap")).toEqual({ START: 1, STOP: 2, GET_BITMAP: 4 });
    expect(bits("vfio_precopy_info")).toEqual({ REINIT: 1 });
    expect(vfio.VFIO_PCI_DEVID_NOT_OWNED).toBe(-1);
  });
});

describe("VFIO encode/decode", () => {
  it("VFIO_DEVICE_BIND_IOMMUFD with a token (24 bytes) and from a pre-token 16-byte caller", () => {
    const full = encodeStruct(vfio_device_bind_iommufd, {
      argsz: 24,
      flags: ["TOKEN"],
      iommufd: 3,
      token_uuid_ptr: 0x7ffd_0000_1000n,
    });
    expect(Array.from(full.slice(0, 16))).toEqual([24, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeStruct(vfio_device_bind_iommufd, full).token_uuid_ptr).toBe(0x7ffd_0000_1000n);
    const old = encodeStruct(vfio_device_bind_iommufd, { argsz: 16, iommufd: -2 }, 16);
    expect(old.length).toBe(16);
    expect(Array.from(old.slice(8, 12))).toEqual([0xfe, 0xff, 0xff, 0xff]);
    expect(decodeStruct(vfio_device_bind_iommufd, old)).toEqual({
      argsz: 16,
      flags: 0,
      iommufd: -2,
      out_devid: 0,
      token_uuid_ptr: 0n,
    });
  });

  it("VFIO_DEVICE_FEATURE flags take GET/SET/PROBE plus a feature name in one list", () => {
    const b = encodeStruct(vfio_device_feature, { argsz: 24, flags: ["GET", "VFIO_DEVICE_FEATURE_DMA_BUF"] });
    expect(decodeStruct(vfio_device_feature, b).flags).toBe(0x1000b);
    const p = encodeStruct(vfio_device_feature, { flags: ["VFIO_DEVICE_FEATURE_PROBE", "VFIO_DEVICE_FEATURE_SET", 12] });
    expect(decodeStruct(vfio_device_feature, p).flags).toBe(0x6000c);
  });

  it("vfio_pci_dependent_device: group_id and devid share offset 0", () => {
    const s = structByName("vfio_pci_dependent_device")!;
    const b = encodeStruct(s, { devid: 0xffffffff, segment: 1, bus: 2, devfn: 0x18 });
    expect(Array.from(b)).toEqual([0xff, 0xff, 0xff, 0xff, 1, 0, 2, 0x18]);
    expect(decodeStruct(s, b).group_id).toBe(0xffffffff);
  });
});

describe("seed 002: VFIO_IOMMU_PASID_REQUEST [PATCH v1 1/8]", () => {
  it("is _IO(VFIO_TYPE, VFIO_BASE + 22) = 0x3b7a", () => {
    const def = commandByName("VFIO_IOMMU_PASID_REQUEST")!;
    expect(def.number).toBe(0x3b7a);
    expect(def.arg.kind === "struct" && def.arg.struct).toBe(vfio_iommu_type1_pasid_request);
  });

  it("flags VFIO_IOMMU_PASID_ALLOC = 1 << 0, VFIO_IOMMU_PASID_FREE = 1 << 1", () => {
    expect(vfio_iommu_type1_pasid_request.byName.get("flags")!.flags!.bits).toEqual({ ALLOC: 1, FREE: 2 });
    expect(vfio.VFIO_PASID_REQUEST_MASK).toBe(3);
    const b = encodeStruct(vfio_iommu_type1_pasid_request, { flags: ["VFIO_IOMMU_PASID_FREE"] });
    expect(b[4]).toBe(2);
  });

  it("names union members by short name (min, max, result) or dotted path; free_pasid overlays min", () => {
    const s = vfio_iommu_type1_pasid_request;
    const short = encodeStruct(s, { argsz: 20, flags: ["ALLOC"], min: 1, max: 0xfffff });
    const dotted = encodeStruct(s, { argsz: 20, flags: ["ALLOC"], "alloc_pasid.min": 1, "alloc_pasid.max": 0xfffff });
    expect(short).toEqual(dotted);
    expect(Array.from(short)).toEqual([20, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0]);
    const d = decodeStruct(s, short);
    expect(d.free_pasid).toBe(1);
    expect(d["alloc_pasid.result"]).toBe(0);
    expect(s.byName.get("result")!.offset).toBe(16);
  });
});
