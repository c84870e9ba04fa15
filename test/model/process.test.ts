// Processes and fd tables (docs/trace-format.md "Platform" and "Kernel system calls": `process`, `open`, `close`).
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const proc = { op: "process", pid: 100 };
const openIommu = { op: "open", pid: 100, path: "/dev/iommu" };

describe("fd allocation follows the kernel's alloc_fd", () => {
  it("hands out the lowest free fd starting at 3", () => {
    const r = run([proc, openIommu, openIommu, openIommu, { op: "close", pid: 100, fd: 4 }, openIommu]);
    expect(r.outcomes.slice(1)).toEqual([{ fd: 3 }, { fd: 4 }, { fd: 5 }, { ret: 0 }, { fd: 4 }]);
  });

  it("fails with EMFILE once fds 3..1023 are taken (RLIMIT_NOFILE 1024)", () => {
    const events = [proc, ...Array.from({ length: 1021 }, () => openIommu)];
    const r = run(events);
    expect(r.outcomes[1021]).toEqual({ fd: 1023 });
    expect(last([...events, openIommu])).toEqual({ errno: "EMFILE" });
  });

  it("close of an fd that is not open is EBADF", () => {
    expect(last([proc, { op: "close", pid: 100, fd: 3 }])).toEqual({ errno: "EBADF" });
  });

  it("open of a path that does not exist is ENOENT", () => {
    expect(last([proc, { op: "open", pid: 100, path: "/dev/vfio/devices/vfio0" }])).toEqual({ errno: "ENOENT" });
  });

  it("system calls of a process that does not exist are ESRCH, and a pid cannot start twice", () => {
    expect(last([{ op: "open", pid: 7, path: "/dev/iommu" }])).toEqual({ errno: "ESRCH" });
    expect(last([proc, proc])).toEqual({ errno: "EEXIST" });
  });

  it("process.exit closes every fd, releasing what they held (the group can be opened again)", () => {
    const dev = { op: "host.device", bdf: "0000:01:00.0" };
    const group = (pid: number) => ({ op: "open", pid, path: "/dev/vfio/0" });
    const r = run([dev, proc, { op: "process", pid: 200 }, group(100), group(200), { op: "process.exit", pid: 100 }, group(200)]);
    expect(r.outcomes.slice(3)).toEqual([{ fd: 3 }, { errno: "EBUSY" }, { ok: true }, { fd: 3 }]);
    expect(r.result.state.processes.get(100)).toBeUndefined();
    expect([...r.result.state.files.values()].map((f) => f.pid)).toEqual([200]);
  });
});

describe("VFIO group nodes (vfio_group_fops_open)", () => {
  it("a no-IOMMU group needs CAP_SYS_RAWIO", () => {
    const setup = [
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: 1 },
      { op: "host.device", bdf: "0000:02:00.0", iommu: false },
    ];
    expect(last([...setup, proc, { op: "open", pid: 100, path: "/dev/vfio/noiommu-0" }])).toEqual({ errno: "EPERM" });
    expect(last([...setup, { op: "process", pid: 100, caps: ["CAP_SYS_RAWIO"] }, { op: "open", pid: 100, path: "/dev/vfio/noiommu-0" }])).toEqual({ fd: 3 });
  });
});
