// Intel VT-d (drivers/iommu/intel/iommu.c, nested.c, pasid.c), host type
// intel_vtd: every answer follows from the declared CAP/ECAP registers.

import {
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HW_INFO_TYPE_INTEL_VTD,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING as HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT as HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID as HWPT_ALLOC_PASID,
  IOMMU_HWPT_DATA_VTD_S1,
  IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
  iommu_hw_info_vtd,
  iommu_hwpt_vtd_s1,
  iommu_hwpt_vtd_s1_invalidate,
} from "../../uapi/iommufd.ts";
import { defaultParams, SZ_1G, SZ_2M, SZ_4K } from "../domain/params.ts";
import type { NestedDomain } from "../domain/state.ts";
import type { HostIommu } from "../host/state.ts";
import { bit, type IommuDriver, type Verdict } from "./driver.ts";
import { X86_MSI } from "./resv.ts";
import { copyStructFromUserArray, copyStructFromUserData, type UserDataArray } from "./user_data.ts";

const IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1;
/** PCI_EXT_CAP_ID_ATS. */
const PCI_EXT_CAP_ID_ATS = 0x0f;

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

/**
 * intel_pasid_setup_nested / replace_nested: the stage-1 configuration the
 * nested domain carries must suit the hardware (EINVAL).
 */
function nestedCheckData(h: HostIommu | null, d: NestedDomain): Verdict<undefined> {
  const aw = Number(d.data.addr_width ?? 0);
  const flags = BigInt(d.data.flags ?? 0);
  if (aw === 57) {
    if (!bit(capOf(h), 60)) return "EINVAL"; // cap_fl5lp_support
  } else if (aw !== 48) return "EINVAL";
  if (flags & 1n && !bit(ecapOf(h), 31)) return "EINVAL"; // IOMMU_VTD_S1_SRE needs ECAP.SRS
  if (flags & 2n && !bit(ecapOf(h), 34)) return "EINVAL"; // IOMMU_VTD_S1_EAFE needs ECAP.EAFS
  return undefined;
}

function plainData(d: Record<string, unknown>): Record<string, bigint | number> {
  const out: Record<string, bigint | number> = {};
  for (const [k, v] of Object.entries(d)) if (!Array.isArray(v) && !k.startsWith("__")) out[k] = v as bigint | number;
  return out;
}

/**
 * intel_nested_cache_invalidate_user: an array type other than
 * IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 is EINVAL (even when empty); then entry by
 * entry: flags other than LEAF or a non-zero __reserved are EOPNOTSUPP, an
 * address not 4 KiB aligned (or non-zero with npages U64_MAX) EINVAL. The
 * model keeps no stage-1 IOTLB for host domains, so a valid entry only counts.
 */
function cacheInvalidateUser(_d: NestedDomain, arr: UserDataArray) {
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

export const VTD_DRIVER: IommuDriver = {
  name: "intel_vtd",
  // intel_iommu_get_resv_regions: the interrupt window (RMRRs are not in the host model).
  resvRegions: [X86_MSI],
  // intel_iommu_capable(IOMMU_CAP_DIRTY_TRACKING): ssads_supported.
  dirtyCapable: (host, hd) => hd.dirtyTracking !== false && ssadsSupported(host),
  // info->ats_supported at probe: ECAP.DT (bit 2) and the device's ATS capability (the ACPI ATSR coverage is taken as given).
  atsSupported: (host, hd) => bit(ecapOf(host), 2) && hd.extCaps.some((c) => c.id === PCI_EXT_CAP_ID_ATS),
  // intel_iommu_hw_info
  hwInfo: (host, inType) => {
    if (inType !== IOMMU_HW_INFO_TYPE_DEFAULT && inType !== IOMMU_HW_INFO_TYPE_INTEL_VTD) return "EOPNOTSUPP";
    const bytes = new Uint8Array(iommu_hw_info_vtd.size);
    const v = new DataView(bytes.buffer);
    v.setUint32(0, IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, true);
    v.setBigUint64(8, capOf(host), true);
    v.setBigUint64(16, ecapOf(host), true);
    return { type: IOMMU_HW_INFO_TYPE_INTEL_VTD, struct: iommu_hw_info_vtd, bytes };
  },
  // The second stage through generic_pt vtdss: levels from the address width, 4K plus 2M / 1G as CAP.SLLPS (bits 34, 35) offers.
  pagingParams: (host) => {
    const p = defaultParams("vtd-ss", host?.awBits ?? 48);
    const cap = capOf(host);
    if (cap !== 0n) p.pgsizeBitmap = SZ_4K | (bit(cap, 34) ? SZ_2M : 0n) | (bit(cap, 35) ? SZ_1G : 0n);
    return p;
  },
  // intel_iommu_domain_alloc_paging_flags: no user data; first stage when possible
  // (only PASID among the flags, SM and ECAP.FLTS), else second stage.
  allocPagingFlags: (h, _hd, flags, ud, base) => {
    if (ud) return "EOPNOTSUPP";
    const firstStage = !(flags & ~HWPT_ALLOC_PASID) && smSupported(h) && bit(ecapOf(h), 47);
    if (firstStage) return base;
    if (flags & ~(HWPT_ALLOC_NEST_PARENT | HWPT_ALLOC_DIRTY_TRACKING | HWPT_ALLOC_PASID)) return "EOPNOTSUPP";
    if ((flags & HWPT_ALLOC_NEST_PARENT && !nestedSupported(h)) || (flags & HWPT_ALLOC_DIRTY_TRACKING && !ssadsSupported(h))) return "EOPNOTSUPP";
    if (smSupported(h) && !bit(ecapOf(h), 46)) return "EOPNOTSUPP";
    return base;
  },
  // intel_iommu_domain_alloc_nested: a VT-d stage-1 over a second-stage nesting parent.
  allocNested: (h, parent, flags, ud) => {
    if (!nestedSupported(h) || flags & ~HWPT_ALLOC_PASID) return "EOPNOTSUPP";
    if (ud.type !== IOMMU_HWPT_DATA_VTD_S1) return "EOPNOTSUPP";
    if (parent.format !== "vtd-ss") return "EINVAL";
    const vtd = copyStructFromUserData(ud, IOMMU_HWPT_DATA_VTD_S1, iommu_hwpt_vtd_s1, "__reserved");
    if (typeof vtd === "string") return vtd;
    return { dataType: IOMMU_HWPT_DATA_VTD_S1, data: plainData(vtd) };
  },
  // intel_nested_attach_dev -> intel_pasid_setup_nested; a paging domain attaches as is.
  attachDev: (host, _dev, target) => (target.domain.type === "nested" ? nestedCheckData(host, target.domain) : undefined),
  // intel_iommu_set_dev_pasid / intel_nested_set_dev_pasid
  setDevPasid: (host, _dev, target) => {
    if (!pasidSupported(host)) return "EOPNOTSUPP";
    return target.domain.type === "nested" ? nestedCheckData(host, target.domain) : undefined;
  },
  cacheInvalidateUser,
  // VT-d has no vIOMMU ops.
  // ECAP.SC (bit 7): snoop control, what domain_support_force_snooping needs.
  enforceCacheCoherency: (host) => bit(ecapOf(host), 7),
  // A blocked device: in scalable mode (ECAP.SMTS) its PASID entry is cleared
  // (intel_pasid_tear_down_entry), in legacy mode its context entry (domain_context_clear_one).
  blockedFault: (host) => (smSupported(host) ? "VTD_FR_PASID_ENTRY_P" : "VTD_FR_CONTEXT_ENTRY_P"),
};
