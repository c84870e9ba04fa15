// Kernel module parameters the model reads. Writing one that does not exist is
// ENOENT (no such sysfs file); a value its type rejects is EINVAL, as the
// kernel's param_set_bool / param_set_uint answer.

export interface ParamDef {
  readonly type: "bool" | "uint";
  readonly default: boolean | number;
  readonly summary: string;
}

export const PARAMS: Readonly<Record<string, ParamDef>> = {
  "vfio.enable_unsafe_noiommu_mode": {
    type: "bool",
    default: false,
    summary: "Enable UNSAFE, no-IOMMU mode (requires RAWIO permissions, and will taint the kernel)",
  },
  "vfio.pasid_quota": { type: "uint", default: 1000, summary: "per-process PASID quota of VFIO_IOMMU_PASID_REQUEST (seed 002)" },
  "vfio_iommu_type1.allow_unsafe_interrupts": { type: "bool", default: false, summary: "allow interrupts without remapping" },
  "vfio_iommu_type1.dma_entry_limit": { type: "uint", default: 65535, summary: "maximum number of DMA mappings per container" },
  "iommufd.allow_unsafe_interrupts": { type: "bool", default: false, summary: "allow interrupts without remapping" },
  // Build options of the simulated kernel, not sysfs files: a trace sets them before it binds devices.
  "kconfig.VFIO_CONTAINER": { type: "bool", default: true, summary: "CONFIG_VFIO_CONTAINER: VFIO's own /dev/vfio/vfio container support is built" },
  "kconfig.IOMMUFD_TEST": { type: "bool", default: false, summary: "CONFIG_IOMMUFD_TEST: iommufd answers IOMMU_TEST_CMD (drivers/iommu/iommufd/selftest.c)" },
  "kconfig.IOMMUFD_VFIO_CONTAINER": { type: "bool", default: false, summary: "CONFIG_IOMMUFD_VFIO_CONTAINER: iommufd provides /dev/vfio/vfio" },
};

/** kstrtobool / kstrtouint as the parameter setters apply them; undefined when rejected. */
export function paramValue(def: ParamDef, v: string | number | boolean): boolean | number | undefined {
  if (def.type === "bool") {
    if (typeof v === "boolean") return v;
    const s = String(v);
    if (/^[yY1]/.test(s) || /^[oO][nN]/.test(s)) return true;
    if (/^[nN0]/.test(s) || /^[oO][fF]/.test(s)) return false;
    return undefined;
  }
  const n = typeof v === "number" ? v : typeof v === "string" && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v.trim()) ? Number(v.trim()) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff ? n : undefined;
}

export function paramOf(params: ReadonlyMap<string, string | number | boolean>, name: string): boolean | number {
  return (params.get(name) as boolean | number | undefined) ?? PARAMS[name]!.default;
}
