// Caller memory a call reaches through pinned pages rather than through a
// pointer member: an access object's read or write of an IOAS
// (iommufd_access_rw) touches the memory the IOAS's areas were mapped from.
// Which ranges depends on the model's state (IOVA -> area -> process and
// address), so the table is here and not with the pointer members
// (src/uapi/pointers.ts). A live server reads these ranges before the call and
// writes back what the call changed (docs/live.md "Memory").

import { IOMMU_TEST_OPS } from "../../uapi/iommufd.ts";
import type { Decoded, StructDef } from "../../uapi/layout.ts";
import { accessRwTouched } from "../iommufd/selftest_access.ts";
import type { PhysRun } from "../iommufd/state.ts";
import type { State } from "../state.ts";

/**
 * A range of a process's memory the call reads, or writes when `write`; through IOVA
 * `iova` of an area whose pinned frames are `runs` (null: not pinned), which outlive
 * the process that mapped them.
 */
export interface TouchedRange {
  pid: number;
  va: bigint;
  len: bigint;
  write: boolean;
  iova: bigint;
  runs: readonly PhysRun[] | null;
}

/** By struct name: the ranges a call with this struct touches through pinned pages, from the state before it (fds are the model's). */
export const PINNED_TOUCH: Readonly<Record<string, (s: State, pid: number, m: Decoded) => TouchedRange[]>> = {
  // iommufd_test_access_rw -> iommufd_access_rw -> iopt_pages_rw_access
  iommu_test_cmd: (s, pid, m) =>
    m.op === IOMMU_TEST_OPS.ACCESS_RW
      ? accessRwTouched(s, pid, m.id as number, m["access_rw.iova"] as bigint, m["access_rw.length"] as bigint, m["access_rw.flags"] as number)
      : [],
};

/** The touched ranges of one call, from its struct as the kernel copies it (src/uapi/pointers.ts decodePadded), fds the model's. */
export function pinnedTouched(s: State, pid: number, def: StructDef, m: Decoded): TouchedRange[] {
  return PINNED_TOUCH[def.name]?.(s, pid, m) ?? [];
}
