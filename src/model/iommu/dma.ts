// DMA by a host device (the `dma` op with `bdf`, docs/trace-format.md
// "Device"): the IOMMU translates the address through the domain the
// device's RID (or the given PASID) is attached to (HostDevice.attached, see
// src/model/domain/attach.ts). One translation per page the access touches,
// in address order, as a device splits its requests at page boundaries; the
// first page that faults ends the DMA with that fault.

import {
  ACCESS_PRIV,
  ACCESS_READ,
  ACCESS_WRITE,
  FAULT_ADDRESS,
  FAULT_NON_CANONICAL,
  FAULT_NONE,
  N_GPA,
  N_STAGE,
  NestedWalker,
  newNestedResult,
  newWalkResult,
  R_ENTRY,
  R_LEVEL,
  R_PA,
  R_PAGE_LG2,
  R_PERM,
  R_STEPS,
  STAGE_FIRST,
  STAGE_SECOND,
  walkVtdSs,
  x86FsFaultName,
  type PageTable,
} from "../../pagewalk/index.ts";
import { IOMMU_HWPT_DATA_VTD_S1 } from "../../uapi/iommufd.ts";
import { attachedDomain } from "../domain/attach.ts";
import { markAccess } from "../domain/dirty.ts";
import { pageTableOf, permString, translate } from "../domain/domain.ts";
import { FORMATS } from "../domain/formats.ts";
import { NO_PASID, type NestedDomain, type PagingDomain } from "../domain/state.ts";
import { TableMem } from "../domain/tablemem.ts";
import type { TraceEvent } from "../events.ts";
import { notModelled, SimulatorFault } from "../framework.ts";
import type { HostIommu } from "../host/state.ts";
import type { Outcome } from "../outcome.ts";
import { provenance, type Provenance } from "../provenance.ts";
import type { State } from "../state.ts";
import { hex, U64_MAX } from "../values.ts";
import { Unmodelled } from "./driver.ts";
import { hostDriver } from "./index.ts";

const walk = newWalkResult();

/** Translate every page of [iova, iova + size) for the access; the first page's translation, or the first fault. */
function dmaThrough(s: State, domain: PagingDomain, iova: bigint, size: bigint, write: boolean): Outcome {
  const f = FORMATS[domain.format];
  const tm = new TableMem(s.memory);
  const access = write ? ACCESS_WRITE : ACCESS_READ;
  const end = iova + size - 1n;
  let first: Outcome | undefined;
  for (let cur = iova; ; ) {
    if (cur > U64_MAX) return { fault: f.faultName(FAULT_ADDRESS, write) };
    const fault = translate(tm, domain, cur, access, walk);
    const rec = provenance();
    // The walker reports the entries it read (R_ENTRY): their last writers are the walk's dependencies, every page's.
    if (rec !== null) {
      rec.ioasAddrs.push(cur);
      if (fault === FAULT_NONE) rec.outputs.push(BigInt(walk[R_PA]!));
      const top = pageTableOf(domain).levels;
      const steps = walk[R_STEPS]!;
      const skipped = top - (steps - 1) !== walk[R_LEVEL]; // AMDv1 level skipping: levels not by step
      for (let i = 0; i < steps; i++) {
        const at = walk[R_ENTRY + i]!;
        const level = i === steps - 1 ? walk[R_LEVEL]! : skipped ? undefined : top - i;
        rec.read(`domain page-table entry${level === undefined ? "" : ` (level ${level})`} at 0x${at.toString(16)}`, at, 8);
      }
    }
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
 * A device attached to a nested domain (IOMMU_HWPT_DATA_VTD_S1): the guest's
 * first-stage table at pgtbl_addr, 4 or 5 levels by addr_width, is walked with
 * every table pointer and the output going through the parent's second stage
 * (VT-d nested translation, PGTT 011b). 1 GiB first-stage pages per CAP.FS1GP
 * (bit 56). A first-stage fault is named as QEMU names first-stage faults, a
 * second-stage one as the second stage's. One translation per page the access
 * touches, as dmaThrough.
 */
function dmaNested(
  s: State,
  host: HostIommu | null,
  parent: PagingDomain,
  d: NestedDomain,
  iova: bigint,
  size: bigint,
  write: boolean,
  priv: boolean,
): Outcome {
  const aw = Number(d.data.addr_width ?? 48);
  const fs1gp = ((host?.capReg ?? 0n) >> 56n) & 1n ? 2 : 0;
  const s1: PageTable = { root: Number(d.data.pgtbl_addr ?? 0), levels: aw > 48 ? 5 : 4, vaBits: aw, oaBits: 52, granuleLg2: 12, superpages: 1 | fs1gp };
  const s2 = pageTableOf(parent);
  const access = (write ? ACCESS_WRITE : ACCESS_READ) | (priv ? ACCESS_PRIV : 0);
  const tm = new TableMem(s.memory);
  const end = iova + size - 1n;
  let first: Outcome | undefined;
  for (let cur = iova; ; ) {
    // Past 2^64 no address is canonical (x86 first stage).
    if (cur > U64_MAX) return { fault: x86FsFaultName(FAULT_NON_CANONICAL) };
    const fault = nestedWalker.walk(tm, s1, s2, Number(cur >> 32n), Number(cur & 0xffffffffn), access, nestedOut);
    const rec = provenance();
    if (rec !== null) nestedPieces(rec, tm, s1, s2, access);
    if (fault !== FAULT_NONE) return { fault: nestedOut[N_STAGE] === STAGE_SECOND ? FORMATS[parent.format].faultName(fault, write) : x86FsFaultName(fault) };
    const lg2 = BigInt(nestedOut[R_PAGE_LG2]!);
    first ??= { pa: hex(BigInt(nestedOut[R_PA]!)), page_size: hex(1n << lg2), perm: permString(nestedOut[R_PERM]!) };
    const next = ((cur >> lg2) + 1n) << lg2;
    if (next > end) return first;
    cur = next;
  }
}

const s2Walk = newWalkResult();

/**
 * For why: the entries a nested walk (nestedOut) read, in both stages. The
 * first stage's entries are at the GPAs it reports (R_ENTRY); each went
 * through the parent, as did the output GPA. The parent's walks are done
 * again here, as GpaReader did them (same memory, same GPAs), so the walkers
 * stay as they are: a table GPA the parent faulted on ends the walk there.
 */
function nestedPieces(rec: Provenance, tm: TableMem, s1: PageTable, s2: PageTable, access: number): void {
  const parent = (gpa: number, acc: number): number | undefined => {
    rec.ioasAddrs.push(BigInt(gpa));
    const f = walkVtdSs(tm, s2, Math.floor(gpa / 2 ** 32), gpa >>> 0, acc, s2Walk);
    for (let i = 0; i < s2Walk[R_STEPS]!; i++) {
      const at = s2Walk[R_ENTRY + i]!;
      rec.read(`second-stage PTE (level ${s2.levels - i}, nesting parent) at 0x${at.toString(16)}`, at, 8);
    }
    return f === FAULT_NONE ? s2Walk[R_PA]! : undefined;
  };
  for (let i = 0; i < nestedOut[R_STEPS]!; i++) {
    const gpa = nestedOut[R_ENTRY + i]!;
    const hpa = parent(gpa, ACCESS_READ);
    if (hpa === undefined) return;
    rec.read(`first-stage PTE (level ${s1.levels - i}) at GPA 0x${gpa.toString(16)} (host 0x${hpa.toString(16)})`, hpa, 8);
  }
  if (nestedOut[N_STAGE] === STAGE_FIRST) return;
  const out = parent(nestedOut[N_GPA]!, access & (ACCESS_READ | ACCESS_WRITE));
  if (out !== undefined) rec.outputs.push(BigInt(out));
}

/** The `dma` op of a host device (`bdf`). */
export function hostDeviceDma(s: State, ev: TraceEvent): Outcome | SimulatorFault {
  const bdf = ev.bdf as string;
  const dev = s.host.devices.get(bdf);
  if (!dev) return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "bad-input", message: `field bdf: no host device ${bdf} (declare it with host.device)` });
  if (dev.mdev) return notModelled(ev, "DMA by a mediated device");
  const iova = ev.iova as bigint;
  // No IOMMU: the bus address is the physical address.
  if (!dev.iommu) return { pa: hex(iova) };
  const host = s.host.iommu;
  const blocked = hostDriver(s).blockedFault(host);
  if (blocked instanceof Unmodelled) return notModelled(ev, blocked.what);
  const pasid = (ev.pasid as number | undefined) ?? NO_PASID;
  const domain = attachedDomain(s, bdf, pasid);
  const rec = provenance();
  if (rec !== null) {
    rec.begin();
    rec.piece(domain ? "attach" : "detach", `attach:${bdf}:${pasid}`);
    if (domain) rec.piece("domain allocation", `domain:${domain.id}`);
    if (domain?.type === "nested") rec.piece("domain allocation (nesting parent)", `domain:${domain.parentId}`);
  }
  if (!domain) return { fault: blocked };
  const write = ev.access === "write";
  const size = BigInt((ev.size as number | undefined) ?? 1);
  if (domain.type === "nested") {
    const parent = s.domains.table.get(domain.parentId);
    if (domain.dataType !== IOMMU_HWPT_DATA_VTD_S1 || parent?.type !== "paging" || parent.format !== "vtd-ss")
      return notModelled(ev, "DMA through a nested HWPT other than VT-d stage-1 over a second-stage parent");
    return dmaNested(s, host, parent, domain, iova, size, write, ev.priv === true);
  }
  return dmaThrough(s, domain, iova, size, write);
}
