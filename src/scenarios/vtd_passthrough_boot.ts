// vtd-passthrough-boot: QEMU with the iommufd backend and `-device intel-iommu,
// x-scalable-mode=on,x-flts=on,caching-mode=on`, a host device passed through with
// vfio-pci beside an emulated NIC. QEMU's side: iommufd_backend_connect, the vfio cdev
// bound (iommufd_cdev_connect_and_bind), a nesting-parent HWPT over the IOAS holding
// guest RAM (iommufd_cdev_autodomains_get, vfio_container_dma_map), the HostIOMMUDevice
// checks (vtd_check_hiod). The guest kernel enables the vIOMMU (root, context and PASID
// tables, queued invalidation); a first-stage PASID entry for the assigned device makes
// QEMU allocate a nested HWPT over the guest's table and attach it (vtd_device_attach_hwpt),
// and each guest IOTLB flush is forwarded as IOMMU_HWPT_INVALIDATE (vtd_flush_host_piotlb).
// The drivers DMA: the assigned device through the host's nested walk, the emulated NIC
// through the vIOMMU with and without a PASID. Then a device reset (VFIO_DEVICE_RESET on
// the guest's FLR) and shutdown.

import { fdOf, hex, ok, outNum, pick, type Scenario, type ScenarioContext, type ScenarioRun } from "./scenario.ts";
import { PageTable, PGTT_FS, VtdGuest, VtdTables } from "./vtd_guest.ts";

const PID = 1000;
const RAM = 0x4000000; // 64 MiB of guest RAM
const RAM_VA = 0x7f0000000000;
const RAM_PA = 0x100000000;
/** QEMU's buffer for IOMMU_HWPT_INVALIDATE's array (struct iommu_hwpt_vtd_s1_invalidate). */
const INV_VA = 0x7f1000000000;
const HOST = "0000:01:00.0";
const BUFFERS = 0x1000000;
const WINDOW_PAGES = 512;
const ROUNDS_PER_SCALE = 111; // scale 1000: about 1,000,000 events
/** Guest devfns: the emulated NIC at 00:03.0, the assigned device at 00:04.0. */
const NIC = { devfn: 0x18, bdf: "00:03.0", did: 2, pasid: 1, pasidDid: 4 };
const VF = { devfn: 0x20, bdf: "00:04.0", did: 3 };

function* run({ rng, scale }: ScenarioContext): ScenarioRun {
  // The host: a VT-d unit with scalable mode, nesting, first-stage 1 GiB pages and PASID; the device has a PASID capability.
  ok(
    yield {
      op: "host.iommu",
      type: "intel_vtd",
      cap_reg: "0x01d2008c406f0462",
      ecap_reg: hex(0xf0101efen | (1n << 26n) | (1n << 40n) | (1n << 43n) | (1n << 46n) | (1n << 47n)),
    },
    "host.iommu",
  );
  ok(yield { op: "host.device", bdf: HOST, pasid: { max_log2: 20, exec: false, priv: false } }, "host.device");
  // QEMU starts: guest RAM (qemu_ram_alloc), the machine, the vIOMMU, an emulated NIC.
  ok(yield { op: "process", pid: PID }, "process");
  ok(yield { op: "mem.map", pid: PID, va: hex(RAM_VA), length: hex(RAM), pa: hex(RAM_PA) }, "guest RAM");
  ok(yield { op: "mem.map", pid: PID, va: hex(INV_VA), length: "0x1000" }, "QEMU's invalidation buffer");
  ok(yield { op: "qemu.machine", pid: PID, ram: [{ gpa: "0x0", size: hex(RAM), va: hex(RAM_VA) }] }, "qemu.machine");
  ok(
    yield { op: "qemu.viommu", pid: PID, model: "intel-iommu", props: { "x-scalable-mode": true, "x-flts": true, "caching-mode": true, "x-pasid-mode": true } },
    "qemu.viommu",
  );
  ok(yield { op: "qemu.device", pid: PID, guest_bdf: NIC.bdf, model: "e1000e" }, "qemu.device");
  // -object iommufd: iommufd_backend_connect; vfio_pci_realize -> iommufd_cdev_attach.
  const iommufd = fdOf(yield { op: "open", pid: PID, path: "/dev/iommu" }, "open /dev/iommu");
  const dev = fdOf(yield { op: "open", pid: PID, path: "/dev/vfio/devices/vfio0" }, "open the vfio cdev");
  const devId = outNum(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_BIND_IOMMUFD", arg: { iommufd } }, "out_devid", "VFIO_DEVICE_BIND_IOMMUFD");
  // iommufd_backend_get_device_info: the host IOMMU's capabilities for the HostIOMMUDevice.
  ok(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_GET_HW_INFO", arg: { dev_id: devId, data_len: 32, data_uptr: hex(INV_VA) } }, "IOMMU_GET_HW_INFO");
  const ioas = outNum(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_IOAS_ALLOC" }, "out_ioas_id", "IOMMU_IOAS_ALLOC");
  // iommufd_cdev_autodomains_get: a nesting parent (x-flts needs one) over the IOAS, attached.
  const parent = outNum(
    yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_HWPT_ALLOC", arg: { flags: ["ALLOC_NEST_PARENT"], dev_id: devId, pt_id: ioas } },
    "out_hwpt_id",
    "IOMMU_HWPT_ALLOC (nest parent)",
  );
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", arg: { pt_id: parent } }, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (parent)");
  // The memory listener: guest RAM into the IOAS at its GPA (vfio_container_dma_map -> iommufd_backend_map_dma).
  ok(
    yield {
      op: "ioctl",
      pid: PID,
      fd: iommufd,
      cmd: "IOMMU_IOAS_MAP",
      arg: { flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"], ioas_id: ioas, user_va: hex(RAM_VA), length: hex(RAM), iova: 0 },
    },
    "IOMMU_IOAS_MAP (guest RAM)",
  );
  // pci_device_set_iommu_device -> vtd_dev_set_iommu_device: the device accepted behind the vIOMMU.
  ok(yield { op: "qemu.vfio-pci", pid: PID, host: HOST, guest_bdf: VF.bdf, backend: "iommufd" }, "qemu.vfio-pci");

  // The guest boots: pci_scan_device reads the assigned device's vendor and device IDs (vfio_pci_read_config).
  yield { op: "guest.cfg.read", pid: PID, bdf: VF.bdf, off: 0, size: 4 };
  // intel_iommu_init: tables for both devices, each driver's first-stage domain under PASID 0, the NIC's PASID 1.
  const g = new VtdGuest(PID, 0x100000);
  const t = new VtdTables(g);
  const nicTable = new PageTable(g, 0);
  const nicPasidTable = new PageTable(g, 0);
  const vfTable = new PageTable(g, 0);
  yield* t.setupRoot();
  for (const d of [NIC.devfn, VF.devfn]) yield* t.setupDevice(d);
  for (const p of [nicTable, nicPasidTable, vfTable]) yield* p.build();
  yield* t.setPasid(NIC.devfn, 0, PGTT_FS, NIC.did, nicTable.root);
  yield* t.setPasid(NIC.devfn, NIC.pasid, PGTT_FS, NIC.pasidDid, nicPasidTable.root);
  yield* t.setPasid(VF.devfn, 0, PGTT_FS, VF.did, vfTable.root);
  yield* g.enable(t.root);
  // The PASID-cache flush for the assigned device (qi_flush_pasid_cache); QEMU's vtd_pasid_cache_sync
  // then binds the guest's table: a nested HWPT over the parent (vtd_device_attach_hwpt).
  yield* g.submit([VtdGuest.pasidCache(VF.did, 0)]);
  const s1 = () => ({
    op: "ioctl",
    pid: PID,
    fd: iommufd,
    cmd: "IOMMU_HWPT_ALLOC",
    arg: { dev_id: devId, pt_id: parent, data_type: "IOMMU_HWPT_DATA_VTD_S1", data: { flags: 0, pgtbl_addr: hex(vfTable.root), addr_width: 48 } },
  });
  let nested = outNum(yield s1(), "out_hwpt_id", "IOMMU_HWPT_ALLOC (nested)");
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", arg: { pt_id: nested } }, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (nested)");

  // The drivers run: map a buffer, DMA, unmap with a flush (strict mode), which QEMU forwards to the host for the assigned device.
  const rounds = ROUNDS_PER_SCALE * scale;
  for (let r = 0; r < rounds; r++) {
    const i = pick(rng, 0, WINDOW_PAGES - 1);
    const iova = i * 0x1000;
    const buf = BUFFERS + pick(rng, 0, 0x7ff) * 0x1000;
    const off = pick(rng, 0, 60) * 64; // three 64-byte bursts inside the page
    const access = rng() < 0.5 ? "read" : "write";
    if (r % 2 === 0) {
      yield* vfTable.set(i, buf);
      for (let k = 0; k < 3; k++) yield { op: "dma", bdf: HOST, iova: hex(iova + off + k * 64), size: 64, access };
      yield* vfTable.set(i, 0);
      yield* g.submit([VtdGuest.piotlb(VF.did, 0, iova)]);
      yield { op: "mem.write", pid: PID, va: hex(INV_VA), u64: [hex(iova), "0x1", "0x0"] };
      ok(
        yield {
          op: "ioctl",
          pid: PID,
          fd: iommufd,
          cmd: "IOMMU_HWPT_INVALIDATE",
          arg: { hwpt_id: nested, data_uptr: hex(INV_VA), data_type: "IOMMU_HWPT_INVALIDATE_DATA_VTD_S1", entry_len: 24, entry_num: 1 },
        },
        "IOMMU_HWPT_INVALIDATE",
      );
    } else {
      const withPasid = r % 4 === 1;
      const table = withPasid ? nicPasidTable : nicTable;
      yield* table.set(i, buf);
      for (let k = 0; k < 3; k++)
        yield { op: "dma", pid: PID, guest_bdf: NIC.bdf, ...(withPasid ? { pasid: NIC.pasid } : {}), iova: hex(iova + off + k * 64), access };
      yield* table.set(i, 0);
      yield* g.submit([withPasid ? VtdGuest.piotlb(NIC.pasidDid, NIC.pasid, iova) : VtdGuest.piotlb(NIC.did, 0, iova)]);
    }
    if (r === Math.floor(rounds / 2)) {
      // The guest resets the assigned device (pcie_flr -> vfio_pci_reset -> VFIO_DEVICE_RESET); its domain stays attached.
      ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_RESET" }, "VFIO_DEVICE_RESET");
      // The driver re-probes: a fresh nested HWPT replaces the old one, which QEMU destroys (vtd_device_detach_hwpt).
      const old = nested;
      nested = outNum(yield s1(), "out_hwpt_id", "IOMMU_HWPT_ALLOC (nested, after reset)");
      ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", arg: { pt_id: nested } }, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (replace)");
      ok(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_DESTROY", arg: { id: old } }, "IOMMU_DESTROY (old nested)");
    }
  }

  // Shutdown: the guest turns translation off; QEMU detaches and tears down (vfio_pci_exit, iommufd_cdev_detach).
  yield* g.disable();
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_DETACH_IOMMUFD_PT", arg: {} }, "VFIO_DEVICE_DETACH_IOMMUFD_PT");
  ok(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_DESTROY", arg: { id: nested } }, "IOMMU_DESTROY (nested)");
  ok(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_DESTROY", arg: { id: parent } }, "IOMMU_DESTROY (parent)");
  ok(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_IOAS_UNMAP", arg: { ioas_id: ioas, iova: 0, length: hex(RAM) } }, "IOMMU_IOAS_UNMAP");
  ok(yield { op: "close", pid: PID, fd: dev }, "close the device");
  ok(yield { op: "close", pid: PID, fd: iommufd }, "close /dev/iommu");
  ok(yield { op: "process.exit", pid: PID }, "exit");
}

export const vtdPassthroughBoot: Scenario = {
  name: "vtd-passthrough-boot",
  title:
    "a guest boot with a passthrough device: QEMU's iommufd backend, intel-iommu x-scalable-mode/x-flts, guest RAM in an IOAS, nested HWPTs over the guest's tables, DMA with and without PASIDs, a device reset and shutdown",
  profile: ["linux-mainline", "qemu-flts-final"],
  estimate: (scale) => 80 + ROUNDS_PER_SCALE * scale * 9,
  run,
};
