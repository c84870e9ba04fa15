// The IOMMU driver interface: what the model asks of a host IOMMU driver
// (struct iommu_ops with its domain ops and vIOMMU ops, as far as iommufd,
// VFIO type1 and DMA reach them), one object per driver in this folder, as the
// kernel has one iommu_ops per driver:
//   mock.ts      the iommufd selftest's mock driver (selftest.c), host type selftest_mock
//   vtd.ts       Intel VT-d (drivers/iommu/intel/), host type intel_vtd
//   amd.ts       AMD-Vi (drivers/iommu/amd/), host type amd
//   smmuv3.ts    ARM SMMUv3 (drivers/iommu/arm/arm-smmu-v3/), host type arm_smmuv3
//   noiommu.ts   iommufd_noiommu_ops: the SW-only domain of a device without an IOMMU (seed 003)
//   plain.ts     a host with no IOMMU type declared: a paging-only driver without extras
// A driver only decides (validate first); its callers change the state. What
// a driver does not model answers Unmodelled, which the caller turns into an
// explicit "not modelled yet" simulator fault.

import type { StructDef } from "../../uapi/layout.ts";
import type { TraceEvent } from "../events.ts";
import { notModelled, type SimulatorFault } from "../framework.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { DomainParams } from "../domain/params.ts";
import type { IovaRange, NestedDomain, PagingDomain } from "../domain/state.ts";
import type { HostDevice, HostIommu } from "../host/state.ts";
import type { MockDeviceData } from "./state.ts";
import type { UserData, UserDataArray } from "./user_data.ts";

export type { MockDeviceData };

/** A path the driver model does not cover: the caller answers with a not-modelled fault naming `what`. */
export class Unmodelled {
  constructor(readonly what: string) {}
}

/** A driver decision: the value, an errno name, or a path the model does not cover. */
export type Verdict<T> = T | string | Unmodelled;

export function isErr<T>(v: Verdict<T>): v is string | Unmodelled {
  return typeof v === "string" || v instanceof Unmodelled;
}

/** A refusal as the event's answer: the errno, or the explicit not-modelled fault. */
export function refusal(ev: TraceEvent, v: string | Unmodelled): Outcome | SimulatorFault {
  return v instanceof Unmodelled ? notModelled(ev, v.what) : errno(v);
}

/** ops->hw_info's answer: the IOMMU_HW_INFO_TYPE_* and the vendor struct's bytes. */
export interface HwInfo {
  type: number;
  struct: StructDef;
  bytes: Uint8Array;
}

/** What the driver's domain_alloc_nested accepted: the stage-1 data (and the mock's fake IOTLB). */
export interface NestedSpec {
  dataType: number;
  data: Record<string, bigint | number>;
  /** Selftest mock: mock_iommu_domain_nested.iotlb, its MOCK_NESTED_DOMAIN_IOTLB_NUM fake entries. */
  iotlb?: number[];
}

/**
 * The driver's answer to a user cache invalidation: the errno (or none), how
 * many entries it handled, and the state change to apply when it goes through.
 */
export interface InvalidateResult {
  rc: string | undefined;
  done: number;
  apply: () => void;
}

/** A device as the driver ops see it: the host device and the driver's data for it. */
export interface DriverDevice {
  readonly hd: HostDevice;
  readonly mock?: MockDeviceData;
}

/** A domain handed to attach_dev / set_dev_pasid, with what the core knows about it. */
export interface AttachTarget {
  readonly domain: PagingDomain | NestedDomain;
  /** A nested domain made by a vIOMMU: whether the device has a vDEVICE under that vIOMMU (iommufd_viommu_get_vdev_id). */
  readonly viommu?: { vdevOfDevice: boolean };
}

/** vIOMMU ops (ops->get_viommu_size / viommu_init and viommu->ops). */
export interface ViommuOps {
  /** The vIOMMU types the driver has a size for (get_viommu_size). */
  types: readonly number[];
  /** The driver struct of a type's IOMMU_VIOMMU_ALLOC data, to copy it (viommu_init). */
  dataStruct(type: number): StructDef | undefined;
  /** viommu->ops->alloc_domain_nested. */
  allocDomainNested(parent: PagingDomain, flags: number, ud: UserData): Verdict<NestedSpec>;
  /** viommu->ops->cache_invalidate; `findDev` is iommufd_viommu_find_dev (a vDEVICE's virtual id to its device's data). */
  cacheInvalidate(arr: UserDataArray, findDev: (virtId: bigint) => DriverDevice | undefined): InvalidateResult;
  /** get_hw_queue_size: the HW queue types the driver knows. */
  hwQueueTypes: readonly number[];
}

export interface IommuDriver {
  /** The host.iommu type this driver serves, or "noiommu". */
  readonly name: string;
  /** iommu_get_resv_regions: the reserved IOVA ranges of every device behind this driver; undefined where not modelled. */
  readonly resvRegions: readonly IovaRange[] | undefined;
  /** device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING). */
  dirtyCapable(host: HostIommu | null, hd: HostDevice): boolean;
  /** device_iommu_capable(dev, IOMMU_CAP_PCI_ATS_SUPPORTED). */
  atsSupported(host: HostIommu | null, hd: HostDevice): boolean;
  /** The driver data a device gets when it is bound (mock_dev_create), if the driver keeps any. */
  newDevice?(): MockDeviceData;
  /** ops->hw_info for the requested type; absent: the driver has no hw_info (IOMMU_HW_INFO_TYPE_NONE). */
  hwInfo?(host: HostIommu | null, inType: number): Verdict<HwInfo>;
  /** The paging domain the driver allocates for a device (format, levels, page sizes, aperture). */
  pagingParams(host: HostIommu | null): Verdict<DomainParams>;
  /**
   * ops->domain_alloc_paging_flags(dev, flags, user_data) with
   * IOMMU_HWPT_FAULT_ID_VALID removed: the domain's parameters. Absent: the
   * driver has only iommu_paging_domain_alloc (iommufd refuses flags and data).
   */
  allocPagingFlags?(host: HostIommu | null, hd: HostDevice, flags: number, ud: UserData | null, base: DomainParams): Verdict<DomainParams>;
  /** ops->domain_alloc_nested(dev, parent, flags, user_data); absent: no nesting (EOPNOTSUPP). */
  allocNested?(host: HostIommu | null, parent: PagingDomain, flags: number, ud: UserData): Verdict<NestedSpec>;
  /** domain->ops->attach_dev for the RID, after the core's checks. */
  attachDev(host: HostIommu | null, dev: DriverDevice, target: AttachTarget): Verdict<undefined>;
  /** domain->ops->set_dev_pasid; absent: the driver cannot attach PASIDs (EOPNOTSUPP). */
  setDevPasid?(host: HostIommu | null, dev: DriverDevice, target: AttachTarget, pasid: number): Verdict<undefined>;
  /** The state change of a set_dev_pasid that went through. */
  commitSetDevPasid?(dev: DriverDevice, pasid: number): void;
  /** The blocked domain's set_dev_pasid on a PASID detach. */
  blockPasid?(dev: DriverDevice, pasid: number): void;
  /** A nested domain's cache_invalidate_user; absent: not modelled for this driver. */
  cacheInvalidateUser?(domain: NestedDomain, arr: UserDataArray): InvalidateResult;
  /** vIOMMU ops; absent: the driver offers no vIOMMU. Unmodelled: not modelled for this driver. */
  readonly viommu?: ViommuOps | Unmodelled;
  /** Whether a domain of the driver enforces cache coherency (enforce_cache_coherency; VFIO_DMA_CC_IOMMU). */
  enforceCacheCoherency(host: HostIommu | null): Verdict<boolean>;
  /**
   * The fault a DMA gets from a device attached to no domain (the blocking
   * domain), by the trace format's names; Unmodelled where the driver's DMA
   * translation is not modelled at all.
   */
  blockedFault(host: HostIommu | null): Verdict<string>;
}

/** dev->iommu->max_pasids: the smaller of the device's PASID width and the IOMMU's; 0 without PASID. */
export function maxPasids(host: HostIommu | null, hd: HostDevice, driver: IommuDriver): bigint {
  if (driver.name === "noiommu" || !hd.pasid) return 0n;
  const iommuLog2 = host?.maxPasidLog2 ?? 0;
  if (iommuLog2 === 0 || hd.pasid.maxLog2 === 0) return 0n;
  return 1n << BigInt(Math.min(hd.pasid.maxLog2, iommuLog2));
}

/** The device's PASID width in bits as IOMMU_GET_HW_INFO reports it (0 without PASID). */
export function maxPasidLog2(host: HostIommu | null, hd: HostDevice, driver: IommuDriver): number {
  const max = maxPasids(host, hd, driver);
  return max === 0n ? 0 : max.toString(2).length - 1;
}

/** Bit n of a 64-bit register. */
export const bit = (v: bigint, n: number): boolean => ((v >> BigInt(n)) & 1n) === 1n;

/** The declared host capabilities (host.iommu hw_caps), for drivers that take them as given. */
export const declaredCaps = (host: HostIommu | null): readonly string[] => host?.hwCaps ?? [];
