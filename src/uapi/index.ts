// The uAPI layer in one import: struct layouts, ioctl commands, errno names.

import type { UapiCommand } from "./commands.ts";
import { IOMMUFD_COMMANDS, IOMMUFD_STRUCTS } from "./iommufd.ts";
import type { StructDef } from "./layout.ts";
import { VFIO_COMMANDS, VFIO_STRUCTS } from "./vfio.ts";

export * from "./commands.ts";
export * from "./errno.ts";
export * from "./ioctl.ts";
export * from "./iommufd.ts";
export * from "./layout.ts";
export * from "./vfio.ts";

/** Every command the headers define: iommufd first, then VFIO. */
export const UAPI_COMMANDS: readonly UapiCommand[] = [...Object.values(IOMMUFD_COMMANDS), ...Object.values(VFIO_COMMANDS)];

const BY_NAME: ReadonlyMap<string, UapiCommand> = (() => {
  const m = new Map<string, UapiCommand>();
  for (const c of UAPI_COMMANDS)
    for (const n of [c.name, ...c.aliases]) {
      if (m.has(n)) throw new Error(`ioctl name ${n} defined twice`);
      m.set(n, c);
    }
  return m;
})();

/** The command with this exact macro name, in any modelled spelling (e.g. IOMMU_IOAS_GET_PA). */
export function commandByName(name: string): UapiCommand | undefined {
  return BY_NAME.get(name);
}

/** Every command with this number (VFIO device and type1 container commands share numbers). */
export function commandsByNumber(n: number): UapiCommand[] {
  return UAPI_COMMANDS.filter((c) => c.number === n);
}

const STRUCTS_BY_NAME: ReadonlyMap<string, StructDef> = new Map([...IOMMUFD_STRUCTS, ...VFIO_STRUCTS].map((s) => [s.name, s] as const));

/** A struct by its kernel name ("iommu_ioas_map", "vfio_irq_set"). */
export function structByName(name: string): StructDef | undefined {
  return STRUCTS_BY_NAME.get(name);
}
export * from "./pointers.ts";
