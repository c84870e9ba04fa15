// A step-by-step simulator for the iommufd tests: events go through the real
// parser and fold one at a time, and a test can call the device API VFIO uses
// (src/model/iommufd/device.ts) on the state in between, as VFIO's bind and
// attach would, without depending on the VFIO model.

import { Effect } from "effect";
import { produce } from "immer";
import type { IommuDomain } from "../../src/model/domain/state.ts";
import { foldBatch } from "../../src/model/fold.ts";
import { FILE_OPS } from "../../src/model/fops.ts";
import { ProfileService, type ReduceEnv } from "../../src/model/framework.ts";
import { iommufdDeviceAttach, iommufdDeviceBind, iommufdDeviceDetach, iommufdDeviceUnbind } from "../../src/model/iommufd/device.ts";
import type { IommufdCtx, IommufdObject } from "../../src/model/iommufd/state.ts";
import type { Outcome } from "../../src/model/outcome.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { initialState, type State } from "../../src/model/state.ts";
import { resolveProfile, type Profile } from "../../src/profiles/profile.ts";

export const NO_PASID = -1;

export class Sim {
  state: State = initialState();
  seq = 0;
  readonly profile: Profile;

  constructor(profile: string | string[] = "linux-mainline") {
    this.profile = resolveProfile(typeof profile === "string" ? [profile] : profile);
  }

  /** Fold one raw event; its outcome. A simulator fault throws. */
  ev(raw: Record<string, unknown>): Outcome {
    const ev = parseTraceEvent(raw, ++this.seq);
    let out: Outcome | undefined;
    const r = Effect.runSync(
      foldBatch(this.state, [ev], (_e, o) => {
        out = o;
        return true;
      }).pipe(Effect.provideService(ProfileService, this.profile)),
    );
    this.state = r.state;
    return out!;
  }

  /** Fold events; the outcome of the last. */
  evs(raws: Record<string, unknown>[]): Outcome {
    let out: Outcome = {};
    for (const r of raws) out = this.ev(r);
    return out;
  }

  /** The fault a simulator-faulting event raises (its kind and message). */
  fault(raw: Record<string, unknown>): { kind: string; message: string } {
    const ev = parseTraceEvent(raw, ++this.seq);
    const exit = Effect.runSyncExit(foldBatch(this.state, [ev]).pipe(Effect.provideService(ProfileService, this.profile)));
    if (exit._tag !== "Failure" || exit.cause._tag !== "Fail") throw new Error("expected a simulator fault");
    return exit.cause.error as { kind: string; message: string };
  }

  /** Run model code on a draft of the state, as a reducer would. */
  call<T>(fn: (draft: State, env: ReduceEnv) => T): T {
    let out: T | undefined;
    const env: ReduceEnv = { profile: this.profile, seq: this.seq, fops: FILE_OPS };
    this.state = produce(this.state, (d) => {
      out = fn(d as State, env);
    });
    return out!;
  }

  /** The iommufd context of a process's /dev/iommu fd. */
  ctxFile(pid: number, fd: number): number {
    const id = this.state.processes.get(pid)!.fds.get(fd);
    if (id === undefined) throw new Error(`pid ${pid} has no fd ${fd}`);
    return id;
  }

  ctx(pid: number, fd: number): IommufdCtx {
    return this.state.iommufd.get(this.ctxFile(pid, fd))!;
  }

  obj(pid: number, fd: number, id: number): IommufdObject | undefined {
    return this.ctx(pid, fd).objects.get(id);
  }

  /** The IOMMU domain of HWPT `id` (src/model/domain). */
  domain(pid: number, fd: number, id: number): IommuDomain {
    const o = this.obj(pid, fd, id) as { domainId?: number } | undefined;
    const d = o?.domainId === undefined ? undefined : this.state.domains.table.get(o.domainId);
    if (!d) throw new Error(`object ${id} has no domain`);
    return d;
  }

  bind(pid: number, fd: number, bdf: string): { devId: number } | string {
    const f = this.ctxFile(pid, fd);
    return this.call((d, env) => iommufdDeviceBind(d, d.iommufd.get(f)!, bdf, env));
  }

  /** Bind that must succeed: the device id. */
  bindOk(pid: number, fd: number, bdf: string): number {
    const r = this.bind(pid, fd, bdf);
    if (typeof r === "string") throw new Error(`bind ${bdf}: ${r}`);
    return r.devId;
  }

  attach(pid: number, fd: number, devId: number, ptId: number, pasid = NO_PASID, replace?: boolean): { ptId: number } | string {
    const f = this.ctxFile(pid, fd);
    return this.call((d, env) => iommufdDeviceAttach(d, d.iommufd.get(f)!, devId, ptId, pasid, env, replace));
  }

  detach(pid: number, fd: number, devId: number, pasid = NO_PASID): void {
    const f = this.ctxFile(pid, fd);
    this.call((d, env) => iommufdDeviceDetach(d, d.iommufd.get(f)!, devId, pasid, env));
  }

  unbind(pid: number, fd: number, devId: number): void {
    const f = this.ctxFile(pid, fd);
    this.call((d, env) => iommufdDeviceUnbind(d, d.iommufd.get(f)!, devId, env));
  }

  /** Unbind through the context's file id (its fd may be closed already). */
  unbindFile(ctxFile: number, devId: number): void {
    this.call((d, env) => iommufdDeviceUnbind(d, d.iommufd.get(ctxFile)!, devId, env));
  }
}

/** An ioctl event of pid 1. */
export const io = (fd: number, cmd: string, arg: Record<string, unknown> = {}) => ({ op: "ioctl", pid: 1, fd, cmd, arg });

/** IOMMU_DESTROY on fd 3. */
export const destroy = (id: number) => io(3, "IOMMU_DESTROY", { id });

/** The user buffer every iommufd test process maps (4 MiB). */
export const BUF = 0x7f0000000000n;

/**
 * A selftest_mock host with `devices`, process 1 with BUF mapped, /dev/iommu
 * as fd 3 and IOAS 1 (the selftest's iommufd_ioas fixture without its mock
 * domain).
 */
export function mockSim(devices: Record<string, unknown>[] = [{ op: "host.device", bdf: "0000:00:01.0" }], profile?: string | string[]): Sim {
  const sim = new Sim(profile);
  sim.evs([
    { op: "host.iommu", type: "selftest_mock" },
    ...devices,
    { op: "process", pid: 1 },
    { op: "mem.map", pid: 1, va: `0x${BUF.toString(16)}`, length: "0x400000" },
    { op: "open", pid: 1, path: "/dev/iommu" }, // fd 3
  ]);
  const r = sim.ev(io(3, "IOMMU_IOAS_ALLOC"));
  if (r.out?.out_ioas_id !== 1) throw new Error(`IOAS_ALLOC: ${JSON.stringify(r)}`);
  return sim;
}

/** IOMMU_HWPT_ALLOC on fd 3. */
export const hwptAlloc = (dev: number, pt: number, flags: unknown = 0, extra: Record<string, unknown> = {}) =>
  io(3, "IOMMU_HWPT_ALLOC", { dev_id: dev, pt_id: pt, flags, ...extra });

/** The out_hwpt_id of an IOMMU_HWPT_ALLOC outcome. */
export const outId = (o: { out?: Record<string, unknown> }) => o.out?.out_hwpt_id as number;

/** iommu_hwpt_selftest data with the selftest's IOMMU_TEST_IOTLB_DEFAULT. */
export const selftestData = { data_type: "IOMMU_HWPT_DATA_SELFTEST", data: { iotlb: 0xbadbeef } };
