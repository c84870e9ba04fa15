// Behaviour switches: each one stands for one change in the kernel or QEMU (a
// patch, or a fix a reviewer asked for). Reducers ask the profile whether a
// switch is on; they never compare version strings. The list is data so that
// `iorr profiles` can print it and bisect can walk it.

import type { Component } from "./components.ts";

export interface SwitchDef {
  readonly name: string;
  /** The kernel or the QEMU device the change is in. */
  readonly component: Component;
  /** What the change does, in one line. */
  readonly summary: string;
  /** Where the change comes from: a commit, a patch of a seed thread, a review mail. */
  readonly source: string;
  /** Set while the model this switch changes does not exist yet: the switch has no effect until then. */
  readonly pending?: string;
}

/** The switches of one component, in the order their changes landed. */
const of = (component: Component, list: Omit<SwitchDef, "component">[]): SwitchDef[] => list.map((d) => ({ ...d, component }));

const defs: SwitchDef[] = [
  ...of("kernel", [
    // --- Linux baseline features present in v6.19 (seed 004: the vfio.h history) ---
    { name: "vfio-cdev", summary: "VFIO device cdev /dev/vfio/devices/vfioN bound to iommufd", source: "v6.6 VFIO_DEVICE_CDEV" },
    { name: "vfio-bind-token", summary: "VFIO_DEVICE_BIND_IOMMUFD takes VFIO_DEVICE_BIND_FLAG_TOKEN and token_uuid_ptr", source: "v6.17, seed 004" },
    {
      name: "vfio-bind-ksize-fix",
      summary: "bind copies the struct with sizeof(bind) as ksize, not minsz (no E2BIG for a token pointer)",
      source: "vfio: Fix ksize arg while copying user struct in vfio_df_ioctl_bind_iommufd() (Fixes: 86624ba3b522)",
    },
    { name: "vfio-pasid-attach", summary: "VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT take a PASID flag", source: "v6.15, seed 004" },
    { name: "vfio-dmabuf-export", summary: "VFIO_DEVICE_FEATURE_DMA_BUF exports a BAR range as a dma-buf fd", source: "v6.19, seed 004" },
    {
      name: "vfio-type1-nesting-removed",
      summary: "VFIO_TYPE1_NESTING_IOMMU is accepted as a no-op but no longer advertised by VFIO_CHECK_EXTENSION",
      source: "seed 004",
    },
    // --- seed 003: "iommufd: Enable noiommu mode for cdev" ---
    {
      name: "noiommu-cdev",
      summary: "no-IOMMU devices get a cdev noiommu-vfioN and bind to iommufd with a SW-only AMDv1 HWPT",
      source: "seed 003 V4 patches 01-03, 05",
    },
    { name: "ioas-get-pa", summary: "command 0x95 queries the PA behind an IOVA of a no-IOMMU IOAS", source: "seed 003 V4 patch 04" },
    {
      name: "get-pa-clamp-area",
      summary: "the contiguous-length scan is clamped to the end of the area",
      source: "seed 003 review (Alex Williamson), merged 60decab3",
    },
    { name: "get-pa-cap-sys-rawio", summary: "IOMMU_IOAS_NOIOMMU_GET_PA needs CAP_SYS_RAWIO, else EPERM", source: "merged 60decab3" },
    { name: "get-pa-rename", summary: "IOMMU_IOAS_GET_PA renamed IOMMU_IOAS_NOIOMMU_GET_PA", source: "merged 60decab3" },
    { name: "get-pa-length-input", summary: "`length` is an input limit that must be non-zero (EINVAL) and caps the answer", source: "merged 60decab3" },
    { name: "get-pa-eoverflow", summary: "an IOVA at ULONG_MAX gives EOVERFLOW", source: "merged 60decab3" },
    { name: "noiommu-null-group", summary: "a no-IOMMU device without container support has a NULL group", source: "merged e8efdf02" },
    // --- iommufd hardening after v6.19 (7.1 stable queue) ---
    {
      name: "hwpt-invalidate-bounds",
      summary: "IOMMU_HWPT_INVALIDATE refuses entry_len above PAGE_SIZE and entry_num above 1 << 19 (EINVAL)",
      source: "iommufd: Set upper bounds on cache invalidation entry_num and entry_len",
    },
    {
      name: "hw-info-ats-cap",
      summary: "IOMMU_GET_HW_INFO sets IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED when the device's IOMMU answers IOMMU_CAP_PCI_ATS_SUPPORTED false",
      source: "a11661a58c06 iommufd: Report ATS not supported status via IOMMU_GET_HW_INFO; a82efb8747d1 iommu: Add device ATS supported capability",
    },
    {
      name: "veventq-depth-bound",
      summary: "IOMMU_VEVENTQ_ALLOC refuses veventq_depth above 1 << 19 (EINVAL)",
      source: "iommufd: Set veventq_depth upper bound",
    },
    {
      name: "noiommu-cdev-rawio",
      summary: "opening a no-IOMMU device cdev needs CAP_SYS_RAWIO, else EPERM (vfio_device_fops_cdev_open)",
      source: 'seed 003 review (Alex Williamson on V4 07/10: "vfio no-iommu is traditionally gated on CAP_SYS_RAWIO"), merged e8efdf02',
    },
    {
      name: "vfio-mig-precopy-infov2",
      summary: "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 (12) is a core feature: SET only, EINVAL without VFIO_MIGRATION_PRE_COPY",
      source: "mainline vfio_main.c @85e0d1de (vfio_ioctl_device_feature_migration_precopy_info_v2)",
    },
    // --- vfio-pci exposing the PASID capability (never merged; userspace synthesizes it instead) ---
    {
      name: "vfio-pci-expose-pasid",
      summary: "vfio-pci passes the device's PASID extended capability to userspace (pci_ext_cap_length[PCI_EXT_CAP_ID_PASID] = PCI_EXT_CAP_PASID_SIZEOF)",
      source: 'Yi Liu, "vfio/pci: Expose PCIe PASID capability to userspace" (2023, and Liu Yi L\'s 2020 vSVA series), not merged',
    },
    // --- seed 002: VFIO_IOMMU_PASID_REQUEST (never merged) ---
    { name: "vfio-pasid-request", summary: "VFIO_IOMMU_PASID_REQUEST alloc/free with a per-mm quota", source: "seed 002 [PATCH v1 1/8]" },
    {
      name: "vfio-pasid-request-fixed",
      summary: "review fixes: ENOSPC not EFAULT, argsz honoured, EACCES/ENOENT on free",
      source: "seed 002 review",
    },
  ]),
  ...of("qemu-intel-iommu", [
    // --- seed 001: intel_iommu x-flts compatibility checks ---
    { name: "vtd-flts-check", summary: "x-flts=on checks each host device (patch 08 as posted)", source: "seed 001 [PATCH v5 08/21]" },
    { name: "vtd-flts-no-nest-check", summary: "the host NEST capability check is dropped", source: "seed 001 review" },
    { name: "vtd-flts-large-page-wording", summary: '"large page" instead of "huge page"', source: "seed 001 review" },
    { name: "vtd-flts-guest-stage1-wording", summary: '"guest stage-1 translation" in the final refusal', source: "seed 001 review" },
    {
      name: "vtd-flts-final",
      summary:
        "QEMU master: the master order of x-flts checks, compatible devices accepted; CAP_REG.ESRTPS, svm, ECAP.PSS (src/model/viommu/vtd/regs.ts era master)",
      source: "QEMU master",
    },
    { name: "vtd-pasid-rfc2", summary: "intel-iommu `pasid` property and host PASID width check", source: "intel-iommu PASID RFCv2 (2026-02)" },
  ]),
  ...of("qemu-vfio-pci", [
    // --- seed 000: vPASID capability synthesis in vfio-pci (hw/vfio/pci.c vfio_add_ext_cap) ---
    {
      name: "vpasid-cap-last-8",
      summary:
        "a PASID capability synthesized at 0x1000 - 8 (pcie_pasid_init, linked from the last capability) when iommufd reports max_pasid_log2 and the vIOMMU sets VIOMMU_FLAG_PASID_SUPPORTED; an mdev (no HostIOMMUDevice) crashes QEMU",
      source: 'seed 000 [PATCH v6 32/33] vfio: Synthesize vPASID capability to VM; Cédric Le Goater 2025-12-15 ("QEMU simply coredumps")',
    },
    {
      name: "vpasid-cap-v7",
      summary:
        "vfio_pci_synthesize_pasid_cap: HostIOMMUDevice get_pasid_info, an mdev skipped; a failed insert is reported but the capability is still initialised",
      source: "seed 000 v7 patches 32/36 and 35/36 (Shameer Kolothum 2026-01-02 rework; Cédric 2026-01-19 asks for an Error **)",
    },
    {
      name: "vpasid-cap-offset-prop",
      summary: "vfio-pci property x-vpasid-cap-offset (uint16; 0 = end of config space): an invalid offset skips PASID, the default placement warns",
      source: "seed 000 v7 35/36 (Eric Auger's x- opt-in, Alex Williamson 2026-01-06)",
    },
    {
      name: "vpasid-insert-v7",
      summary: "pcie_insert_capability as posted in v7: the head's ID word is taken for a next pointer and overwritten (guest firmware asserts)",
      source: "seed 000 v7 33/36; Zhangfei Gao's report (EDK2 ASSERT [PciBusDxe] PciLib.c(626), ssidsize=16)",
    },
    {
      name: "vpasid-insert-walk-next",
      summary: "pcie_insert_capability reworked: range checks, walks the list by PCI_EXT_CAP_NEXT, refuses an offset inside a header",
      source: "seed 000 v8 34/37, merged (hw/pci: Add helper to insert PCIe extended capability at a fixed offset)",
    },
    {
      name: "vpasid-cap-final",
      summary:
        "as merged: no HostIOMMUDevice is silently skipped, a failed insert is an error (vfio: Placing PASID capability at offset 0x%x failed) and adds nothing, no warning for the default offset",
      source: "seed 000 v8/v9 36/37, merged 06b38473cd (Zhenzhong Duan: check hiod; Eric Auger: no warn_report)",
    },
    // --- seed 000: placement proposals of the thread (in no preset) ---
    {
      name: "vpasid-refuse-overlap",
      summary: "refuse a PASID offset that overlaps an extended capability whose size the spec defines (walking the list)",
      source: 'seed 000 v6 review, Eric Auger 2025-12-09 ("check the offset range is not used by another cap")',
    },
    {
      name: "vpasid-nonzero-finding",
      summary: "report non-zero device config space under the synthesized PASID capability as a finding (false positives: capabilities the kernel hid)",
      source: "seed 000 v6 review, Alex Williamson 2026-01-06 (20260106100051.313ccbab.alex@shazbot.org)",
    },
  ]),
];

export const SWITCHES: ReadonlyMap<string, SwitchDef> = new Map(defs.map((d) => [d.name, d]));
