// host.device naming and module parameters (seed 003: vfio_device_set_noiommu_and_name).
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const noiommuOn = { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "Y" };

describe("VFIO device registration", () => {
  it("gives devices the next VFIO index and the next free group from 0", () => {
    const r = run([
      { op: "host.device", bdf: "0000:01:00.0" },
      { op: "host.device", bdf: "0000:01:00.1", group: 5 },
      { op: "host.device", bdf: "0000:03:00.0" },
    ]);
    const d = r.result.state.host.devices;
    expect([d.get("0000:01:00.0")!.cdev, d.get("0000:01:00.1")!.cdev, d.get("0000:03:00.0")!.cdev]).toEqual(["vfio0", "vfio1", "vfio2"]);
    expect([d.get("0000:01:00.0")!.group, d.get("0000:01:00.1")!.group, d.get("0000:03:00.0")!.group]).toEqual([0, 5, 1]);
  });

  it("refuses a device without an IOMMU unless unsafe no-IOMMU mode is on (probe fails with EINVAL)", () => {
    expect(last([{ op: "host.device", bdf: "0000:02:00.0", iommu: false }])).toEqual({ errno: "EINVAL" });
    expect(last([noiommuOn, { op: "host.device", bdf: "0000:02:00.0", iommu: false }])).toEqual({ ok: true });
  });

  it("names a no-IOMMU cdev noiommu-vfioN with the series, and makes none in v6.19", () => {
    const events = [{ op: "host.device", bdf: "0000:01:00.0" }, noiommuOn, { op: "host.device", bdf: "0000:02:00.0", iommu: false }];
    const merged = run(events, "linux-mainline").result.state.host.devices.get("0000:02:00.0")!;
    const v619 = run(events, "linux-6.19").result.state.host.devices.get("0000:02:00.0")!;
    expect(merged.cdev).toBe("noiommu-vfio1");
    expect(v619.cdev).toBeNull();
    expect(merged.groupNode).toBe("noiommu-1");
    expect(last([...events, { op: "process", pid: 1 }, { op: "open", pid: 1, path: "/dev/vfio/devices/noiommu-vfio1" }], "linux-6.19")).toEqual({
      errno: "ENOENT",
    });
  });

  it("derives the VT-d address width from CAP.MGAW and the PASID width from ECAP.PSS", () => {
    // MGAW = 0x2f (48-bit); ECAP.PASID (bit 40) with PSS = 19 (20-bit PASIDs).
    const cap = `0x${(0x2fn << 16n).toString(16)}`;
    const ecap = `0x${((1n << 40n) | (19n << 35n)).toString(16)}`;
    const s = run([{ op: "host.iommu", type: "intel_vtd", cap_reg: cap, ecap_reg: ecap }]).result.state.host.iommu!;
    expect(s.awBits).toBe(48);
    expect(s.maxPasidLog2).toBe(20);
  });

  it("models the selftest mock IOMMU with MOCK_PASID_WIDTH 20 and dirty tracking", () => {
    const s = run([{ op: "host.iommu", type: "selftest_mock" }]).result.state.host.iommu!;
    expect(s.maxPasidLog2).toBe(20);
    expect(s.hwCaps).toEqual(["DIRTY_TRACKING"]);
  });
});

describe("module parameters (param_set_bool / param_set_uint)", () => {
  it("accepts kstrtobool spellings and rejects others with EINVAL", () => {
    for (const v of ["Y", "y", "1", "on", true]) expect(last([{ op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: v }])).toEqual({ ok: true });
    expect(last([{ op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "maybe" }])).toEqual({ errno: "EINVAL" });
    expect(last([{ op: "param", name: "vfio.pasid_quota", value: -1 }])).toEqual({ errno: "EINVAL" });
  });

  it("a parameter that does not exist is ENOENT (no sysfs file)", () => {
    expect(last([{ op: "param", name: "vfio.nonexistent", value: 1 }])).toEqual({ errno: "ENOENT" });
  });
});
