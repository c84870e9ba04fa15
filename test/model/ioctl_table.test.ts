// The command table (src/model/ioctl/table.ts) against the kernel: the
// minimum size of every iommufd command (main.c IOCTL_OP's last member), the
// file kinds that answer each VFIO command and the minsz its handler checks
// (device_cdev.c, vfio_main.c, group.c, vfio_pci_core.c, vfio_iommu_type1.c,
// iommufd's vfio_compat.c), and that every command src/uapi defines is either
// answered or listed as not modelled.
import { describe, expect, it } from "vitest";
import { IOCTL_OPS, ioctlOp, NOT_MODELLED, type IoctlTarget } from "../../src/model/ioctl/table.ts";
import { commandByName, offsetofend, UAPI_COMMANDS } from "../../src/uapi/index.ts";

/** offsetofend(struct, _last) of each IOCTL_OP line in main.c (GET_PA: seed 003's V4 line, out_phys). */
const MIN_SIZES: Record<string, [string, number]> = {
  IOMMU_DESTROY: ["id", 8],
  IOMMU_IOAS_ALLOC: ["out_ioas_id", 12],
  IOMMU_IOAS_ALLOW_IOVAS: ["allowed_iovas", 24],
  IOMMU_IOAS_COPY: ["src_iova", 40],
  IOMMU_IOAS_IOVA_RANGES: ["out_iova_alignment", 32],
  IOMMU_IOAS_MAP: ["iova", 40],
  IOMMU_IOAS_UNMAP: ["length", 24],
  IOMMU_OPTION: ["val64", 24],
  IOMMU_VFIO_IOAS: ["__reserved", 12],
  IOMMU_HWPT_ALLOC: ["__reserved", 24],
  IOMMU_GET_HW_INFO: ["__reserved", 32],
  IOMMU_HWPT_SET_DIRTY_TRACKING: ["__reserved", 16],
  IOMMU_HWPT_GET_DIRTY_BITMAP: ["data", 48],
  IOMMU_HWPT_INVALIDATE: ["__reserved", 32],
  IOMMU_FAULT_QUEUE_ALLOC: ["out_fault_fd", 16],
  IOMMU_IOAS_MAP_FILE: ["iova", 40],
  IOMMU_VIOMMU_ALLOC: ["out_viommu_id", 24],
  IOMMU_VDEVICE_ALLOC: ["virt_id", 24],
  IOMMU_IOAS_CHANGE_PROCESS: ["__reserved", 8],
  IOMMU_VEVENTQ_ALLOC: ["out_veventq_fd", 28],
  IOMMU_HW_QUEUE_ALLOC: ["length", 40],
  IOMMU_IOAS_NOIOMMU_GET_PA: ["out_phys", 40],
};

/** Every VFIO command the model answers: who answers it, and the minsz its handler checks. */
const VFIO_ROWS: [string, IoctlTarget[], number | undefined][] = [
  ["VFIO_GET_API_VERSION", ["vfio-container", "iommufd"], undefined],
  ["VFIO_CHECK_EXTENSION", ["vfio-container", "iommufd"], undefined],
  ["VFIO_SET_IOMMU", ["vfio-container", "iommufd"], undefined],
  ["VFIO_IOMMU_GET_INFO", ["vfio-iommu-type1", "iommufd"], 16],
  ["VFIO_IOMMU_MAP_DMA", ["vfio-iommu-type1", "iommufd"], 32],
  ["VFIO_IOMMU_UNMAP_DMA", ["vfio-iommu-type1", "iommufd"], 24],
  // vfio_compat.c names this case only to answer -ENOIOCTLCMD (ENOTTY); type1 handles it.
  ["VFIO_IOMMU_DIRTY_PAGES", ["vfio-iommu-type1"], 8],
  ["VFIO_IOMMU_PASID_REQUEST", ["vfio-iommu-type1"], 8],
  ["VFIO_GROUP_GET_STATUS", ["vfio-group"], 8],
  ["VFIO_GROUP_SET_CONTAINER", ["vfio-group"], undefined],
  ["VFIO_GROUP_UNSET_CONTAINER", ["vfio-group"], undefined],
  ["VFIO_GROUP_GET_DEVICE_FD", ["vfio-group"], undefined],
  ["VFIO_DEVICE_GET_INFO", ["vfio-device"], 16],
  ["VFIO_DEVICE_GET_REGION_INFO", ["vfio-device"], 32],
  ["VFIO_DEVICE_GET_IRQ_INFO", ["vfio-device"], 16],
  ["VFIO_DEVICE_SET_IRQS", ["vfio-device"], 20],
  ["VFIO_DEVICE_RESET", ["vfio-device"], undefined],
  ["VFIO_DEVICE_QUERY_GFX_PLANE", ["vfio-device"], undefined],
  ["VFIO_DEVICE_GET_GFX_DMABUF", ["vfio-device"], undefined],
  ["VFIO_DEVICE_IOEVENTFD", ["vfio-device"], 28],
  ["VFIO_DEVICE_FEATURE", ["vfio-device"], 8],
  ["VFIO_DEVICE_BIND_IOMMUFD", ["vfio-device"], 16],
  ["VFIO_DEVICE_ATTACH_IOMMUFD_PT", ["vfio-device"], 12],
  ["VFIO_DEVICE_DETACH_IOMMUFD_PT", ["vfio-device"], 8],
];

const row = (name: string) => IOCTL_OPS.find((op) => op.cmd.name === name);
const minSize = (name: string) => {
  const op = row(name)!;
  return op.last === undefined || op.cmd.arg.kind !== "struct" ? undefined : offsetofend(op.cmd.arg.struct, op.last);
};

describe("the command table (iommufd_ioctl_ops[] and VFIO's handlers)", () => {
  it("answers every command of src/uapi, or lists it as not modelled with the reason, never both", () => {
    for (const c of UAPI_COMMANDS) {
      const answered = IOCTL_OPS.some((op) => op.cmd === c);
      const listed = NOT_MODELLED.filter((n) => n.cmd === c);
      expect(answered !== (listed.length === 1), c.name).toBe(true);
      for (const n of listed) expect(n.why.length, c.name).toBeGreaterThan(0);
    }
    expect(IOCTL_OPS.length + NOT_MODELLED.length).toBe(UAPI_COMMANDS.length);
  });

  it("iommufd: every command on /dev/iommu alone, its minimum size offsetofend of IOCTL_OP's last member", () => {
    for (const [name, [member, min]] of Object.entries(MIN_SIZES)) {
      expect(row(name)!.last, name).toBe(member);
      expect(minSize(name), name).toBe(min);
      expect(Object.keys(row(name)!.on), name).toEqual(["iommufd"]);
    }
  });

  for (const [name, targets, minsz] of VFIO_ROWS)
    it(`${name}: answered on ${targets.join(", ")}, minsz ${minsz}`, () => {
      expect(Object.keys(row(name)!.on).sort()).toEqual([...targets].sort());
      expect(minSize(name)).toBe(minsz);
      for (const t of targets) expect(ioctlOp(t, commandByName(name)!.number)).toBe(row(name));
    });

  it("tells the overlapping device and container numbers apart by who answers (0x3b70..0x3b72, 0x3b75)", () => {
    expect(ioctlOp("vfio-iommu-type1", 0x3b70)!.cmd.name).toBe("VFIO_IOMMU_GET_INFO");
    expect(ioctlOp("iommufd", 0x3b70)!.cmd.name).toBe("VFIO_IOMMU_GET_INFO");
    expect(ioctlOp("vfio-device", 0x3b70)).toBeUndefined(); // VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: not modelled
    expect(NOT_MODELLED.find((n) => n.cmd.number === 0x3b70)!.on).toEqual(["vfio-device"]);
    expect(ioctlOp("iommufd", 0x3b71)!.cmd.name).toBe("VFIO_IOMMU_MAP_DMA");
    expect(ioctlOp("vfio-device", 0x3b75)!.cmd.name).toBe("VFIO_DEVICE_FEATURE");
    expect(ioctlOp("vfio-iommu-type1", 0x3b75)!.cmd.name).toBe("VFIO_IOMMU_DIRTY_PAGES");
    expect(ioctlOp("vfio-group", 0x3b76)).toBeUndefined();
    expect(ioctlOp("iommufd", 0x3b7a)).toBeUndefined(); // PASID_REQUEST was a type1 container ioctl
  });

  it("gates the commands that exist only with a kernel change: seed 003's 0x95 and seed 002's PASID request", () => {
    expect(row("IOMMU_IOAS_NOIOMMU_GET_PA")!.gate).toBe("ioas-get-pa");
    expect(row("VFIO_IOMMU_PASID_REQUEST")!.gate).toBe("vfio-pasid-request");
    expect(IOCTL_OPS.filter((op) => op.gate).length).toBe(2);
  });
});
