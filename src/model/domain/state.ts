// IOMMU domains: the iommu core's struct iommu_domain, one table for every
// domain whoever allocated it (an iommufd HWPT, a VFIO type1 container), and
// the shapes the domain code shares with its callers (IOVA ranges, runs of
// pinned memory).
//
// A domain is owned here; a HWPT or a type1 container holds its id, and a
// host device records which domain translates each of its PASIDs
// (HostDevice.attached, written through attach.ts), as the iommu core keeps
// group->domain and the group's pasid_array. DMA reads only this table.

/** An inclusive IOVA range, as struct iommu_iova_range. */
export interface IovaRange {
  start: bigint;
  last: bigint;
}

/**
 * A contiguous run of pinned physical memory behind part of a mapping:
 * IOVA [iova, iova + length) maps to PA [pa, pa + length).
 */
export interface PhysRun {
  iova: bigint;
  pa: bigint;
  length: bigint;
}

/** The page-table format of a paging domain, from the driver that allocated it. */
export type DomainFormat = "vtd-ss" | "amdv1" | "selftest" | "noiommu";

/** IOMMU_DOMAIN_PAGING: page tables in simulated physical memory. */
export interface PagingDomain {
  id: number;
  type: "paging";
  format: DomainFormat;
  /** Physical address of the top-level table. */
  root: bigint;
  /** Paging levels of the table. */
  levels: number;
  /** Supported page sizes (bit n set: 2^n bytes), the domain's pgsize_bitmap. */
  pgsizeBitmap: bigint;
  /** The usable IOVA aperture. */
  aperture: IovaRange;
  /** domain->dirty_ops: allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, so dirty tracking can be turned on. */
  dirtyOps: boolean;
  /** Dirty tracking enabled (IOMMU_HWPT_SET_DIRTY_TRACKING). */
  dirtyTracking: boolean;
}

/**
 * IOMMU_DOMAIN_NESTED: a stage-1 configuration the user gave (the driver's
 * iommu_hwpt_* data: for VT-d pgtbl_addr, addr_width, flags) over a paging
 * parent that does stage 2.
 */
export interface NestedDomain {
  id: number;
  type: "nested";
  parentId: number;
  /** IOMMU_HWPT_DATA_* of the data. */
  dataType: number;
  data: Record<string, bigint | number>;
  /** Selftest mock (mock_iommu_domain_nested.iotlb): its MOCK_NESTED_DOMAIN_IOTLB_NUM fake IOTLB entries. */
  iotlb?: number[];
}

export type IommuDomain = PagingDomain | NestedDomain;

export interface DomainState {
  table: Map<number, IommuDomain>;
  /** Domain ids are handed out in allocation order and never reused. */
  nextId: number;
}

/** IOMMU_NO_PASID: the RID's entry in a device's attachments. */
export const NO_PASID = -1;

export function initialDomains(): DomainState {
  return { table: new Map(), nextId: 1 };
}
