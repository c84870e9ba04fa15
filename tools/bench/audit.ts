// audit_events_per_s: `iorr audit pasid`'s pass (replay with the audit's visitor,
// then its figures) over a generated PASID-heavy trace under
// linux-pasid-request-fixed: two VMs (type1 containers, seed 002's
// VFIO_IOMMU_PASID_REQUEST) allocating past their quota of 64 and freeing,
// with foreign and unknown frees, and a third process attaching and detaching
// PASIDs of a device through its cdev. Every event is a PASID event.

import { Effect } from "effect";
import { PasidAuditor } from "../../src/audit/pasid.ts";
import type { TraceEvent } from "../../src/model/events.ts";
import { ProfileService } from "../../src/model/framework.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";

const QUOTA = 64;

const ioctl = (pid: number, fd: number, cmd: string, arg?: unknown) => ({ op: "ioctl", pid, fd, cmd, ...(arg === undefined ? {} : { arg }) });
const alloc = (pid: number) => ioctl(pid, 4, "VFIO_IOMMU_PASID_REQUEST", { flags: ["ALLOC"], min: 1, max: 1 << 20 });
const free = (pid: number, pasid: number) => ioctl(pid, 4, "VFIO_IOMMU_PASID_REQUEST", { flags: ["FREE"], free_pasid: pasid });

/** About n events. */
export function pasidEvents(n: number): TraceEvent[] {
  const raw: Record<string, unknown>[] = [
    { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x8900f0101efe", max_pasid_log2: 20 },
    { op: "host.device", bdf: "0000:01:00.0", group: 0 },
    { op: "host.device", bdf: "0000:02:00.0", group: 1 },
    { op: "host.device", bdf: "0000:03:00.0", group: 2, pasid: { max_log2: 8 } },
    { op: "param", name: "vfio.pasid_quota", value: QUOTA },
  ];
  for (const [pid, group] of [
    [10, 0],
    [20, 1],
  ] as const)
    raw.push(
      { op: "process", pid },
      { op: "open", pid, path: `/dev/vfio/${group}` },
      { op: "open", pid, path: "/dev/vfio/vfio" },
      ioctl(pid, 3, "VFIO_GROUP_SET_CONTAINER", 4),
      ioctl(pid, 4, "VFIO_SET_IOMMU", 3),
    );
  raw.push(
    { op: "process", pid: 30 },
    { op: "open", pid: 30, path: "/dev/iommu" },
    { op: "open", pid: 30, path: "/dev/vfio/devices/vfio2" },
    ioctl(30, 4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 }),
    ioctl(30, 3, "IOMMU_IOAS_ALLOC"),
    ioctl(30, 3, "IOMMU_HWPT_ALLOC", { dev_id: 1, pt_id: 2, flags: ["PASID"] }),
    ioctl(30, 4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 3 }),
  );
  // A round: each VM asks for 70 PASIDs (6 refused past the quota), the device takes 16, VM 20
  // frees one of VM 10's and one nobody holds, then everything is given back.
  while (raw.length < n) {
    const held = new Map<number, number[]>([
      [10, []],
      [20, []],
    ]);
    let next = 1;
    for (const pid of [10, 20]) for (let i = 0; i < 70; i++) if (i < QUOTA) held.get(pid)!.push(next++);
    for (const pid of [10, 20]) for (let i = 0; i < 70; i++) raw.push(alloc(pid));
    for (let p = 1; p <= 16; p++) raw.push(ioctl(30, 4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { flags: ["PASID"], pt_id: 3, pasid: p * 17 }));
    raw.push(free(20, held.get(10)![0]!), free(20, 1 << 19));
    for (let p = 1; p <= 16; p++) raw.push(ioctl(30, 4, "VFIO_DEVICE_DETACH_IOMMUFD_PT", { flags: ["PASID"], pasid: p * 17 }));
    for (const pid of [10, 20]) for (const pasid of held.get(pid)!) raw.push(free(pid, pasid));
  }
  return raw.map((r, i) => parseTraceEvent(r, i + 1));
}

/** One pass over the events: a plain replay, or the audit's (replay with its visitor, then its figures); ms and findings. */
function pass(events: TraceEvent[], audit: boolean): { ms: number; findings: number } {
  const profile = resolveProfile(["linux-pasid-request-fixed"]);
  const t0 = performance.now();
  const auditor = new PasidAuditor();
  const r = Effect.runSync(
    replay(audit ? { onOutcome: (ev, o, s) => auditor.visit(ev, o, s) } : {}).pipe(
      Effect.provideService(Trace, memorySource("bench", { format: "iorr-trace", version: 1 }, events)),
      Effect.provideService(ProfileService, profile),
    ),
  );
  const findings = audit ? auditor.finish(r.state).findings.length : 0;
  return { ms: performance.now() - t0, findings };
}

/**
 * audit_events_per_s over n generated events, and audit_vs_replay_ratio: the audit's pass
 * against a plain replay of the same events (what the audit itself costs). Three of each,
 * alternately, a collection before each (under --expose-gc); the fastest of each counts.
 */
export function benchAudit(n: number): { audit_events_per_s: number; audit_vs_replay_ratio: number; audit_events: number; audit_findings: number } {
  const events = pasidEvents(n);
  const gc = (globalThis as { gc?: () => void }).gc;
  let plain = Number.POSITIVE_INFINITY;
  let audit = { ms: Number.POSITIVE_INFINITY, findings: 0 };
  for (let i = 0; i < 3; i++) {
    gc?.();
    plain = Math.min(plain, pass(events, false).ms);
    gc?.();
    const a = pass(events, true);
    if (a.ms < audit.ms) audit = a;
  }
  return {
    audit_events_per_s: Math.round(events.length / (audit.ms / 1000)),
    audit_vs_replay_ratio: Math.round((audit.ms / plain) * 100) / 100,
    audit_events: events.length,
    audit_findings: audit.findings,
  };
}
