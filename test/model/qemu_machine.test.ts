// qemu.machine and qemu.device: the machine slice of the state.
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";
import { faultOf } from "./qemu_fixtures.ts";

describe("qemu.machine", () => {
  it("records the guest RAM layout of the process", () => {
    const r = run([
      { op: "process", pid: 7 },
      {
        op: "qemu.machine",
        pid: 7,
        ram: [
          { gpa: 0, size: "0x80000000", va: "0x7f0000000000" },
          { gpa: "0x100000000", size: "0x40000000", va: "0x7f0080000000" },
        ],
      },
    ]);
    expect(r.outcomes[1]).toEqual({ ok: true });
    expect(r.result.state.qemu.get(7)!.ram).toEqual([
      { gpa: 0n, size: 0x80000000n, va: 0x7f0000000000n },
      { gpa: 0x100000000n, size: 0x40000000n, va: 0x7f0080000000n },
    ]);
  });
  it("is ESRCH without the process; a second machine in one process is not modelled", () => {
    expect(last([{ op: "qemu.machine", pid: 7, ram: [] }])).toEqual({ errno: "ESRCH" });
    const m = { op: "qemu.machine", pid: 7, ram: [{ gpa: 0, size: "0x1000", va: "0x1000" }] };
    expect(faultOf([{ op: "process", pid: 7 }, m, m])).toMatch(/not-modelled.*second qemu.machine/);
  });
});

describe("qemu.device", () => {
  it("records an emulated device by guest bdf", () => {
    const r = run([
      { op: "process", pid: 1 },
      { op: "qemu.viommu", pid: 1, model: "intel-iommu" },
      { op: "qemu.device", pid: 1, guest_bdf: "00:03.0", model: "e1000e" },
    ]);
    expect(r.outcomes[2]).toEqual({ ok: true });
    expect(r.result.state.qemu.get(1)!.devices.get("00:03.0")).toBe("e1000e");
  });
  it("refuses (not modelled) a second device in the same slot, and a vIOMMU after the devices", () => {
    const d = { op: "qemu.device", pid: 1, guest_bdf: "00:03.0", model: "nvme" };
    expect(faultOf([{ op: "process", pid: 1 }, d, d])).toMatch(/not-modelled.*00:03\.0/);
    expect(faultOf([{ op: "process", pid: 1 }, d, { op: "qemu.viommu", pid: 1, model: "intel-iommu" }])).toMatch(/not-modelled.*after the devices/);
  });
});
