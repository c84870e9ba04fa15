// The converter, per event family: what each QEMU line becomes (the system call QEMU
// made, the guest access it served) and why the lines it cannot use are unused.
import { describe, expect, it } from "vitest";
import { convertLog } from "../../src/importers/qemu_log/convert.ts";

const conv = (lines: string[]) => convertLog(lines, "t.log");
/** The events converted from log lines (the synthesized platform left out). */
const fromLog = (lines: string[]) => conv(lines).events.filter((e) => e.line !== undefined);

const BIND = [
  "iommufd_cdev_getfd  /dev/vfio/devices/vfio7 (fd=28)",
  "iommufd_backend_connect fd=27 owned=1 users=1",
  "iommufd_cdev_connect_and_bind  [iommufd=27] Successfully bound device 0000:81:00.1 (fd=28): output devid=1",
  "iommufd_backend_alloc_ioas  iommufd=27 ioas=2",
];

describe("iommufd_backend_* and iommufd_cdev_*: QEMU's system calls, in log order", () => {
  it("the cdev open, /dev/iommu open, VFIO_DEVICE_BIND_IOMMUFD, IOMMU_IOAS_ALLOC, with the model's fds from 3", () => {
    const e = fromLog(BIND);
    expect(e.map((x) => x.event.cmd ?? x.event.op)).toEqual(["open", "open", "VFIO_DEVICE_BIND_IOMMUFD", "IOMMU_IOAS_ALLOC"]);
    // The log's vfio7 is the model's VFIO device 0; the log's fds 28 and 27 the model's 3 and 4.
    expect(e[0]!.event).toMatchObject({ path: "/dev/vfio/devices/vfio0", expect: { fd: 3 } });
    expect(e[1]!.event).toMatchObject({ path: "/dev/iommu", expect: { fd: 4 } });
    expect(e[2]!.event).toMatchObject({ fd: 3, arg: { iommufd: 4 }, expect: { ret: 0 } });
    expect(e.map((x) => x.line)).toEqual([1, 2, 3, 4]);
  });

  it("map_dma: IOMMU_IOAS_MAP at a fixed IOVA, writeable unless readonly; (-1) is the raw return: no expect", () => {
    const e = fromLog([
      ...BIND,
      "iommufd_backend_map_dma  iommufd=27 ioas=2 iova=0xfffc0000 size=0x40000 addr=0x7f3a3fe00000 readonly=1 (0)",
      "iommufd_backend_map_dma  iommufd=27 ioas=2 iova=0x0 size=0x1000 addr=0x7f3a40000000 readonly=0 (-1)",
    ]);
    expect(e[4]!.event).toMatchObject({
      cmd: "IOMMU_IOAS_MAP",
      arg: { flags: ["IOMMU_IOAS_MAP_FIXED_IOVA", "IOMMU_IOAS_MAP_READABLE"], ioas_id: 2, iova: "0xfffc0000", length: "0x40000", user_va: "0x7f3a3fe00000" },
      expect: { ret: 0 },
    });
    expect(e[5]!.event.expect).toBeUndefined();
    expect(conv([...BIND, "iommufd_backend_map_dma  iommufd=27 ioas=2 iova=0x0 size=0x1000 addr=0x7f3a40000000 readonly=0 (-1)"]).report.no_expect).toEqual({
      iommufd_backend_map_dma: 1,
    });
  });

  it("unmap_dma_non_exist is the kernel's ENOENT (QEMU treats it as success)", () => {
    const e = fromLog([...BIND, "iommufd_backend_unmap_dma_non_exist  Unmap nonexistent mapping: iommufd=27 ioas=2 iova=0x0 size=0x1000 (-1)"]);
    expect(e[4]!.event).toMatchObject({ cmd: "IOMMU_IOAS_UNMAP", expect: { errno: "ENOENT" } });
  });

  it("set_dirty's (%d) is a positive errno", () => {
    const e = fromLog([
      ...BIND,
      "iommufd_backend_alloc_hwpt  iommufd=27 dev_id=1 pt_id=2 flags=0x0 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=3 (0)",
      "iommufd_backend_set_dirty  iommufd=27 hwpt=3 enable=1 (95)",
    ]);
    expect(e[5]!.event).toMatchObject({ cmd: "IOMMU_HWPT_SET_DIRTY_TRACKING", arg: { hwpt_id: 3 }, expect: { errno: "EOPNOTSUPP" } });
  });

  it("object ids are the model's, lowest free from 1: a log whose kernel numbered otherwise is mapped", () => {
    const e = fromLog([
      "iommufd_backend_connect fd=5 owned=1 users=1",
      "iommufd_backend_alloc_ioas  iommufd=5 ioas=40",
      "iommufd_backend_map_dma  iommufd=5 ioas=40 iova=0x0 size=0x1000 addr=0x7f0000000000 readonly=0 (0)",
      "iommufd_backend_free_id  iommufd=5 id=40 (0)",
    ]);
    expect(e[2]!.event.arg).toMatchObject({ ioas_id: 1 });
    expect(e[3]!.event).toMatchObject({ cmd: "IOMMU_DESTROY", arg: { id: 1 }, expect: { ret: 0 } });
  });

  it("a nested VT-d HWPT gets the assumed stage-1 data, listed; other driver data is unused", () => {
    const c = conv([
      ...BIND,
      "iommufd_backend_alloc_hwpt  iommufd=27 dev_id=1 pt_id=2 flags=0x1 hwpt_type=0 len=0 data_ptr=0x0 out_hwpt=3 (0)",
      "iommufd_backend_alloc_hwpt  iommufd=27 dev_id=1 pt_id=3 flags=0x0 hwpt_type=1 len=24 data_ptr=0x55d0c0a01230 out_hwpt=4 (0)",
      "iommufd_backend_alloc_hwpt  iommufd=27 dev_id=1 pt_id=2 flags=0x0 hwpt_type=2 len=88 data_ptr=0x55d0c0a01300 out_hwpt=0 (-1)",
    ]);
    const e = c.events.filter((x) => x.line === 6);
    expect(e[0]!.event.arg).toMatchObject({ pt_id: 3, data_type: "IOMMU_HWPT_DATA_VTD_S1", data: { addr_width: 48 } });
    expect(c.header.assumed).toEqual(expect.arrayContaining([expect.stringMatching(/iommu_hwpt_vtd_s1/)]));
    expect(c.report.unused["driver data of type 2 (88 bytes at data_ptr) is not in the log"]).toEqual({ iommufd_backend_alloc_hwpt: 1 });
  });

  it("a line naming an object the log never allocated is unused, with the reason", () => {
    const c = conv(["iommufd_backend_connect fd=5 owned=1 users=1", "iommufd_backend_free_id  iommufd=5 id=9 (0)"]);
    expect(Object.keys(c.report.unused)).toEqual([expect.stringMatching(/object id 9/)]);
  });

  it("an iommufd used before any connect is opened where first used, as an assumption", () => {
    const c = conv(["iommufd_backend_alloc_ioas  iommufd=12 ioas=2"]);
    expect(c.events.filter((x) => x.line === 1).map((x) => x.event.op)).toEqual(["open", "ioctl"]);
    expect(c.header.assumed).toEqual(expect.arrayContaining([expect.stringMatching(/fd 12 is used before any iommufd_backend_connect/)]));
  });
});

describe("intel-iommu: register writes, reads without a value, the descriptors QEMU fetched", () => {
  const QI = [
    "vtd_reg_write addr 0x90 size 0x8 value 0x200800",
    "vtd_reg_write addr 0x18 size 0x4 value 0x4000000",
    "vtd_inv_qi_enable enabled 1",
    "vtd_inv_qi_setup addr 0x200000 size 128",
    "vtd_reg_read addr 0x1c size 0x4",
    "vtd_reg_write addr 0x88 size 0x8 value 0x40",
    "vtd_inv_qi_tail write tail 2",
    "vtd_inv_qi_fetch ",
    "vtd_inv_qi_head read head 0",
    "vtd_inv_desc invalidate desc type pasid-cache high 0x0 low 0x37",
    "vtd_inv_qi_head read head 1",
    "vtd_inv_desc invalidate desc type wait high 0x300000 low 0x123400000025",
  ];

  it("vtd_reg_write is guest.mmio.write, vtd_reg_read a guest.mmio.read without expect (its value is not traced)", () => {
    const e = fromLog(QI);
    expect(e[0]!.event).toMatchObject({ op: "guest.mmio.write", dev: "intel-iommu", off: "0x90", size: 8, value: "0x200800", expect: { ok: true } });
    expect(e[2]!.event).toMatchObject({ op: "guest.mmio.read", off: "0x1c", size: 4 });
    expect(e[2]!.event.expect).toBeUndefined();
  });

  it("each descriptor is written to guest memory at s->iq + head * 32 before the IQT write that fetched it (vtd_get_inv_desc)", () => {
    const e = fromLog(QI);
    expect(e.slice(3).map((x) => [x.event.op, x.event.gpa])).toEqual([
      ["guest.mem.write", "0x200000"],
      ["guest.mem.write", "0x200020"],
      ["guest.mmio.write", undefined],
    ]);
    expect(e[4]!.event.u64).toEqual(["0x123400000025", "0x300000", "0x0", "0x0"]);
    const c = conv(QI);
    // The 256-bit queue (IQA.DW) means scalable mode.
    expect(c.events.find((x) => x.event.op === "qemu.viommu")!.event.props).toEqual({ "x-scalable-mode": true });
    expect(c.report.used).toMatchObject({ vtd_inv_desc: 2, vtd_reg_write: 3, vtd_reg_read: 1 });
  });

  it("a DMA translation is not emitted: the guest page tables it walked are not in the log", () => {
    const c = conv(["vtd_dmar_translate dev 00:03.00 iova 0x1010 -> gpa 0x200010 mask 0xfff", "vtd_reg_read addr 0x1c size 0x4"]);
    expect(c.events.some((x) => x.event.op === "dma")).toBe(false);
    expect(c.report.unused["a DMA translation (or its fault) through guest page tables the log does not contain"]).toEqual({ vtd_dmar_translate: 1 });
  });
});

describe("pci_cfg_* with vfio_pci_*_config: guest config accesses to vfio-pci devices", () => {
  const READS = [
    "vfio_pci_read_config  (0000:81:00.1, @0x0, len=0x4) 0x15728086",
    "pci_cfg_read vfio-pci 00:04.0 @0x0 -> 0x15728086",
    "vfio_pci_read_config  (0000:81:00.1, @0x4, len=0x2) 0x100",
    "pci_cfg_read vfio-pci 00:04.0 @0x4 -> 0x100",
  ];

  it("a read of the IDs is guest.cfg.read with the value as expect, the width from vfio_pci_read_config", () => {
    const c = conv(READS);
    expect(c.events.filter((x) => x.line === 2).map((x) => x.event)).toEqual([
      { op: "guest.cfg.read", pid: 1, bdf: "00:04.0", off: 0, size: 4, expect: { value: "0x15728086" } },
    ]);
    // The host device carries the bytes read, the vfio-pci device sits at the guest BDF.
    expect(c.events.find((x) => x.event.op === "host.device")!.event).toMatchObject({ bdf: "0000:81:00.1", cfg: [{ off: 0, hex: "86807215" }] });
    expect(c.events.find((x) => x.event.op === "qemu.vfio-pci")!.event).toMatchObject({ host: "0000:81:00.1", guest_bdf: "00:04.0", backend: "legacy" });
  });

  it("a register whose hardware value the log does not give is unused, and its vfio_pci_read_config with it", () => {
    const c = conv(READS);
    expect(c.report.used).toEqual({ pci_cfg_read: 1, vfio_pci_read_config: 1 });
    const [reason] = Object.keys(c.report.unused).filter((k) => /only IDs/.test(k) && !k.startsWith("the width"));
    expect(c.report.unused[reason!]).toEqual({ pci_cfg_read: 1 });
  });

  it("emulated devices and empty slots are unused, each with its reason", () => {
    const c = conv(["pci_cfg_read e1000e 00:02.0 @0x0 -> 0x10d38086", "pci_cfg_read empty 00:05.0 @0x0 -> 0xffffffff"]);
    expect(Object.keys(c.report.unused)).toEqual([
      "config space of an emulated device (e1000e), which the model does not serve",
      "an access to an empty slot: its width is not traced",
    ]);
  });
});

describe("the counts", () => {
  it("every line is used, unused with a reason, unknown, malformed, or blank: none is dropped", () => {
    const lines = [
      ...BIND,
      "vtd_bogus_event 1",
      "iommufd_backend_free_id  iommufd=27 id=two (0)",
      "Guest moved",
      "qemu-system-x86_64: warning: x",
      "",
      "vfio_region_write  (0000:81:00.1:region0+0x1000, 0x1, 4)",
    ];
    const r = conv(lines).report;
    const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
    const unused = Object.values(r.unused).reduce((a, o) => a + sum(o), 0);
    expect(sum(r.used) + unused + sum(r.unknown) + r.malformed.length + 1).toBe(lines.length);
    expect(r.unknown).toEqual({ vtd_bogus_event: 1 });
    expect(r.malformed).toEqual([{ line: 6, event: "iommufd_backend_free_id", text: " iommufd=27 id=two (0)", expected: [" iommufd=%d id=%d (%d)"] }]);
  });
});
