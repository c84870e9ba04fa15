// The page-walk core: page-table formats and their walkers (docs/architecture.md
// "Page walk core"). Imports nothing from the rest of iorr. One walker per
// format, all with the Walker signature (x86fs.ts: VT-d first stage), nested
// first-stage-over-second-stage walks (nested.ts) and the IOTLB (iotlb.ts).

import { walkAmdv1 } from "./amdv1.ts";
import type { Walker } from "./types.ts";
import { walkVtdSs } from "./vtd_ss.ts";
import { walkX86Fs } from "./x86fs.ts";

export type PtFormat = "vtd-ss" | "amdv1" | "x86-fs";

export const WALKERS: Readonly<Record<PtFormat, Walker>> = {
  "vtd-ss": walkVtdSs,
  amdv1: walkAmdv1,
  "x86-fs": walkX86Fs,
};

export * from "./types.ts";
export * from "./vtd_ss.ts";
export * from "./amdv1.ts";
export * from "./x86fs.ts";
export * from "./nested.ts";
export * from "./iotlb.ts";
