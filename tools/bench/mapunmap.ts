// map_unmap_per_s: IOMMU_IOAS_MAP + IOMMU_IOAS_UNMAP pairs of 2 MiB per second
// through the reducers, on an IOAS with a VT-d device attached, so every map
// pins the user pages and writes second-stage page tables into simulated
// memory, and every unmap tears them down again.

import { Effect } from "effect";
import type { TraceEvent } from "../../src/model/events.ts";
import { ProfileService } from "../../src/model/framework.ts";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";

const MIB2 = 0x200000;

function events(pairs: number): TraceEvent[] {
  const raw: Record<string, unknown>[] = [
    { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" },
    { op: "host.device", bdf: "0000:01:00.0" },
    { op: "process", pid: 100 },
    { op: "mem.map", pid: 100, va: "0x7f0000000000", length: MIB2, huge: true },
    { op: "open", pid: 100, path: "/dev/iommu", expect: { fd: 3 } },
    { op: "open", pid: 100, path: "/dev/vfio/devices/vfio0", expect: { fd: 4 } },
    { op: "ioctl", pid: 100, fd: 4, cmd: "VFIO_DEVICE_BIND_IOMMUFD", arg: { iommufd: 3 }, expect: { ret: 0 } },
    { op: "ioctl", pid: 100, fd: 3, cmd: "IOMMU_IOAS_ALLOC", expect: { ret: 0, out: { out_ioas_id: 2 } } },
    { op: "ioctl", pid: 100, fd: 4, cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", arg: { pt_id: 2 }, expect: { ret: 0 } },
  ];
  for (let i = 0; i < pairs; i++) {
    const iova = `0x${(0x40000000 + (i % 64) * MIB2).toString(16)}`;
    raw.push(
      {
        op: "ioctl",
        pid: 100,
        fd: 3,
        cmd: "IOMMU_IOAS_MAP",
        arg: { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 2, user_va: "0x7f0000000000", length: MIB2, iova },
        expect: { ret: 0 },
      },
      { op: "ioctl", pid: 100, fd: 3, cmd: "IOMMU_IOAS_UNMAP", arg: { ioas_id: 2, iova, length: MIB2 }, expect: { ret: 0, out: { length: MIB2 } } },
    );
  }
  return raw.map((r, i) => parseTraceEvent(r, i + 1));
}

export function benchMapUnmap(pairs = 100_000): { map_unmap_per_s: number; map_unmap_s: number } {
  const profile = resolveProfile(["linux-mainline"]);
  const run = (evs: TraceEvent[]) => {
    const r = Effect.runSync(
      replay({ verify: true }).pipe(
        Effect.provideService(Trace, memorySource("bench", { format: "iorr-trace", version: 1 }, evs)),
        Effect.provideService(ProfileService, profile),
      ),
    );
    if (r.divergence || r.verified !== evs.filter((e) => e.expect).length) throw new Error(`map/unmap bench diverged: ${JSON.stringify(r.divergence)}`);
  };
  run(events(2_000)); // warm-up
  const evs = events(pairs);
  const t0 = performance.now();
  run(evs);
  const s = (performance.now() - t0) / 1000;
  return { map_unmap_per_s: Math.round(pairs / s), map_unmap_s: Math.round(s * 1000) / 1000 };
}
