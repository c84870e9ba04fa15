// The IOMMU drivers behind get_iommu_ops(idev) (hw_pagetable.c), as far as
// iommufd sees them: which domains they allocate for which flags and data,
// what their attach_dev / set_dev_pasid refuse, their hw_info, and their
// vIOMMU ops.
//
// - "mock": the selftest mock driver (drivers/iommu/iommufd/selftest.c,
//   mock_ops and mock_viommu_ops), host type selftest_mock;
// - "vtd": Intel VT-d (drivers/iommu/intel/iommu.c, nested.c), its answers
//   taken from the declared CAP/ECAP registers;
// - "noiommu": iommufd_noiommu_ops (hwpt_noiommu.c, seed 003), the SW-only
//   AMDv1 domain of a device without an IOMMU;
// - "plain": a host IOMMU of type none: no hw_info, no
//   domain_alloc_paging_flags, no nesting (iommu_paging_domain_alloc only);
// - "other": amd and arm_smmuv3, whose driver-specific paths are not modelled.
//
// Every function here only decides (validate first): the callers change the
// state.

import {
  IOMMU_HW_INFO_SELFTEST_REGVAL,
  IOMMU_HW_INFO_TYPE_SELFTEST,
  IOMMU_HW_QUEUE_TYPE_SELFTEST,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
  IOMMU_TEST_DEV_CACHE_DEFAULT,
  IOMMU_TEST_INVALIDATE_FLAG_ALL,
  IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
  IOMMU_VIOMMU_TYPE_SELFTEST,
  iommu_hw_info_vtd,
  iommu_hwpt_invalidate_selftest,
  iommu_hwpt_selftest,
  iommu_hwpt_vtd_s1,
  iommu_hwpt_vtd_s1_invalidate,
  iommu_test_hw_info,
  iommu_viommu_invalidate_selftest,
  iommu_viommu_selftest,
  MOCK_DEV_CACHE_ID_MAX,
  MOCK_DEV_CACHE_NUM,
  MOCK_IOMMUPT_DEFAULT,
  MOCK_IOMMUPT_HUGE,
  MOCK_NESTED_DOMAIN_IOTLB_ID_MAX,
  MOCK_NESTED_DOMAIN_IOTLB_NUM,
  IOMMU_HW_INFO_TYPES,
  IOMMU_HWPT_DATA_TYPES,
  IOMMU_HWPT_INVALIDATE_DATA_TYPES,
} from "../../uapi/iommufd.ts";
import type { Decoded, StructDef } from "../../uapi/layout.ts";
import { MOCK_HUGE_PGSIZE_BITMAP, type DomainParams } from "../domain/params.ts";
import type { HostDevice, HostIommu } from "../host/state.ts";
import type { State } from "../state.ts";
import type { HwptNested, HwptPaging, IommufdCtx, IommufdDevice, Viommu } from "./state.ts";
import { copyFullUserArray, copyStructFromUserArray, copyStructFromUserData, type UserData, type UserDataArray } from "./user_data.ts";

/** enum iommufd_hwpt_alloc_flags. */
export const HWPT_ALLOC_NEST_PARENT = 1 << 0;
export const HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
export const HWPT_FAULT_ID_VALID = 1 << 2;
export const HWPT_ALLOC_PASID = 1 << 3;

export const IOMMU_HWPT_DATA_NONE = 0;
export const IOMMU_HWPT_DATA_VTD_S1 = IOMMU_HWPT_DATA_TYPES.IOMMU_HWPT_DATA_VTD_S1!;
export const IOMMU_HW_INFO_TYPE_DEFAULT = 0;
const IOMMU_HW_INFO_TYPE_INTEL_VTD = IOMMU_HW_INFO_TYPES.IOMMU_HW_INFO_TYPE_INTEL_VTD!;
const IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = IOMMU_HWPT_INVALIDATE_DATA_TYPES.IOMMU_HWPT_INVALIDATE_DATA_VTD_S1!;
const IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1;

/** What a driver answers when the model does not cover the path: the handler turns it into notModelled. */
export class Unmodelled {
  constructor(readonly what: string) {}
}

export type DriverKind = "mock" | "vtd" | "noiommu" | "plain" | "other";

/** The result of a driver decision: ok, an errno name, or a path the model does not cover. */
export type Verdict<T> = T | string | Unmodelled;

export function isErr<T>(v: Verdict<T>): v is string | Unmodelled {
  return typeof v === "string" || v instanceof Unmodelled;
}

/** The ops a device reaches: iommufd_noiommu_ops for a no-IOMMU device, else the host driver's. */
export function driverOf(s: State, hd: HostDevice): DriverKind {
  if (hd.noiommu || !hd.iommu) return "noiommu";
  switch (s.host.iommu?.type) {
    case "selftest_mock":
      return "mock";
    case "intel_vtd":
      return "vtd";
    case "none":
    case undefined:
      return "plain";
    default:
      return "other";
  }
}

/** The ops that allocated a HWPT's domain (domain->owner). */
export function ownerOf(hwpt: HwptPaging | HwptNested): "noiommu" | "host" {
  return hwpt.type === "hwpt_paging" && hwpt.domain.format === "noiommu" ? "noiommu" : "host";
}

// ---------------------------------------------------------------------------
// VT-d registers (intel/iommu.h)

const bit = (v: bigint, n: number) => ((v >> BigInt(n)) & 1n) === 1n;
const ecapOf = (h: HostIommu | null) => h?.ecapReg ?? 0n;
const capOf = (h: HostIommu | null) => h?.capReg ?? 0n;
/** sm_supported: intel_iommu_sm (on) && ECAP.SMTS (43). */
const smSupported = (h: HostIommu | null) => bit(ecapOf(h), 43);
/** nested_supported: sm && ECAP.NEST (26). */
const nestedSupported = (h: HostIommu | null) => smSupported(h) && bit(ecapOf(h), 26);
/** ssads_supported: sm && ECAP.SLADS (45) && ECAP.SMPWC (48). */
const ssadsSupported = (h: HostIommu | null) => smSupported(h) && bit(ecapOf(h), 45) && bit(ecapOf(h), 48);
/** pasid_supported: sm && ECAP.PASID (40). */
const pasidSupported = (h: HostIommu | null) => smSupported(h) && bit(ecapOf(h), 40);

// ---------------------------------------------------------------------------
// Capabilities (device_iommu_capable)

/**
 * device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING): on VT-d what
 * intel_iommu_capable computes from the registers (ssads_supported), elsewhere
 * the declared host capability (host.iommu hw_caps); a device that opts out
 * (host.device dirty_tracking false, the mock's MOCK_FLAGS_DEVICE_NO_DIRTY)
 * never has it.
 */
export function dirtyCapable(s: State, hd: HostDevice): boolean {
  const kind = driverOf(s, hd);
  if (kind === "noiommu" || hd.dirtyTracking === false) return false;
  if (kind === "vtd") return ssadsSupported(s.host.iommu);
  return (s.host.iommu?.hwCaps ?? []).includes("DIRTY_TRACKING");
}

/** PCI_EXT_CAP_ID_ATS. */
const PCI_EXT_CAP_ID_ATS = 0x0f;

/**
 * device_iommu_capable(dev, IOMMU_CAP_PCI_ATS_SUPPORTED): the mock answers
 * false (mock_domain_capable knows only CACHE_COHERENCY and DIRTY_TRACKING);
 * VT-d sets info->ats_supported at probe from ECAP.DT (bit 2) and the
 * device's ATS extended capability (dmar_ats_supported, the ACPI ATSR
 * coverage, is taken as given); elsewhere the host's declared
 * PCI_ATS_NOT_SUPPORTED decides.
 */
export function atsSupported(s: State, hd: HostDevice): boolean {
  const kind = driverOf(s, hd);
  if (kind === "noiommu" || kind === "mock") return false;
  if (kind === "vtd") return bit(ecapOf(s.host.iommu), 2) && hd.extCaps.some((c) => c.id === PCI_EXT_CAP_ID_ATS);
  return !(s.host.iommu?.hwCaps ?? []).includes("PCI_ATS_NOT_SUPPORTED");
}

/**
 * dev->iommu->max_pasids: the smaller of the device's PASID width (PCI PASID
 * capability; the mock's pasid-num-bits) and the IOMMU's; 0 without PASID.
 */
export function devMaxPasids(s: State, hd: HostDevice): bigint {
  if (driverOf(s, hd) === "noiommu" || !hd.pasid) return 0n;
  const iommuLog2 = s.host.iommu?.maxPasidLog2 ?? 0;
  if (iommuLog2 === 0 || hd.pasid.maxLog2 === 0) return 0n;
  return 1n << BigInt(Math.min(hd.pasid.maxLog2, iommuLog2));
}

// ---------------------------------------------------------------------------
// hw_info

export interface HwInfo {
  type: number;
  struct: StructDef;
  bytes: Uint8Array;
}

/**
 * ops->hw_info with the requested type (IOMMU_HW_INFO_TYPE_DEFAULT unless
 * IOMMU_HW_INFO_FLAG_INPUT_TYPE): undefined for a driver without hw_info.
 */
export function hwInfo(s: State, kind: DriverKind, inType: number): Verdict<HwInfo | undefined> {
  switch (kind) {
    case "mock": {
      // mock_domain_hw_info
      if (inType !== IOMMU_HW_INFO_TYPE_DEFAULT && inType !== IOMMU_HW_INFO_TYPE_SELFTEST) return "EOPNOTSUPP";
      const bytes = new Uint8Array(iommu_test_hw_info.size);
      new DataView(bytes.buffer).setUint32(4, IOMMU_HW_INFO_SELFTEST_REGVAL, true);
      return { type: IOMMU_HW_INFO_TYPE_SELFTEST, struct: iommu_test_hw_info, bytes };
    }
    case "vtd": {
      // intel_iommu_hw_info
      if (inType !== IOMMU_HW_INFO_TYPE_DEFAULT && inType !== IOMMU_HW_INFO_TYPE_INTEL_VTD) return "EOPNOTSUPP";
      const bytes = new Uint8Array(iommu_hw_info_vtd.size);
      const v = new DataView(bytes.buffer);
      v.setUint32(0, IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, true);
      v.setBigUint64(8, capOf(s.host.iommu), true);
      v.setBigUint64(16, ecapOf(s.host.iommu), true);
      return { type: IOMMU_HW_INFO_TYPE_INTEL_VTD, struct: iommu_hw_info_vtd, bytes };
    }
    case "plain":
      return undefined;
    case "noiommu":
      return new Unmodelled("IOMMU_GET_HW_INFO for a device without an IOMMU (dev_iommu_ops of a no-IOMMU device)");
    case "other":
      return new Unmodelled(`IOMMU_GET_HW_INFO on a ${s.host.iommu?.type} host`);
  }
}

// ---------------------------------------------------------------------------
// Paging domains (ops->domain_alloc_paging_flags)

/** What a paging allocation asks of the domain code, on top of the driver's default parameters. */
export interface PagingSpec {
  override: Partial<Pick<DomainParams, "pgsizeBitmap" | "aperture">>;
}

/**
 * The driver's domain_alloc_paging_flags(dev, flags, user_data) checks, with
 * IOMMU_HWPT_FAULT_ID_VALID already removed from flags by iommufd. iommufd's
 * own checks (hw_pagetable.c iommufd_hwpt_paging_alloc) come first, in the
 * caller.
 */
export function allocPaging(s: State, kind: DriverKind, hd: HostDevice, flags: number, ud: UserData | null, base: DomainParams): Verdict<PagingSpec> {
  switch (kind) {
    case "noiommu":
      // noiommu_alloc_paging_flags
      if (flags || ud) return "EOPNOTSUPP";
      return { override: {} };
    case "plain":
      // no domain_alloc_paging_flags: iommufd refuses flags and data before (the caller), then iommu_paging_domain_alloc
      return { override: {} };
    case "mock": {
      // mock_domain_alloc_paging_flags
      const PAGING_FLAGS = HWPT_ALLOC_DIRTY_TRACKING | HWPT_ALLOC_NEST_PARENT | HWPT_ALLOC_PASID;
      if (flags & ~PAGING_FLAGS || (flags & HWPT_ALLOC_DIRTY_TRACKING && hd.dirtyTracking === false)) return "EOPNOTSUPP";
      if (ud && ud.type !== IOMMU_HWPT_DATA_SELFTEST && ud.type !== IOMMU_HWPT_DATA_NONE) return "EOPNOTSUPP";
      let pagetableType = MOCK_IOMMUPT_DEFAULT;
      if (ud) {
        const cfg = copyStructFromUserData(ud, IOMMU_HWPT_DATA_SELFTEST, iommu_hwpt_selftest, "iotlb");
        if (typeof cfg === "string") return cfg;
        pagetableType = cfg.pagetable_type as number;
      }
      // mock_domain_alloc_pgtable: the aperture is overridden to the MOCK aperture for the default type only
      if (pagetableType === MOCK_IOMMUPT_DEFAULT) return { override: {} };
      if (pagetableType === MOCK_IOMMUPT_HUGE)
        return { override: { pgsizeBitmap: MOCK_HUGE_PGSIZE_BITMAP, aperture: { start: 0n, last: (1n << BigInt(base.awBits)) - 1n } } };
      return "EOPNOTSUPP";
    }
    case "vtd": {
      // intel_iommu_domain_alloc_paging_flags: no user data; first stage when
      // possible (only PASID among the flags, SM and ECAP.FLTS), else second stage.
      const h = s.host.iommu;
      if (ud) return "EOPNOTSUPP";
      const firstStage = !(flags & ~HWPT_ALLOC_PASID) && smSupported(h) && bit(ecapOf(h), 47);
      if (firstStage) return { override: {} };
      if (flags & ~(HWPT_ALLOC_NEST_PARENT | HWPT_ALLOC_DIRTY_TRACKING | HWPT_ALLOC_PASID)) return "EOPNOTSUPP";
      if ((flags & HWPT_ALLOC_NEST_PARENT && !nestedSupported(h)) || (flags & HWPT_ALLOC_DIRTY_TRACKING && !ssadsSupported(h))) return "EOPNOTSUPP";
      if (smSupported(h) && !bit(ecapOf(h), 46)) return "EOPNOTSUPP";
      return { override: {} };
    }
    case "other":
      if (flags || ud) return new Unmodelled(`IOMMU_HWPT_ALLOC flags or data on a ${s.host.iommu?.type} host`);
      return { override: {} };
  }
}

/** ops->domain_alloc_paging_flags exists (iommufd refuses flags and user data without it: EOPNOTSUPP). */
export function hasAllocPagingFlags(kind: DriverKind): boolean {
  return kind !== "plain";
}

// ---------------------------------------------------------------------------
// Nested domains (ops->domain_alloc_nested, viommu->ops->alloc_domain_nested)

export interface NestedSpec {
  dataType: number;
  data: Record<string, bigint | number>;
  iotlb?: number[];
}

/** ops->domain_alloc_nested exists. */
export function hasAllocNested(kind: DriverKind): boolean | Unmodelled {
  if (kind === "other") return new Unmodelled("nested HWPTs on this host IOMMU");
  return kind === "mock" || kind === "vtd";
}

/** __mock_domain_alloc_nested: IOMMU_HWPT_DATA_SELFTEST with the initial fake IOTLB value. */
function mockNested(ud: UserData): Verdict<NestedSpec> {
  if (ud.type !== IOMMU_HWPT_DATA_SELFTEST) return "EOPNOTSUPP";
  const cfg = copyStructFromUserData(ud, IOMMU_HWPT_DATA_SELFTEST, iommu_hwpt_selftest, "iotlb");
  if (typeof cfg === "string") return cfg;
  return { dataType: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: cfg.iotlb as number }, iotlb: new Array(MOCK_NESTED_DOMAIN_IOTLB_NUM).fill(cfg.iotlb) };
}

function plainData(d: Decoded): Record<string, bigint | number> {
  const out: Record<string, bigint | number> = {};
  for (const [k, v] of Object.entries(d)) if (!Array.isArray(v) && !k.startsWith("__")) out[k] = v;
  return out;
}

/** The driver's domain_alloc_nested(dev, parent, flags, user_data) (FAULT_ID_VALID removed). */
export function allocNested(s: State, kind: DriverKind, parent: HwptPaging, flags: number, ud: UserData): Verdict<NestedSpec> {
  if (kind === "mock") {
    // mock_domain_alloc_nested
    if (flags & ~HWPT_ALLOC_PASID) return "EOPNOTSUPP";
    return mockNested(ud);
  }
  // intel_iommu_domain_alloc_nested
  const h = s.host.iommu;
  if (!nestedSupported(h) || flags & ~HWPT_ALLOC_PASID) return "EOPNOTSUPP";
  if (ud.type !== IOMMU_HWPT_DATA_VTD_S1) return "EOPNOTSUPP";
  if (parent.domain.format !== "vtd-ss" || !parent.nestParent) return "EINVAL";
  const vtd = copyStructFromUserData(ud, IOMMU_HWPT_DATA_VTD_S1, iommu_hwpt_vtd_s1, "__reserved");
  if (typeof vtd === "string") return vtd;
  return { dataType: IOMMU_HWPT_DATA_VTD_S1, data: plainData(vtd) };
}

/** The driver struct of a HWPT_ALLOC data type, to encode inline data. */
export function hwptDataStruct(type: number): StructDef | undefined {
  if (type === IOMMU_HWPT_DATA_SELFTEST) return iommu_hwpt_selftest;
  if (type === IOMMU_HWPT_DATA_VTD_S1) return iommu_hwpt_vtd_s1;
  return undefined;
}

// ---------------------------------------------------------------------------
// Attach (domain->ops->attach_dev, set_dev_pasid)

/**
 * The driver's attach_dev for the RID (iommu_attach_group_handle /
 * iommu_replace_group_handle), after the core's owner check.
 */
export function attachDev(s: State, ctx: IommufdCtx, kind: DriverKind, idev: IommufdDevice, hd: HostDevice, hwpt: HwptPaging | HwptNested): Verdict<undefined> {
  if (kind === "mock") return mockAttach(s, ctx, idev, hd, hwpt);
  // intel_nested_attach_dev -> intel_pasid_setup_nested
  if (kind === "vtd" && hwpt.type === "hwpt_nested") return vtdNestedCheckData(s, hwpt);
  return undefined;
}

/** mock_domain_nop_attach: a dirty-tracking domain refuses a no-dirty device; a vIOMMU's nested domain needs the device's vDEVICE. */
function mockAttach(s: State, ctx: IommufdCtx, idev: IommufdDevice, hd: HostDevice, hwpt: HwptPaging | HwptNested): Verdict<undefined> {
  if (hwpt.type === "hwpt_paging" && hwpt.flags & HWPT_ALLOC_DIRTY_TRACKING && hd.dirtyTracking === false) return "EINVAL";
  if (hwpt.type === "hwpt_nested" && hwpt.viommuId !== null) {
    // iommufd_viommu_get_vdev_id: ENOENT unless the device has a vDEVICE under this vIOMMU
    const vdev = idev.vdevId == null ? undefined : ctx.objects.get(idev.vdevId);
    if (!vdev || vdev.type !== "vdevice" || vdev.viommuId !== hwpt.viommuId) return "ENOENT";
  }
  return undefined;
}

/**
 * intel_pasid_setup_nested / replace_nested: the stage-1 configuration the
 * nested HWPT carries must suit the hardware (EINVAL).
 */
function vtdNestedCheckData(s: State, hwpt: HwptNested): Verdict<undefined> {
  const h = s.host.iommu;
  const aw = Number(hwpt.data.addr_width ?? 0);
  const flags = BigInt(hwpt.data.flags ?? 0);
  if (aw === 57) {
    if (!bit(capOf(h), 60)) return "EINVAL"; // cap_fl5lp_support
  } else if (aw !== 48) return "EINVAL";
  if (flags & 1n && !bit(ecapOf(h), 31)) return "EINVAL"; // IOMMU_VTD_S1_SRE needs ECAP.SRS
  if (flags & 2n && !bit(ecapOf(h), 34)) return "EINVAL"; // IOMMU_VTD_S1_EAFE needs ECAP.EAFS
  return undefined;
}

/** The driver's set_dev_pasid for a PASID attach or replace (after the core's checks). */
export function setDevPasid(s: State, kind: DriverKind, idev: IommufdDevice, hwpt: HwptPaging | HwptNested, pasid: number): Verdict<undefined> {
  if (kind === "mock") {
    // mock_domain_set_dev_pasid_nop: pasid 1024 fails every second call (IOMMU_TEST_PASID_RESERVED)
    if (pasid === 1024 && idev.mockPasid1024) return "ENOMEM";
    return undefined;
  }
  if (kind === "vtd") {
    // intel_iommu_set_dev_pasid / intel_nested_set_dev_pasid
    if (!pasidSupported(s.host.iommu)) return "EOPNOTSUPP";
    if (hwpt.type === "hwpt_nested") return vtdNestedCheckData(s, hwpt);
    return undefined;
  }
  if (kind === "other") return new Unmodelled(`PASID attach on a ${s.host.iommu?.type} host`);
  // "plain": set_dev_pasid is not part of a driver without PASID support
  return "EOPNOTSUPP";
}

/** The state change of a successful set_dev_pasid (the mock's pasid 1024 toggle). */
export function commitSetDevPasid(kind: DriverKind, idev: IommufdDevice, pasid: number): void {
  if (kind === "mock" && pasid === 1024) idev.mockPasid1024 = !idev.mockPasid1024;
}

/** The blocked domain's set_dev_pasid on a PASID detach (mock: clears the pasid 1024 toggle). */
export function blockPasid(kind: DriverKind, idev: IommufdDevice, pasid: number): void {
  if (kind === "mock" && pasid === 1024) idev.mockPasid1024 = false;
}

// ---------------------------------------------------------------------------
// Cache invalidation (domain->ops->cache_invalidate_user, viommu->ops->cache_invalidate)

/**
 * The entry struct of an invalidation data type, to encode inline entries: the
 * selftest's HWPT and vIOMMU types share one value (0xdeadbeef), so the target
 * (a vIOMMU or a nested HWPT) decides.
 */
export function invalidateEntryStruct(type: number, viommu: boolean): StructDef | undefined {
  if (type === IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) return viommu ? iommu_viommu_invalidate_selftest : iommu_hwpt_invalidate_selftest;
  if (type === IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) return iommu_hwpt_vtd_s1_invalidate;
  return undefined;
}

/** The driver's answer to an invalidation: the errno (or none) and how many entries it handled. */
export interface InvalidateResult {
  rc: string | undefined;
  done: number;
  /** The state change, applied by the caller when the command goes through. */
  apply: () => void;
}

/** mock_domain_cache_invalidate_user: entry by entry, stopping at the first bad one. */
export function mockInvalidateNested(hwpt: HwptNested, arr: UserDataArray): InvalidateResult {
  const clear: number[] = [];
  let rc: string | undefined;
  let done = 0;
  if (arr.type !== IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) rc = "EINVAL";
  else
    for (let i = 0; i < arr.entryNum; i++) {
      const inv = copyStructFromUserArray(arr, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, i, iommu_hwpt_invalidate_selftest, "iotlb_id");
      if (typeof inv === "string") {
        rc = inv;
        break;
      }
      const flags = inv.flags as number;
      const id = inv.iotlb_id as number;
      if (flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
        rc = "EOPNOTSUPP";
        break;
      }
      if (id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
        rc = "EINVAL";
        break;
      }
      if (flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) for (let j = 0; j < MOCK_NESTED_DOMAIN_IOTLB_NUM; j++) clear.push(j);
      else clear.push(id);
      done++;
    }
  return {
    rc,
    done,
    apply: () => {
      if (hwpt.iotlb) for (const j of clear) hwpt.iotlb[j] = 0;
    },
  };
}

/**
 * intel_nested_cache_invalidate_user: an array type other than
 * IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 is EINVAL (even when empty); then entry by
 * entry: flags other than LEAF or a non-zero __reserved are EOPNOTSUPP, an
 * address not 4 KiB aligned (or non-zero with npages U64_MAX) EINVAL. The
 * model keeps no stage-1 IOTLB, so a valid entry only counts.
 */
export function vtdInvalidateNested(arr: UserDataArray): InvalidateResult {
  let rc: string | undefined;
  let done = 0;
  if (arr.type !== IOMMU_HWPT_INVALIDATE_DATA_VTD_S1) return { rc: "EINVAL", done: 0, apply: () => {} };
  for (let i = 0; i < arr.entryNum; i++) {
    const inv = copyStructFromUserArray(arr, IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, i, iommu_hwpt_vtd_s1_invalidate, "__reserved");
    if (typeof inv === "string") {
      rc = inv;
      break;
    }
    const addr = inv.addr as bigint;
    if ((inv.flags as number) & ~1 || inv.__reserved !== 0) {
      rc = "EOPNOTSUPP";
      break;
    }
    if (addr & 0xfffn || (inv.npages === 0xffffffffffffffffn && addr !== 0n)) {
      rc = "EINVAL";
      break;
    }
    done++;
  }
  return { rc, done, apply: () => {} };
}

/** mock_viommu_cache_invalidate: the whole array at once, then entry by entry against the vDEVICEs. */
export function mockInvalidateViommu(ctx: IommufdCtx, viommu: Viommu, arr: UserDataArray): InvalidateResult {
  if (arr.entryNum === 0 && arr.type === IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST) return { rc: undefined, done: 0, apply: () => {} };
  const cmds = copyFullUserArray(arr, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, iommu_viommu_invalidate_selftest);
  if (typeof cmds === "string") return { rc: cmds, done: 0, apply: () => {} };
  const writes: { dev: IommufdDevice; ids: number[] }[] = [];
  let rc: string | undefined;
  let done = 0;
  for (const cmd of cmds) {
    const flags = cmd.flags as number;
    const cacheId = cmd.cache_id as number;
    if (flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
      rc = "EOPNOTSUPP";
      break;
    }
    if (cacheId > MOCK_DEV_CACHE_ID_MAX) {
      rc = "EINVAL";
      break;
    }
    // iommufd_viommu_find_dev: the device of the vDEVICE with this virtual id
    let dev: IommufdDevice | undefined;
    for (const o of ctx.objects.values())
      if (o.type === "vdevice" && o.viommuId === viommu.id && o.virtId === BigInt(cmd.vdev_id as number)) {
        const d = ctx.objects.get(o.devId);
        if (d?.type === "device") dev = d;
      }
    if (!dev) {
      rc = "EINVAL";
      break;
    }
    writes.push({ dev, ids: flags & IOMMU_TEST_INVALIDATE_FLAG_ALL ? [...Array(MOCK_DEV_CACHE_NUM).keys()] : [cacheId] });
    done++;
  }
  return {
    rc,
    done,
    apply: () => {
      for (const w of writes) for (const j of w.ids) if (w.dev.mockCache) w.dev.mockCache[j] = 0;
    },
  };
}

/** The initial fake device cache of a mock device (mock_dev_create). */
export function mockDevCache(): number[] {
  return new Array(MOCK_DEV_CACHE_NUM).fill(IOMMU_TEST_DEV_CACHE_DEFAULT);
}

// ---------------------------------------------------------------------------
// vIOMMU (ops->get_viommu_size / viommu_init, viommu->ops)

/** ops->get_viommu_size && ops->viommu_init, and the size for this type (0: unsupported). */
export function viommuSupported(kind: DriverKind, type: number): Verdict<{ ops: boolean; typeOk: boolean }> {
  if (kind === "mock") return { ops: true, typeOk: type === IOMMU_VIOMMU_TYPE_SELFTEST };
  if (kind === "other") return new Unmodelled(`IOMMU_VIOMMU_ALLOC on a ${"host whose vIOMMU is not modelled"}`);
  if (kind === "noiommu") return new Unmodelled("IOMMU_VIOMMU_ALLOC for a device without an IOMMU (dev_iommu_ops of a no-IOMMU device)");
  // VT-d and a plain driver have no vIOMMU ops
  return { ops: false, typeOk: false };
}

export const VIOMMU_SELFTEST_DATA = iommu_viommu_selftest;

/** The vIOMMU driver data struct for inline data. */
export function viommuDataStruct(type: number): StructDef | undefined {
  return type === IOMMU_VIOMMU_TYPE_SELFTEST ? iommu_viommu_selftest : undefined;
}

/** mock_viommu_get_hw_queue_size: only IOMMU_HW_QUEUE_TYPE_SELFTEST. */
export function hwQueueTypeOk(type: number): boolean {
  return type === IOMMU_HW_QUEUE_TYPE_SELFTEST;
}
