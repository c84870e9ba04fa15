// Which host devices an intel-iommu accepts: vtd_dev_set_iommu_device and
// vtd_check_hiod (hw/i386/intel_iommu.c; in master the x-flts part is
// vtd_check_hiod_accel in intel_iommu_accel.c), with the messages of seed 001
// ([PATCH v5 08/21] intel_iommu: Check for compatibility with IOMMUFD backed
// device when x-flts=on) and its review, each step gated by its profile switch.
// The checks are a table: one row per error_setg, in QEMU's order.

import type { Profile } from "../../../profiles/profile.ts";
import { VTD_CAP_FS1GP, VTD_ECAP_NEST, vtdEcapPss, type VtdConfig } from "./regs.ts";

/** What QEMU knows of the host side when vfio-pci hands its HostIOMMUDevice to the vIOMMU. */
export interface HiodView {
  /** TYPE_HOST_IOMMU_DEVICE_IOMMUFD (true) or the legacy container's type. */
  iommufd: boolean;
  /** HOST_IOMMU_DEVICE_CAP_AW_BITS (vfio_device_get_aw_bits). */
  awBits: number;
  /** caps->type: the IOMMU_HW_INFO_TYPE_* of IOMMU_GET_HW_INFO. */
  hwInfoType: number;
  /** caps->vendor_caps.vtd.cap_reg / ecap_reg. */
  capReg: bigint;
  ecapReg: bigint;
  /** caps->max_pasid_log2 (out_max_pasid_log2 of IOMMU_GET_HW_INFO). */
  maxPasidLog2: number;
  /** pci_device_get_iommu_bus_devfn: the guest requester ID is aliased behind a conventional PCI bridge. */
  aliased: boolean;
}

/** What one check reads: the vIOMMU config, the host side, the profile. */
export interface HiodCtx {
  cfg: VtdConfig;
  host: HiodView;
  profile: Profile;
}

export interface HiodCheck {
  /** The QEMU function and the patch the check comes from. */
  source: string;
  /** Does this QEMU (profile) make the check? */
  applies: (c: HiodCtx) => boolean;
  /** The error message when the device fails it, else undefined. */
  fails: (c: HiodCtx) => string | undefined;
}

const on = (c: HiodCtx, sw: string) => c.profile.on(sw);
const master = (c: HiodCtx) => on(c, "vtd-flts-final");
/** The x-flts checks of the series (v5 08/21 and later): master, or any version of the patch. */
const series = (c: HiodCtx) => master(c) || on(c, "vtd-flts-check");

/** Stage-1-specific checks, after the common ones and only with x-flts=on. */
export const VTD_HIOD_CHECKS: readonly HiodCheck[] = [
  {
    source: "vtd_check_hiod: QEMU 10.x placeholder (791346f93d), replaced by seed 001 v5 08/21",
    applies: (c) => !series(c),
    fails: () => "host device is uncompatible with stage-1 translation",
  },
  {
    source: "vtd_check_hiod (v5 08/21) / vtd_check_hiod_accel (master)",
    applies: series,
    fails: (c) => (c.host.iommufd ? undefined : "Need IOMMUFD backend when x-flts=on"),
  },
  {
    source: "vtd_check_hiod (v5 08/21) / vtd_check_hiod_accel (master): caps->type != IOMMU_HW_INFO_TYPE_INTEL_VTD",
    applies: series,
    fails: (c) => (c.host.hwInfoType === 1 ? undefined : `Incompatible host platform IOMMU type ${c.host.hwInfoType | 0}`),
  },
  {
    source: "vtd_check_hiod (v5 08/21): VTD_ECAP_NEST; dropped after Yi Liu's review (vtd-flts-no-nest-check), absent in master",
    applies: (c) => on(c, "vtd-flts-check") && !on(c, "vtd-flts-no-nest-check") && !master(c),
    fails: (c) => (c.host.ecapReg & VTD_ECAP_NEST ? undefined : "Host IOMMU doesn't support nested translation"),
  },
  {
    source: 'vtd_check_hiod (v5 08/21, review: "large page") / vtd_check_hiod_accel (master: "First stage"): s->fs1gp && !VTD_CAP_FS1GP',
    applies: series,
    fails: (c) => {
      if (!c.cfg.fs1gp || c.host.capReg & VTD_CAP_FS1GP) return undefined;
      if (master(c)) return "First stage 1GB large page is unsupported by host IOMMU";
      return `Stage-1 1GB ${on(c, "vtd-flts-large-page-wording") ? "large" : "huge"} page is unsupported by host IOMMU`;
    },
  },
  {
    source: "vtd_check_hiod_accel, intel-iommu PASID RFCv2: only when the host device supports PASIDs",
    applies: (c) => on(c, "vtd-pasid-rfc2"),
    fails: (c) => {
      const hpasid = vtdEcapPss(c.host.ecapReg) + 1;
      return c.host.maxPasidLog2 && c.cfg.pasid > hpasid ? `PASID bits size ${c.cfg.pasid} > host IOMMU PASID bits size ${hpasid}` : undefined;
    },
  },
  {
    source: "vtd_check_hiod_accel (master): pci_device_get_iommu_bus_devfn says the RID is aliased",
    applies: master,
    fails: (c) => (c.host.aliased ? "Host device downstream to a PCI bridge is unsupported when x-flts=on" : undefined),
  },
  {
    source: 'vtd_check_hiod (v5 08/21, review: "guest stage-1 translation"): the series rejects every device until its last patch',
    applies: (c) => on(c, "vtd-flts-check") && !master(c),
    fails: (c) => `host IOMMU is incompatible with ${on(c, "vtd-flts-guest-stage1-wording") ? "guest " : ""}stage-1 translation`,
  },
];

/**
 * vtd_dev_set_iommu_device + vtd_check_hiod for one host device: the error
 * message QEMU sets (without vfio's "Failed to set vIOMMU: " prefix), or
 * undefined when the vIOMMU accepts the device.
 */
export function vtdCheckHiod(c: HiodCtx): string | undefined {
  // vtd_dev_set_iommu_device (master): caching mode is required for any assigned device.
  if (master(c) && !c.cfg.cachingMode) return "Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU.";
  // vtd_check_hiod: common checks (77f6efc0ab).
  if (c.cfg.awBits > c.host.awBits) return `aw-bits ${c.cfg.awBits} > host aw-bits ${c.host.awBits}`;
  if (!c.cfg.flts) return undefined; // "All checks requested by VTD stage-2 translation pass"
  for (const chk of VTD_HIOD_CHECKS) {
    if (!chk.applies(c)) continue;
    const e = chk.fails(c);
    if (e !== undefined) return e;
  }
  return undefined;
}
