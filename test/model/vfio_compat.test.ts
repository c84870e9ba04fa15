// iommufd's VFIO type1 compatibility on /dev/iommu (drivers/iommu/iommufd/
// vfio_compat.c), as the iommufd selftest's vfio_compat_mock_domain and
// uapi-iommufd.md §6 describe it.
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const io = (fd: number, cmd: string, arg?: unknown) => ({ op: "ioctl", pid: 1, fd, cmd, ...(arg === undefined ? {} : { arg }) });
const base = [
  { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" },
  { op: "process", pid: 1 },
  { op: "mem.map", pid: 1, va: "0x7f0000000000", length: "0x200000", huge: true },
  { op: "open", pid: 1, path: "/dev/iommu" }, // 3
];
const withIoas = [...base, io(3, "IOMMU_IOAS_ALLOC"), io(3, "IOMMU_VFIO_IOAS", { op: 1, ioas_id: 1 })];
const map = (iova: string, size: string, flags: unknown = ["READ", "WRITE"]) => io(3, "VFIO_IOMMU_MAP_DMA", { flags, vaddr: "0x7f0000000000", iova, size });
const unmap = (iova: string, size: string, flags: unknown = 0) => io(3, "VFIO_IOMMU_UNMAP_DMA", { flags, iova, size });

describe("VFIO compatibility on /dev/iommu", () => {
  it("CHECK_EXTENSION: TYPE1, TYPE1v2, UNMAP_ALL, NOIOMMU 1; the nesting type and UPDATE_VADDR 0; DMA_CC ENODEV without a compat IOAS", () => {
    const ext = (n: number, pre = base) => last([...pre, io(3, "VFIO_CHECK_EXTENSION", n)]);
    expect([1, 3, 9, 8, 6, 10].map((n) => ext(n))).toEqual([{ ret: 1 }, { ret: 1 }, { ret: 1 }, { ret: 1 }, { ret: 0 }, { ret: 0 }]);
    expect(ext(4)).toEqual({ errno: "ENODEV" });
    expect(ext(4, withIoas)).toEqual({ ret: 1 });
  });
  it("SET_IOMMU: ENODEV without a compat IOAS (it makes none), EINVAL for another type", () => {
    expect(last([...base, io(3, "VFIO_SET_IOMMU", 3)])).toEqual({ errno: "ENODEV" });
    expect(last([...withIoas, io(3, "VFIO_SET_IOMMU", 3)])).toEqual({ ret: 0 });
    expect(last([...withIoas, io(3, "VFIO_SET_IOMMU", 7)])).toEqual({ errno: "EINVAL" });
    // TYPE1 turns large pages off on the compat IOAS.
    const r = run([...withIoas, io(3, "VFIO_SET_IOMMU", 1)]);
    expect([...r.result.state.iommufd.values()][0]!.objects.get(1)).toMatchObject({ hugePages: false });
  });
  it("GET_INFO: argsz < 16 EINVAL; PGSIZES|CAPS; the DMA_AVAIL (U32_MAX) and IOVA-range caps", () => {
    expect(last([...withIoas, io(3, "VFIO_IOMMU_GET_INFO", { argsz: 15 })])).toEqual({ errno: "EINVAL" });
    expect(last([...base, io(3, "VFIO_IOMMU_GET_INFO")])).toEqual({ errno: "ENODEV" });
    expect(last([...withIoas, io(3, "VFIO_IOMMU_GET_INFO")])).toEqual({
      ret: 0,
      out: { argsz: 72, flags: 3, iova_pgsizes: 0xfffffffffffff000n, cap_offset: 0, pad: 0 },
    });
    expect(last([...withIoas, io(3, "VFIO_IOMMU_GET_INFO", { argsz: 72 })])).toMatchObject({
      out: {
        argsz: 72,
        cap_offset: 24,
        caps: [
          { id: 3, version: 1, next: 40, avail: 0xffffffff },
          { id: 1, version: 1, next: 0, nr_iovas: 1, iova_ranges: [{ start: 0n, end: 0xffffffffffffffffn }] },
        ],
      },
    });
  });
  it("MAP_DMA/UNMAP_DMA: flag rules, ENODEV, UNMAP_ALL needs iova and size 0, an empty range succeeds", () => {
    expect(last([...withIoas, map("0x1000", "0x1000", 4)])).toEqual({ errno: "EINVAL" });
    expect(last([...base, map("0x1000", "0x1000")])).toEqual({ errno: "ENODEV" });
    expect(last([...withIoas, map("0x1000", "0x1000")])).toEqual({ ret: 0 });
    expect(last([...withIoas, map("0x1000", "0x1000"), unmap("0x0", "0x0", ["ALL"])])).toMatchObject({ ret: 0, out: { size: 0x1000n } });
    expect(last([...withIoas, map("0x1000", "0x1000"), unmap("0x1000", "0x0", ["ALL"])])).toEqual({ errno: "EINVAL" });
    expect(last([...withIoas, unmap("0x100000", "0x1000")])).toMatchObject({ ret: 0, out: { size: 0n } });
    expect(last([...withIoas, map("0x1000", "0x1000"), unmap("0x1000", "0x1000", ["GET_DIRTY_BITMAP"])])).toEqual({ errno: "EINVAL" });
  });
  it("TYPE1 (v1) may cut a mapping; TYPE1v2 refuses to (ENOENT)", () => {
    expect(last([...withIoas, io(3, "VFIO_SET_IOMMU", 3), map("0x10000", "0x4000"), unmap("0x11000", "0x1000")])).toEqual({ errno: "ENOENT" });
    expect(last([...withIoas, io(3, "VFIO_SET_IOMMU", 1), map("0x10000", "0x4000"), unmap("0x11000", "0x1000")])).toMatchObject({
      ret: 0,
      out: { size: 0x1000n },
    });
  });
  it("VFIO_IOMMU_DIRTY_PAGES and unknown numbers are ENOTTY", () => {
    expect(last([...withIoas, io(3, "VFIO_IOMMU_DIRTY_PAGES", {})])).toEqual({ errno: "ENOTTY" });
  });
  it("a no-IOMMU group on /dev/iommu puts the context in no-IOMMU mode: only NOIOMMU sets, with CAP_SYS_RAWIO", () => {
    const noiommu = (caps: string[]) => [
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "Y" },
      { op: "host.device", bdf: "0000:03:00.0", iommu: false },
      { op: "process", pid: 1, caps },
      { op: "open", pid: 1, path: "/dev/iommu" }, // 3
      { op: "open", pid: 1, path: "/dev/vfio/noiommu-0" }, // 4
      io(4, "VFIO_GROUP_SET_CONTAINER", 3),
    ];
    expect(last([...noiommu(["CAP_SYS_RAWIO"]), io(3, "VFIO_SET_IOMMU", 8)])).toEqual({ ret: 0 });
    expect(last([...noiommu(["CAP_SYS_RAWIO"]), io(3, "VFIO_SET_IOMMU", 3)])).toEqual({ errno: "EINVAL" });
    // vfio_df_group_open: a no-IOMMU device on an iommufd opens without access (every ioctl EINVAL).
    expect(last([...noiommu(["CAP_SYS_RAWIO"]), io(4, "VFIO_GROUP_GET_DEVICE_FD", "0000:03:00.0"), io(5, "VFIO_DEVICE_GET_INFO")])).toEqual({
      errno: "EINVAL",
    });
    // An IOMMU group cannot join a no-IOMMU context (iommufd_vfio_compat_ioas_create: EINVAL).
    expect(
      last([
        ...noiommu(["CAP_SYS_RAWIO"]),
        { op: "host.device", bdf: "0000:01:00.0", group: 9 },
        { op: "open", pid: 1, path: "/dev/vfio/9" },
        io(5, "VFIO_GROUP_SET_CONTAINER", 3),
      ]),
    ).toEqual({ errno: "EINVAL" });
  });
});
