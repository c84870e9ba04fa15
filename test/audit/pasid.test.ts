// The PASID audit (src/audit/pasid.ts) on seed 002's VFIO_IOMMU_PASID_REQUEST
// ([PATCH v1 1/8], never merged: the per-mm quota of vfio_create_mm, ioasid_find's
// ENOENT/EACCES on free, ioasid_free_set at vfio_mm_release) and on PASID attach
// (vfio_df_ioctl_attach_pt with VFIO_DEVICE_ATTACH_PASID, the core's max_pasids check).
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { PasidAuditor, type PasidAudit } from "../../src/audit/pasid.ts";
import { ProfileService } from "../../src/model/framework.ts";
import type { TraceEvent } from "../../src/model/events.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { readJsonlTrace, type TraceHeader } from "../../src/trace/jsonl.ts";
import { parseAll } from "../helpers.ts";

function audit(header: TraceHeader, events: TraceEvent[], profile: string[]): PasidAudit {
  const auditor = new PasidAuditor();
  const r = Effect.runSync(
    replay({ verify: true, onOutcome: (ev, o, s) => auditor.visit(ev, o, s) }).pipe(
      Effect.provideService(Trace, memorySource("test", header, events)),
      Effect.provideService(ProfileService, resolveProfile(profile)),
    ),
  );
  expect(r.divergence).toBeNull();
  return auditor.finish(r.state);
}

function auditFile(file: string): PasidAudit {
  const t = Effect.runSync(readJsonlTrace(file));
  return audit(t.header, t.events, [t.header.profile as string]);
}

const findings = (a: PasidAudit) => a.findings.map(({ detail: _d, ...f }) => f);

describe("PASID audit of seed 002 traces", () => {
  it("seed002_pasid_audit: peak at the quota (vfio.pasid_quota), ENOSPC refusals past it, foreign and unknown frees, a leak at exit", () => {
    const a = auditFile("test/traces/vfio/seed002_pasid_audit.jsonl");
    expect(a.processes).toEqual([
      {
        pid: 10,
        quota: 2,
        allocations: 3,
        frees: 1,
        peak: 2,
        peak_seq: 16,
        refusals: 2,
        first_refusal_seq: 17,
        leaked_at_exit: 2,
        foreign_frees: 0,
        unknown_frees: 0,
      },
      {
        pid: 20,
        quota: 2,
        allocations: 1,
        frees: 1,
        peak: 1,
        peak_seq: 21,
        refusals: 0,
        first_refusal_seq: null,
        leaked_at_exit: 0,
        foreign_frees: 1,
        unknown_frees: 2,
      },
    ]);
    expect(a.global).toEqual({ allocated_now: 0, peak: 3 });
    expect(a.devices).toEqual([]);
    expect(findings(a)).toEqual([
      { kind: "refusal", pid: 10, seq: 17, pasid: null },
      { kind: "over-quota", pid: 10, seq: 17, pasid: null },
      { kind: "refusal", pid: 10, seq: 18, pasid: null },
      { kind: "over-quota", pid: 10, seq: 18, pasid: null },
      { kind: "foreign", pid: 20, seq: 22, pasid: 1 },
      { kind: "unknown", pid: 20, seq: 23, pasid: 50 },
      { kind: "unknown", pid: 20, seq: 25, pasid: 3 },
      { kind: "leak", pid: 10, seq: 28, pasid: 1 },
      { kind: "leak", pid: 10, seq: 28, pasid: 2 },
    ]);
    expect(a.findings[6]!.detail).toBe("free of PASID 3, already freed at event 24 (ENOENT)");
    // The plot's series: pid 10 holds 1, 2, 1, 2, then 0 at its exit.
    expect(a.usage.processes.get(10)).toEqual({ seqs: [0, 15, 16, 19, 20, 28], counts: [0, 1, 2, 1, 2, 0] });
  });

  it("v1 as posted: PASID 0 allocated but reported EFAULT is lost and leaks; the domain check's EFAULT still shows a foreign free", () => {
    const a = auditFile("test/traces/vfio/seed002_pasid_request.v1.jsonl");
    expect(a.processes.map((p) => [p.pid, p.allocations, p.frees, p.peak, p.refusals, p.leaked_at_exit, p.foreign_frees, p.unknown_frees])).toEqual([
      [100, 3, 1, 3, 2, 2, 0, 1],
      [200, 0, 0, 0, 1, 0, 1, 0],
    ]);
    expect(findings(a).filter((f) => f.kind === "lost" || f.kind === "leak" || f.kind === "foreign")).toEqual([
      { kind: "lost", pid: 100, seq: 15, pasid: 0 },
      { kind: "foreign", pid: 200, seq: 22, pasid: 2 },
      { kind: "leak", pid: 100, seq: 24, pasid: 0 },
      { kind: "leak", pid: 100, seq: 24, pasid: 1 },
    ]);
  });

  it("with the review applied: the mdev container allocates, and both processes leak at exit", () => {
    const a = auditFile("test/traces/vfio/seed002_pasid_request.fixed.jsonl");
    expect(a.global).toEqual({ allocated_now: 0, peak: 4 });
    expect(a.processes.map((p) => [p.pid, p.quota, p.peak, p.peak_seq, p.refusals, p.first_refusal_seq, p.leaked_at_exit])).toEqual([
      [100, 3, 3, 18, 2, 16, 2],
      [200, 3, 1, 21, 0, null, 1],
    ]);
  });

  it("no allocator activity: no processes, no findings", () => {
    const a = auditFile("test/traces/vfio/type1_container_dma.jsonl");
    expect(a.processes.filter((p) => p.allocations > 0)).toEqual([]);
    expect(a.findings).toEqual([]);
  });
});

const ioctl = (pid: number, fd: number, cmd: string, arg?: unknown) => ({ op: "ioctl", pid, fd, cmd, ...(arg === undefined ? {} : { arg }) });
// VT-d with scalable mode, PASID and first-stage support (ECAP bits 43, 40, 47), 20-bit PASIDs.
const host = [
  { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x8900f0101efe", max_pasid_log2: 20 },
  { op: "host.device", bdf: "0000:01:00.0", group: 0 },
  { op: "host.device", bdf: "0000:02:00.0", group: 1, pasid: { max_log2: 4 } },
];
/** pid 20 binds 02:00.0 through its cdev (fd 4) to its iommufd (fd 3) and attaches the RID to a PASID-capable HWPT (id 3). */
const cdev = [
  { op: "process", pid: 20 },
  { op: "open", pid: 20, path: "/dev/iommu" },
  { op: "open", pid: 20, path: "/dev/vfio/devices/vfio1" },
  ioctl(20, 4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 }),
  ioctl(20, 3, "IOMMU_IOAS_ALLOC"),
  ioctl(20, 3, "IOMMU_HWPT_ALLOC", { dev_id: 1, pt_id: 2, flags: ["PASID"] }),
  ioctl(20, 4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 3 }),
];
const attach = (pasid: number) => ioctl(20, 4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { flags: ["PASID"], pt_id: 3, pasid });
const detach = (pasid: number) => ioctl(20, 4, "VFIO_DEVICE_DETACH_IOMMUFD_PT", { flags: ["PASID"], pasid });
const header: TraceHeader = { format: "iorr-trace", version: 1 };

describe("PASID audit of devices", () => {
  it("counts attaches, detaches and the peak from the device's pasid_array; a PASID past max_pasids (2^4) is refused and reported", () => {
    const raw = [...host, ...cdev, attach(5), attach(6), attach(5), attach(16), detach(5), { op: "close", pid: 20, fd: 4 }];
    const a = audit(header, parseAll(raw), ["linux-6.19"]);
    // attach(5) twice: the second replaces (vfio_iommufd_physical_pasid_attach_ioas), not a new PASID.
    expect(a.devices).toEqual([
      {
        bdf: "0000:02:00.0",
        max_pasid_log2: 4,
        attaches: 2,
        detaches: 2,
        peak: 2,
        peak_seq: 12,
        refusals: 1,
        first_refusal_seq: 14,
        over_width: 1,
        foreign_attaches: 0,
      },
    ]);
    expect(findings(a)).toEqual([{ kind: "over-width", pid: 20, seq: 14, pasid: 16, bdf: "0000:02:00.0" }]);
  });

  it("an attach of a PASID another process holds in the seed 002 allocator is foreign", () => {
    const owner = [
      { op: "process", pid: 10 },
      { op: "open", pid: 10, path: "/dev/vfio/0" },
      { op: "open", pid: 10, path: "/dev/vfio/vfio" },
      ioctl(10, 3, "VFIO_GROUP_SET_CONTAINER", 4),
      ioctl(10, 4, "VFIO_SET_IOMMU", 3),
      ioctl(10, 4, "VFIO_IOMMU_PASID_REQUEST", { flags: ["ALLOC"], min: 1, max: 10 }),
    ];
    const a = audit(header, parseAll([...host, ...owner, ...cdev, attach(1)]), ["linux-pasid-request-fixed"]);
    expect(findings(a)).toEqual([{ kind: "foreign", pid: 20, seq: 17, pasid: 1, bdf: "0000:02:00.0" }]);
    expect(a.devices[0]).toMatchObject({ attaches: 1, foreign_attaches: 1 });
  });
});
