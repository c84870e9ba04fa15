// The host platform: its IOMMU (what IOMMU_GET_HW_INFO reports) and the PCI
// devices bound to vfio-pci, with the names VFIO gives them.

export type HostIommuType = "intel_vtd" | "arm_smmuv3" | "amd" | "none" | "selftest_mock";

export interface HostIommu {
  type: HostIommuType;
  capReg: bigint;
  ecapReg: bigint;
  awBits: number;
  maxPasidLog2: number;
  hwCaps: string[];
}

export interface ExtCap {
  id: number;
  ver: number;
  off: number;
  size: number;
}

export interface HostDevice {
  bdf: string;
  /** An IOMMU translates this device's DMA. */
  iommu: boolean;
  mdev: boolean;
  /** IOMMU group number; null when VFIO registered no group (no-IOMMU without container support). */
  group: number | null;
  pasid: { maxLog2: number; exec: boolean; priv: boolean } | null;
  extCaps: ExtCap[];
  stdCaps: { id: number; off?: number; size?: number; ver?: number }[];
  vfToken: string | null;
  reset: boolean;
  /** VFIO regions (BARs, ROM, config, VGA, device-specific from 9); pa: a BAR's physical address (pci_resource_start), when given. */
  regions: { index: number; size: bigint; flags: number; pa?: bigint }[];
  /** VFIO device index N (vfioN), from vfio's device ida. */
  vfioIndex: number;
  /** cdev node name under /dev/vfio/devices, or null when VFIO made no cdev for it. */
  cdev: string | null;
  /** Group node under /dev/vfio ("7", "noiommu-7"), or null. */
  groupNode: string | null;
  /** A no-IOMMU device registered by vfio's unsafe no-IOMMU mode. */
  noiommu: boolean;
  /**
   * false: the IOMMU cannot track dirty pages for this device although the
   * host IOMMU can (device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING) is
   * false; the selftest's MOCK_FLAGS_DEVICE_NO_DIRTY). Absent: as the host.
   */
  dirtyTracking?: boolean;
  /** Made by IOMMU_TEST_CMD's mock_dev_create (iommufd_selftest_is_mock_dev): binding it takes no reference on the context. */
  mockDev?: true;
  /**
   * The IOMMU domain translating each PASID of the device (NO_PASID -1 for
   * the RID), by domain id: the iommu core's group->domain and pasid_array,
   * written by whoever attaches the device (src/model/domain/attach.ts).
   * Absent: blocked.
   */
  attached: Map<number, number>;
  /** Config-space bytes the trace declared (`cfg`), by offset (src/model/pci/device.ts derives the rest). */
  cfg?: Map<number, number>;
  /** Config-space bytes the hardware took from writes, by offset (src/model/pci/device.ts deviceConfigWrite). */
  cfgWritten?: Map<number, number>;
}

export interface HostState {
  iommu: HostIommu | null;
  devices: Map<string, HostDevice>;
  nextVfioIndex: number;
}

export function initialHost(): HostState {
  return { iommu: null, devices: new Map(), nextVfioIndex: 0 };
}
