// ioctl dispatch: what the kernel decides before a command handler runs
// (iommufd_fops_ioctl in drivers/iommu/iommufd/main.c; vfio_device_fops_unl_ioctl;
// vfio_fops_unl_ioctl; the iommufd selftest's cmd_fail and cmd_length cases).
import { describe, expect, it } from "vitest";
import { last } from "../helpers.ts";

const setup = [
  { op: "host.iommu", type: "intel_vtd" },
  { op: "host.device", bdf: "0000:01:00.0" },
  { op: "process", pid: 1 },
  { op: "open", pid: 1, path: "/dev/iommu" }, // fd 3
  { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" }, // fd 4
  { op: "open", pid: 1, path: "/dev/vfio/vfio" }, // fd 5
];
const io = (fd: number, cmd: unknown, extra: Record<string, unknown> = {}) => ({ op: "ioctl", pid: 1, fd, cmd, ...extra });

describe("iommufd size rules (iommufd_fops_ioctl, selftest cmd_length)", () => {
  it("size below offsetofend of the IOCTL_OP member is EINVAL", () => {
    expect(last([...setup, io(3, "IOMMU_DESTROY", { arg: { size: 7 } })])).toEqual({ errno: "EINVAL" });
    // IOMMU_HWPT_ALLOC's minimum ends at __reserved (24), not at sizeof (48).
    expect(last([...setup, io(3, "IOMMU_HWPT_ALLOC", { arg: { size: 23 } })])).toEqual({ errno: "EINVAL" });
    // size 24 reaches iommufd_hwpt_alloc, which finds no device 0.
    expect(last([...setup, io(3, "IOMMU_HWPT_ALLOC", { arg: { size: 24 } })])).toEqual({ errno: "ENOENT" });
  });

  it("a non-zero byte past the kernel's struct is E2BIG; a zero tail is accepted", () => {
    expect(last([...setup, io(3, "IOMMU_DESTROY", { argHex: "090000000100000001" })])).toEqual({ errno: "E2BIG" });
    // selftest cmd_ex_fail: a longer struct with a zero tail reaches the handler (no object 1: ENOENT).
    expect(last([...setup, io(3, "IOMMU_DESTROY", { argHex: "090000000100000000" })])).toEqual({ errno: "ENOENT" });
    expect(last([...setup, io(3, "IOMMU_DESTROY", { argHex: "10000000000000000000000000000000" })])).toEqual({ errno: "ENOENT" });
  });

  it("arg and argHex are two spellings of the same call", () => {
    expect(last([...setup, io(3, "IOMMU_IOAS_MAP", { arg: { size: 12, flags: 1 } })])).toEqual(
      last([...setup, io(3, "IOMMU_IOAS_MAP", { argHex: "0c00000001000000" })]),
    );
  });

  it("a NULL argument faults in get_user(size): EFAULT", () => {
    expect(last([...setup, io(3, "IOMMU_DESTROY", { arg: null })])).toEqual({ errno: "EFAULT" });
  });
});

describe("unknown commands", () => {
  it("nr below IOMMUFD_CMD_BASE goes to the VFIO compat layer, which answers ENOTTY (selftest cmd_fail: 0x7f)", () => {
    expect(last([...setup, io(3, 0x3b7f)])).toEqual({ errno: "ENOTTY" });
    expect(last([...setup, io(3, "0x3b7f")])).toEqual({ errno: "ENOTTY" });
    // VFIO_IOMMU_DIRTY_PAGES is named by vfio_compat.c only to return -ENOIOCTLCMD.
    expect(last([...setup, io(3, "VFIO_IOMMU_DIRTY_PAGES", { arg: {} })])).toEqual({ errno: "ENOTTY" });
  });

  it("command 0x95 is unknown in v6.19 and known once the no-IOMMU series is in (profile switch ioas-get-pa)", () => {
    const call = io(3, "IOMMU_IOAS_NOIOMMU_GET_PA", { arg: { size: 16 } });
    expect(last([...setup, call], "linux-6.19")).toEqual({ errno: "ENOTTY" });
    expect(last([...setup, call], "linux-noiommu-v4")).toEqual({ errno: "EINVAL" });
  });

  it("VFIO_GET_API_VERSION answers VFIO_API_VERSION (0) on /dev/iommu and on a container", () => {
    expect(last([...setup, io(3, "VFIO_GET_API_VERSION")])).toEqual({ ret: 0 });
    expect(last([...setup, io(5, "VFIO_GET_API_VERSION")])).toEqual({ ret: 0 });
  });
});

describe("VFIO files", () => {
  it("every ioctl but BIND on a cdev fd that is not bound is EINVAL (vfio noiommu selftest device_get_info_without_bind_fails)", () => {
    expect(last([...setup, io(4, "VFIO_DEVICE_GET_INFO")])).toEqual({ errno: "EINVAL" });
    expect(last([...setup, io(4, 0x3bff)])).toEqual({ errno: "EINVAL" });
    // BIND is the one command a cdev fd takes before bind (the VFIO model answers it: test/model/vfio_cdev.test.ts).
    expect(last([...setup, io(4, "VFIO_DEVICE_BIND_IOMMUFD", { arg: { iommufd: 3 } })])).toEqual({ ret: 0, out: { out_devid: 1 } });
  });

  it("a container with no IOMMU driver answers EINVAL to commands it passes to the driver", () => {
    expect(last([...setup, io(5, "VFIO_IOMMU_MAP_DMA", { arg: { size: 4096 } })])).toEqual({ errno: "EINVAL" });
  });

  it("an fd that is not open is EBADF", () => {
    expect(last([...setup, io(9, "IOMMU_DESTROY", { arg: { id: 1 } })])).toEqual({ errno: "EBADF" });
  });
});
