// VFIO's state (drivers/vfio/): the vfio_device of every host device, the
// vfio_group of every IOMMU group, the containers of /dev/vfio/vfio with their
// type1 IOMMU data. (The dma-bufs vfio-pci exports are src/model/dmabuf's.) Entries for devices and groups are made on
// first use (a device nobody touched is open_count 0, unbound, unattached).

import type { IovaRange, PhysRun } from "../domain/state.ts";

/** struct vfio_device (with the vfio_pci_core_device bits the model needs), by bdf. */
export interface VfioDevice {
  /** device->open_count: every group fd and the one cdev fd that opened it. */
  openCount: number;
  /** device->cdev_opened. */
  cdevOpened: boolean;
  /** vdev->iommufd_device: the iommufd context (file id, held with fileGet) and the device object's id. */
  iommufd: { ctx: number; devId: number } | null;
  /** vdev->iommufd_attached: the RID is attached. */
  attached: boolean;
  /** vdev->pasids: the PASIDs attached through VFIO_DEVICE_ATTACH_IOMMUFD_PT, ascending. */
  pasids: number[];
  /** vdev->dmabufs: files of the dma-bufs exported from this device, in export order. */
  dmabufs: number[];
}

/** struct vfio_group, by IOMMU group number. */
export interface VfioGroup {
  /** group->opened_file: the group file while it lives (device fds of a container hold it past its close). */
  openedFile: number | null;
  /** group->container: the container id. */
  container: number | null;
  /** group->container_users: 1 for the attach, +1 per device opened through the container. */
  containerUsers: number;
  /** group->iommufd: the iommufd context file (held with fileGet). */
  iommufd: number | null;
  /** group->cdev_device_open_cnt: cdevs of this group bound to iommufd (vfio_device_block_group). */
  cdevDeviceOpenCnt: number;
}

/** struct vfio_dma: one VFIO_IOMMU_MAP_DMA of a type1 container. */
export interface VfioDma {
  iova: bigint;
  size: bigint;
  vaddr: bigint;
  /** IOMMU_READ (1) | IOMMU_WRITE (2). */
  prot: number;
  /** dma->task / dma->mm: the process that mapped it (its group leader). */
  pid: number;
  /** The pinned pages (vfio_pin_map_dma), or null while no IOMMU domain asks for them. */
  runs: PhysRun[] | null;
  /** VFIO_DMA_UNMAP_FLAG_VADDR invalidated the vaddr; VFIO_DMA_MAP_FLAG_VADDR sets a new one. */
  vaddrInvalid: boolean;
}

/** struct vfio_iommu: the type1 driver's data of one container. */
export interface Type1 {
  /** TYPE1v2 (or the nesting no-op): unmaps must not bisect a mapping. */
  v2: boolean;
  /** VFIO_TYPE1_NESTING_IOMMU before 35890f85573c removed it. */
  nesting: boolean;
  /** The DMA mappings, sorted by iova, never overlapping (iommu->dma_list). */
  dmaList: VfioDma[];
  /** iommu->dma_avail: vfio_iommu_type1.dma_entry_limit at open, minus the mappings. */
  dmaAvail: number;
  /** iommu->pgsize_bitmap: PAGE_MASK until a domain is attached. */
  pgsizeBitmap: bigint;
  /** Groups whose devices sit behind the container's IOMMU domain (every domain of one host IOMMU shares the mappings). */
  domainGroups: number[];
  /** iommu->emulated_iommu_groups: mdev groups (no domain). */
  emulatedGroups: number[];
  /** iommu->iova_list: the usable IOVA ranges (apertures minus reserved regions); empty: anything. */
  iovaList: IovaRange[];
  /** iommu->vaddr_invalid_count. */
  vaddrInvalidCount: number;
  /** The IOMMU domain of the container's groups (src/model/domain), null until the first IOMMU group. */
  domainId: number | null;
  /** Seed 002 (iommu->vmm): the pid whose vfio_mm this container holds, or null. */
  vmmPid: number | null;
}

/** struct vfio_container, by the id of the /dev/vfio/vfio file that made it. */
export interface VfioContainer {
  id: number;
  /** The container's file while it lives (the container outlives it while groups are attached). */
  fileId: number | null;
  /** container->kref: the file and every attached group. */
  kref: number;
  /** container->group_list: group numbers, most recently attached first (list_add). */
  groups: number[];
  /** container->noiommu. */
  noiommu: boolean;
  /** container->iommu_driver. */
  driver: "type1" | "noiommu" | null;
  type1: Type1 | null;
}

export interface VfioState {
  devices: Map<string, VfioDevice>;
  groups: Map<number, VfioGroup>;
  containers: Map<number, VfioContainer>;
}

export function initialVfio(): VfioState {
  return { devices: new Map(), groups: new Map(), containers: new Map() };
}
