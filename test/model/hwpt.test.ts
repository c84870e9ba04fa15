// HWPT objects and their commands (drivers/iommu/iommufd/hw_pagetable.c),
// IOMMU_GET_HW_INFO (device.c) and the fault queue (eventq.c), replayed the
// way the kernel selftests (tools/testing/selftests/iommu/iommufd.c) drive
// them against the selftest mock driver (selftest.c), plus VT-d's nested
// stage-1 (intel/nested.c). Each case names the selftest or kernel function.

import { describe, expect, it } from "vitest";
import { h as hex } from "../helpers.ts";
import type { NestedDomain, PagingDomain } from "../../src/model/domain/state.ts";
import { copyFromUser } from "../../src/model/uaccess/copy.ts";
import {
  IOMMU_HW_INFO_SELFTEST_REGVAL,
  IOMMU_HW_INFO_TYPE_SELFTEST,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID,
  IOMMU_TEST_IOTLB_DEFAULT,
  MOCK_APERTURE_START,
  MOCK_NESTED_DOMAIN_IOTLB_ID_MAX,
} from "../../src/uapi/iommufd.ts";
import { BUF, destroy, hwptAlloc, io, mockSim, outId, selftestData, Sim } from "./iommufd_sim.ts";

const SELFTEST_INV = "IOMMU_HWPT_INVALIDATE_DATA_SELFTEST";
const inv = (hwpt: number, extra: Record<string, unknown>) => io(3, "IOMMU_HWPT_INVALIDATE", { hwpt_id: hwpt, ...extra });
/** An invalidation through data_uptr at BUF (zeroed memory unless the test writes it). */
const invAt = (hwpt: number, type: unknown, entryLen: number, entryNum: number, uptr: bigint = BUF) =>
  inv(hwpt, { data_type: type, entry_len: entryLen, entry_num: entryNum, data_uptr: hex(uptr) });
const errnoAndNum = (o: { errno?: string; ret?: number; out?: Record<string, unknown> }) => [o.errno ?? o.ret, o.out?.entry_num];
const iotlb = (sim: Sim, id: number) => (sim.domain(1, 3, id) as NestedDomain).iotlb;
const read = (sim: Sim, va: bigint, len: number) => [...copyFromUser(sim.state, sim.state.processes.get(1)!, va, len)!];

/** The iommufd_ioas fixture with a mock domain: IOAS 1, device 2 attached through auto HWPT 3. */
function fixture(devices?: Record<string, unknown>[], profile?: string | string[]): { sim: Sim; dev: number } {
  const sim = mockSim(devices, profile);
  const dev = sim.bindOk(1, 3, "0000:00:01.0");
  expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
  return { sim, dev };
}

describe("IOMMU_HWPT_ALLOC (iommufd_hwpt_alloc)", () => {
  it("checks __reserved, data_type/data_len, the device, pt_id and the flags in that order; failures use no id", () => {
    const { sim, dev } = fixture();
    expect(sim.ev(hwptAlloc(99, 99, 0, { __reserved: 1 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(99, 99, 0, { data_len: 8, data_uptr: hex(BUF) }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(99, 99, 0, { data_type: "IOMMU_HWPT_DATA_SELFTEST" }))).toEqual({ errno: "EINVAL" });
    // selftest alloc_hwpt_nested: test_err_hwpt_alloc(ENOENT, self->ioas_id, self->device_id, ...)
    expect(sim.ev(hwptAlloc(1, dev))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(hwptAlloc(dev, dev))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(dev, 99))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT", "FAULT_ID_VALID"]))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(dev, 1, 1 << 4))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(dev, 1, ["FAULT_ID_VALID"], { fault_id: 77 }))).toEqual({ errno: "ENOENT" });
    const r = sim.ev(hwptAlloc(dev, 1));
    expect(outId(r)).toBe(4);
    expect(sim.obj(1, 3, 4)).toMatchObject({ type: "hwpt_paging", auto: false, ioasId: 1, users: 1 });
    expect(sim.obj(1, 3, 1)!.users).toBe(3);
  });

  it("the mock's paging data: MOCK_IOMMUPT_HUGE widens the page sizes and the aperture, an unknown table type is EOPNOTSUPP (mock_domain_alloc_pgtable)", () => {
    const { sim, dev } = fixture();
    const dflt = sim.domain(1, 3, 3) as PagingDomain;
    const huge = outId(sim.ev(hwptAlloc(dev, 1, 0, { data_type: "IOMMU_HWPT_DATA_SELFTEST", data: { iotlb: 0, pagetable_type: 1 } })));
    const h = sim.domain(1, 3, huge) as PagingDomain;
    expect(h.pgsizeBitmap).not.toBe(dflt.pgsizeBitmap);
    expect(h.aperture.start).toBe(0n);
    expect(dflt.aperture.start).toBe(BigInt(MOCK_APERTURE_START));
    expect(sim.ev(hwptAlloc(dev, 1, 0, { data_type: "IOMMU_HWPT_DATA_SELFTEST", data: { iotlb: 0, pagetable_type: 7 } }))).toEqual({ errno: "EOPNOTSUPP" });
    // a data type the mock does not know is EOPNOTSUPP before it is read
    expect(sim.ev(hwptAlloc(dev, 1, 0, { data_type: IOMMU_HWPT_DATA_SELFTEST + 1, data_len: 8, data_uptr: hex(BUF) }))).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("selftest iommufd_ioas.alloc_hwpt_nested: nested HWPTs over a NEST_PARENT, their IOTLB, invalidation and replace", () => {
    const { sim, dev } = fixture();
    const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    const notWork = outId(sim.ev(hwptAlloc(dev, 1)));
    expect([parent, notWork]).toEqual([4, 5]);

    // Negative nested tests
    expect(sim.ev(hwptAlloc(dev, parent, 0, { data_type: 0, data_len: 8, data_uptr: hex(BUF) }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(dev, parent, 0, { data_type: IOMMU_HWPT_DATA_SELFTEST + 1, data_len: 8, data_uptr: hex(BUF) }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(dev, parent, 0, { ...selftestData, data_len: 1 }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(dev, notWork, 0, selftestData))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(dev, parent, ["ALLOC_NEST_PARENT"], selftestData))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwptAlloc(dev, parent, ["ALLOC_DIRTY_TRACKING"], selftestData))).toEqual({ errno: "EOPNOTSUPP" });

    // Two nested HWPTs sharing the parent, and one reporting faults
    expect(sim.ev(io(3, "IOMMU_FAULT_QUEUE_ALLOC"))).toMatchObject({ ret: 0, out: { out_fault_id: 6, out_fault_fd: 4 } });
    const n0 = outId(sim.ev(hwptAlloc(dev, parent, 0, selftestData)));
    const n1 = outId(sim.ev(hwptAlloc(dev, parent, 0, selftestData)));
    expect(sim.ev(hwptAlloc(dev, parent, ["FAULT_ID_VALID"], { ...selftestData, fault_id: 0xffffffff }))).toEqual({ errno: "ENOENT" });
    const iopf = outId(sim.ev(hwptAlloc(dev, parent, ["FAULT_ID_VALID"], { ...selftestData, fault_id: 6 })));
    expect([n0, n1, iopf]).toEqual([7, 8, 9]);
    expect(sim.obj(1, 3, 6)!.users).toBe(3); // the object, its fd, the iopf HWPT
    expect(iotlb(sim, n0)).toEqual(Array(4).fill(IOMMU_TEST_IOTLB_DEFAULT));
    expect(sim.obj(1, 3, parent)!.users).toBe(4);

    // a nested HWPT over a nested one, and the busy parent
    expect(sim.ev(hwptAlloc(dev, n0, 0, selftestData))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(destroy(parent))).toEqual({ errno: "EBUSY" });

    // hwpt_invalidate: the parent has no invalidation; entry_num is written back either way
    expect(errnoAndNum(sim.ev(invAt(parent, SELFTEST_INV, 8, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(invAt(n0, SELFTEST_INV, 8, 0)))).toEqual([0, 0]);
    expect(errnoAndNum(sim.ev(invAt(n0, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, 8, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(invAt(n0, SELFTEST_INV, 9, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(invAt(n0, SELFTEST_INV, 1, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(inv(n0, { data_type: SELFTEST_INV, data: [{ flags: 0xffffffff, iotlb_id: 0 }] })))).toEqual(["EOPNOTSUPP", 0]);
    expect(errnoAndNum(sim.ev(invAt(n0, SELFTEST_INV, 8, 1, 0n)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(invAt(n0, SELFTEST_INV, 0, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(inv(n0, { data_type: SELFTEST_INV, data: [{ flags: 0, iotlb_id: MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1 }] })))).toEqual([
      "EINVAL",
      0,
    ]);
    expect(iotlb(sim, n0)).toEqual(Array(4).fill(IOMMU_TEST_IOTLB_DEFAULT));

    // the first entry is done, the second fails: entry_num 1 and only iotlb 0 cleared
    const two = (second: Record<string, number>) => inv(n0, { data_type: SELFTEST_INV, data: [{ flags: 0, iotlb_id: 0 }, second] });
    expect(errnoAndNum(sim.ev(two({ flags: 0xffffffff, iotlb_id: 1 })))).toEqual(["EOPNOTSUPP", 1]);
    expect(iotlb(sim, n0)).toEqual([0, IOMMU_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT]);
    expect(errnoAndNum(sim.ev(two({ flags: 0, iotlb_id: MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1 })))).toEqual(["EINVAL", 1]);
    expect(
      errnoAndNum(
        sim.ev(
          inv(n0, {
            data_type: SELFTEST_INV,
            data: [
              { flags: 0, iotlb_id: 1 },
              { flags: 0, iotlb_id: 2 },
            ],
          }),
        ),
      ),
    ).toEqual([0, 2]);
    expect(iotlb(sim, n0)).toEqual([0, 0, 0, IOMMU_TEST_IOTLB_DEFAULT]);
    expect(errnoAndNum(sim.ev(inv(n1, { data_type: SELFTEST_INV, data: [{ flags: 1, iotlb_id: 0 }] })))).toEqual([0, 1]);
    expect(iotlb(sim, n1)).toEqual([0, 0, 0, 0]);

    // the device moves through the nested HWPTs; the one it is on is busy
    expect(sim.attach(1, 3, dev, n0)).toEqual({ ptId: n0 });
    expect(sim.ev(destroy(n0))).toEqual({ errno: "EBUSY" });
    expect(sim.attach(1, 3, dev, n1)).toEqual({ ptId: n1 });
    expect(sim.ev(destroy(n1))).toEqual({ errno: "EBUSY" });
    expect(sim.ev(destroy(n0))).toMatchObject({ ret: 0 });
    expect(sim.attach(1, 3, dev, iopf)).toEqual({ ptId: iopf });
    expect(sim.ev(destroy(iopf))).toEqual({ errno: "EBUSY" });
    expect(sim.attach(1, 3, dev, parent)).toEqual({ ptId: parent });
    expect(sim.ev(destroy(n1))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(iopf))).toMatchObject({ ret: 0 });
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 }); // xa_alloc hands out the lowest free id again
    expect(sim.ev(destroy(parent))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(notWork))).toMatchObject({ ret: 0 });
    expect(sim.ev(destroy(6))).toEqual({ errno: "EBUSY" }); // its fd is open
    expect(sim.ev({ op: "close", pid: 1, fd: 4 })).toEqual({ ret: 0 });
    expect(sim.ev(destroy(6))).toMatchObject({ ret: 0 });
  });

  it("an automatic domain is never a nesting parent (parent->auto_domain: EINVAL)", () => {
    const { sim, dev } = fixture();
    expect(sim.ev(hwptAlloc(dev, 3, 0, selftestData))).toEqual({ errno: "EINVAL" });
    expect(sim.obj(1, 3, 3)!.users).toBe(2);
  });
});

describe("IOMMU_HWPT_INVALIDATE bounds (iommufd: Set upper bounds on cache invalidation entry_num and entry_len)", () => {
  function setup(profile: string) {
    const { sim, dev } = fixture(undefined, profile);
    const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    const nested = outId(sim.ev(hwptAlloc(dev, parent, 0, selftestData)));
    // one page of zeroed entries with nothing mapped after it
    sim.ev({ op: "mem.map", pid: 1, va: "0x10000000", length: "0x1000" });
    return { sim, nested };
  }

  it("mainline checks the bounds before the object: EINVAL, entry_num 0", () => {
    const { sim, nested } = setup("linux-mainline");
    expect(errnoAndNum(sim.ev(invAt(99, SELFTEST_INV, 4097, 1)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(invAt(nested, SELFTEST_INV, 8, (1 << 19) + 1, 0x10000000n)))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(invAt(nested, SELFTEST_INV, 8, 1 << 19, 0x10000000n)))).toEqual(["EFAULT", 512]);
  });

  it("v6.19 looks the object up first and hands any number of entries to the driver, which stops at the first fault", () => {
    const { sim, nested } = setup("linux-6.19");
    expect(errnoAndNum(sim.ev(invAt(99, SELFTEST_INV, 4097, 1)))).toEqual(["ENOENT", 0]);
    expect(errnoAndNum(sim.ev(invAt(nested, SELFTEST_INV, 8, (1 << 19) + 1, 0x10000000n)))).toEqual(["EFAULT", 512]);
    expect(iotlb(sim, nested)).toEqual([0, IOMMU_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT, IOMMU_TEST_IOTLB_DEFAULT]);
  });
});

describe("dirty tracking (selftest iommufd_dirty_tracking)", () => {
  const LEN = 0x20000n;
  const START = BigInt(MOCK_APERTURE_START);
  const BITMAP = BUF + 0x300000n;

  function dirtySim() {
    const sim = mockSim([
      { op: "host.device", bdf: "0000:00:01.0" },
      { op: "host.device", bdf: "0000:00:02.0" },
      { op: "host.device", bdf: "0000:00:03.0", dirty_tracking: false },
    ]);
    expect(
      sim.ev(io(3, "IOMMU_IOAS_MAP", { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: 1, user_va: hex(BUF), length: hex(LEN), iova: hex(START) })),
    ).toMatchObject({ ret: 0 });
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.attach(1, 3, dev, 1)).toEqual({ ptId: 3 });
    return { sim, dev };
  }
  const setDirty = (hwpt: number, flags: number, extra: Record<string, unknown> = {}) =>
    io(3, "IOMMU_HWPT_SET_DIRTY_TRACKING", { hwpt_id: hwpt, flags, ...extra });
  const getDirty = (hwpt: number, extra: Record<string, unknown> = {}) =>
    io(3, "IOMMU_HWPT_GET_DIRTY_BITMAP", { hwpt_id: hwpt, iova: hex(START), length: hex(LEN), page_size: "0x800", data: hex(BITMAP), ...extra });
  const dmaWrite = (bdf: string, iova: bigint) => ({ op: "dma", bdf, iova: hex(iova), access: "write" });
  const zeroBitmap = { op: "mem.write", pid: 1, va: hex(BITMAP), u64: ["0x0"] };

  it("enforce_dirty: a no-dirty device cannot join a dirty-tracking HWPT (EINVAL) nor allocate one (EOPNOTSUPP)", () => {
    const { sim, dev } = dirtySim();
    const hwpt = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"])));
    const other = sim.bindOk(1, 3, "0000:00:02.0");
    const noDirty = sim.bindOk(1, 3, "0000:00:03.0");
    expect(sim.attach(1, 3, other, hwpt)).toEqual({ ptId: hwpt });
    expect(sim.attach(1, 3, noDirty, hwpt)).toBe("EINVAL");
    expect(sim.ev(io(3, "IOMMU_IOAS_ALLOC")).out?.out_ioas_id).toBe(7);
    expect(sim.attach(1, 3, noDirty, 7)).toEqual({ ptId: 8 });
    expect(sim.ev(hwptAlloc(noDirty, 7, ["ALLOC_DIRTY_TRACKING"]))).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("device_dirty_capability: IOMMU_GET_HW_INFO reports IOMMU_HW_CAP_DIRTY_TRACKING except for the no-dirty device (and, on mainline, PCI_ATS_NOT_SUPPORTED: the mock has no IOMMU_CAP_PCI_ATS_SUPPORTED)", () => {
    const { sim, dev } = dirtySim();
    const noDirty = sim.bindOk(1, 3, "0000:00:03.0");
    expect(sim.ev(io(3, "IOMMU_GET_HW_INFO", { dev_id: dev })).out?.out_capabilities).toBe(1n | 8n);
    expect(sim.ev(io(3, "IOMMU_GET_HW_INFO", { dev_id: noDirty })).out?.out_capabilities).toBe(8n);
    const old = mockSim([{ op: "host.device", bdf: "0000:00:01.0" }], "linux-6.19");
    expect(old.ev(io(3, "IOMMU_GET_HW_INFO", { dev_id: old.bindOk(1, 3, "0000:00:01.0") })).out?.out_capabilities).toBe(1n);
  });

  it("set_dirty_tracking: flags are checked (not __reserved), then a paging HWPT (ENOENT) with dirty ops (EOPNOTSUPP)", () => {
    const { sim, dev } = dirtySim();
    const hwpt = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"])));
    expect(sim.ev(setDirty(hwpt, 1))).toEqual({ ret: 0 });
    expect(sim.ev(setDirty(hwpt, 0))).toEqual({ ret: 0 });
    expect(sim.ev(setDirty(hwpt, 2))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(setDirty(hwpt, 1, { __reserved: 5 }))).toEqual({ ret: 0 });
    expect(sim.ev(setDirty(1, 1))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(setDirty(3, 1))).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("get_dirty_bitmap: a DMA write dirties its leaf while tracking is on; reading clears it unless NO_CLEAR", () => {
    const { sim, dev } = dirtySim();
    const hwpt = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"])));
    expect(sim.attach(1, 3, dev, hwpt)).toEqual({ ptId: hwpt });
    // not tracking yet: a write leaves nothing behind
    expect(sim.ev(dmaWrite("0000:00:01.0", START + 0x6000n))).toMatchObject({ pa: expect.anything() });
    expect(sim.ev(setDirty(hwpt, 1))).toEqual({ ret: 0 });
    expect(sim.ev(getDirty(hwpt))).toEqual({ ret: 0, out: { data: ["0x0"] } });

    const iova = START + 0x2000n;
    const t = sim.ev(dmaWrite("0000:00:01.0", iova));
    const pageSize = BigInt(t.page_size as string);
    const leaf = iova & ~(pageSize - 1n);
    // record_dirty (iommu_pt.h): a page of n 2 KiB entries reports n - 1 of them from its start (one when n is 1)
    const reported = pageSize === 0x800n ? 0x800n : pageSize - 0x800n;
    let want = 0n;
    for (let a = leaf; a < leaf + reported && a < START + LEN; a += 0x800n) want |= 1n << ((a - START) / 0x800n);
    const word = hex(want);
    expect(sim.ev(getDirty(hwpt, { flags: 1 }))).toEqual({ ret: 0, out: { data: [word] } });
    expect(read(sim, BITMAP, 8)).toEqual([...new Uint8Array(new BigUint64Array([want]).buffer)]);
    sim.ev(zeroBitmap);
    expect(sim.ev(getDirty(hwpt))).toEqual({ ret: 0, out: { data: [word] } });
    sim.ev(zeroBitmap);
    expect(sim.ev(getDirty(hwpt))).toEqual({ ret: 0, out: { data: ["0x0"] } });
    // the kernel only sets bits: what the caller left in the bitmap stays
    sim.ev({ op: "mem.write", pid: 1, va: hex(BITMAP), u64: ["0x8000000000000000"] });
    expect(sim.ev(getDirty(hwpt))).toEqual({ ret: 0, out: { data: ["0x8000000000000000"] } });
  });

  it("get_dirty_bitmap validation: flags and __reserved, the HWPT, the IOVA range (EOVERFLOW, EINVAL), dirty ops", () => {
    const { sim, dev } = dirtySim();
    const hwpt = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"])));
    expect(sim.ev(getDirty(hwpt, { flags: 2 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(getDirty(hwpt, { __reserved: 1 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(getDirty(1))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(getDirty(hwpt, { iova: "0xfffffffffffff000", length: "0x2000" }))).toEqual({ errno: "EOVERFLOW" });
    expect(sim.ev(getDirty(hwpt, { page_size: "0" }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(getDirty(hwpt, { iova: hex(START + 0x800n), page_size: "0x1000" }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(getDirty(hwpt, { length: "0x1f800", page_size: "0x1000" }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(getDirty(3))).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("a bitmap that cannot be pinned is not an error: iommu_read_and_clear_dirty drops iova_bitmap_for_each's EFAULT, and nothing is read or cleared", () => {
    const { sim, dev } = dirtySim();
    const hwpt = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"])));
    sim.attach(1, 3, dev, hwpt);
    sim.ev(setDirty(hwpt, 1));
    sim.ev(dmaWrite("0000:00:01.0", START));
    expect(sim.ev(getDirty(hwpt, { data: "0x0" }))).toEqual({ ret: 0 });
    expect(sim.ev(getDirty(hwpt)).out?.data).not.toEqual(["0x0"]);
  });

  it("the walk stops at the first hole of the IOAS (__iommu_read_and_clear_dirty)", () => {
    const { sim, dev } = dirtySim();
    const hwpt = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_DIRTY_TRACKING"])));
    sim.attach(1, 3, dev, hwpt);
    const second = START + 0x30000n;
    sim.ev(
      io(3, "IOMMU_IOAS_MAP", {
        flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"],
        ioas_id: 1,
        user_va: hex(BUF + 0x100000n),
        length: "0x10000",
        iova: hex(second),
      }),
    );
    sim.ev(setDirty(hwpt, 1));
    sim.ev(dmaWrite("0000:00:01.0", second));
    const whole = { length: "0x40000", page_size: "0x10000" };
    expect(sim.ev(getDirty(hwpt, whole))).toEqual({ ret: 0, out: { data: ["0x0"] } });
    expect(sim.ev(getDirty(hwpt, { ...whole, iova: hex(second), length: "0x10000" }))).toEqual({ ret: 0, out: { data: ["0x1"] } });
  });
});

describe("IOMMU_GET_HW_INFO (iommufd_get_hw_info)", () => {
  const hwInfo = (dev: number, extra: Record<string, unknown> = {}) => io(3, "IOMMU_GET_HW_INFO", { dev_id: dev, ...extra });

  it("selftest iommufd_ioas.get_hw_info: the mock's iommu_test_hw_info, data_len rules, types and max_pasid", () => {
    const sim = mockSim([
      { op: "host.device", bdf: "0000:00:01.0" },
      { op: "host.device", bdf: "0000:00:02.0", pasid: { max_log2: 20 } },
    ]);
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    const pasidDev = sim.bindOk(1, 3, "0000:00:02.0");
    // a zero-size buffer: nothing copied, data_len becomes the kernel's length
    expect(sim.ev(hwInfo(dev))).toMatchObject({ ret: 0, out: { data_len: 8, out_data_type: IOMMU_HW_INFO_TYPE_SELFTEST, out_max_pasid_log2: 0, data: {} } });
    // exact size
    sim.ev({ op: "mem.write", pid: 1, va: hex(BUF), hex: "ff".repeat(16) });
    expect(sim.ev(hwInfo(dev, { data_len: 8, data_uptr: hex(BUF) }))).toMatchObject({
      ret: 0,
      out: { data_len: 8, data: { flags: 0, test_reg: IOMMU_HW_INFO_SELFTEST_REGVAL } },
    });
    expect(read(sim, BUF, 16)).toEqual([0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, ...Array(8).fill(0xff)]);
    // a wrong input type, and the right one
    expect(sim.ev(hwInfo(dev, { flags: 1, in_data_type: IOMMU_HW_INFO_TYPE_SELFTEST + 1, data_len: 8, data_uptr: hex(BUF) }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwInfo(dev, { flags: 1, in_data_type: IOMMU_HW_INFO_TYPE_SELFTEST, data_len: 8, data_uptr: hex(BUF) }))).toMatchObject({ ret: 0 });
    // larger: the tail is zeroed
    sim.ev({ op: "mem.write", pid: 1, va: hex(BUF), hex: "ff".repeat(16) });
    expect(sim.ev(hwInfo(dev, { data_len: 16, data_uptr: hex(BUF) }))).toMatchObject({ ret: 0, out: { data_len: 8 } });
    expect(read(sim, BUF, 16)).toEqual([0, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde, ...Array(8).fill(0)]);
    // smaller: only the bytes that fit are written
    sim.ev({ op: "mem.write", pid: 1, va: hex(BUF), hex: "ff".repeat(8) });
    expect(sim.ev(hwInfo(dev, { data_len: 4, data_uptr: hex(BUF) }))).toMatchObject({ ret: 0, out: { data_len: 8, data: { flags: 0 } } });
    expect(read(sim, BUF, 8)).toEqual([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    // max_pasid: MOCK_PASID_WIDTH for the PASID-capable device
    expect(sim.ev(hwInfo(pasidDev)).out?.out_max_pasid_log2).toBe(20);
  });

  it("checks flags and __reserved (EOPNOTSUPP) before the device (ENOENT); the copy faults with EFAULT", () => {
    const sim = mockSim();
    const dev = sim.bindOk(1, 3, "0000:00:01.0");
    expect(sim.ev(hwInfo(99, { flags: 2 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwInfo(99, { __reserved: [0, 1, 0] }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(hwInfo(99))).toEqual({ errno: "ENOENT" });
    expect(sim.ev(hwInfo(dev, { data_len: 8, data_uptr: "0x1000" }))).toEqual({ errno: "EFAULT" });
  });

  it("VT-d: iommu_hw_info_vtd with flags ERRATA_772415_SPR17 and the registers; PASID width and PASID/ATS capabilities of the device", () => {
    const cap = 0x00d2008c40660462n;
    const ecap = (1n << 43n) | (1n << 40n) | (1n << 45n) | (1n << 48n) | (0x13n << 35n);
    const setup = (ecapReg: bigint) => {
      const sim = new Sim();
      sim.evs([
        { op: "host.iommu", type: "intel_vtd", cap_reg: hex(cap), ecap_reg: hex(ecapReg) },
        { op: "host.device", bdf: "0000:01:00.0", pasid: { max_log2: 16, exec: true, priv: false }, ext_caps: [{ id: 0x0f, ver: 1, off: 0x100, size: 8 }] },
        { op: "host.device", bdf: "0000:02:00.0" },
        { op: "process", pid: 1 },
        { op: "open", pid: 1, path: "/dev/iommu" },
      ]);
      return { sim, dev: sim.bindOk(1, 3, "0000:01:00.0"), plain: sim.bindOk(1, 3, "0000:02:00.0") };
    };
    const { sim, dev, plain } = setup(ecap);
    expect(sim.ev(hwInfo(dev, { data: {} }))).toMatchObject({
      ret: 0,
      out: { data_len: 24, out_data_type: 1, out_max_pasid_log2: 16, out_capabilities: 1n | 2n | 8n, data: { flags: 1, cap_reg: cap, ecap_reg: ecap } },
    });
    expect(sim.ev(hwInfo(plain, { data: {} }))).toMatchObject({ ret: 0, out: { out_max_pasid_log2: 0, out_capabilities: 1n | 8n } });
    // ECAP.DT (device TLB) and the device's ATS capability: ATS is usable
    const dt = setup(ecap | 4n);
    expect(dt.sim.ev(hwInfo(dt.dev)).out?.out_capabilities).toBe(1n | 2n);
    expect(dt.sim.ev(hwInfo(dt.plain)).out?.out_capabilities).toBe(1n | 8n);
  });
});

describe("VT-d nested stage 1 (intel_iommu_domain_alloc_nested, intel_nested_cache_invalidate_user)", () => {
  const cap = 0x00d2008c40660462n; // no CAP.FL5LP
  const ecap = (1n << 26n) | (1n << 40n) | (1n << 43n) | (1n << 46n) | (1n << 47n) | (0x13n << 35n);
  function vtdSim(ecapReg = ecap) {
    const sim = new Sim();
    sim.evs([
      { op: "host.iommu", type: "intel_vtd", cap_reg: hex(cap), ecap_reg: hex(ecapReg) },
      { op: "host.device", bdf: "0000:01:00.0" },
      { op: "process", pid: 1 },
      { op: "open", pid: 1, path: "/dev/iommu" },
      io(3, "IOMMU_IOAS_ALLOC"),
    ]);
    const dev = sim.bindOk(1, 3, "0000:01:00.0");
    return { sim, dev };
  }
  const s1 = (addrWidth: number, flags = 0) => ({ data_type: "IOMMU_HWPT_DATA_VTD_S1", data: { flags, pgtbl_addr: "0x1000", addr_width: addrWidth } });

  it("a nested HWPT over a NEST_PARENT; the stage-1 format is checked when a device attaches (intel_pasid_setup_nested)", () => {
    const { sim, dev } = vtdSim();
    const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    expect(parent).toBe(3);
    expect(sim.domain(1, 3, parent)).toMatchObject({ format: "vtd-ss" });
    const plain = outId(sim.ev(hwptAlloc(dev, 1)));
    expect(sim.ev(hwptAlloc(dev, plain, 0, s1(48)))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(hwptAlloc(dev, parent, 0, { ...selftestData }))).toEqual({ errno: "EOPNOTSUPP" });
    const five = outId(sim.ev(hwptAlloc(dev, parent, 0, s1(57))));
    const sre = outId(sim.ev(hwptAlloc(dev, parent, 0, s1(48, 1))));
    const four = outId(sim.ev(hwptAlloc(dev, parent, 0, s1(48))));
    expect(sim.obj(1, 3, four)).toMatchObject({ type: "hwpt_nested", parentId: parent });
    expect(sim.domain(1, 3, four)).toMatchObject({ type: "nested", data: { pgtbl_addr: 0x1000n, addr_width: 48, flags: 0n } });
    expect(sim.attach(1, 3, dev, five)).toBe("EINVAL");
    expect(sim.attach(1, 3, dev, sre)).toBe("EINVAL"); // ECAP.SRS clear
    expect(sim.attach(1, 3, dev, four)).toEqual({ ptId: four });
    // the same struct iommu_hwpt_vtd_s1 through data_uptr: flags, addr_width 48, pgtbl_addr 0x2000
    sim.ev({ op: "mem.map", pid: 1, va: "0x10000", length: "0x1000" });
    sim.ev({ op: "mem.write", pid: 1, va: "0x10000", u64: ["0x0", "0x2000", "0x30"] });
    const viaPtr = outId(sim.ev(hwptAlloc(dev, parent, 0, { data_type: "IOMMU_HWPT_DATA_VTD_S1", data_len: 24, data_uptr: "0x10000" })));
    expect(sim.domain(1, 3, viaPtr)).toMatchObject({ data: { pgtbl_addr: 0x2000n, addr_width: 48 } });
    expect(sim.ev(hwptAlloc(dev, parent, 0, { data_type: "IOMMU_HWPT_DATA_VTD_S1", data_len: 24, data_uptr: "0x20000" }))).toEqual({ errno: "EFAULT" });
    expect(sim.ev(hwptAlloc(dev, parent, 0, { data_type: "IOMMU_HWPT_DATA_VTD_S1", data_len: 16, data_uptr: "0x10000" }))).toEqual({ errno: "EINVAL" });
    expect(sim.ev(destroy(viaPtr))).toMatchObject({ ret: 0 });
    expect(sim.obj(1, 3, parent)!.users).toBe(4); // the object and its three nested HWPTs; the device holds `four`
    expect(sim.obj(1, 3, four)!.users).toBe(2);
  });

  it("without ECAP.NEST there is no NEST_PARENT (EOPNOTSUPP)", () => {
    const { sim, dev } = vtdSim(ecap & ~(1n << 26n));
    expect(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"]))).toEqual({ errno: "EOPNOTSUPP" });
  });

  it("invalidation: the array type first (EINVAL even when empty), then entry by entry: flags (EOPNOTSUPP), 4 KiB alignment (EINVAL)", () => {
    const { sim, dev } = vtdSim();
    const parent = outId(sim.ev(hwptAlloc(dev, 1, ["ALLOC_NEST_PARENT"])));
    const nested = outId(sim.ev(hwptAlloc(dev, parent, 0, s1(48))));
    const VTD = "IOMMU_HWPT_INVALIDATE_DATA_VTD_S1";
    expect(errnoAndNum(sim.ev(inv(nested, { data_type: SELFTEST_INV, entry_len: 8, entry_num: 0 })))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(inv(nested, { data_type: VTD, entry_len: 24, entry_num: 0 })))).toEqual([0, 0]);
    const e = (addr: string, flags = 0, npages = "0x1") => ({ addr, npages, flags });
    expect(errnoAndNum(sim.ev(inv(nested, { data_type: VTD, data: [e("0x1000"), e("0x1800")] })))).toEqual(["EINVAL", 1]);
    expect(errnoAndNum(sim.ev(inv(nested, { data_type: VTD, data: [e("0x1000"), e("0x2000", 2)] })))).toEqual(["EOPNOTSUPP", 1]);
    expect(errnoAndNum(sim.ev(inv(nested, { data_type: VTD, data: [e("0x1000", 0, "0xffffffffffffffff")] })))).toEqual(["EINVAL", 0]);
    expect(errnoAndNum(sim.ev(inv(nested, { data_type: VTD, data: [e("0x0", 1, "0xffffffffffffffff"), e("0x3000")] })))).toEqual([0, 2]);
  });
});

describe("the fault queue (iommufd_fault_alloc, iommufd_eventq_init)", () => {
  it("flags are EOPNOTSUPP; the queue's fd holds its object and the context; its file has no ioctls", () => {
    const sim = mockSim();
    const ctxFile = sim.ctxFile(1, 3);
    expect(sim.ev(io(3, "IOMMU_FAULT_QUEUE_ALLOC", { flags: 1 }))).toEqual({ errno: "EOPNOTSUPP" });
    expect(sim.ev(io(3, "IOMMU_FAULT_QUEUE_ALLOC"))).toEqual({ ret: 0, out: { size: 16, flags: 0, out_fault_id: 2, out_fault_fd: 4 } });
    const qfile = sim.ctxFile(1, 4);
    expect(sim.state.files.get(qfile)).toMatchObject({ kind: "fault", path: "anon_inode:[iommufd-pgfault]" });
    expect(sim.ev(io(4, "IOMMU_DESTROY", { id: 2 }))).toEqual({ errno: "ENOTTY" });
    expect(sim.ev(destroy(2))).toEqual({ errno: "EBUSY" });
    // closing /dev/iommu leaves the context alive for the queue's fd
    expect(sim.ev({ op: "close", pid: 1, fd: 3 })).toEqual({ ret: 0 });
    expect(sim.state.iommufd.has(ctxFile)).toBe(true);
    expect(sim.ev({ op: "close", pid: 1, fd: 4 })).toEqual({ ret: 0 });
    expect(sim.state.iommufd.has(ctxFile)).toBe(false);
    expect(sim.state.files.has(qfile)).toBe(false);
  });

  it("the queue's fd is the lowest free one and the object ids go on", () => {
    const sim = mockSim();
    sim.ev({ op: "open", pid: 1, path: "/dev/iommu" }); // fd 4
    sim.ev({ op: "close", pid: 1, fd: 4 });
    expect(sim.ev(io(3, "IOMMU_FAULT_QUEUE_ALLOC")).out).toMatchObject({ out_fault_id: 2, out_fault_fd: 4 });
    expect(sim.ev(io(3, "IOMMU_FAULT_QUEUE_ALLOC")).out).toMatchObject({ out_fault_id: 3, out_fault_fd: 5 });
  });
});
