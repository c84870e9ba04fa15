// A synthetic trace of simple system calls (open, close, param) with their
// expected outcomes: the workload of the replay and seek budgets, and a trace
// long enough to cross many checkpoints in tests. Deterministic for a given n.

import type { TraceEvent } from "../../src/model/events.ts";

/** n events: a process start, then a repeating open/open/close/param/close pattern. */
export function simpleEvents(n: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  if (n > 0) out.push({ seq: 1, op: "process", pid: 100, expect: { ok: true } });
  for (let seq = 2; seq <= n; seq++) {
    switch ((seq - 2) % 5) {
      case 0:
        out.push({ seq, op: "open", pid: 100, path: "/dev/iommu", expect: { fd: 3 } });
        break;
      case 1:
        out.push({ seq, op: "open", pid: 100, path: "/dev/vfio/vfio", expect: { fd: 4 } });
        break;
      case 2:
        out.push({ seq, op: "close", pid: 100, fd: 3, expect: { ret: 0 } });
        break;
      case 3:
        out.push({ seq, op: "param", name: "vfio.pasid_quota", value: seq % 4096, expect: { ok: true } });
        break;
      case 4:
        out.push({ seq, op: "close", pid: 100, fd: 4, expect: { ret: 0 } });
        break;
    }
  }
  return out;
}
