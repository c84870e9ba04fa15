// Seed 002: VFIO_IOMMU_PASID_REQUEST ("[PATCH v1 1/8] vfio: Add
// VFIO_IOMMU_PASID_REQUEST(alloc/free)", Liu Yi L, 2020-03-22; never merged),
// on a type1 container, under switch `vfio-pasid-request`, exactly as posted;
// switch `vfio-pasid-request-fixed` applies the review of the thread.
//
// The patch's model: one system-wide ioasid allocator (lowest free PASID from
// min); a vfio_mm per mm (here: per pid) made by vfio_iommu_type1_open
// (VFIO_SET_IOMMU) and put by vfio_iommu_type1_release, whose ioasid set
// carries the quota; releasing the last container of a process frees every
// PASID it holds (ioasid_free_set(sid, true)).
//
// The quota: vfio_create_mm hands VFIO_DEFAULT_PASID_QUOTA (1000) to
// ioasid_alloc_set when the vfio_mm is created, and "making PASID quota
// tunable will be added in another patch in this series": the model reads
// `param vfio.pasid_quota` at that moment, so a new value applies to vfio_mms
// created afterwards, never to one that exists (its set keeps its quota).
//
// v1 as posted (vfio_iommu_type1_ioctl):
// - copy offsetofend(flags) = 8 bytes (EFAULT); argsz < 8 or invalid flags
//   (an unknown bit, or ALLOC and FREE together) EINVAL; then the remaining
//   sizeof(req) - 8 = 12 bytes are copied whatever argsz says ("Huh? Why do
//   we have argsz if we're going to assume this is here?"): a short argsz
//   still reads min/max (or free_pasid) from the caller's memory past it, and
//   the result is written at offset 16 past it too;
// - ALLOC and FREE fail with EFAULT when the container has no IOMMU-backed
//   domain (IS_IOMMU_CAP_DOMAIN_IN_CONTAINER; reviewers: "should be removed");
// - an allocation whose result is not > 0 is reported as EFAULT: a failed
//   allocation (ENOSPC: quota or range exhausted) and also a PASID that was
//   allocated as 0 (or at or above 2^31, negative as an int), which stays
//   allocated and is lost to the caller;
// - FREE goes through ioasid_find(sid, pasid): ENOENT when not allocated,
//   EACCES when another set (process) holds it;
// - flags 0 passes the flag check and ends in the switch's default: EINVAL.
// Fixed (the review applied): no domain check; argsz honoured (ALLOC needs
// argsz >= offsetofend(alloc_pasid) = 20, FREE >= offsetofend(free_pasid) =
// 12, else EINVAL); a failed allocation returns its errno (ENOSPC) and every
// allocated PASID (0 included) is returned in `result`.

import type { ReduceEnv } from "../framework.ts";
import { errno, type Outcome } from "../outcome.ts";
import { ioasidAlloc, ioasidFree, ledger } from "../pasid/ioasid.ts";
import type { PasidLedgerEntry } from "../pasid/state.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { userBytes } from "../uaccess/vfio_arg.ts";
import type { Type1 } from "./state.ts";
import { type1Of } from "./type1.ts";

const ALLOC = 1;
const FREE = 2;
const MASK = ALLOC | FREE;

/** IS_IOMMU_CAP_DOMAIN_IN_CONTAINER: an IOMMU-backed group is attached. */
const domainInContainer = (t: Type1): boolean => t.domainGroups.length > 0;

export function vfioIommuType1PasidRequest(s: State, call: IoctlCall, env: ReduceEnv) {
  const t = type1Of(s, call);
  if (!("dmaList" in t)) return t;
  const pid = call.process.pid;
  const fixed = env.profile.on("vfio-pasid-request-fixed");
  const refuse = (request: PasidLedgerEntry["request"], e: string, pasid?: number): Outcome => {
    ledger(s, { seq: env.seq, pid, op: "refuse", request, errno: e, ...(pasid !== undefined ? { pasid } : {}) });
    return errno(e);
  };
  const bytes = userBytes(call);
  if (!bytes) return refuse("invalid", "EFAULT");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const argsz = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  // vfio_iommu_type1_pasid_req_valid
  if (argsz < 8 || flags & ~MASK || (flags & ALLOC && flags & FREE)) return refuse("invalid", "EINVAL");
  const op = flags & MASK;
  if (op !== ALLOC && op !== FREE) return refuse("invalid", "EINVAL");
  if (fixed && argsz < (op === ALLOC ? 20 : 12)) return refuse(op === ALLOC ? "alloc" : "free", "EINVAL");
  const vmm = t.vmmPid;

  if (op === FREE) {
    const pasid = v.getUint32(8, true);
    if (!fixed && !domainInContainer(t)) return refuse("free", "EFAULT", pasid);
    if (vmm === null) return refuse("free", "EINVAL", pasid);
    const err = ioasidFree(s, vmm, pasid);
    if (err) return refuse("free", err, pasid);
    ledger(s, { seq: env.seq, pid, op: "free", pasid, via: "ioctl" });
    return { ret: 0 };
  }

  const min = v.getUint32(8, true);
  const max = v.getUint32(12, true);
  if (!fixed && !domainInContainer(t)) return refuse("alloc", "EFAULT");
  if (vmm === null) return refuse("alloc", fixed ? "EINVAL" : "EFAULT");
  const pasid = ioasidAlloc(s, vmm, min, max, env.seq);
  if (pasid === undefined) return refuse("alloc", fixed ? "ENOSPC" : "EFAULT");
  // v1: `if (result > 0)` on an int: 0 and ids from 2^31 are allocated but reported as EFAULT.
  if (!fixed && (pasid === 0 || pasid >= 0x80000000)) {
    ledger(s, { seq: env.seq, pid, op: "alloc", pasid, errno: "EFAULT" });
    return errno("EFAULT");
  }
  ledger(s, { seq: env.seq, pid, op: "alloc", pasid });
  // copy_to_user(arg + offsetof(alloc_pasid.result)): v1 writes it whatever argsz says.
  return { ret: 0, out: { result: pasid } };
}
