// What QEMU answered for an event, and whether iorr's outcome says the same.
// Shared by the oracle and the test that holds iorr to the committed verdicts.

import type { Outcome } from "../model/outcome.ts";
import { VTD_FR } from "../model/viommu/vtd/faults.ts";

/**
 * QEMU's answer: a register's value, or a DMA's translation (`pa`, and `page_size`
 * when vtd_dmar_translate printed its mask) or fault (the VTD_FR_* name of
 * vtd_dmar_fault's number; `null` when the fault was not reported because the
 * entry has FPD set, vtd_report_fault's trace_vtd_fault_disabled; `unbacked` when the
 * translated access beyond guest RAM failed), or for a
 * qemu.viommu whether QEMU started with it (`ok`) or the error it stopped with.
 */
export type Observation = { value: string } | { pa: string; page_size?: string; unbacked?: true } | { fault: string | null } | { ok: true } | { error: string };

const FR_NAME = new Map(Object.entries(VTD_FR).map(([name, n]) => [n, name]));

/** VTDFaultReason number to its name (intel_iommu_internal.h). */
export function faultName(n: number): string {
  return FR_NAME.get(n) ?? `VTD_FR(0x${n.toString(16)})`;
}

const big = (v: unknown): bigint | undefined => (typeof v === "number" || typeof v === "bigint" || typeof v === "string" ? BigInt(v) : undefined);

/** The first field where iorr's outcome differs from QEMU's observation; undefined when they agree. */
export function differs(qemu: Observation, iorr: Outcome): string | undefined {
  if ("ok" in qemu) return iorr.ok === true ? undefined : "ok";
  if ("error" in qemu) return iorr.error === qemu.error ? undefined : "error";
  if ("value" in qemu) return big(iorr.value) === BigInt(qemu.value) ? undefined : "value";
  if ("fault" in qemu) {
    if (iorr.fault === undefined) return "fault";
    return qemu.fault === null || qemu.fault === iorr.fault ? undefined : "fault";
  }
  // A translation beyond guest RAM whose access failed: the memory core's refusal (iorr's
  // MEMTX_DECODE_ERROR, the entry's perm) and an access that reached nothing look the same.
  if (qemu.unbacked && iorr.fault === "MEMTX_DECODE_ERROR") return undefined;
  if (iorr.pa === undefined || big(iorr.pa) !== BigInt(qemu.pa)) return iorr.fault !== undefined ? "fault" : "pa";
  if (qemu.page_size !== undefined && iorr.page_size !== undefined && big(iorr.page_size) !== BigInt(qemu.page_size)) return "page_size";
  return undefined;
}
