// Seed 002: VFIO_IOMMU_PASID_REQUEST ([PATCH v1 1/8] vfio: Add
// VFIO_IOMMU_PASID_REQUEST(alloc/free), never merged) as posted
// (linux-pasid-request-v1) and with the thread's review applied
// (linux-pasid-request-fixed); the per-mm quota and the audit ledger.
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const V1 = "linux-pasid-request-v1";
const FIXED = "linux-pasid-request-fixed";
const io = (fd: number, cmd: string, arg?: unknown, pid = 1) => ({ op: "ioctl", pid, fd, cmd, ...(arg === undefined ? {} : { arg }) });
const container = (pid: number, group: number) => [
  { op: "process", pid },
  { op: "open", pid, path: `/dev/vfio/${group}` }, // 3
  { op: "open", pid, path: "/dev/vfio/vfio" }, // 4
  io(3, "VFIO_GROUP_SET_CONTAINER", 4, pid),
  io(4, "VFIO_SET_IOMMU", 3, pid),
];
const host = [
  { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" },
  { op: "host.device", bdf: "0000:01:00.0" },
  { op: "host.device", bdf: "0000:02:00.0" },
];
const one = [...host, ...container(1, 0)];
const alloc = (min: number, max: number, pid = 1, extra: Record<string, unknown> = {}) =>
  io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: ["ALLOC"], min, max, ...extra }, pid);
const free = (pasid: number, pid = 1, extra: Record<string, unknown> = {}) =>
  io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: ["FREE"], free_pasid: pasid, ...extra }, pid);

describe("VFIO_IOMMU_PASID_REQUEST (seed 002)", () => {
  it("does not exist without the series (ENOTTY)", () => {
    expect(last([...one, alloc(1, 10)], "linux-6.19")).toEqual({ errno: "ENOTTY" });
  });

  it("allocates the lowest free PASID from min, system-wide, and writes result back", () => {
    for (const p of [V1, FIXED]) {
      const r = run([...one, alloc(5, 100), alloc(5, 100), free(5), alloc(5, 100)], p);
      expect(r.outcomes.slice(-4)).toEqual([{ ret: 0, out: { result: 5 } }, { ret: 0, out: { result: 6 } }, { ret: 0 }, { ret: 0, out: { result: 5 } }]);
    }
  });

  it("flags: unknown bits and ALLOC|FREE are EINVAL; flags 0 reaches the switch's default (EINVAL); argsz < 8 EINVAL", () => {
    for (const p of [V1, FIXED]) {
      expect(last([...one, io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: 4 })], p)).toEqual({ errno: "EINVAL" });
      expect(last([...one, io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: 3 })], p)).toEqual({ errno: "EINVAL" });
      expect(last([...one, io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: 0 })], p)).toEqual({ errno: "EINVAL" });
      expect(last([...one, io(4, "VFIO_IOMMU_PASID_REQUEST", { argsz: 7, flags: 1 })], p)).toEqual({ errno: "EINVAL" });
    }
  });

  it('v1 ignores argsz past flags ("Why do we have argsz..."): a short argsz still allocates; fixed refuses it', () => {
    expect(last([...one, alloc(1, 10, 1, { argsz: 8 })], V1)).toEqual({ ret: 0, out: { result: 1 } });
    expect(last([...one, alloc(1, 10, 1, { argsz: 16 })], FIXED)).toEqual({ errno: "EINVAL" });
    expect(last([...one, alloc(1, 10), free(1, 1, { argsz: 11 })], FIXED)).toEqual({ errno: "EINVAL" });
  });

  it("a failed allocation: EFAULT in v1, ENOSPC fixed", () => {
    expect(last([...one, alloc(10, 5)], V1)).toEqual({ errno: "EFAULT" });
    expect(last([...one, alloc(10, 5)], FIXED)).toEqual({ errno: "ENOSPC" });
  });

  it("v1: a PASID allocated as 0 is reported as EFAULT and stays allocated (result > 0)", () => {
    const r = run([...one, alloc(0, 10), alloc(0, 10)], V1);
    expect(r.outcomes.slice(-2)).toEqual([{ errno: "EFAULT" }, { ret: 0, out: { result: 1 } }]);
    expect([...r.result.state.pasid.allocated.keys()]).toEqual([0, 1]);
    expect(last([...one, alloc(0, 10)], FIXED)).toEqual({ ret: 0, out: { result: 0 } });
  });

  it("v1 needs an IOMMU-backed domain in the container (EFAULT); the review removed the check", () => {
    const mdev = [{ op: "host.iommu", type: "intel_vtd" }, { op: "host.device", bdf: "0000:05:00.0", mdev: true }, ...container(1, 0)];
    expect(last([...mdev, alloc(1, 10)], V1)).toEqual({ errno: "EFAULT" });
    expect(last([...mdev, free(1)], V1)).toEqual({ errno: "EFAULT" });
    expect(last([...mdev, alloc(1, 10)], FIXED)).toEqual({ ret: 0, out: { result: 1 } });
  });

  it("FREE: ENOENT for a PASID nobody holds, EACCES for another process's (ioasid_find)", () => {
    const two = [...host, ...container(1, 0), ...container(2, 1)];
    for (const p of [V1, FIXED]) {
      expect(last([...two, free(7)], p)).toEqual({ errno: "ENOENT" });
      expect(last([...two, alloc(1, 10, 1), free(1, 2)], p)).toEqual({ errno: "EACCES" });
      // The allocator is system-wide: the second process gets the next PASID.
      expect(last([...two, alloc(1, 10, 1), alloc(1, 10, 2)], p)).toEqual({ ret: 0, out: { result: 2 } });
    }
  });

  it("the per-mm quota (default 1000, vfio.pasid_quota read when the vfio_mm is created)", () => {
    const q = { op: "param", name: "vfio.pasid_quota", value: 2 };
    expect(last([q, ...one, alloc(1, 10), alloc(1, 10), alloc(1, 10)], FIXED)).toEqual({ errno: "ENOSPC" });
    // Set after the vfio_mm exists: that process keeps its quota of 1000.
    expect(last([...one, q, alloc(1, 10), alloc(1, 10), alloc(1, 10)], FIXED)).toEqual({ ret: 0, out: { result: 3 } });
    const r = run([...one, alloc(1, 10)], FIXED);
    expect(r.result.state.pasid.quota.get(1)).toEqual({ used: 1, limit: 1000, refs: 1 });
  });

  it("the last container of the process frees the quota and every PASID it holds; the ledger records all, event by event", () => {
    const r = run([...one, alloc(1, 10), alloc(1, 10), io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: 3 }), free(9), { op: "process.exit", pid: 1 }], FIXED);
    const st = r.result.state.pasid;
    expect(st.allocated.size).toBe(0);
    expect(st.quota.size).toBe(0);
    // The state keeps the last event's entries (the audit reads them after each event): ioasid_free_set at exit.
    expect(st.ledger).toEqual([
      { seq: 13, pid: 1, op: "free", pasid: 1, via: "vfio_mm_release" },
      { seq: 13, pid: 1, op: "free", pasid: 2, via: "vfio_mm_release" },
    ]);
    const seen: unknown[] = [];
    run([...one, alloc(1, 10), alloc(1, 10), io(4, "VFIO_IOMMU_PASID_REQUEST", { flags: 3 }), free(9), { op: "process.exit", pid: 1 }], FIXED, (ev, _o, s) => {
      for (const e of s.pasid.ledger) if (e.seq === ev.seq) seen.push(e);
    });
    expect(seen).toEqual([
      { seq: 9, pid: 1, op: "alloc", pasid: 1 },
      { seq: 10, pid: 1, op: "alloc", pasid: 2 },
      { seq: 11, pid: 1, op: "refuse", request: "invalid", errno: "EINVAL" },
      { seq: 12, pid: 1, op: "refuse", request: "free", errno: "ENOENT", pasid: 9 },
      { seq: 13, pid: 1, op: "free", pasid: 1, via: "vfio_mm_release" },
      { seq: 13, pid: 1, op: "free", pasid: 2, via: "vfio_mm_release" },
    ]);
  });

  it("is a type1 command: the no-IOMMU driver does not know it (ENOTTY)", () => {
    const noiommu = [
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "Y" },
      { op: "host.device", bdf: "0000:03:00.0", iommu: false },
      { op: "process", pid: 1, caps: ["CAP_SYS_RAWIO"] },
      { op: "open", pid: 1, path: "/dev/vfio/noiommu-0" },
      { op: "open", pid: 1, path: "/dev/vfio/vfio" },
      io(3, "VFIO_GROUP_SET_CONTAINER", 4),
      io(4, "VFIO_SET_IOMMU", 8),
    ];
    expect(last([...noiommu, alloc(1, 10)], V1)).toEqual({ errno: "ENOTTY" });
  });
});
