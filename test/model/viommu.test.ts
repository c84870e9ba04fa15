// vIOMMU objects (drivers/iommu/iommufd/viommu.c, eventq.c) against the
// selftest mock's vIOMMU (selftest.c mock_viommu_*), following the selftest
// fixture iommufd_viommu (tools/testing/selftests/iommu/iommufd.c): a mock
// domain, a nesting parent, a vIOMMU on it and a nested HWPT under the vIOMMU.

import { describe, expect, it } from "vitest";
import { h as hex } from "../helpers.ts";
import type { IommufdDevice } from "../../src/model/iommufd/state.ts";
import {
  IOMMU_TEST_DEV_CACHE_DEFAULT,
  IOMMU_TEST_HW_QUEUE_MAX,
  IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID,
  MOCK_APERTURE_START,
  MOCK_DEV_CACHE_ID_MAX,
} from "../../src/uapi/iommufd.ts";
import { BUF, destroy, hwptAlloc, io, mockSim, outId, selftestData, Sim } from "./iommufd_sim.ts";

const VIOMMU = "IOMMU_VIOMMU_TYPE_SELFTEST";
const VEVENTQ = "IOMMU_VEVENTQ_TYPE_SELFTEST";
const HWQ = "IOMMU_HW_QUEUE_TYPE_SELFTEST";
const VINV = "IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST";

const viommuAlloc = (dev: number, hwpt: number, type: unknown = VIOMMU, extra: Record<string, unknown> = {}) =>
  io(3, "IOMMU_VIOMMU_ALLOC", { dev_id: dev, hwpt_id: hwpt, type, ...extra });
const vdevAlloc = (viommu: number, dev: number, virtId: number) => io(3, "IOMMU_VDEVICE_ALLOC", { viommu_id: viommu, dev_id: dev, virt_id: hex(virtId) });
const veventqAlloc = (viommu: number, extra: Record<string, unknown> = {}) =>
  io(3, "IOMMU_VEVENTQ_ALLOC", { viommu_id: viommu, type: VEVENTQ, veventq_depth: 2, ...extra });
const hwQueue = (viommu: number, index: number, iova: bigint, length: bigint, type: unknown = HWQ) =>
  io(3, "IOMMU_HW_QUEUE_ALLOC", { viommu_id: viommu, type, index, nesting_parent_iova: hex(iova), length: hex(length) });
const vinv = (viommu: number, extra: Record<string, unknown>) => io(3, "IOMMU_HWPT_INVALIDATE", { hwpt_id: viommu, ...extra });
const errnoAndNum = (o: { errno?: string; ret?: number; out?: Record<string, unknown> }) => [o.errno ?? o.ret, o.out?.entry_num];

/** FIXTURE_SETUP(iommufd_viommu): ioas 1, device 2 on auto HWPT 3, parent 4, vIOMMU 5, nested 6. */
function fixture(devices?: Record<string, unknown>[], profile?: string) {
  const sim = mockSim(devices, profile);
  const dev = sim.bindOk(1, 3, "0000:00:01.0");
  expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
  const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
  const viommu = sim.ev(viommuAlloc(dev, parent)).out?.out_viommu_id as number;
  const nested = outId(sim.ev(hwptAlloc(dev, viommu, 0, selftestData)));
  expect([parent, viommu, nested]).toEqual([4, 5, 6]);
  return { sim, dev, parent, viommu, nested };
}

describe("IOMMU_VIOMMU_ALLOC (iommufd_viommu_alloc_ioctl)", () => {
  it("the fixture's users: the vIOMMU holds the parent, the nested HWPT holds the vIOMMU (not the parent)", () => {
    const { sim, parent, viommu, nested } = fixture();
    expect(sim.obj(1, 3, parent)!.users).toBe(2);
    expect(sim.obj(1, 3, viommu)).toMatchObject({ type: "viommu", users: 2, hwptId: parent, mmap: null });
    expect(sim.obj(1, 3, nested)).toMatchObject({ type: "hwpt_nested", users: 1, viommuId: viommu, parentId: parent });
    expect(sim.ev(destroy(nested))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(viommu))).toMatchObject({ ret: 0 });
    expect(sim.obj(1, 3, parent)!.users).toBe(1);
  });

  it("selftest viommu_negative_tests, and the checks before them: flags and type DEFAULT, the device, the driver's type", () => {
    const { sim, dev, parent, viommu } = fixture();
    expect(sim.ev(viommuAlloc(99, 99, VIOMMU, { flags: 1 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(viommuAlloc(99, 99, 0))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(viommuAlloc(99, parent))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(viommuAlloc(dev, 0))).toEqual({ errno: "ENOENT" });
    const plain = outId(sim.ev(hwptAlloc(dev, 1)));
    expect(sim.ev(viommuAlloc(dev, plain))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(destroy(plain))).toMatchObject({ ret: 0 });
    expect(sim.ev(viommuAlloc(dev, parent, 0xdead))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(destroy(parent))).toEqual({ errno: "EBUSY" });
    expect(sim.ev(destroy(viommu))).toEqual({ errno: "EBUSY" });
  });

  it("selftest viommu_alloc_with_data: out_data echoes in_data, and each vIOMMU gets a two-page mmap window from PAGE_SIZE up", () => {
    const { sim, dev, parent } = fixture();
    const withData = (va: bigint) => viommuAlloc(dev, parent, VIOMMU, { data_len: 24, data_uptr: hex(va) });
    sim.ev({ op: "mem.write", pid: 1, va: hex(BUF), u32: ["0xbeef"] });
    const r = sim.ev(withData(BUF));
    expect(r).toMatchObject({
      ret: 0,
      out: { out_viommu_id: 7, data: { in_data: 0xbeef, out_data: 0xbeef, out_mmap_offset: 0x1000n, out_mmap_length: 0x2000n } },
    });
    expect(sim.ev(withData(BUF + 0x100n)).out?.data).toMatchObject({ in_data: 0, out_data: 0, out_mmap_offset: 0x3000n });
    // the freed window is handed out again
    expect(sim.ev(destroy(7))).toMatchObject({ ret: 0 });
    expect(sim.ev(viommuAlloc(dev, parent, VIOMMU, { data: { in_data: 5 } })).out?.data).toMatchObject({ out_data: 5, out_mmap_offset: 0x1000n });
    // copy rules: shorter than out_data (EINVAL), a fault (EFAULT)
    expect(sim.ev(viommuAlloc(dev, parent, VIOMMU, { data_len: 4, data_uptr: hex(BUF) }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(viommuAlloc(dev, parent, VIOMMU, { data_len: 24, data_uptr: "0x1000" }))).toEqual({ errno: "EFAULT" });
  });

  it("VT-d has no vIOMMU ops: EOPNOTSUPP", () => {
    const sim = new Sim();
    sim.evs([
      { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: hex((1n << 26n) | (1n << 43n) | (1n << 46n)) },
      { op: "host.device", bdf: "0000:01:00.0" },
      { op: "process", pid: 1 },
      { op: "open", pid: 1, path: "/dev/iommu" },
      io(3, "IOMMU_IOAS_ALLOC"),
    ]);
    const dev = sim.bindOk(1, 3, "0000:01:00.0");
    const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    expect(sim.ev(viommuAlloc(dev, parent))).toEqual({ errno: "EOPNOTSUPP" });
  });
});

describe("IOMMU_VDEVICE_ALLOC (iommufd_vdevice_alloc_ioctl)", () => {
  it("selftest vdevice_alloc: a nested HWPT under a vIOMMU needs the device's vDEVICE (ENOENT); one vDEVICE per device (EEXIST)", () => {
    const { sim, dev, viommu, nested } = fixture();
    expect(sim.attach(1, 3, dev, nested)).toBe("ENOENT");
    expect(sim.ev(veventqAlloc(viommu))).toMatchObject({ ret: 0, out: { out_veventq_id: 7, out_veventq_fd: 4 } });
    expect(sim.ev(veventqAlloc(viommu))).toEqual({ errno: "EEXIST" });
    expect(sim.ev(vdevAlloc(viommu, dev, 0x99))).toMatchObject({ ret: 0, out: { out_vdevice_id: 8 } });
    expect(sim.attach(1, 3, dev, nested)).toEqual({ ptId: nested });
    expect(sim.ev(vdevAlloc(viommu, dev, 0x99))).toEqual({ errno: "EEXIST" });
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.ev(destroy(8))).toMatchObject({ ret: 0 });
    expect(sim.ev(vdevAlloc(viommu, dev, 0x88))).toMatchObject({ ret: 0, out: { out_vdevice_id: 8 } });
    expect(sim.attach(1, 3, dev, nested)).toEqual({ ptId: nested });
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    expect(sim.ev(destroy(8))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(7))).toEqual({ errno: "EBUSY" });
    expect(sim.ev({ op: "close", pid: 1, fd: 4 })).toEqual({ ret: 0 });
    expect(sim.ev(destroy(7))).toMatchObject({ ret: 0 });
    expect(sim.obj(1, 3, viommu)!.users).toBe(2);
  });

  it("the vIOMMU and the device are looked up (ENOENT), a virtual id is taken once per vIOMMU (EEXIST), a device without IOMMU is EINVAL", () => {
    const { sim, dev, viommu } = fixture([
      { op: "host.device", bdf: "0000:00:01.0" },
      { op: "host.device", bdf: "0000:00:02.0" },
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: true },
      { op: "host.device", bdf: "0000:03:00.0", iommu: false },
    ]);
    const other = sim.bindOk(1, 3, "0000:00:02.0");
    const no = sim.bindOk(1, 3, "0000:03:00.0");
    expect(sim.ev(vdevAlloc(99, dev, 1))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(vdevAlloc(viommu, 99, 1))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(vdevAlloc(viommu, no, 1))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(vdevAlloc(viommu, dev, 1))).toMatchObject({ ret: 0 });
    expect(sim.ev(vdevAlloc(viommu, other, 1))).toEqual({ errno: "EEXIST" });
    expect(sim.ev(vdevAlloc(viommu, other, 2))).toMatchObject({ ret: 0 });
    expect(sim.obj(1, 3, viommu)!.users).toBe(4);
  });

  it("selftest vdevice_tombstone: destroying the device leaves its vDEVICE a tombstone: ENOENT, and its id is not handed out again", () => {
    const { sim, dev, viommu, nested } = fixture();
    const vdev = sim.ev(vdevAlloc(viommu, dev, 0x99)).out?.out_vdevice_id as number;
    expect(vdev).toBe(7);
    sim.unbind(1, 3, dev);
    expect(sim.obj(1, 3, dev)).toBeUndefined();
    expect(sim.ev(destroy(vdev))).toEqual({ errno: "ENOENT" });
    expect(sim.obj(1, 3, viommu)!.users).toBe(2);
    expect(sim.ev(io(3, "IOMMU_IOAS_ALLOC")).out?.out_ioas_id).toBe(2);
    expect(sim.ev(io(3, "IOMMU_IOAS_ALLOC")).out?.out_ioas_id).toBe(3);
    expect(sim.ev(io(3, "IOMMU_IOAS_ALLOC")).out?.out_ioas_id).toBe(8);
    expect(sim.ev(destroy(nested))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(viommu))).toMatchObject({ ret: 0 });
  });
});

describe("vIOMMU cache invalidation (mock_viommu_cache_invalidate)", () => {
  const cache = (sim: Sim, dev: number) => (sim.obj(1, 3, dev) as IommufdDevice).mock?.cache;
  const DEF = IOMMU_TEST_DEV_CACHE_DEFAULT;

  it("selftest vdevice_cache: array checks, per-entry flags, cache ids and virtual ids, entry_num of what was done", () => {
    const { sim, dev, viommu } = fixture();
    expect(sim.ev(vdevAlloc(viommu, dev, 0x99))).toMatchObject({ ret: 0 });
    expect(cache(sim, dev)).toEqual([DEF, DEF, DEF, DEF]);
    const at = (type: unknown, entryLen: number, entryNum: number, uptr = BUF) =>
      vinv(viommu, { data_type: type, entry_len: entryLen, entry_num: entryNum, data_uptr: hex(uptr) });
    const list = (entries: Record<string, number>[]) => vinv(viommu, { data_type: VINV, data: entries });

    expect(errnoAndNum(sim.ev(at(VINV, 12, 0)))).toEqual([0, 0]);
    expect(errnoAndNum(sim.ev(at(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, 12, 1)))).toEqual(["EINVAL", 0]);
    // entry_len 13: copy_struct_from_user takes it (a zero tail), then vdev_id 0 names no vDEVICE
    expect(errnoAndNum(sim.ev(at(VINV, 13, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(at(VINV, 1, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(list([{ flags: 0xffffffff, vdev_id: 0x99, cache_id: 0 }])))).toEqual(["EOPNOTSUPP", 0]);
    expect(errnoAndNum(sim.ev(at(VINV, 12, 1, 0n)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(at(VINV, 0, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(list([{ flags: 0, vdev_id: 0x99, cache_id: MOCK_DEV_CACHE_ID_MAX + 1 }])))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(list([{ flags: 0, vdev_id: 0x9, cache_id: 0 }])))).toEqual(["EINVAL", 0]);
    expect(cache(sim, dev)).toEqual([DEF, DEF, DEF, DEF]);

    expect(
      errnoAndNum(
        sim.ev(
          list([
            { flags: 0, vdev_id: 0x99, cache_id: 0 },
            { flags: 0xffffffff, vdev_id: 0x99, cache_id: 1 },
          ]),
        ),
      ),
    ).toEqual(["EOPNOTSUPP", 1]);
    expect(cache(sim, dev)).toEqual([0, DEF, DEF, DEF]);
    expect(
      errnoAndNum(
        sim.ev(
          list([
            { flags: 0, vdev_id: 0x99, cache_id: 1 },
            { flags: 0, vdev_id: 0x99, cache_id: 2 },
          ]),
        ),
      ),
    ).toEqual([0, 2]);
    expect(cache(sim, dev)).toEqual([0, 0, 0, DEF]);
    expect(errnoAndNum(sim.ev(list([{ flags: 1, vdev_id: 0x99, cache_id: 0 }])))).toEqual([0, 1]);
    expect(cache(sim, dev)).toEqual([0, 0, 0, 0]);
  });
});

describe("IOMMU_VEVENTQ_ALLOC (iommufd_veventq_alloc)", () => {
  it("flags, __reserved and type DEFAULT (EOPNOTSUPP), depth 0 (EINVAL), the vIOMMU (ENOENT), one queue per type (EEXIST)", () => {
    const { sim, viommu } = fixture();
    expect(sim.ev(veventqAlloc(99, { flags: 1 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(veventqAlloc(99, { __reserved: 1 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(veventqAlloc(99, { type: 0 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(veventqAlloc(99, { veventq_depth: 0 }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(veventqAlloc(99))).toEqual({ errno: "ENOENT" });
    const q = sim.ev(veventqAlloc(viommu));
    expect(q).toMatchObject({ ret: 0, out: { out_veventq_id: 7, out_veventq_fd: 4 } });
    expect(sim.state.files.get(sim.ctxFile(1, 4))).toMatchObject({ kind: "veventq", path: "anon_inode:[iommufd-viommu-event]" });
    // another type is another queue (the kernel does not ask the driver)
    expect(sim.ev(veventqAlloc(viommu, { type: 0x1234 }))).toMatchObject({ ret: 0, out: { out_veventq_id: 8, out_veventq_fd: 5 } });
    expect(sim.obj(1, 3, viommu)!.users).toBe(4);
    expect(sim.ev(destroy(viommu))).toEqual({ errno: "EBUSY" });
  });

  it("veventq_depth above 1 << 19 is EINVAL on mainline (iommufd: Set veventq_depth upper bound), accepted before", () => {
    const depth = (1 << 19) + 1;
    const main = fixture();
    expect(main.sim.ev(veventqAlloc(main.viommu, { veventq_depth: depth }))).toEqual({ errno: "EINVAL" });
    expect(main.sim.ev(veventqAlloc(main.viommu, { veventq_depth: 1 << 19 }))).toMatchObject({ ret: 0 });
    const old = fixture(undefined, "linux-6.19");
    expect(old.sim.ev(veventqAlloc(old.viommu, { veventq_depth: depth }))).toMatchObject({ ret: 0 });
  });

  it("closing /dev/iommu with a vEVENTQ fd open: the context lives until that fd closes, then every object goes", () => {
    const { sim, viommu } = fixture();
    const ctxFile = sim.ctxFile(1, 3);
    sim.ev(veventqAlloc(viommu));
    expect(sim.ev({ op: "close", pid: 1, fd: 3 })).toEqual({ ret: 0 });
    expect(sim.state.iommufd.get(ctxFile)!.objects.size).toBeGreaterThan(0);
    expect(sim.ev({ op: "close", pid: 1, fd: 4 })).toEqual({ ret: 0 });
    // the device still holds the context (VFIO has it bound)
    expect(sim.state.iommufd.has(ctxFile)).toBe(true);
    sim.unbindFile(ctxFile, 2);
    expect(sim.state.iommufd.has(ctxFile)).toBe(false);
  });
});

describe("IOMMU_HW_QUEUE_ALLOC (iommufd_hw_queue_alloc_ioctl, mock_hw_queue_init_phys)", () => {
  const START = BigInt(MOCK_APERTURE_START);
  const PAGE = 0x1000n;
  const map = (va: bigint, iova: bigint) =>
    io(3, "IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 1, user_va: hex(va), length: hex(PAGE), iova: hex(iova) });
  const unmap = (iova: bigint) => io(3, "IOMMU_IOAS_UNMAP", { ioas_id: 1, iova: hex(iova), length: hex(PAGE) });

  it("selftest hw_queue: argument checks, the pinned IOVA, index order, dependency and ownership", () => {
    const { sim, viommu } = fixture();
    expect(sim.ev(hwQueue(viommu, 0, START, PAGE, 0))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwQueue(viommu, 0, START, 0n))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwQueue(viommu, 0, (1n << 64n) - 1n, PAGE))).toEqual({ errno: "EOVERFLOW" });
    expect(sim.ev(hwQueue(99, 0, START, PAGE))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(hwQueue(viommu, 0, START, PAGE, 0x1234))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwQueue(viommu, 0, START, PAGE))).toEqual({ errno: "ENOENT" }); // nothing mapped there

    expect(sim.ev(map(BUF, START))).toMatchObject({ ret: 0 });
    expect(sim.ev(map(BUF + PAGE, START + PAGE))).toMatchObject({ ret: 0 });
    expect(sim.ev(hwQueue(viommu, 1, START, PAGE))).toEqual({ errno: "EIO" });
    expect(sim.ev(hwQueue(viommu, IOMMU_TEST_HW_QUEUE_MAX, START, PAGE))).toEqual({ errno: "EINVAL" });

    expect(sim.ev(hwQueue(viommu, 0, START, PAGE))).toMatchObject({ ret: 0, out: { out_hw_queue_id: 7 } });
    // the internal access that pins it took the next id and holds the IOAS
    expect(sim.obj(1, 3, 8)).toMatchObject({ type: "access", internal: true, ioasId: 1 });
    expect(sim.ev(destroy(8))).toEqual({ errno: "EBUSY" });
    expect(sim.ev(hwQueue(viommu, 0, START, PAGE))).toEqual({ errno: "EEXIST" });
    expect(sim.ev(unmap(START))).toMatchObject({ errno: "EBUSY" });
    expect(sim.ev(unmap(START + PAGE))).toMatchObject({ ret: 0 });

    expect(sim.ev(hwQueue(viommu, 1, START + PAGE / 2n, PAGE / 2n))).toMatchObject({ ret: 0, out: { out_hw_queue_id: 9 } });
    expect(sim.ev(destroy(7))).toEqual({ errno: "EBUSY" });
    expect(sim.ev(destroy(viommu))).toEqual({ errno: "EBUSY" });
    expect(sim.ev(destroy(9))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(7))).toMatchObject({ ret: 0 });
    expect(sim.obj(1, 3, 8)).toBeUndefined();
    expect(sim.ev(unmap(START))).toMatchObject({ ret: 0 });
  });

  it("the queue's pages must be physically contiguous (EFAULT) and readable (EPERM)", () => {
    const { sim, viommu } = fixture();
    sim.ev({ op: "mem.map", pid: 1, va: "0x20000000", length: "0x1000", pa: "0x5000000" });
    sim.ev({ op: "mem.map", pid: 1, va: "0x20001000", length: "0x1000", pa: "0x7000000" });
    expect(
      sim.ev(
        io(3, "IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 1, user_va: "0x20000000", length: "0x2000", iova: hex(START) }),
      ),
    ).toMatchObject({ ret: 0 });
    expect(sim.ev(hwQueue(viommu, 0, START, 2n * PAGE))).toEqual({ errno: "EFAULT" });
    expect(sim.ev(hwQueue(viommu, 0, START, PAGE))).toMatchObject({ ret: 0, out: { out_hw_queue_id: 7 } });
    expect(
      sim.ev(io(3, "IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "WRITEABLE"], ioas_id: 1, user_va: hex(BUF), length: hex(PAGE), iova: hex(START + 0x10000n) })),
    ).toMatchObject({ ret: 0 });
    expect(sim.ev(hwQueue(viommu, 1, START + 0x10000n, PAGE))).toEqual({ errno: "EPERM" });
  });
});
