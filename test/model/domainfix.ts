// Fixtures for domain and dma tests: a host, an iommufd context holding a
// paging HWPT and a bound device, areas, and dma events folded with immer.

import { Effect } from "effect";
import { iommuAttach } from "../../src/model/domain/attach.ts";
import { domainAllocPaging } from "../../src/model/domain/domain.ts";
import type { DomainParams } from "../../src/model/domain/params.ts";
import { NO_PASID, type PagingDomain } from "../../src/model/domain/state.ts";
import { foldBatch } from "../../src/model/fold.ts";
import { FILE_OPS } from "../../src/model/fops.ts";
import { ProfileService, type ReduceEnv } from "../../src/model/framework.ts";
import { hostDriver } from "../../src/model/iommu/index.ts";
import { mapAreaInto } from "../../src/model/iommufd/io_pagetable.ts";
import type { Area, HwptPaging, IommufdCtx, IommufdDevice } from "../../src/model/iommufd/state.ts";
import type { Outcome } from "../../src/model/outcome.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import type { State } from "../../src/model/state.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { run } from "../helpers.ts";

export const BDF = "0000:01:00.0";
export const profile = resolveProfile(["linux-mainline"]);
export const env: ReduceEnv = { profile, seq: 0, fops: FILE_OPS };

/** QEMU's default intel-iommu registers with scalable mode (CAP.SLLPS 2M+1G, MGAW 48; ECAP.SMTS) (vtd_cap_init, hw/i386/intel_iommu.c). */
export const VTD_SM = { op: "host.iommu", type: "intel_vtd", cap_reg: "0x80d2008c222f0606", ecap_reg: "0x480080f00f5a" };
/** The same in legacy mode (no ECAP.SMTS). */
export const VTD_LEGACY = { ...VTD_SM, ecap_reg: "0xf00f5a" };

/** A host with this IOMMU and one device (plus extra platform events). */
export function hostState(iommu: Record<string, unknown>, more: Record<string, unknown>[] = []): State {
  return run([iommu, { op: "host.device", bdf: BDF }, ...more]).result.state;
}

export interface Setup {
  s: State;
  ctx: IommufdCtx;
  hwpt: HwptPaging;
  domain: PagingDomain;
  dev: IommufdDevice;
}

/** The paging domain parameters the host's driver allocates with (its pagingParams). */
export function hostParams(s: State): DomainParams {
  const p = hostDriver(s).pagingParams(s.host.iommu);
  if (typeof p === "string" || !("format" in p)) throw new Error("no paging domains on this host");
  return p;
}

/**
 * A context with a paging HWPT (id 2) whose domain is what the host driver
 * allocates, and the device bound (id 3), attached by RID unless told otherwise
 * (the PASIDs given: each recorded with the iommu core as attach does).
 */
export function attached(s: State, pasids: number[] = [NO_PASID], domain?: PagingDomain): Setup {
  const d = domain ?? domainAllocPaging(s, hostParams(s));
  const hwpt: HwptPaging = {
    id: 2,
    type: "hwpt_paging",
    users: 1,
    ioasId: 1,
    auto: false,
    nestParent: false,
    flags: 0,
    domainId: d.id,
    faultId: null,
  };
  const dev: IommufdDevice = { id: 3, type: "device", users: 1, bdf: BDF, noiommu: false, attach: new Map(pasids.map((p) => [p, 2])) };
  for (const p of pasids) iommuAttach(s, BDF, p, d);
  const ctx: IommufdCtx = {
    fileId: 1,
    objects: new Map<number, HwptPaging | IommufdDevice>([
      [2, hwpt],
      [3, dev],
    ]),
    accountMode: 0,
    vfioIoasId: null,
  };
  s.iommufd.set(1, ctx);
  return { s, ctx, hwpt, domain: d, dev };
}

/** An area of pinned runs [iova, pa, length] with IOMMU_READ (1) / IOMMU_WRITE (2). */
export function area(runs: [bigint, bigint, bigint][], prot = 3): Area {
  const iova = runs[0]![0];
  const last = runs.reduce((end, [i, , l]) => (i + l - 1n > end ? i + l - 1n : end), iova);
  return { iova, last, prot, source: { kind: "user", pid: 1, va: 0n }, runs: runs.map(([i, pa, length]) => ({ iova: i, pa, length })), accesses: 0, pages: 1 };
}

export function mapArea(x: Setup, a: Area): void {
  mapAreaInto(x.s, x.hwpt, a);
}

/** Fold dma events (fields without `op`) under immer, as replay does; the new state and the outcomes. */
export function dmas(s: State, raw: Record<string, unknown>[]): { state: State; outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  const events = raw.map((r, i) => parseTraceEvent({ op: "dma", bdf: BDF, ...r }, i + 1));
  const r = Effect.runSync(
    foldBatch(s, events, (_ev, out) => {
      outcomes.push(out);
      return true;
    }).pipe(Effect.provideService(ProfileService, profile)),
  );
  return { state: r.state, outcomes };
}

/** One dma event's outcome. */
export function dma1(s: State, r: Record<string, unknown>): Outcome {
  return dmas(s, [r]).outcomes[0]!;
}

/** The 64-bit entry at a physical address (through a fresh reader of the state). */
export function entryAt(s: State, pa: bigint): bigint {
  const chunk = s.memory.frames.get(Number(pa >> 21n));
  const frame = chunk?.get(Number((pa >> 12n) & 511n));
  if (!frame) return 0n;
  return new DataView(frame.buffer, frame.byteOffset).getBigUint64(Number(pa & 0xfffn), true);
}
