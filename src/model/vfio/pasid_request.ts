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
import { registerIoctl } from "../ioctl/dispatch.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import { paramOf } from "../host/params.ts";
import { TYPE1_HOOKS } from "./container.ts";
import type { PasidLedgerEntry, Type1, VfioContainer } from "./state.ts";
import { type1Of } from "./type1.ts";
import { userBytes } from "./uarg.ts";

const ALLOC = 1;
const FREE = 2;
const MASK = ALLOC | FREE;
/** INVALID_IOASID: never handed out. */
const INVALID_IOASID = 0xffffffff;

function ledger(s: State, e: PasidLedgerEntry): void {
  s.pasid.ledger.push(e);
}

/** vfio_mm_get_from_task at vfio_iommu_type1_open: the process's vfio_mm, made with the current quota. */
TYPE1_HOOKS.opened = (s: State, c: VfioContainer, pid: number, env: ReduceEnv) => {
  if (!env.profile.on("vfio-pasid-request")) return;
  const q = s.pasid.quota.get(pid);
  if (q) q.refs++;
  else s.pasid.quota.set(pid, { used: 0, limit: paramOf(s.params, "vfio.pasid_quota") as number, refs: 1 });
  c.type1!.vmmPid = pid;
};

/** vfio_mm_put at vfio_iommu_type1_release: the last reference frees the set and every PASID in it. */
TYPE1_HOOKS.released = (s: State, c: VfioContainer, env: ReduceEnv) => {
  const pid = c.type1?.vmmPid;
  if (pid === null || pid === undefined) return;
  const q = s.pasid.quota.get(pid);
  if (!q || --q.refs > 0) return;
  for (const [pasid, h] of [...s.pasid.allocated].sort((a, b) => a[0] - b[0])) {
    if (h.pid !== pid) continue;
    s.pasid.allocated.delete(pasid);
    ledger(s, { seq: env.seq, pid, op: "free", pasid, via: "vfio_mm_release" });
  }
  s.pasid.quota.delete(pid);
};

/** IS_IOMMU_CAP_DOMAIN_IN_CONTAINER: an IOMMU-backed group is attached. */
const domainInContainer = (t: Type1): boolean => t.domainGroups.length > 0;

/** ioasid_alloc(sid, min, max): the set's quota, then the lowest free id in [min, max]; undefined: INVALID_IOASID. */
function ioasidAlloc(s: State, pid: number, min: number, max: number, seq: number): number | undefined {
  const q = s.pasid.quota.get(pid)!;
  if (q.used >= q.limit) return undefined;
  for (let id = min; id <= max && id !== INVALID_IOASID; id++) {
    if (s.pasid.allocated.has(id)) continue;
    s.pasid.allocated.set(id, { pid, seq });
    q.used++;
    return id;
  }
  return undefined;
}

/** vfio_mm_pasid_free: ioasid_find(sid, pasid) (ENOENT, EACCES), then ioasid_free. */
function ioasidFree(s: State, pid: number, pasid: number): string | undefined {
  const h = s.pasid.allocated.get(pasid);
  if (!h) return "ENOENT";
  if (h.pid !== pid) return "EACCES";
  s.pasid.allocated.delete(pasid);
  s.pasid.quota.get(pid)!.used--;
  return undefined;
}

registerIoctl("VFIO_IOMMU_PASID_REQUEST", ["vfio-container"], (s, call, env) => {
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
});
