// Named presets: ordered lists of switches, like a patch series. A preset that
// builds on another starts with that one's name, so bisect over a preset walks
// the switches in the order the changes landed.

export interface PresetDef {
  readonly name: string;
  readonly summary: string;
  /** Preset names (expanded in place) and switch names, in order. */
  readonly items: readonly string[];
}

const defs: PresetDef[] = [
  {
    name: "linux-6.19",
    summary: "iommufd and VFIO as in v6.19: dma-buf export, bind token, PASID attach; no no-IOMMU cdev",
    items: ["vfio-cdev", "vfio-pasid-attach", "vfio-bind-token", "vfio-bind-ksize-fix", "vfio-type1-nesting-removed", "vfio-dmabuf-export"],
  },
  {
    name: "linux-noiommu-v4",
    summary: "linux-6.19 plus the no-IOMMU cdev series as posted (V4): IOMMU_IOAS_GET_PA with out_length",
    items: ["linux-6.19", "noiommu-cdev", "ioas-get-pa"],
  },
  {
    name: "linux-mainline",
    summary: "the newest kernel: the no-IOMMU series as merged (IOMMU_IOAS_NOIOMMU_GET_PA)",
    items: [
      "linux-noiommu-v4",
      "get-pa-clamp-area",
      "get-pa-cap-sys-rawio",
      "get-pa-rename",
      "get-pa-length-input",
      "get-pa-eoverflow",
      "noiommu-null-group",
      "noiommu-cdev-rawio",
      "vfio-mig-precopy-infov2",
      "hwpt-invalidate-bounds",
      "veventq-depth-bound",
      "hw-info-ats-cap",
    ],
  },
  {
    name: "linux-pasid-request-v1",
    summary: "linux-6.19 plus seed 002's VFIO_IOMMU_PASID_REQUEST as posted",
    items: ["linux-6.19", "vfio-pasid-request"],
  },
  {
    name: "linux-pasid-request-fixed",
    summary: "linux-6.19 plus seed 002's VFIO_IOMMU_PASID_REQUEST with the review fixes",
    items: ["linux-pasid-request-v1", "vfio-pasid-request-fixed"],
  },
  { name: "qemu-flts-v5", summary: "seed 001: intel_iommu x-flts checks, patch 08 as posted", items: ["vtd-flts-check"] },
  {
    name: "qemu-flts-reviewed",
    summary: "seed 001 with the review changes: no NEST check, \"large page\", \"guest stage-1 translation\"",
    items: ["qemu-flts-v5", "vtd-flts-no-nest-check", "vtd-flts-large-page-wording", "vtd-flts-guest-stage1-wording"],
  },
  { name: "qemu-flts-final", summary: "QEMU master as merged", items: ["qemu-flts-reviewed", "vtd-flts-final"] },
  { name: "qemu-vtd-pasid-rfc2", summary: "the intel-iommu PASID series (RFCv2, unmerged)", items: ["qemu-flts-final", "vtd-pasid-rfc2"] },
  { name: "qemu-vpasid-v6", summary: "seed 000 v6: PASID capability at the last 8 bytes", items: ["vpasid-cap-last-8"] },
  { name: "qemu-vpasid-v7", summary: "seed 000 v7 with its insert-helper bugs", items: ["qemu-vpasid-v6", "vpasid-cap-v7"] },
  { name: "qemu-vpasid-final", summary: "seed 000 v8/v9 as merged", items: ["qemu-vpasid-v7", "vpasid-cap-final"] },
];

export const PRESETS: ReadonlyMap<string, PresetDef> = new Map(defs.map((d) => [d.name, d]));

/** The profile used when neither the trace nor the command line names one. */
export const DEFAULT_PROFILE: readonly string[] = ["linux-mainline", "qemu-flts-final", "qemu-vpasid-final"];
