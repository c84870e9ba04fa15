// Named presets: ordered lists of switches, like a patch series. A preset that
// builds on another starts with that one's name, so bisect over a preset walks
// the switches in the order the changes landed. A preset belongs to one
// component and is made of that component's presets and switches only
// (checked when this module loads).

import { COMPONENTS, type Component } from "./components.ts";
import { SWITCHES, type SwitchDef } from "./switches.ts";

export interface PresetDef {
  readonly name: string;
  /** The kernel or the QEMU device the preset is a version of. */
  readonly component: Component;
  readonly summary: string;
  /** Preset names (expanded in place) and switch names, in order. */
  readonly items: readonly string[];
}

const defs: PresetDef[] = [
  {
    name: "linux-6.19",
    component: "kernel",
    summary: "iommufd and VFIO as in v6.19: dma-buf export, bind token, PASID attach; no no-IOMMU cdev",
    items: ["vfio-cdev", "vfio-pasid-attach", "vfio-bind-token", "vfio-bind-ksize-fix", "vfio-type1-nesting-removed", "vfio-dmabuf-export"],
  },
  {
    name: "linux-noiommu-v4",
    component: "kernel",
    summary: "linux-6.19 plus the no-IOMMU cdev series as posted (V4): IOMMU_IOAS_GET_PA with out_length",
    items: ["linux-6.19", "noiommu-cdev", "ioas-get-pa"],
  },
  {
    name: "linux-mainline",
    component: "kernel",
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
    component: "kernel",
    summary: "linux-6.19 plus seed 002's VFIO_IOMMU_PASID_REQUEST as posted",
    items: ["linux-6.19", "vfio-pasid-request"],
  },
  {
    name: "linux-pasid-request-fixed",
    component: "kernel",
    summary: "linux-6.19 plus seed 002's VFIO_IOMMU_PASID_REQUEST with the review fixes",
    items: ["linux-pasid-request-v1", "vfio-pasid-request-fixed"],
  },
  { name: "qemu-flts-v5", component: "qemu-intel-iommu", summary: "seed 001: intel_iommu x-flts checks, patch 08 as posted", items: ["vtd-flts-check"] },
  {
    name: "qemu-flts-reviewed",
    component: "qemu-intel-iommu",
    summary: 'seed 001 with the review changes: no NEST check, "large page", "guest stage-1 translation"',
    items: ["qemu-flts-v5", "vtd-flts-no-nest-check", "vtd-flts-large-page-wording", "vtd-flts-guest-stage1-wording"],
  },
  { name: "qemu-flts-final", component: "qemu-intel-iommu", summary: "QEMU master as merged", items: ["qemu-flts-reviewed", "vtd-flts-final"] },
  {
    name: "qemu-vtd-pasid-rfc2",
    component: "qemu-intel-iommu",
    summary: "the intel-iommu PASID series (RFCv2, unmerged)",
    items: ["qemu-flts-final", "vtd-pasid-rfc2"],
  },
  { name: "qemu-vpasid-v6", component: "qemu-vfio-pci", summary: "seed 000 v6: PASID capability at the last 8 bytes", items: ["vpasid-cap-last-8"] },
  {
    name: "qemu-vpasid-v7",
    component: "qemu-vfio-pci",
    summary: "seed 000 v7: get_pasid_info, the mdev check, x-vpasid-cap-offset, the insert helper and its two bugs",
    items: ["qemu-vpasid-v6", "vpasid-cap-v7", "vpasid-cap-offset-prop", "vpasid-insert-v7"],
  },
  {
    name: "qemu-vpasid-final",
    component: "qemu-vfio-pci",
    summary: "seed 000 v8/v9 as merged",
    items: ["qemu-vpasid-v7", "vpasid-insert-walk-next", "vpasid-cap-final"],
  },
];

export const PRESETS: ReadonlyMap<string, PresetDef> = new Map(defs.map((d) => [d.name, d]));

/** The profile used when neither the trace nor the command line names one: one preset per component. */
export const DEFAULT_PROFILE: readonly string[] = ["linux-mainline", "qemu-flts-final", "qemu-vpasid-final"];

/**
 * The preset tables are consistent: every item of a preset is a switch or an
 * earlier preset of the preset's own component, and the default profile names
 * exactly one preset of each component. Returns the problems found.
 */
export function checkPresets(presets: readonly PresetDef[], switches: ReadonlyMap<string, SwitchDef>, defaults: readonly string[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, PresetDef>();
  for (const p of presets) {
    if (seen.has(p.name) || switches.has(p.name)) problems.push(`preset ${p.name}: the name is taken twice`);
    for (const item of p.items) {
      const c = seen.get(item)?.component ?? switches.get(item)?.component;
      if (c === undefined) problems.push(`preset ${p.name}: ${item} is neither a switch nor an earlier preset`);
      else if (c !== p.component) problems.push(`preset ${p.name} (${p.component}): ${item} belongs to ${c}`);
    }
    seen.set(p.name, p);
  }
  for (const c of COMPONENTS) {
    const named = defaults.filter((d) => seen.get(d)?.component === c);
    if (named.length !== 1) problems.push(`the default profile names ${named.length} presets of ${c}, not one`);
  }
  for (const d of defaults) if (!seen.has(d)) problems.push(`the default profile names ${d}, which is no preset`);
  return problems;
}

const problems = checkPresets(defs, SWITCHES, DEFAULT_PROFILE);
if (problems.length > 0) throw new Error(`src/profiles/presets.ts: ${problems.join("; ")}`);

/** The default preset of each component (the default profile's preset of that component). */
export const DEFAULT_PRESET: ReadonlyMap<Component, string> = new Map(
  COMPONENTS.map((c) => [c, DEFAULT_PROFILE.find((d) => PRESETS.get(d)!.component === c)!]),
);
