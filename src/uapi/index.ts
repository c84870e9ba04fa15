// The uAPI layer in one import: struct layouts, ioctl numbers, errno names,
// and the lookups the trace reader and the reducer dispatch use.

import type { FileKind, IoctlDef } from "./commands.ts";
import { IOMMUFD_IOCTLS, IOMMUFD_STRUCTS } from "./iommufd.ts";
import { offsetofend, type StructDef } from "./layout.ts";
import { VFIO_IOCTLS, VFIO_STRUCTS } from "./vfio.ts";

export * from "./commands.ts";
export * from "./errno.ts";
export * from "./ioctl.ts";
export * from "./iommufd.ts";
export * from "./layout.ts";
export * from "./vfio.ts";

/** Every modelled command: iommufd first, then VFIO. */
export const ALL_IOCTLS: readonly IoctlDef[] = [...IOMMUFD_IOCTLS, ...VFIO_IOCTLS];

const BY_NAME: ReadonlyMap<string, IoctlDef> = (() => {
  const m = new Map<string, IoctlDef>();
  for (const def of ALL_IOCTLS) {
    for (const n of [def.name, ...def.aliases]) {
      if (m.has(n)) throw new Error(`ioctl name ${n} defined twice`);
      m.set(n, def);
    }
  }
  return m;
})();

/** The command with this exact uAPI macro name, in any modelled spelling (e.g. IOMMU_IOAS_GET_PA). */
export function ioctlByName(name: string): IoctlDef | undefined {
  return BY_NAME.get(name);
}

/** Every command with this number; VFIO device and container commands share numbers. */
export function ioctlsByNumber(n: number): IoctlDef[] {
  return ALL_IOCTLS.filter((d) => d.number === n);
}

/** The command this number means on a file of this kind, if that file's handler knows it. */
export function ioctlFor(number: number, fileKind: FileKind): IoctlDef | undefined {
  return ALL_IOCTLS.find((d) => d.number === number && d.files.includes(fileKind));
}

/**
 * The smallest size/argsz the kernel accepts: offsetofend(minMember) for iommufd
 * (IOCTL_OP), the handler's minsz for VFIO; undefined for non-struct arguments.
 */
export function ioctlMinSize(def: IoctlDef): number | undefined {
  if (def.minsz !== undefined) return def.minsz;
  if (def.minMember !== undefined && def.arg.kind === "struct") return offsetofend(def.arg.struct, def.minMember);
  return undefined;
}

const STRUCTS_BY_NAME: ReadonlyMap<string, StructDef> = new Map(
  [...IOMMUFD_STRUCTS, ...VFIO_STRUCTS].map((s) => [s.name, s] as const),
);

/** A struct by its kernel name ("iommu_ioas_map", "vfio_irq_set"). */
export function structByName(name: string): StructDef | undefined {
  return STRUCTS_BY_NAME.get(name);
}
