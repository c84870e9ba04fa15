// The VFIO device cdev (drivers/vfio/device_cdev.c vfio_df_ioctl_bind_iommufd,
// vfio_df_ioctl_attach_pt / detach_pt, vfio_device_fops_release), the bind
// token change 86624ba3b522 and its ksize fix, PASID attach ad744ed5dd8b
// (seed 004), and the no-IOMMU cdev's CAP_SYS_RAWIO (seed 003 review).
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const io = (fd: number, cmd: string, arg?: unknown, pid = 1) => ({ op: "ioctl", pid, fd, cmd, ...(arg === undefined ? {} : { arg }) });
const base = (extra: Record<string, unknown> = {}) => [
  { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe", max_pasid_log2: 20 },
  { op: "host.device", bdf: "0000:01:00.0", pasid: { max_log2: 20 }, ...extra },
  { op: "process", pid: 1 },
  { op: "open", pid: 1, path: "/dev/iommu" }, // 3
  { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" }, // 4
];
const bind = io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 });

describe("VFIO_DEVICE_BIND_IOMMUFD (vfio_df_ioctl_bind_iommufd)", () => {
  it("binds, writes out_devid back and grants access (selftest device_bind_iommufd)", () => {
    expect(last([...base(), bind])).toEqual({ ret: 0, out: { out_devid: 1 } });
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_GET_INFO")])).toMatchObject({ ret: 0, out: { flags: 3, num_regions: 9, num_irqs: 5 } });
  });

  it("argsz below 16 is EINVAL; a NULL argument EFAULT", () => {
    expect(last([...base(), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { argsz: 15, iommufd: 3 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base(), { op: "ioctl", pid: 1, fd: 4, cmd: "VFIO_DEVICE_BIND_IOMMUFD", arg: null }])).toEqual({ errno: "EFAULT" });
  });

  it("a non-zero token_uuid_ptr is E2BIG until the ksize fix (ksize was minsz)", () => {
    const call = io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3, token_uuid_ptr: "0x7f0000000000" });
    expect(last([...base(), call], ["linux-6.19", "-vfio-bind-ksize-fix"])).toEqual({ errno: "E2BIG" });
    // With the fix the pointer is read: without FLAG_TOKEN it is not used.
    expect(last([...base(), call], "linux-6.19")).toEqual({ ret: 0, out: { out_devid: 1 } });
    // Bytes past sizeof(bind) must still be zero (copy_struct_from_user).
    expect(
      last([...base(), { op: "ioctl", pid: 1, fd: 4, cmd: "VFIO_DEVICE_BIND_IOMMUFD", argHex: "1c000000000000000300000000000000000000000000000001000000" }]),
    ).toEqual({ errno: "E2BIG" });
  });

  it("flags other than TOKEN, and a negative iommufd, are EINVAL (selftest device_bind_bad_iommufd_fails: -2)", () => {
    expect(last([...base(), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: 2, iommufd: 3 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base(), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: -2 })])).toEqual({ errno: "EINVAL" });
    // Before the token change any flag is EINVAL.
    expect(last([...base(), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: 1, iommufd: 3 })], ["linux-6.19", "-vfio-bind-token"])).toEqual({ errno: "EINVAL" });
  });

  it("an fd that is not open is EBADF, one that is not /dev/iommu EBADFD", () => {
    expect(last([...base(), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 9 })])).toEqual({ errno: "EBADF" });
    expect(last([...base(), { op: "open", pid: 1, path: "/dev/vfio/vfio" }, io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 5 })])).toEqual({ errno: "EBADFD" });
  });

  it("a second bind of the same fd is EINVAL (selftest device_repeated_bind_fails)", () => {
    expect(last([...base(), bind, bind])).toEqual({ errno: "EINVAL" });
  });

  it("one open per device on the cdev path: a second fd cannot bind while the first is bound (vfio_df_open)", () => {
    expect(last([...base(), bind, { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" }, io(5, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 })])).toEqual({
      errno: "EINVAL",
    });
    // Closing the first fd unbinds: the second can bind, and gets a new device object.
    expect(
      last([
        ...base(),
        bind,
        { op: "close", pid: 1, fd: 4 },
        { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" },
        io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 }),
      ]),
    ).toEqual({ ret: 0, out: { out_devid: 1 } });
  });

  it("the device cannot be used through its group and its cdev at once: EBUSY both ways", () => {
    expect(last([...base(), { op: "open", pid: 1, path: "/dev/vfio/0" }, bind])).toEqual({ errno: "EBUSY" });
    expect(last([...base(), bind, { op: "open", pid: 1, path: "/dev/vfio/0" }])).toEqual({ errno: "EBUSY" });
    // Open but not bound: the group can still open (the block is taken at bind).
    expect(last([...base(), { op: "open", pid: 1, path: "/dev/vfio/0" }])).toEqual({ fd: 5 });
  });

  describe("the VF token (vfio_df_check_token -> vfio_pci_validate_vf_token)", () => {
    const uuid = "bd8d9d2b-5a5f-4f5a-a211-f591514ba1f3";
    it("a VF whose PF holds a token needs it (EACCES), the right one binds", () => {
      expect(last([...base({ vf_token: uuid }), bind])).toEqual({ errno: "EACCES" });
      expect(
        last([...base({ vf_token: uuid }), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: ["TOKEN"], iommufd: 3, token: "00000000-0000-0000-0000-000000000000" })]),
      ).toEqual({ errno: "EACCES" });
      expect(last([...base({ vf_token: uuid }), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: ["TOKEN"], iommufd: 3, token: uuid })])).toEqual({
        ret: 0,
        out: { out_devid: 1 },
      });
    });
    it("reads the uuid through token_uuid_ptr from process memory (EFAULT when unmapped)", () => {
      const mem = [
        { op: "mem.map", pid: 1, va: "0x10000", length: "0x1000" },
        { op: "mem.write", pid: 1, va: "0x10000", hex: uuid.replace(/-/g, "") },
      ];
      expect(last([...base({ vf_token: uuid }), ...mem, io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: 1, iommufd: 3, token_uuid_ptr: "0x10000" })])).toEqual({
        ret: 0,
        out: { out_devid: 1 },
      });
      expect(last([...base({ vf_token: uuid }), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: 1, iommufd: 3, token_uuid_ptr: "0x10000" })])).toEqual({
        errno: "EFAULT",
      });
    });
    it("a token for a device that needs none is EINVAL", () => {
      expect(last([...base(), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: 1, iommufd: 3, token: uuid })])).toEqual({ errno: "EINVAL" });
    });
    it("before the ksize fix an inline token (a non-zero pointer) is E2BIG", () => {
      expect(
        last([...base({ vf_token: uuid }), io(4, "VFIO_DEVICE_BIND_IOMMUFD", { flags: 1, iommufd: 3, token: uuid })], ["linux-6.19", "-vfio-bind-ksize-fix"]),
      ).toEqual({ errno: "E2BIG" });
    });
  });
});

describe("no-IOMMU cdev (seed 003)", () => {
  const noiommu = [
    { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "Y" },
    { op: "host.device", bdf: "0000:02:00.0", iommu: false },
  ];
  it("opening noiommu-vfioN needs CAP_SYS_RAWIO as merged (EPERM), not in V4 as posted", () => {
    const ev = [...noiommu, { op: "process", pid: 1 }, { op: "open", pid: 1, path: "/dev/vfio/devices/noiommu-vfio0" }];
    expect(last(ev, "linux-mainline")).toEqual({ errno: "EPERM" });
    expect(last(ev, "linux-noiommu-v4")).toEqual({ fd: 3 });
    const raw = [...noiommu, { op: "process", pid: 1, caps: ["CAP_SYS_RAWIO"] }, { op: "open", pid: 1, path: "/dev/vfio/devices/noiommu-vfio0" }];
    expect(last(raw, "linux-mainline")).toEqual({ fd: 3 });
  });
});

describe("VFIO_DEVICE_ATTACH/DETACH_IOMMUFD_PT (vfio_df_ioctl_attach_pt / detach_pt)", () => {
  const ioas = io(3, "IOMMU_IOAS_ALLOC");
  it("attaches to an IOAS and writes the automatic HWPT's id back (selftest device_attach_to_ioas)", () => {
    expect(last([...base(), bind, ioas, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 2 })])).toEqual({ ret: 0, out: { pt_id: 3 } });
  });
  it("a missing pt_id is iommufd's ENOENT (selftest device_attach_invalid_ioas_fails)", () => {
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 0xffffffff })])).toEqual({ errno: "ENOENT" });
  });
  it("argsz and flags rules; PASID needs argsz 16, and exists only with the PASID change", () => {
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { argsz: 11, pt_id: 2 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { flags: 2, pt_id: 2 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { argsz: 12, flags: 1, pt_id: 2 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { flags: 1, pt_id: 2, pasid: 5 })], ["linux-6.19", "-vfio-pasid-attach"])).toEqual({
      errno: "EINVAL",
    });
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_DETACH_IOMMUFD_PT", { argsz: 7 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_DETACH_IOMMUFD_PT", { argsz: 8, flags: 1 })])).toEqual({ errno: "EINVAL" });
  });
  it("a PASID from 2^31 is ENOSPC (ida_alloc_range with a negative int)", () => {
    expect(last([...base(), bind, ioas, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { flags: 1, pt_id: 2, pasid: 0x80000000 })])).toEqual({ errno: "ENOSPC" });
  });
  it("a second attach replaces; detach without attach succeeds (selftest device_detach_from_ioas)", () => {
    const r = run([
      ...base(),
      bind,
      ioas,
      io(3, "IOMMU_IOAS_ALLOC"),
      io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 2 }),
      io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 3 }),
    ]);
    expect(r.outcomes.slice(-2)).toEqual([
      { ret: 0, out: { pt_id: 4 } },
      { ret: 0, out: { pt_id: 5 } },
    ]);
    expect(last([...base(), bind, io(4, "VFIO_DEVICE_DETACH_IOMMUFD_PT")])).toEqual({ ret: 0 });
    expect(last([...base(), bind, ioas, io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 2 }), io(4, "VFIO_DEVICE_DETACH_IOMMUFD_PT")])).toEqual({ ret: 0 });
  });
  it("closing the device file unbinds: the device object, its HWPT and the IOAS user go (vfio_df_unbind_iommufd)", () => {
    const r = run([
      ...base(),
      bind,
      ioas,
      io(4, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 2 }),
      { op: "close", pid: 1, fd: 4 },
      io(3, "IOMMU_DESTROY", { id: 2 }),
    ]);
    expect(r.outcomes[r.outcomes.length - 1]).toEqual({ ret: 0, out: { size: 8, id: 2 } });
    const ctx = [...r.result.state.iommufd.values()][0]!;
    expect(ctx.objects.size).toBe(0);
  });
  it("the iommufd context outlives its fd while a device is bound (iommufd_ctx_get)", () => {
    const r = run([...base(), bind, { op: "close", pid: 1, fd: 3 }]);
    expect(r.result.state.iommufd.size).toBe(1);
    const r2 = run([...base(), bind, { op: "close", pid: 1, fd: 3 }, { op: "close", pid: 1, fd: 4 }]);
    expect(r2.result.state.iommufd.size).toBe(0);
  });
});
