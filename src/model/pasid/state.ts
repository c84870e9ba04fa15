// The PASID allocator of seed 002 (VFIO_IOMMU_PASID_REQUEST, never merged):
// the system-wide ioasid allocator, the per-mm vfio_mm with its quota, and the
// ledger of the last event's requests for the PASID audit (src/model/pasid/ioasid.ts).

/**
 * Seed 002's PASID bookkeeping (VFIO_IOMMU_PASID_REQUEST, never merged): the
 * one system-wide ioasid allocator, the per-mm vfio_mm quotas, and the ledger
 * of the last event's requests for the PASID audit.
 */
export interface PasidState {
  /** The system-wide ioasid allocator: PASID -> who holds it and the event that allocated it. */
  allocated: Map<number, { pid: number; seq: number }>;
  /**
   * The PASID events of the last event that made any (their seq tells which), in
   * order: an allocation, a free (by the ioctl, or by ioasid_free_set when the
   * process's last container went: via "vfio_mm_release"), and every refused
   * request with its errno (request: what was asked). The audit reads it after
   * each event; no history is kept in the state.
   */
  ledger: PasidLedgerEntry[];
  /**
   * struct vfio_mm by pid (the mm): the quota its ioasid set got when it was
   * created (vfio.pasid_quota at that moment), the PASIDs it holds, and its kref
   * (one per type1 container of that process).
   */
  quota: Map<number, { used: number; limit: number; refs: number }>;
}

export interface PasidLedgerEntry {
  seq: number;
  pid: number;
  op: "alloc" | "free" | "refuse";
  pasid?: number;
  errno?: string;
  /** refuse: what the request asked for. */
  request?: "alloc" | "free" | "invalid";
  /** free: by VFIO_IOMMU_PASID_REQUEST, or by ioasid_free_set on vfio_mm release. */
  via?: "ioctl" | "vfio_mm_release";
}

export function initialPasid(): PasidState {
  return { allocated: new Map(), ledger: [], quota: new Map() };
}
