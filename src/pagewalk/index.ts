// The page-walk core: page-table formats and their walkers (ARCHITECTURE.md
// "Page walk core"). Imports nothing from the rest of iorr. One walker per
// format, all with the Walker signature; x86 first-stage, nested walks and the
// IOTLB come next to these.

import { walkAmdv1 } from "./amdv1.ts";
import type { Walker } from "./types.ts";
import { walkVtdSs } from "./vtd_ss.ts";

export type PtFormat = "vtd-ss" | "amdv1";

export const WALKERS: Readonly<Record<PtFormat, Walker>> = {
  "vtd-ss": walkVtdSs,
  amdv1: walkAmdv1,
};

export * from "./types.ts";
export * from "./vtd_ss.ts";
export * from "./amdv1.ts";
