// vfio-pci's device commands (drivers/vfio/pci/vfio_pci_core.c
// vfio_pci_ioctl_get_info / get_region_info / get_irq_info / set_irqs / reset,
// vfio_main.c vfio_set_irqs_validate_and_prepare and vfio_ioctl_device_feature)
// and the dma-buf export of seed 004 (5d74781ebc86, vfio_pci_dmabuf.c).
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";

const io = (fd: number, cmd: string, arg?: unknown) => ({ op: "ioctl", pid: 1, fd, cmd, ...(arg === undefined ? {} : { arg }) });
const BAR0 = { index: 0, size: "0x10000", flags: 4, pa: "0xfe000000" };
const setup = (dev: Record<string, unknown> = {}) => [
  { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" },
  { op: "host.device", bdf: "0000:01:00.0", regions: [BAR0, { index: 2, size: "0x2000" }], ...dev },
  { op: "process", pid: 1 },
  { op: "open", pid: 1, path: "/dev/iommu" }, // 3
  { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0" }, // 4
  io(4, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: 3 }),
];

describe("VFIO_DEVICE_GET_INFO", () => {
  it("argsz below 16 is EINVAL; flags PCI|RESET, 9 regions, 5 IRQs; no cap chain", () => {
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_INFO", { argsz: 15 })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_INFO")])).toEqual({
      ret: 0,
      out: { argsz: 24, flags: 3, num_regions: 9, num_irqs: 5, cap_offset: 0, pad: 0 },
    });
    expect(last([...setup({ reset: false }), io(4, "VFIO_DEVICE_GET_INFO")])).toMatchObject({ out: { flags: 2 } });
  });
  it("copies back min(argsz, 24) bytes", () => {
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_INFO", { argsz: 16 })])).toEqual({ ret: 0, out: { argsz: 16, flags: 3, num_regions: 9, num_irqs: 5 } });
  });
  it("counts device-specific regions past the nine fixed ones", () => {
    expect(last([...setup({ regions: [{ index: 9, size: "0x1000" }] }), io(4, "VFIO_DEVICE_GET_INFO")])).toMatchObject({ out: { num_regions: 10 } });
  });
});

describe("VFIO_DEVICE_GET_REGION_INFO", () => {
  it("argsz below 32 is EINVAL; offsets are index << 40 (VFIO_PCI_INDEX_TO_OFFSET)", () => {
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { argsz: 31 })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 0 })])).toEqual({
      ret: 0,
      out: { argsz: 32, flags: 7, index: 0, cap_offset: 0, size: 0x10000n, offset: 0n },
    });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 2 })])).toMatchObject({ out: { flags: 3, size: 0x2000n, offset: 2n << 40n } });
  });
  it("an absent BAR has size 0 and no flags; config is 4 KiB on PCI Express; no VGA is EINVAL; past the regions EINVAL", () => {
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 1 })])).toMatchObject({ out: { flags: 0, size: 0n } });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 7 })])).toMatchObject({ out: { flags: 3, size: 4096n, offset: 7n << 40n } });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 8 })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 9 })])).toEqual({ errno: "EINVAL" });
  });
  it("the MSI-X mmappable capability: argsz grows when there is no room, else the chain follows at 32", () => {
    const dev = { regions: [{ index: 0, size: "0x4000", flags: 12 }] };
    expect(last([...setup(dev), io(4, "VFIO_DEVICE_GET_REGION_INFO", { index: 0 })])).toMatchObject({ out: { argsz: 40, flags: 15, cap_offset: 0 } });
    expect(last([...setup(dev), io(4, "VFIO_DEVICE_GET_REGION_INFO", { argsz: 40, index: 0 })])).toMatchObject({
      out: { argsz: 40, cap_offset: 32, caps: [{ id: 3, version: 1, next: 0 }] },
    });
  });
});

describe("VFIO_DEVICE_GET_IRQ_INFO / SET_IRQS", () => {
  it("index 5 and up is EINVAL; ERR and REQ are one eventfd each", () => {
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_IRQ_INFO", { index: 5 })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_IRQ_INFO", { index: 3 })])).toEqual({ ret: 0, out: { argsz: 16, flags: 9, index: 3, count: 1 } });
    expect(last([...setup(), io(4, "VFIO_DEVICE_GET_IRQ_INFO", { index: 4 })])).toEqual({ ret: 0, out: { argsz: 16, flags: 9, index: 4, count: 1 } });
    // ERR exists only on PCI Express.
    expect(last([...setup({ std_caps: [{ id: 1 }] }), io(4, "VFIO_DEVICE_GET_IRQ_INFO", { index: 3 })])).toEqual({ errno: "EINVAL" });
  });
  it("validates before anything (vfio_set_irqs_validate_and_prepare)", () => {
    const set = (arg: Record<string, unknown>) => last([...setup(), io(4, "VFIO_DEVICE_SET_IRQS", arg)]);
    expect(set({ argsz: 19, index: 4 })).toEqual({ errno: "EINVAL" });
    expect(set({ index: 5, flags: ["DATA_NONE", "ACTION_TRIGGER"] })).toEqual({ errno: "EINVAL" });
    expect(set({ index: 4, flags: 0x40 })).toEqual({ errno: "EINVAL" });
    expect(set({ index: 4, start: 1, count: 1, flags: ["DATA_NONE", "ACTION_TRIGGER"] })).toEqual({ errno: "EINVAL" });
    expect(set({ index: 4, count: 1, flags: ["DATA_NONE", "DATA_BOOL", "ACTION_TRIGGER"] })).toEqual({ errno: "EINVAL" });
    // An eventfd needs 4 bytes of data: argsz 20 has none.
    expect(set({ argsz: 20, index: 4, count: 1, flags: ["DATA_EVENTFD", "ACTION_TRIGGER"] })).toEqual({ errno: "EINVAL" });
    // REQ only triggers: MASK is ENOTTY.
    expect(set({ index: 4, count: 1, flags: ["DATA_NONE", "ACTION_MASK"] })).toEqual({ errno: "ENOTTY" });
  });
  it("the REQ trigger: -1 releases, an fd that is no eventfd is EINVAL (EBADF when not open)", () => {
    const set = (data: number[]) => last([...setup(), io(4, "VFIO_DEVICE_SET_IRQS", { index: 4, count: 1, flags: ["DATA_EVENTFD", "ACTION_TRIGGER"], data })]);
    expect(set([-1])).toEqual({ ret: 0 });
    expect(set([3])).toEqual({ errno: "EINVAL" });
    expect(set([40])).toEqual({ errno: "EBADF" });
  });
});

describe("VFIO_DEVICE_RESET", () => {
  it("resets a device that can, EINVAL otherwise (selftest device_reset)", () => {
    expect(last([...setup(), io(4, "VFIO_DEVICE_RESET")])).toEqual({ ret: 0 });
    expect(last([...setup({ reset: false }), io(4, "VFIO_DEVICE_RESET")])).toEqual({ errno: "EINVAL" });
  });
});

describe("VFIO_DEVICE_FEATURE (vfio_ioctl_device_feature)", () => {
  const feat = (arg: Record<string, unknown>, profile?: string) => last([...setup(), io(4, "VFIO_DEVICE_FEATURE", arg)], profile);
  it("header rules: argsz < 8, unknown flags, GET|SET without PROBE are EINVAL", () => {
    expect(feat({ argsz: 7, flags: ["GET"] })).toEqual({ errno: "EINVAL" });
    expect(feat({ flags: 1 << 19 })).toEqual({ errno: "EINVAL" });
    expect(feat({ flags: ["GET", "SET", "VFIO_DEVICE_FEATURE_DMA_BUF"] })).toEqual({ errno: "EINVAL" });
  });
  it("vfio-pci has no migration or dirty-logging ops, no VF token, no BUS_MASTER: ENOTTY", () => {
    for (const f of [
      "VFIO_DEVICE_FEATURE_MIGRATION",
      "VFIO_DEVICE_FEATURE_DMA_LOGGING_START",
      "VFIO_DEVICE_FEATURE_PCI_VF_TOKEN",
      "VFIO_DEVICE_FEATURE_BUS_MASTER",
    ])
      expect(feat({ flags: ["GET", f] })).toEqual({ errno: "ENOTTY" });
  });
  it("MIG_PRECOPY_INFOv2 is a core feature in mainline (EINVAL without PRE_COPY), unknown in v6.19", () => {
    expect(feat({ flags: ["SET", "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2"] }, "linux-mainline")).toEqual({ errno: "EINVAL" });
    expect(feat({ flags: ["SET", "VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2"] }, "linux-6.19")).toEqual({ errno: "ENOTTY" });
  });
  it("LOW_POWER_ENTRY_WITH_WAKEUP: SET only; the wakeup fd must be an eventfd", () => {
    expect(feat({ flags: ["GET", "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP"] })).toEqual({ errno: "EINVAL" });
    expect(feat({ flags: ["PROBE", "SET", "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP"] })).toEqual({ ret: 0 });
    expect(feat({ flags: ["SET", "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP"], data: { wakeup_eventfd: 3 } })).toEqual({ errno: "EINVAL" });
    expect(feat({ flags: ["SET", "VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP"], data: { wakeup_eventfd: -1 } })).toEqual({ errno: "EBADF" });
  });
});

describe("VFIO_DEVICE_FEATURE_DMA_BUF (vfio_pci_core_feature_dma_buf)", () => {
  const dmabuf = (data: Record<string, unknown>, flags: unknown = ["GET", "VFIO_DEVICE_FEATURE_DMA_BUF"]) => io(4, "VFIO_DEVICE_FEATURE", { flags, data });
  const one = { region_index: 0, dma_ranges: [{ offset: 0, length: 0x1000 }] };
  it("returns a new dma-buf fd; unknown before v6.19's export", () => {
    expect(last([...setup(), dmabuf(one)])).toEqual({ fd: 5 });
    expect(last([...setup(), dmabuf(one)], ["linux-6.19", "-vfio-dmabuf-export"])).toEqual({ errno: "ENOTTY" });
  });
  it("GET only; PROBE answers 0; the payload must hold the 16-byte header", () => {
    expect(last([...setup(), dmabuf(one, ["SET", "VFIO_DEVICE_FEATURE_DMA_BUF"])])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), dmabuf(one, ["PROBE", "GET", "VFIO_DEVICE_FEATURE_DMA_BUF"])])).toEqual({ ret: 0 });
    expect(last([...setup(), io(4, "VFIO_DEVICE_FEATURE", { argsz: 23, flags: ["GET", "VFIO_DEVICE_FEATURE_DMA_BUF"] })])).toEqual({ errno: "EINVAL" });
  });
  it("range rules: none, flags, not a BAR (ENODEV), unaligned, outside the BAR, an empty BAR", () => {
    expect(last([...setup(), dmabuf({ region_index: 0, nr_ranges: 0 })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), dmabuf({ ...one, flags: 1 })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), dmabuf({ ...one, region_index: 6 })])).toEqual({ errno: "ENODEV" });
    expect(last([...setup(), dmabuf({ region_index: 0, dma_ranges: [{ offset: 0x800, length: 0x1000 }] })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), dmabuf({ region_index: 0, dma_ranges: [{ offset: 0xf000, length: 0x2000 }] })])).toEqual({ errno: "EINVAL" });
    expect(last([...setup(), dmabuf({ ...one, region_index: 1 })])).toEqual({ errno: "EINVAL" });
  });
  it("records the export; reset revokes it for its importers, device close for good", () => {
    const r = run([...setup(), dmabuf(one)]);
    const b = r.result.state.dmabufs.get(r.result.state.processes.get(1)!.fds.get(5)!)!;
    expect(b).toMatchObject({ bdf: "0000:01:00.0", regionIndex: 0, size: 0x1000n, phys: [{ pa: 0xfe000000n, length: 0x1000n }], revoked: false, revokeGen: 0 });
    const reset = run([...setup(), dmabuf(one), io(4, "VFIO_DEVICE_RESET")]).result.state.dmabufs;
    expect([...reset.values()][0]).toMatchObject({ revoked: false, revokeGen: 1 });
    const closed = run([...setup(), dmabuf(one), { op: "close", pid: 1, fd: 4 }]).result.state.dmabufs;
    expect([...closed.values()][0]).toMatchObject({ bdf: null, revoked: true, revokeGen: 1 });
    // Closing the dma-buf fd releases it.
    expect(run([...setup(), dmabuf(one), { op: "close", pid: 1, fd: 5 }]).result.state.dmabufs.size).toBe(0);
  });
  it("iommufd imports it with IOMMU_IOAS_MAP_FILE; once the device closed, ENODEV (selftest dmabuf_revoke)", () => {
    const map = io(3, "IOMMU_IOAS_MAP_FILE", { flags: ["READABLE", "WRITEABLE"], ioas_id: 2, fd: 5, start: 0, length: 0x1000 });
    const pre = [...setup(), dmabuf(one), io(3, "IOMMU_IOAS_ALLOC")];
    expect(last([...pre, map])).toMatchObject({ ret: 0 });
    expect(last([...pre, io(4, "VFIO_DEVICE_RESET"), map])).toMatchObject({ ret: 0 });
    expect(last([...pre, { op: "close", pid: 1, fd: 4 }, map])).toEqual({ errno: "ENODEV" });
  });
});
