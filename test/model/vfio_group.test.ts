// The legacy VFIO path: groups (drivers/vfio/group.c), containers
// (container.c vfio_ioctl_set_iommu, vfio_container_ioctl_check_extension)
// and the type1 driver (vfio_iommu_type1.c vfio_dma_do_map / do_unmap /
// get_info / attach_group), with the nesting-type removal 35890f85573c (seed 004).
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const io = (fd: number, cmd: string, arg?: unknown, pid = 1) => ({ op: "ioctl", pid, fd, cmd, ...(arg === undefined ? {} : { arg }) });
const host = [
  { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" },
  { op: "host.device", bdf: "0000:01:00.0" }, // group 0
  { op: "host.device", bdf: "0000:02:00.0" }, // group 1
  { op: "process", pid: 1 },
  { op: "mem.map", pid: 1, va: "0x7f0000000000", length: "0x200000", huge: true },
];
const open = (path: string) => ({ op: "open", pid: 1, path });
// group 0 on fd 3, container fd 4
const legacy = [...host, open("/dev/vfio/0"), open("/dev/vfio/vfio"), io(3, "VFIO_GROUP_SET_CONTAINER", 4)];
const type1 = [...legacy, io(4, "VFIO_SET_IOMMU", 3)];
const map = (iova: string, size = "0x1000", vaddr = "0x7f0000000000", flags: unknown = ["READ", "WRITE"]) =>
  io(4, "VFIO_IOMMU_MAP_DMA", { flags, vaddr, iova, size });
const unmap = (iova: string, size: string, flags: unknown = 0) => io(4, "VFIO_IOMMU_UNMAP_DMA", { flags, iova, size });

describe("VFIO group", () => {
  it("GET_STATUS: VIABLE, then CONTAINER_SET|VIABLE; argsz < 8 EINVAL", () => {
    expect(last([...host, open("/dev/vfio/0"), io(3, "VFIO_GROUP_GET_STATUS")])).toEqual({ ret: 0, out: { argsz: 8, flags: 1 } });
    expect(last([...legacy, io(3, "VFIO_GROUP_GET_STATUS")])).toEqual({ ret: 0, out: { argsz: 8, flags: 3 } });
    expect(last([...host, open("/dev/vfio/0"), io(3, "VFIO_GROUP_GET_STATUS", { argsz: 7 })])).toEqual({ errno: "EINVAL" });
  });
  it("SET_CONTAINER: EBADF, EBADFD, EINVAL when set already", () => {
    expect(last([...host, open("/dev/vfio/0"), io(3, "VFIO_GROUP_SET_CONTAINER", 9)])).toEqual({ errno: "EBADF" });
    expect(last([...host, open("/dev/vfio/0"), open("/dev/vfio/1"), io(3, "VFIO_GROUP_SET_CONTAINER", 4)])).toEqual({ errno: "EBADFD" });
    expect(last([...legacy, io(3, "VFIO_GROUP_SET_CONTAINER", 4)])).toEqual({ errno: "EINVAL" });
  });
  it("UNSET_CONTAINER: nothing set EINVAL; EBUSY while a device is open through it", () => {
    expect(last([...host, open("/dev/vfio/0"), io(3, "VFIO_GROUP_UNSET_CONTAINER")])).toEqual({ errno: "EINVAL" });
    expect(last([...legacy, io(3, "VFIO_GROUP_UNSET_CONTAINER")])).toEqual({ ret: 0 });
    expect(last([...type1, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0"), io(3, "VFIO_GROUP_UNSET_CONTAINER")])).toEqual({ errno: "EBUSY" });
  });
  it("GET_DEVICE_FD: EINVAL before SET_IOMMU, ENODEV for a name not in the group, else a device fd", () => {
    expect(last([...legacy, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0")])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:02:00.0")])).toEqual({ errno: "ENODEV" });
    expect(last([...type1, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0 bogus")])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0")])).toEqual({ fd: 5 });
    expect(last([...type1, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0"), io(5, "VFIO_DEVICE_GET_INFO")])).toMatchObject({
      ret: 0,
      out: { num_regions: 9 },
    });
  });
  it("a group-obtained device fd cannot BIND (EINVAL) and does not know ATTACH/DETACH (ENOTTY)", () => {
    const dev = [...type1, { op: "open", pid: 1, path: "/dev/iommu" }, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0")]; // iommufd 5, device 6
    expect(last([...dev, io(6, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 5 })])).toEqual({ errno: "EINVAL" });
    expect(last([...dev, io(6, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: 1 })])).toEqual({ errno: "ENOTTY" });
    expect(last([...dev, io(6, "VFIO_DEVICE_DETACH_IOMMUFD_PT")])).toEqual({ errno: "ENOTTY" });
  });
  it("the group stays open while a device fd holds it: a new open is EBUSY, so is a bind of the cdev", () => {
    const held = [...type1, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0"), { op: "close", pid: 1, fd: 3 }];
    expect(last([...held, open("/dev/vfio/0")])).toEqual({ errno: "EBUSY" });
    expect(last([...held, open("/dev/iommu"), open("/dev/vfio/devices/vfio0"), io(6, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 })])).toEqual({ errno: "EBUSY" });
    // Closing the device fd lets the group go: the container loses its only group and its driver.
    const r = run([...held, { op: "close", pid: 1, fd: 5 }, open("/dev/vfio/0")]);
    expect(r.outcomes[r.outcomes.length - 1]).toEqual({ fd: 3 });
    expect(r.result.state.vfio.containers.get(r.result.state.processes.get(1)!.fds.get(4)!)).toMatchObject({ groups: [], driver: null });
  });
});

describe("VFIO container", () => {
  it("SET_IOMMU without a group, or twice, is EINVAL; an unknown type ENODEV", () => {
    expect(last([...host, open("/dev/vfio/vfio"), io(3, "VFIO_SET_IOMMU", 3)])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, io(4, "VFIO_SET_IOMMU", 3)])).toEqual({ errno: "EINVAL" });
    expect(last([...legacy, io(4, "VFIO_SET_IOMMU", 7)])).toEqual({ errno: "ENODEV" });
  });
  it("CHECK_EXTENSION: TYPE1, TYPE1v2, UNMAP_ALL, UPDATE_VADDR; NOIOMMU only in unsafe mode; the nesting type no longer advertised", () => {
    const ext = (n: number, profile?: string[] | string, pre: Record<string, unknown>[] = []) =>
      last([...host, ...pre, open("/dev/vfio/vfio"), io(3, "VFIO_CHECK_EXTENSION", n)], profile);
    expect([1, 3, 9, 10, 4, 2].map((n) => ext(n))).toEqual([{ ret: 1 }, { ret: 1 }, { ret: 1 }, { ret: 1 }, { ret: 0 }, { ret: 0 }]);
    expect(ext(8)).toEqual({ ret: 0 });
    expect(ext(8, undefined, [{ op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: 1 }])).toEqual({ ret: 1 });
    expect(ext(6, "linux-6.19")).toEqual({ ret: 0 });
    expect(ext(6, ["linux-6.19", "-vfio-type1-nesting-removed"])).toEqual({ ret: 1 });
  });
  it("SET_IOMMU of the removed nesting type: ENODEV (type1 no longer claims it); before, EINVAL on VT-d (no enable_nesting)", () => {
    expect(last([...legacy, io(4, "VFIO_SET_IOMMU", 6)], "linux-6.19")).toEqual({ errno: "ENODEV" });
    expect(last([...legacy, io(4, "VFIO_SET_IOMMU", 6)], ["linux-6.19", "-vfio-type1-nesting-removed"])).toEqual({ errno: "EINVAL" });
  });
  it("DMA_CC with a domain follows VT-d ECAP.SC", () => {
    expect(last([...type1, io(4, "VFIO_CHECK_EXTENSION", 4)])).toEqual({ ret: 1 });
  });
  it("a container without a driver answers EINVAL to type1 commands; unknown numbers are ENOTTY once set", () => {
    expect(last([...legacy, io(4, "VFIO_IOMMU_GET_INFO")])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, io(4, "VFIO_DEVICE_GET_INFO")])).toEqual({ errno: "ENOTTY" });
  });
  it("the no-IOMMU driver: CAP_SYS_RAWIO to attach and to set; no type1 commands", () => {
    const noiommu = [
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "Y" },
      { op: "host.device", bdf: "0000:03:00.0", iommu: false, group: 7 },
      { op: "process", pid: 2, caps: ["CAP_SYS_RAWIO"] },
      { op: "open", pid: 2, path: "/dev/vfio/noiommu-7" },
      { op: "open", pid: 2, path: "/dev/vfio/vfio" },
      io(3, "VFIO_GROUP_SET_CONTAINER", 4, 2),
    ];
    expect(last([...noiommu, io(4, "VFIO_SET_IOMMU", 3, 2)])).toEqual({ errno: "ENODEV" });
    expect(last([...noiommu, io(4, "VFIO_SET_IOMMU", 8, 2)])).toEqual({ ret: 0 });
    expect(last([...noiommu, io(4, "VFIO_SET_IOMMU", 8, 2), io(4, "VFIO_IOMMU_GET_INFO", undefined, 2)])).toEqual({ errno: "ENOTTY" });
    expect(last([...noiommu, io(4, "VFIO_SET_IOMMU", 8, 2), io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:03:00.0", 2)])).toEqual({ fd: 5 });
  });
});

describe("VFIO type1 (vfio_iommu_type1.c)", () => {
  it("GET_INFO: page sizes of the VT-d domain (CAP.SLLPS), and the migration, DMA_AVAIL and IOVA-range caps (aperture 2^MGAW+1 minus the MSI window)", () => {
    expect(last([...type1, io(4, "VFIO_IOMMU_GET_INFO")])).toEqual({
      ret: 0,
      out: { argsz: 24 + 32 + 12 + 16 + 32, flags: 3, iova_pgsizes: 0x40201000n, cap_offset: 0, pad: 0 },
    });
    const full = last([...type1, io(4, "VFIO_IOMMU_GET_INFO", { argsz: 116 })]);
    expect(full).toMatchObject({ out: { argsz: 116, cap_offset: 24 } });
    expect((full.out as { caps: unknown[] }).caps).toEqual([
      { id: 2, version: 1, flags: 0, pgsize_bitmap: 0x1000n, max_dirty_bitmap_size: 0x10000000n, next: 56 },
      { id: 3, version: 1, avail: 65535, next: 68 },
      {
        id: 1,
        version: 1,
        nr_iovas: 2,
        iova_ranges: [
          { start: 0n, end: 0xfedfffffn },
          { start: 0xfef00000n, end: (1n << 39n) - 1n },
        ],
        next: 0,
      },
    ]);
  });
  it("MAP_DMA: argsz/flags, no R/W, unaligned, overlap EEXIST, the MSI window EINVAL, unmapped memory EFAULT", () => {
    expect(last([...type1, io(4, "VFIO_IOMMU_MAP_DMA", { argsz: 31, flags: 3, size: 4096 })])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, map("0x1000", "0x1000", "0x7f0000000000", 0)])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, map("0x1000", "0x800")])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, map("0x1000")])).toEqual({ ret: 0 });
    expect(last([...type1, map("0x1000", "0x2000"), map("0x2000")])).toEqual({ errno: "EEXIST" });
    expect(last([...type1, map("0xfee00000")])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, map("0x1000", "0x1000", "0x10000")])).toEqual({ errno: "EFAULT" });
  });
  it("UNMAP_DMA v2: a bisected mapping is EINVAL, a superset unmaps whole mappings, UNMAP_ALL everything", () => {
    const two = [...type1, map("0x100000", "0x2000"), map("0x200000", "0x1000", "0x7f0000010000")];
    expect(last([...two, unmap("0x101000", "0x1000")])).toEqual({ errno: "EINVAL" });
    expect(last([...two, unmap("0x100000", "0x1000")])).toEqual({ errno: "EINVAL" });
    expect(last([...two, unmap("0x0", "0x300000")])).toMatchObject({ ret: 0, out: { size: 0x3000n } });
    expect(last([...two, unmap("0x300000", "0x1000")])).toMatchObject({ ret: 0, out: { size: 0n } });
    expect(last([...two, unmap("0x0", "0x0", ["ALL"])])).toMatchObject({ ret: 0, out: { size: 0x3000n } });
    expect(last([...two, unmap("0x1000", "0x0", ["ALL"])])).toEqual({ errno: "EINVAL" });
  });
  it("UNMAP_DMA v1: an unmap that starts inside a mapping succeeds with nothing unmapped", () => {
    const v1 = [...legacy, io(4, "VFIO_SET_IOMMU", 1), map("0x100000", "0x2000")];
    expect(last([...v1, unmap("0x101000", "0x1000")])).toMatchObject({ ret: 0, out: { size: 0n } });
    expect(last([...v1, unmap("0x100000", "0x1000")])).toMatchObject({ ret: 0, out: { size: 0x2000n } });
  });
  it("VADDR: invalidate then update the vaddr of the same range", () => {
    const m = [...type1, map("0x100000", "0x1000")];
    expect(last([...m, unmap("0x100000", "0x1000", ["VADDR"])])).toMatchObject({ ret: 0, out: { size: 0x1000n } });
    expect(last([...m, unmap("0x100000", "0x1000", ["VADDR"]), map("0x100000", "0x1000", "0x7f0000001000", ["VADDR"])])).toEqual({ ret: 0 });
    expect(last([...m, map("0x100000", "0x1000", "0x7f0000001000", ["VADDR"])])).toEqual({ errno: "EINVAL" });
    expect(last([...type1, map("0x100000", "0x1000", "0x7f0000001000", ["VADDR"])])).toEqual({ errno: "ENOENT" });
  });
  it("the dma_entry_limit (ENOSPC)", () => {
    expect(
      last([{ op: "param", name: "vfio_iommu_type1.dma_entry_limit", value: 1 }, ...type1, map("0x1000"), map("0x2000", "0x1000", "0x7f0000001000")]),
    ).toEqual({ errno: "ENOSPC" });
  });
  it("pins through the mapping process's mm: the pages are the process's", () => {
    const r = run([...type1, map("0x100000", "0x2000")]);
    const c = [...r.result.state.vfio.containers.values()][0]!;
    expect(c.type1!.dmaList[0]!.runs).toEqual([{ iova: 0x100000n, pa: 0x100000000n, length: 0x2000n }]);
  });
});

describe("iommufd as the group's container (VFIO_GROUP_SET_CONTAINER with /dev/iommu)", () => {
  const viaIommufd = [...host, open("/dev/vfio/0"), open("/dev/iommu"), io(3, "VFIO_GROUP_SET_CONTAINER", 4)];
  it("makes the compat IOAS; the device fd binds and attaches to it", () => {
    const r = run([...viaIommufd, io(3, "VFIO_GROUP_GET_DEVICE_FD", "0000:01:00.0"), io(4, "IOMMU_VFIO_IOAS", { op: 0 })]);
    expect(r.outcomes.slice(-2)).toEqual([{ fd: 5 }, { ret: 0, out: { size: 12, ioas_id: 1, op: 0, __reserved: 0 } }]);
    const ctx = [...r.result.state.iommufd.values()][0]!;
    expect([...ctx.objects.values()].map((o) => o.type).sort()).toEqual(["device", "hwpt_paging", "ioas"]);
  });
});
