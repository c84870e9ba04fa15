// The `dma` op (TRACE-FORMAT.md "Device"): a host device reads or writes
// memory and the host IOMMU translates the address through the domain its RID
// (or the given PASID) is attached to. One translation per page the access
// touches, in address order, as a device splits its requests at page
// boundaries; the first page that faults ends the DMA with that fault.

import {
  ACCESS_PRIV,
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_ADDRESS,
  FAULT_NONE,
  N_STAGE,
  NestedWalker,
  newNestedResult,
  newWalkResult,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  STAGE_SECOND,
  x86FsFaultName,
  type PageTable,
} from "../../pagewalk/index.ts";
import { IOMMU_HWPT_DATA_TYPES } from "../../uapi/iommufd.ts";

import type { TraceEvent } from "../events.ts";
import { notModelled, SimulatorFault, type Reducer } from "../framework.ts";
import type { HostIommu } from "../host/state.ts";
import { NO_PASID, type Domain } from "../iommufd/state.ts";
import type { Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import { hex } from "../values.ts";
import { markAccess } from "./dirty.ts";
import { pageTableOf, permString, translate } from "./domain.ts";
import { FORMATS } from "./formats.ts";
import { TableMem } from "./tablemem.ts";
import { guestDma } from "../qemu/guest.ts";

const IOMMU_HWPT_DATA_VTD_S1 = IOMMU_HWPT_DATA_TYPES.IOMMU_HWPT_DATA_VTD_S1!;

/** What translates a device's requests (for one PASID, or the RID). */
export type Attachment =
  | { kind: "paging"; domain: Domain }
  /** A nested HWPT: the stage-1 table the user gave (VTD_S1: pgtbl_addr, addr_width), over its parent's domain. */
  | { kind: "nested"; parent: Domain; dataType: number; data: Record<string, bigint | number> }
  | { kind: "blocked" };

/** Finds a device's attachment; undefined when this subsystem does not hold the device. */
export type AttachmentLookup = (s: State, bdf: string, pasid: number) => Attachment | undefined;

/**
 * The iommufd device bound for this bdf: its attachment for the PASID, else
 * blocked (a bound device sits in the blocking domain until it attaches).
 */
function iommufdAttachment(s: State, bdf: string, pasid: number): Attachment | undefined {
  for (const ctx of s.iommufd.values())
    for (const obj of ctx.objects.values()) {
      if (obj.type !== "device" || obj.bdf !== bdf) continue;
      const id = obj.attach.get(pasid);
      const hwpt = id === undefined ? undefined : ctx.objects.get(id);
      if (hwpt?.type === "hwpt_paging") return { kind: "paging", domain: hwpt.domain };
      if (hwpt?.type === "hwpt_nested") {
        const parent = ctx.objects.get(hwpt.parentId);
        if (parent?.type === "hwpt_paging") return { kind: "nested", parent: parent.domain, dataType: hwpt.dataType, data: hwpt.data };
        return { kind: "blocked" };
      }
      return { kind: "blocked" };
    }
  return undefined;
}

/** Where a host device's translation is found, in order; a VFIO type1 container would add its lookup here. */
export const DMA_ATTACHMENTS: AttachmentLookup[] = [iommufdAttachment];

/**
 * The fault of a device nobody attached (blocked): VT-d in scalable mode
 * (ECAP.SMTS, bit 43) has its PASID entry cleared (intel_pasid_tear_down_entry),
 * in legacy mode its context entry (domain_context_clear_one); the AMD
 * blocking DTE has translation valid, mode 0 and IR = IW = 0, which denies
 * every access (the mock's blocking domain is named the same way).
 */
function blockedFault(host: HostIommu | null): string {
  if (host?.type === "intel_vtd") return host.ecapReg & (1n << 43n) ? "VTD_FR_PASID_ENTRY_P" : "VTD_FR_CONTEXT_ENTRY_P";
  return "IO_PAGE_FAULT_PE";
}

const U64_MAX = (1n << 64n) - 1n;
const walk = newWalkResult();

/** Translate every page of [iova, iova + size) for the access; the first page's translation, or the first fault. */
function dmaThrough(s: State, domain: Domain, iova: bigint, size: bigint, write: boolean): Outcome {
  const f = FORMATS[domain.format];
  const tm = new TableMem(s.memory);
  const access = write ? ACCESS_WRITE : ACCESS_READ;
  const end = iova + size - 1n;
  let first: Outcome | undefined;
  for (let cur = iova; ; ) {
    if (cur > U64_MAX) return { fault: f.faultName(FAULT_ADDRESS, write) };
    const fault = translate(tm, domain, cur, access, walk);
    if (fault !== FAULT_NONE) return { fault: f.faultName(fault, write) };
    markAccess(tm, domain, walk, write);
    const lg2 = BigInt(walk[R_PAGE_LG2]!);
    first ??= { pa: hex(BigInt(walk[R_PA]!)), page_size: hex(1n << lg2), perm: permString(walk[R_PERM]!) };
    const next = ((cur >> lg2) + 1n) << lg2;
    if (next > end) return first;
    cur = next;
  }
}

const nestedWalker = new NestedWalker();
const nestedOut = newNestedResult();

/**
 * A device attached to a nested HWPT (IOMMU_HWPT_DATA_VTD_S1): the guest's
 * first-stage table at pgtbl_addr, 4 or 5 levels by addr_width, is walked with
 * every table pointer and the output going through the parent's second stage
 * (VT-d nested translation, PGTT 011b). 1 GiB first-stage pages per CAP.FS1GP
 * (bit 56). A first-stage fault is named as QEMU names first-stage faults, a
 * second-stage one as the second stage's.
 */
function dmaNested(s: State, parent: Domain, data: Record<string, bigint | number>, iova: bigint, write: boolean, priv: boolean): Outcome {
  const aw = Number(data.addr_width ?? 48);
  const fs1gp = ((s.host.iommu?.capReg ?? 0n) >> 56n) & 1n ? 2 : 0;
  const s1: PageTable = { root: Number(data.pgtbl_addr ?? 0), levels: aw > 48 ? 5 : 4, vaBits: aw, oaBits: 52, granuleLg2: 12, superpages: 1 | fs1gp };
  const access = (write ? ACCESS_WRITE : ACCESS_READ) | (priv ? ACCESS_PRIV : 0);
  const fault = nestedWalker.walk(new TableMem(s.memory), s1, pageTableOf(parent), Number(iova >> 32n), Number(iova & 0xffffffffn), access, nestedOut);
  if (fault !== FAULT_NONE)
    return { fault: nestedOut[N_STAGE] === STAGE_SECOND ? FORMATS[parent.format].faultName(fault, write) : x86FsFaultName(fault) };
  return { pa: hex(BigInt(nestedOut[R_PA]!)), page_size: hex(1n << BigInt(nestedOut[R_PAGE_LG2]!)), perm: permString(nestedOut[R_PERM]!) };
}

export const dma: Reducer = (s: State, ev: TraceEvent): Outcome | SimulatorFault => {
  if (ev.guest_bdf !== undefined) return guestDma(s, ev);
  const bdf = ev.bdf as string;
  const dev = s.host.devices.get(bdf);
  if (!dev) return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "bad-input", message: `field bdf: no host device ${bdf} (declare it with host.device)` });
  if (dev.mdev) return notModelled(ev, "DMA by a mediated device");
  const iova = ev.iova as bigint;
  // No IOMMU: the bus address is the physical address.
  if (!dev.iommu) return { pa: hex(iova) };
  if (s.host.iommu?.type === "arm_smmuv3") return notModelled(ev, "DMA translation by an ARM SMMUv3");
  const pasid = (ev.pasid as number | undefined) ?? NO_PASID;
  let att: Attachment | undefined;
  for (const lookup of DMA_ATTACHMENTS) if ((att = lookup(s, bdf, pasid))) break;
  if (!att || att.kind === "blocked") return { fault: blockedFault(s.host.iommu) };
  if (att.kind === "nested") {
    if (att.dataType !== IOMMU_HWPT_DATA_VTD_S1 || att.parent.format !== "vtd-ss") return notModelled(ev, "DMA through a nested HWPT other than VT-d stage-1 over a second-stage parent");
    return dmaNested(s, att.parent, att.data, iova, ev.access === "write", ev.priv === true);
  }
  return dmaThrough(s, att.domain, iova, BigInt((ev.size as number | undefined) ?? 1), ev.access === "write");
};

export const dmaReducers = { dma };
