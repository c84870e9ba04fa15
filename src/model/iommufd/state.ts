// iommufd contexts and their objects (drivers/iommu/iommufd/iommufd_private.h).
//
// One context per open /dev/iommu file. Objects live in one table per context
// with ids from 1 (xa_alloc with XA_FLAGS_ALLOC1: the lowest free id), shared
// by every object type. `users` is the kernel's obj->users: 1 is the table's
// own reference; every object, device or driver that depends on this one adds
// one, and IOMMU_DESTROY succeeds only at exactly 1 (refcount_dec_if_one).

import type { IovaRange, PhysRun } from "../domain/state.ts";
import type { MockDeviceData } from "../iommu/state.ts";

export type { IovaRange, PhysRun };

export type ObjType = "selftest" | "ioas" | "hwpt_paging" | "hwpt_nested" | "device" | "access" | "fault" | "viommu" | "vdevice" | "veventq" | "hw_queue";

export interface ObjBase {
  id: number;
  type: ObjType;
  users: number;
}

/** Where an area's pages come from. */
export type AreaSource =
  | { kind: "user"; pid: number; va: bigint }
  | { kind: "file"; fileId: number; start: bigint }
  /** A dma-buf (IOPT_ADDRESS_DMABUF): its PFNs come from the exporter at map time, not from pinning. */
  | { kind: "dmabuf"; fileId: number; start: bigint };

/** struct iopt_area: one IOAS_MAP (or COPY) of pages at an IOVA range. */
export interface Area {
  iova: bigint;
  /** Inclusive end. */
  last: bigint;
  /** IOMMU_READ (1) | IOMMU_WRITE (2). */
  prot: number;
  source: AreaSource;
  /** The physical pages, once pinned (an IOAS with a domain or an access pins at map time). */
  runs: PhysRun[] | null;
  /** iopt_area's num_accesses: pinned by an access or a HW queue; UNMAP gives EBUSY. */
  accesses: number;
  /** pages->writable: the pages were mapped writable (a COPY with WRITEABLE needs it, else EPERM). Absent: prot & 2. */
  writable?: boolean;
  /** A dma-buf area whose exporter revoked it: unmapped from every domain, never filled again. */
  revoked?: boolean;
  /**
   * The struct iopt_pages behind the area, by a number unique among the context's areas:
   * a new one per MAP (iopt_map_user_pages, iopt_map_file_pages), shared by IOAS_COPY
   * (iopt_get_pages) and by both halves of a split (iopt_area_split). A page is pinned
   * once per iopt_pages however many areas, domains and accesses use it.
   */
  pages: number;
}

/** A reserved IOVA range and who put it there (a device's reserved regions, the MSI window, ...). */
export interface ReservedRange extends IovaRange {
  /** "selftest": IOMMU_TEST_OP_ADD_RESERVED's (owner NULL), gone only with the IOAS. */
  owner: number | "sw_msi" | "selftest";
}

/** struct iommufd_ioas with its io_pagetable. */
export interface Ioas extends ObjBase {
  type: "ioas";
  /** Sorted by iova, never overlapping. */
  areas: Area[];
  /** IOMMU_IOAS_ALLOW_IOVAS ranges; empty means everything the domains allow. */
  allowed: IovaRange[];
  reserved: ReservedRange[];
  /** iopt->iova_alignment: the largest minimum page size of the attached domains. */
  iovaAlignment: bigint;
  /** IOMMU_OPTION_HUGE_PAGES (default on). */
  hugePages: boolean;
  /** Paging HWPTs whose domain mirrors this IOAS (iopt->domains). */
  domains: number[];
}

export interface HwptPaging extends ObjBase {
  type: "hwpt_paging";
  ioasId: number;
  /** Made by attaching a device to an IOAS: destroyed with its last device. */
  auto: boolean;
  nestParent: boolean;
  /** IOMMU_HWPT_ALLOC flags as given. */
  flags: number;
  /** hwpt->common.domain: the paging domain (src/model/domain/state.ts). */
  domainId: number;
  faultId: number | null;
  /** Creation order in the context (ioas->hwpt_list is kept in it; ids are reused, so they are not). */
  seq?: number;
}

export interface HwptNested extends ObjBase {
  type: "hwpt_nested";
  parentId: number;
  viommuId: number | null;
  flags: number;
  faultId: number | null;
  /** The nested domain, holding the driver's stage-1 data (src/model/domain/state.ts). */
  domainId: number;
}

/** struct iommufd_device: a device bound to this context. */
export interface IommufdDevice extends ObjBase {
  type: "device";
  bdf: string;
  /** A no-IOMMU device (seed 003): no group, a SW-only domain. */
  noiommu: boolean;
  /** Attachments: PASID (IOMMU_NO_PASID = -1 for the RID) -> HWPT id. */
  attach: Map<number, number>;
  /** idev->vdev: the vDEVICE object that names this device under a vIOMMU (absent or null: none). */
  vdevId?: number | null;
  /** The driver's private data of the device, where it keeps one (the selftest's struct mock_dev). */
  mock?: MockDeviceData;
}

export interface Access extends ObjBase {
  type: "access";
  ioasId: number | null;
  /** iommufd_access_create_internal: the kernel's own access (a HW queue's pin), not a driver's. */
  internal?: boolean;
  /** access->iova_alignment: PAGE_SIZE for ops->needs_pin_pages (and internal accesses), else 1. Absent: internal ? PAGE_SIZE : 1. */
  iovaAlignment?: bigint;
  /** The selftest's struct selftest_access (IOMMU_TEST_OP_CREATE_ACCESS): its pin items, in list order. */
  staccess?: { needsPin: boolean; items: AccessItem[]; nextId: number };
}

/** struct selftest_access_item: one IOMMU_TEST_OP_ACCESS_PAGES pin. */
export interface AccessItem {
  id: number;
  iova: bigint;
  length: bigint;
}

/** struct iopf_group of one page request (the mock reports LAST_PAGE only, so one fault a group), as the fault queue keeps it. */
export interface IopfGroup {
  /** The attach handle: the HWPT and the PASID it is attached at (NO_PASID: the RID), and the handle's device. */
  hwptId: number;
  attachPasid: number;
  devId: number;
  /** struct iommu_fault_page_request: flags (IOMMU_FAULT_PAGE_REQUEST_*), pasid, grpid, perm, addr. */
  flags: number;
  pasid: number;
  grpid: number;
  perm: number;
  addr: bigint;
}

export interface Fault extends ObjBase {
  type: "fault";
  fileId: number;
  /** fault->common.deliver: groups not read yet (absent: none ever). */
  deliver?: IopfGroup[];
  /** fault->response: groups read and awaiting a response, by cookie (xa_alloc from 1). */
  response?: { cookie: number; group: IopfGroup }[];
}

export interface Viommu extends ObjBase {
  type: "viommu";
  hwptId: number;
  viommuType: number;
  devId: number;
  /** iommufd_viommu_alloc_mmap: the mmap window the driver exposes (selftest: two pages), or null. */
  mmap: { offset: bigint; length: bigint } | null;
  /** mock_viommu->page's first u32 (in_data): what the mmap window shows at its start. */
  mmapWord?: number;
}

export interface Vdevice extends ObjBase {
  type: "vdevice";
  viommuId: number;
  devId: number;
  virtId: bigint;
}

export interface Veventq extends ObjBase {
  type: "veventq";
  viommuId: number;
  veventqType: number;
  depth: number;
  fileId: number;
  /** eventq->deliver: vEVENTs not read yet; `lost` is the lost_events_header (data absent). Absent: none ever. */
  deliver?: { sequence: number; lost?: true; data?: string }[];
  /** veventq->num_events: normal vEVENTs queued (at most depth). */
  numEvents?: number;
  /** veventq->sequence: the next vEVENT's sequence number (INT_MAX wraps to 0). */
  sequence?: number;
}

export interface HwQueue extends ObjBase {
  type: "hw_queue";
  viommuId: number;
  queueType: number;
  index: number;
  iova: bigint;
  length: bigint;
  /** The internal access object that pins the queue's pages in the nesting parent's IOAS. */
  accessId: number;
  /** The page-aligned IOVA range the access pinned (iommufd_hw_queue_alloc_phys). */
  pinned: IovaRange;
  /** iommufd_hw_queue_depend: the queue this one depends on (selftest: index - 1), holding a user on it. */
  prevId: number | null;
}

/** struct selftest_obj (TYPE_IDEV), IOMMUFD_OBJ_SELFTEST: a mock device bound (devId) and attached by IOMMU_TEST_CMD. */
export interface SelftestObj extends ObjBase {
  type: "selftest";
  devId: number;
  /** The mock device's name in the host's devices (iommufd_mockN). */
  bdf: string;
}

export type IommufdObject = SelftestObj | Ioas | HwptPaging | HwptNested | IommufdDevice | Access | Fault | Viommu | Vdevice | Veventq | HwQueue;

/** struct iommufd_ctx: one open /dev/iommu. */
export interface IommufdCtx {
  fileId: number;
  objects: Map<number, IommufdObject>;
  /** IOMMU_OPTION_RLIMIT_MODE: 0 user accounting, 1 mm accounting. */
  accountMode: number;
  /** The IOAS the VFIO compatibility layer uses (IOMMU_VFIO_IOAS). */
  vfioIoasId: number | null;
  /**
   * Ids left as tombstones (iommufd_object_tombstone_user: a vDEVICE whose
   * device went away). Not objects: lookups and IOMMU_DESTROY see ENOENT, but
   * the id is not handed out again while the context lives.
   */
  tombstones?: number[];
  /** How many paging HWPTs this context has made: HwptPaging.seq, the order of ioas->hwpt_list. */
  hwptSeq?: number;
  /** ictx->no_iommu_mode: VFIO's compat put the context into no-IOMMU mode (iommufd_vfio_compat_set_no_iommu). */
  noIommuMode?: boolean;
}

export { NO_PASID } from "../domain/state.ts";
