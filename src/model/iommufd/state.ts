// iommufd contexts and their objects (drivers/iommu/iommufd/iommufd_private.h).
//
// One context per open /dev/iommu file. Objects live in one table per context
// with ids from 1 (xa_alloc with XA_FLAGS_ALLOC1: the lowest free id), shared
// by every object type. `users` is the kernel's obj->users: 1 is the table's
// own reference; every object, device or driver that depends on this one adds
// one, and IOMMU_DESTROY succeeds only at exactly 1 (refcount_dec_if_one).

export type ObjType = "ioas" | "hwpt_paging" | "hwpt_nested" | "device" | "access" | "fault" | "viommu" | "vdevice" | "veventq" | "hw_queue";

export interface ObjBase {
  id: number;
  type: ObjType;
  users: number;
}

/** An inclusive IOVA range, as struct iommu_iova_range. */
export interface IovaRange {
  start: bigint;
  last: bigint;
}

/** Where an area's pages come from. */
export type AreaSource =
  | { kind: "user"; pid: number; va: bigint }
  | { kind: "file"; fileId: number; start: bigint };

/**
 * A contiguous run of pinned physical memory behind part of an area:
 * IOVA [iova, iova + length) maps to PA [pa, pa + length).
 */
export interface PhysRun {
  iova: bigint;
  pa: bigint;
  length: bigint;
}

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
}

/** A reserved IOVA range and who put it there (a device's reserved regions, the MSI window, ...). */
export interface ReservedRange extends IovaRange {
  owner: number | "sw_msi";
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

/** The page-table format of a domain, from the host IOMMU driver. */
export type DomainFormat = "vtd-ss" | "amdv1" | "selftest" | "noiommu";

/** An IOMMU paging domain whose page tables live in simulated physical memory. */
export interface Domain {
  format: DomainFormat;
  /** Physical address of the top-level table. */
  root: bigint;
  /** Paging levels of the table. */
  levels: number;
  /** Supported page sizes (bit n set: 2^n bytes), the domain's pgsize_bitmap. */
  pgsizeBitmap: bigint;
  /** The usable IOVA aperture. */
  aperture: IovaRange;
  /** Dirty tracking enabled (IOMMU_HWPT_SET_DIRTY_TRACKING). */
  dirtyTracking: boolean;
}

export interface HwptPaging extends ObjBase {
  type: "hwpt_paging";
  ioasId: number;
  /** Made by attaching a device to an IOAS: destroyed with its last device. */
  auto: boolean;
  nestParent: boolean;
  /** IOMMU_HWPT_ALLOC flags as given. */
  flags: number;
  domain: Domain;
  faultId: number | null;
}

export interface HwptNested extends ObjBase {
  type: "hwpt_nested";
  parentId: number;
  viommuId: number | null;
  dataType: number;
  /** The vendor data (iommu_hwpt_vtd_s1 for VT-d: flags, pgtbl_addr, addr_width). */
  data: Record<string, bigint | number>;
  flags: number;
  faultId: number | null;
}

/** struct iommufd_device: a device bound to this context. */
export interface IommufdDevice extends ObjBase {
  type: "device";
  bdf: string;
  /** A no-IOMMU device (seed 003): no group, a SW-only domain. */
  noiommu: boolean;
  /** Attachments: PASID (IOMMU_NO_PASID = -1 for the RID) -> HWPT id. */
  attach: Map<number, number>;
}

export interface Access extends ObjBase {
  type: "access";
  ioasId: number | null;
}

export interface Fault extends ObjBase {
  type: "fault";
  fileId: number;
}

export interface Viommu extends ObjBase {
  type: "viommu";
  hwptId: number;
  viommuType: number;
  devId: number;
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
}

export interface HwQueue extends ObjBase {
  type: "hw_queue";
  viommuId: number;
  queueType: number;
  index: number;
  iova: bigint;
  length: bigint;
}

export type IommufdObject = Ioas | HwptPaging | HwptNested | IommufdDevice | Access | Fault | Viommu | Vdevice | Veventq | HwQueue;

/** struct iommufd_ctx: one open /dev/iommu. */
export interface IommufdCtx {
  fileId: number;
  objects: Map<number, IommufdObject>;
  /** IOMMU_OPTION_RLIMIT_MODE: 0 user accounting, 1 mm accounting. */
  accountMode: number;
  /** The IOAS the VFIO compatibility layer uses (IOMMU_VFIO_IOAS). */
  vfioIoasId: number | null;
}

/** IOMMU_NO_PASID: the RID's attachment in IommufdDevice.attach. */
export const NO_PASID = -1;
