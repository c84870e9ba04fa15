// The components a profile composes. Every switch and every preset changes one
// of them; a profile that names no preset of a component runs that component
// at its default preset (presets.ts DEFAULT_PROFILE).

export const COMPONENTS = ["kernel", "qemu-intel-iommu", "qemu-vfio-pci"] as const;

export type Component = (typeof COMPONENTS)[number];

/** What each component stands for, for `iorr profiles`. */
export const COMPONENT_SUMMARY: Readonly<Record<Component, string>> = {
  kernel: "Linux iommufd and VFIO (drivers/iommu/iommufd, drivers/vfio)",
  "qemu-intel-iommu": "QEMU's intel-iommu (hw/i386/intel_iommu.c)",
  "qemu-vfio-pci": "QEMU's vfio-pci (hw/vfio/pci.c)",
};
