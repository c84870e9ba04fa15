// Seed 002's PASID allocator (include/linux/ioasid.h as the series used it):
// one system-wide ioasid space handing out the lowest free PASID in a range,
// an ioasid set per mm (struct vfio_mm) whose quota bounds what it holds, and
// the ledger the PASID audit reads. VFIO's type1 open and release take and put
// the vfio_mm; VFIO_IOMMU_PASID_REQUEST allocates and frees.

import type { ReduceEnv } from "../framework.ts";
import { paramOf } from "../host/params.ts";
import type { State } from "../state.ts";
import type { PasidLedgerEntry } from "./state.ts";

/** INVALID_IOASID: never handed out. */
const INVALID_IOASID = 0xffffffff;

/**
 * The audit ledger: the allocations, frees and refusals of the last event that made
 * any, in order. The audit reads it after every event (src/audit/pasid.ts), so the
 * state keeps no history: a ledger of every request would grow each state, and each
 * checkpoint, with the trace (docs/decisions.md).
 */
export function ledger(s: State, e: PasidLedgerEntry): void {
  const l = s.pasid.ledger;
  if (l.length > 0 && l[0]!.seq !== e.seq) s.pasid.ledger = [e];
  else l.push(e);
}

/** vfio_mm_get_from_task at vfio_iommu_type1_open: the process's vfio_mm, made with the current quota. */
export function vfioMmGet(s: State, pid: number): void {
  const q = s.pasid.quota.get(pid);
  if (q) q.refs++;
  else s.pasid.quota.set(pid, { used: 0, limit: paramOf(s.params, "vfio.pasid_quota") as number, refs: 1 });
}

/** vfio_mm_put at vfio_iommu_type1_release: the last reference frees the set and every PASID in it (ioasid_free_set). */
export function vfioMmPut(s: State, pid: number, env: ReduceEnv): void {
  const q = s.pasid.quota.get(pid);
  if (!q || --q.refs > 0) return;
  for (const [pasid, h] of [...s.pasid.allocated].sort((a, b) => a[0] - b[0])) {
    if (h.pid !== pid) continue;
    s.pasid.allocated.delete(pasid);
    ledger(s, { seq: env.seq, pid, op: "free", pasid, via: "vfio_mm_release" });
  }
  s.pasid.quota.delete(pid);
}

/** ioasid_alloc(sid, min, max): the set's quota, then the lowest free id in [min, max]; undefined: INVALID_IOASID. */
export function ioasidAlloc(s: State, pid: number, min: number, max: number, seq: number): number | undefined {
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
export function ioasidFree(s: State, pid: number, pasid: number): string | undefined {
  const h = s.pasid.allocated.get(pasid);
  if (!h) return "ENOENT";
  if (h.pid !== pid) return "EACCES";
  s.pasid.allocated.delete(pasid);
  s.pasid.quota.get(pid)!.used--;
  return undefined;
}
