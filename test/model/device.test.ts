// iommufd devices (drivers/iommu/iommufd/device.c) through the API VFIO
// calls: bind, attach / replace (an IOAS through automatic domains, or a
// HWPT), detach, unbind; users counts, reserved regions, PASID attach, igroups
// and the context's lifetime. Each case names the kernel selftest
// (tools/testing/selftests/iommu/iommufd.c) or the kernel function it follows;
// the selftest's test_cmd_mock_domain is a bind plus an attach here.

import { describe, expect, it } from "vitest";
import type { HwptPaging, IommufdDevice } from "../../src/model/iommufd/state.ts";
import { destroy, hwptAlloc, io, mockSim, NO_PASID, outId, selftestData, Sim } from "./iommufd_sim.ts";

const BUF = "0x7f0000000000";
const MOCK_APERTURE_START = 0x1000000;

describe("bind and the users of a device (iommufd_device_bind)", () => {
  it("a bound device has two users: IOMMU_DESTROY of it is EBUSY until unbind (selftest cmd_fail-style destroy)", () => {
    const sim = mockSim();
    expect(sim.bindOk(1, 3, "0000:00:01.0")).toBe(2);
    expect(sim.obj(1, 3, 2)).toMatchObject({ type: "device", users: 2 });
    expect(sim.ev(destroy(2))).toEqual({ errno: "EBUSY" });
    sim.unbind(1, 3, 2);
    expect(sim.obj(1, 3, 2)).toBeUndefined();
    expect(sim.ev(destroy(2))).toEqual({ errno: "ENOENT" });
  });

  it("a group owned by another context: iommu_device_claim_dma_owner answers EPERM", () => {
    const sim = mockSim([
      { op: "host.device", bdf: "0000:00:01.0", group: 5 },
      { op: "host.device", bdf: "0000:00:01.1", group: 5 },
    ]);
    sim.ev({ op: "open", pid: 1, path: "/dev/iommu" }); // fd 4
    sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.bind(1, 4, "0000:00:01.1")).toBe("EPERM");
    expect(sim.bind(1, 3, "0000:00:01.1")).toEqual({ devId: 3 });
  });

  it("a bound device holds the context: closing /dev/iommu releases it only at unbind (iommufd_ctx_get/put)", () => {
    const sim = mockSim();
    const f = sim.ctxFile(1, 3);
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.ev({ op: "close", pid: 1, fd: 3 })).toEqual({ ret: 0 });
    expect(sim.state.iommufd.has(f)).toBe(true);
    expect(sim.state.files.get(f)).toMatchObject({ closed: true, kernelRefs: 1 });
    expect(sim.state.iommufd.get(f)!.objects.get(3)).toMatchObject({ type: "hwpt_paging", auto: true });
    sim.unbindFile(f, dev);
    expect(sim.state.iommufd.has(f)).toBe(false);
    expect(sim.state.files.has(f)).toBe(false);
  });
});

describe("attach to an IOAS: automatic domains (iommufd_device_auto_get_domain)", () => {
  it("makes an automatic paging HWPT holding the IOAS; the IOAS and HWPT are busy (selftest ioas_destroy)", () => {
    const sim = mockSim();
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    const hwpt = sim.obj(1, 3, 3) as HwptPaging;
    expect(hwpt).toMatchObject({ type: "hwpt_paging", auto: true, ioasId: 1, users: 2 });
    expect(sim.domain(1, 3, 3)).toMatchObject({ format: "selftest" });
    expect(sim.obj(1, 3, 1)!.users).toBe(2);
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(3);
    expect(sim.ev(destroy(1))).toEqual({ errno: "EBUSY" });
    expect(sim.ev(destroy(3))).toEqual({ errno: "EBUSY" });
  });

  it("a second device takes the same automatic domain: any auto domain that attaches is interchangeable", () => {
    const sim = mockSim([
      { op: "host.device", bdf: "0000:00:01.0" },
      { op: "host.device", bdf: "0000:00:02.0" },
    ]);
    const a = sim.bindOk(1, 3, "0000:00:01.0");
    const b = sim.bindOk(1, 3, "0000:00:02.0");
    expect(sim.attach(1, 3, a, 1)).toEqual({ ptId: 4 });
    expect(sim.attach(1, 3, b, 1)).toEqual({ ptId: 4 });
    expect(sim.obj(1, 3, 4)!.users).toBe(3);
  });

  it("detaching the last device destroys the automatic domain and frees the IOAS", () => {
    const sim = mockSim();
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    sim.attach(1, 3, dev, 1);
    sim.detach(1, 3, dev);
    expect(sim.obj(1, 3, 3)).toBeUndefined();
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(2);
    expect(sim.obj(1, 3, 1)!.users).toBe(1);
    expect(sim.ev(destroy(1))).toMatchObject({ ret: 0 });
    // a detach of something not attached is a no-op (VFIO may call it)
    sim.detach(1, 3, dev);
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(2);
  });

  it("pt_id: a missing id is ENOENT, an object of another kind EINVAL (iommufd_device_change_pt)", () => {
    const sim = mockSim();
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.attach(1, 3, dev, 99)).toBe("ENOENT");
    expect(sim.attach(1, 3, dev, dev)).toBe("EINVAL");
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(2);
  });

  it("replacing onto another IOAS frees the old automatic HWPT: replacing back onto it is ENOENT (selftest iommufd_mock_domain.replace)", () => {
    const sim = mockSim();
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.ev(io(3, "IOMMU_IOAS_ALLOC")).out?.out_ioas_id).toBe(4);
    // the new automatic domain is made while the old one still holds id 3
    expect(sim.attach(1, 3, dev, 4)).toEqual({ ptId: 5 });
    expect(sim.obj(1, 3, 3)).toBeUndefined();
    expect(sim.attach(1, 3, dev, 3)).toBe("ENOENT");
    // the same IOAS again is the same domain
    expect(sim.attach(1, 3, dev, 4)).toEqual({ ptId: 5 });
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(3);
    expect(sim.ev(destroy(4))).toMatchObject({ ret: 0 });
  });

  it("a HW PT rotation: a manual HWPT in use is busy, and is left alone when the device moves on (selftest iommufd_mock_domain.alloc_hwpt)", () => {
    const sim = mockSim();
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    sim.attach(1, 3, dev, 1); // auto hwpt 3
    expect(sim.ev(hwptAlloc(dev, 1, 0xfffffffe))).toEqual({ errno: "EOPNOTSUPP" });
    const h0 = outId(sim.ev(hwptAlloc(dev, 1, 0)));
    const h1 = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    expect([h0, h1]).toEqual([4, 5]);
    expect(sim.attach(1, 3, dev, h0)).toEqual({ ptId: h0 });
    expect(sim.obj(1, 3, 3)).toBeUndefined(); // the automatic domain went with its last device
    expect(sim.ev(destroy(h0))).toEqual({ errno: "EBUSY" });
    expect(sim.attach(1, 3, dev, h1)).toEqual({ ptId: h1 });
    expect(sim.ev(destroy(h1))).toEqual({ errno: "EBUSY" });
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.ev(destroy(h1))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(h0))).toMatchObject({ ret: 0 });
  });
});

describe("reserved regions (iopt_table_enforce_dev_resv_regions)", () => {
  function vtdSim(): Sim {
    const sim = new Sim();
    sim.evs([
      { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" },
      { op: "host.device", bdf: "0000:01:00.0" },
      { op: "process", pid: 1 },
      { op: "mem.map", pid: 1, va: BUF, length: "0x200000" },
      { op: "open", pid: 1, path: "/dev/iommu" },
      io(3, "IOMMU_IOAS_ALLOC"),
    ]);
    return sim;
  }
  const mapAt = (iova: string) => io(3, "IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 1, user_va: BUF, length: "0x1000", iova });

  it("VT-d reserves the interrupt window 0xfee00000..0xfeefffff while the device is attached", () => {
    const sim = vtdSim();
    const dev = sim.bindOk(1, 3, "0000:01:00.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.ev(mapAt("0xfee00000"))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(mapAt("0xfef00000"))).toMatchObject({ ret: 0 });
    sim.detach(1, 3, dev);
    expect(sim.ev(mapAt("0xfee00000"))).toMatchObject({ ret: 0 });
  });

  it("an attach over a mapping in the window is EADDRINUSE and leaves no domain behind", () => {
    const sim = vtdSim();
    const dev = sim.bindOk(1, 3, "0000:01:00.0");
    expect(sim.ev(mapAt("0xfee01000"))).toMatchObject({ ret: 0 });
    expect(sim.attach(1, 3, dev, 1)).toBe("EADDRINUSE");
    expect([...sim.ctx(1, 3).objects.keys()]).toEqual([1, dev]);
    expect(sim.obj(1, 3, 1)!.users).toBe(1);
  });
});

describe("igroups: one attachment per group and PASID (iommufd_hw_pagetable_attach)", () => {
  it("a second device of the group must take the group's HWPT (EINVAL), and joins it through the IOAS", () => {
    const sim = mockSim([
      { op: "host.device", bdf: "0000:00:01.0", group: 7 },
      { op: "host.device", bdf: "0000:00:01.1", group: 7 },
    ]);
    const a = sim.bindOk(1, 3, "0000:00:01.0");
    const b = sim.bindOk(1, 3, "0000:00:01.1");
    expect(sim.attach(1, 3, a, 1)).toEqual({ ptId: 4 });
    const other = outId(sim.ev(hwptAlloc(a, 1)));
    expect(sim.attach(1, 3, b, other)).toBe("EINVAL");
    expect(sim.attach(1, 3, b, 1)).toEqual({ ptId: 4 });
    // replacing the group moves both devices and their users
    expect(sim.attach(1, 3, a, other)).toEqual({ ptId: other });
    expect((sim.obj(1, 3, b) as IommufdDevice).attach.get(NO_PASID)).toBe(other);
    expect(sim.obj(1, 3, other)!.users).toBe(3);
    expect(sim.obj(1, 3, 4)).toBeUndefined();
  });
});

describe("PASID attach (selftest iommufd_device_pasid.pasid_attach)", () => {
  function pasidSim(): { sim: Sim; dev: number; parent: number; nested: number[]; s2: number } {
    const sim = mockSim([
      { op: "host.device", bdf: "0000:00:01.0", pasid: { max_log2: 20 } },
      { op: "host.device", bdf: "0000:00:02.0" },
    ]);
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    const nested = [outId(sim.ev(hwptAlloc(dev, parent, ["ALLOC_PASID"], selftestData))), outId(sim.ev(hwptAlloc(dev, parent, ["ALLOC_PASID"], selftestData)))];
    const s2 = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_PASID"])));
    expect([parent, ...nested, s2]).toEqual([4, 5, 6, 7]);
    return { sim, dev, parent, nested, s2 };
  }

  it("the RID's HWPT must be PASID-compatible, and then pins the RID to compatible ones", () => {
    const { sim, dev, parent, nested, s2 } = pasidSim();
    expect(sim.attach(1, 3, dev, parent)).toEqual({ ptId: parent });
    expect(sim.attach(1, 3, dev, s2, 100)).toBe("EINVAL");
    expect(sim.attach(1, 3, dev, s2)).toEqual({ ptId: s2 });
    expect(sim.attach(1, 3, dev, nested[0]!, 100)).toEqual({ ptId: nested[0] });
    expect(sim.attach(1, 3, dev, parent)).toBe("EINVAL");
    sim.detach(1, 3, dev, 100);
    expect((sim.obj(1, 3, dev) as IommufdDevice).attach.has(100)).toBe(false);
    expect(sim.attach(1, 3, dev, parent)).toEqual({ ptId: parent });
  });

  it("a HWPT without IOMMU_HWPT_ALLOC_PASID and an IOAS are EINVAL; a second attach of a PASID is EBUSY", () => {
    const { sim, dev, parent, nested, s2 } = pasidSim();
    sim.attach(1, 3, dev, s2);
    expect(sim.attach(1, 3, dev, parent, 100)).toBe("EINVAL");
    expect(sim.attach(1, 3, dev, 1, 100)).toBe("EINVAL");
    expect(sim.attach(1, 3, dev, s2, 100, false)).toEqual({ ptId: s2 });
    expect(sim.attach(1, 3, dev, nested[0]!, 100, false)).toBe("EBUSY");
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(4);
    sim.detach(1, 3, dev, 100);
    expect((sim.obj(1, 3, dev) as IommufdDevice).users).toBe(3);
  });

  it("replace needs the PASID attached (EINVAL) and keeps the old HWPT on failure", () => {
    const { sim, dev, nested, s2 } = pasidSim();
    sim.attach(1, 3, dev, s2);
    expect(sim.attach(1, 3, dev, s2, 200, true)).toBe("EINVAL");
    expect(sim.attach(1, 3, dev, s2, 200)).toEqual({ ptId: s2 });
    expect(sim.attach(1, 3, dev, 1, 200, true)).toBe("EINVAL");
    expect((sim.obj(1, 3, dev) as IommufdDevice).attach.get(200)).toBe(s2);
    expect(sim.attach(1, 3, dev, nested[0]!, 200, true)).toEqual({ ptId: nested[0] });
    expect(sim.attach(1, 3, dev, nested[1]!, 200, true)).toEqual({ ptId: nested[1] });
    expect(sim.obj(1, 3, nested[0]!)!.users).toBe(1);
    expect(sim.obj(1, 3, nested[1]!)!.users).toBe(2);
  });

  it("the mock fails every second set_dev_pasid of PASID 1024 with ENOMEM (IOMMU_TEST_PASID_RESERVED)", () => {
    const { sim, dev, nested, s2 } = pasidSim();
    sim.attach(1, 3, dev, s2);
    expect(sim.attach(1, 3, dev, s2, 1024)).toEqual({ ptId: s2 });
    expect(sim.attach(1, 3, dev, nested[0]!, 1024, true)).toBe("ENOMEM");
    expect((sim.obj(1, 3, dev) as IommufdDevice).attach.get(1024)).toBe(s2);
    sim.detach(1, 3, dev, 1024);
    expect(sim.attach(1, 3, dev, s2, 1024)).toEqual({ ptId: s2 });
  });

  it("a device without PASID, or a PASID past the width (MOCK_PASID_WIDTH 20), is EINVAL", () => {
    const { sim, dev, parent, s2 } = pasidSim();
    sim.attach(1, 3, dev, s2);
    expect(sim.attach(1, 3, dev, s2, 1 << 20)).toBe("EINVAL");
    expect(sim.attach(1, 3, dev, s2, (1 << 20) - 1)).toEqual({ ptId: s2 });
    const plain = sim.bindOk(1, 3, "0000:00:02.0");
    expect(sim.attach(1, 3, plain, s2)).toEqual({ ptId: s2 }); // a PASID-compatible domain serves a RID
    expect(sim.attach(1, 3, plain, 1)).toMatchObject({ ptId: expect.any(Number) });
    expect(sim.attach(1, 3, plain, parent, 100)).toBe("EINVAL");
    expect(sim.attach(1, 3, plain, s2, 100)).toBe("EINVAL");
  });
});

describe("no-IOMMU devices (seed 003: iommufd: Allow binding to a noiommu device)", () => {
  const noiommu = [
    { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: true },
    { op: "host.device", bdf: "0000:03:00.0", iommu: false },
  ];

  it("before the series a device without an IOMMU cannot bind: EINVAL (device_iommu_capable CACHE_COHERENCY)", () => {
    const sim = mockSim(noiommu, "linux-6.19");
    expect(sim.bind(1, 3, "0000:03:00.0")).toBe("EINVAL");
  });

  it("with it the device binds, attaches to a SW-only AMDv1 domain without reserved regions, and refuses flags and data", () => {
    const sim = mockSim(noiommu);
    const dev = sim.bindOk(1, 3, "0000:03:00.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.domain(1, 3, 3)).toMatchObject({ format: "noiommu" });
    expect(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"]))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"]))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(dev, 1, 0, selftestData))).toEqual({ errno: "EOPNOTSUPP" });
    const sw = outId(sim.ev(hwptAlloc(dev, 1)));
    expect(sim.domain(1, 3, sw)).toMatchObject({ format: "noiommu" });
    // a nested HWPT needs domain_alloc_nested, which the noiommu ops lack
    expect(sim.ev(hwptAlloc(dev, sw, 0, selftestData))).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("a device with an IOMMU cannot attach to a no-IOMMU domain: EINVAL (the domain's owner)", () => {
    const sim = mockSim([...noiommu, { op: "host.device", bdf: "0000:00:01.0" }]);
    const no = sim.bindOk(1, 3, "0000:03:00.0");
    const real = sim.bindOk(1, 3, "0000:00:01.0");
    const sw = outId(sim.ev(hwptAlloc(no, 1)));
    expect(sim.attach(1, 3, real, sw)).toBe("EINVAL");
    // through the IOAS it gets its own automatic domain instead
    expect(sim.attach(1, 3, no, 1)).toEqual({ ptId: 5 });
    expect(sim.attach(1, 3, real, 1)).toEqual({ ptId: 6 });
    expect(sim.domain(1, 3, 6)).toMatchObject({ format: "selftest" });
  });
});

describe("through VFIO (vfio_iommufd_physical_bind / attach_ioas), as a selftest test_cmd_mock_domain", () => {
  it("bind, attach to the IOAS, DMA through the automatic domain, and the device goes with its file", () => {
    const sim = mockSim();
    sim.ev({ op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" }); // fd 4
    expect(sim.ev(io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 }))).toMatchObject({ ret: 0, out: { out_devid: 2 } });
    expect(sim.ev(io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 1 }))).toMatchObject({ ret: 0, out: { pt_id: 3 } });
    expect(sim.ev(destroy(2))).toEqual({ errno: "EBUSY" });
    expect(
      sim.ev(
        io(3, "IOMMU_IOAS_MAP", {
          flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"],
          ioas_id: 1,
          user_va: BUF,
          length: "0x1000",
          iova: `0x${MOCK_APERTURE_START.toString(16)}`,
        }),
      ),
    ).toMatchObject({ ret: 0 });
    expect(sim.ev({ op: "dma", bdf: "0000:00:01.0", iova: "0x1000010", access: "read" })).toMatchObject({ perm: "rw" });
    // the mock's aperture starts at MOCK_APERTURE_START: below it is reserved (iopt_check_iova: EINVAL)
    expect(sim.ev(io(3, "IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE"], ioas_id: 1, user_va: BUF, length: "0x1000", iova: "0x0" }))).toEqual({
      errno: "EINVAL",
    });
    expect(sim.ev({ op: "close", pid: 1, fd: 4 })).toEqual({ ret: 0 });
    expect(sim.obj(1, 3, 2)).toBeUndefined();
    expect(sim.obj(1, 3, 3)).toBeUndefined();
    expect(sim.ev({ op: "dma", bdf: "0000:00:01.0", iova: "0x1000010", access: "read" })).toHaveProperty("fault");
    expect(sim.ev(destroy(1))).toMatchObject({ ret: 0 });
  });
});
