// noiommu-dpdk: a DPDK-style userspace driver on a device without an IOMMU, through
// the no-IOMMU vfio cdev (seed 003) and iommufd: huge-page buffer segments pinned into
// an IOAS, and the physical address of each buffer asked with IOMMU_IOAS_GET_PA
// (linux-noiommu-v4; IOMMU_IOAS_NOIOMMU_GET_PA as merged) to put in the descriptors,
// since the device DMAs to physical addresses.

import { fdOf, hex, ok, outNum, pick, type Scenario, type ScenarioRun, type ScenarioContext } from "./scenario.ts";

const PID = 200;
const SEGMENT = 0x200000; // one 2 MiB huge page per heap segment
const SEGMENTS = 8;
const VA = 0x7f0000000000;
const IOVA = 0x100000000;
const GET_PAS_PER_ROUND = 30;
const ROUNDS_PER_SCALE = 30;

function* run({ rng, scale, profile }: ScenarioContext): ScenarioRun {
  // The administrator: modprobe vfio enable_unsafe_noiommu_mode=1; vfio-pci binds a device without an IOMMU group.
  ok(yield { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: "Y" }, "enable_unsafe_noiommu_mode");
  ok(yield { op: "host.device", bdf: "0000:02:00.0", iommu: false, regions: [{ index: 0, size: "0x4000", flags: 7 }] }, "host device");
  // rte_eal_init as root: CAP_SYS_RAWIO, which the merged GET_PA requires.
  ok(yield { op: "process", pid: PID, caps: ["CAP_SYS_RAWIO"] }, "process");
  // vfio_open_device_cdev (rte_vfio): the noiommu cdev, then /dev/iommu.
  const dev = fdOf(yield { op: "open", pid: PID, path: "/dev/vfio/devices/noiommu-vfio0" }, "open the no-IOMMU cdev");
  const iommufd = fdOf(yield { op: "open", pid: PID, path: "/dev/iommu" }, "open /dev/iommu");
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_BIND_IOMMUFD", arg: { iommufd } }, "VFIO_DEVICE_BIND_IOMMUFD");
  const ioas = outNum(yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_IOAS_ALLOC", arg: {} }, "out_ioas_id", "IOMMU_IOAS_ALLOC");
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", arg: { pt_id: ioas } }, "VFIO_DEVICE_ATTACH_IOMMUFD_PT");
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_GET_INFO", arg: {} }, "VFIO_DEVICE_GET_INFO");
  // eal_memalloc: the huge-page segments of the heap, mmap(MAP_HUGETLB).
  for (let i = 0; i < SEGMENTS; i++) ok(yield { op: "mem.map", pid: PID, va: hex(VA + i * SEGMENT), length: hex(SEGMENT), huge: true }, "mmap a huge page");
  const getPa = profile.on("get-pa-rename") ? "IOMMU_IOAS_NOIOMMU_GET_PA" : "IOMMU_IOAS_GET_PA";
  const limit = profile.on("get-pa-length-input") ? { length: "0xffffffffffffffff" } : {};
  const mapped = new Array<boolean>(SEGMENTS).fill(false);
  const map = function* (i: number): ScenarioRun {
    // vfio_iommufd_dma_map: pin the segment at its fixed IOVA.
    ok(
      yield {
        op: "ioctl",
        pid: PID,
        fd: iommufd,
        cmd: "IOMMU_IOAS_MAP",
        arg: {
          flags: ["FIXED_IOVA", "READABLE", "WRITEABLE"],
          ioas_id: ioas,
          user_va: hex(VA + i * SEGMENT),
          length: hex(SEGMENT),
          iova: hex(IOVA + i * SEGMENT),
        },
      },
      "IOMMU_IOAS_MAP",
    );
    mapped[i] = true;
  };
  for (let i = 0; i < SEGMENTS / 2; i++) yield* map(i);
  const rounds = ROUNDS_PER_SCALE * scale;
  for (let r = 0; r < rounds; r++) {
    // rte_mem_virt2iova for each mbuf of a burst: the PA the descriptors carry.
    const live = mapped.flatMap((m, i) => (m ? [i] : []));
    for (let k = 0; k < GET_PAS_PER_ROUND; k++) {
      const i = live[pick(rng, 0, live.length - 1)]!;
      const off = pick(rng, 0, SEGMENT / 64 - 1) * 64;
      yield { op: "ioctl", pid: PID, fd: iommufd, cmd: getPa, arg: { ioas_id: ioas, iova: hex(IOVA + i * SEGMENT + off), ...limit } };
    }
    // The heap grows into a segment or shrinks out of one (rte_mem_event callbacks: dma map / unmap).
    const i = pick(rng, 0, SEGMENTS - 1);
    if (mapped[i] && live.length > 1) {
      ok(
        yield { op: "ioctl", pid: PID, fd: iommufd, cmd: "IOMMU_IOAS_UNMAP", arg: { ioas_id: ioas, iova: hex(IOVA + i * SEGMENT), length: hex(SEGMENT) } },
        "IOMMU_IOAS_UNMAP",
      );
      mapped[i] = false;
    } else if (!mapped[i]) yield* map(i);
  }
  // rte_eal_cleanup: reset the device, detach, close everything.
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_RESET" }, "VFIO_DEVICE_RESET");
  ok(yield { op: "ioctl", pid: PID, fd: dev, cmd: "VFIO_DEVICE_DETACH_IOMMUFD_PT", arg: {} }, "VFIO_DEVICE_DETACH_IOMMUFD_PT");
  ok(yield { op: "close", pid: PID, fd: dev }, "close the device");
  ok(yield { op: "close", pid: PID, fd: iommufd }, "close /dev/iommu");
  ok(yield { op: "process.exit", pid: PID }, "exit");
}

export const noiommuDpdk: Scenario = {
  name: "noiommu-dpdk",
  title: "a DPDK-style driver in no-IOMMU mode: huge-page segments pinned into an IOAS and their physical addresses from IOMMU_IOAS_GET_PA",
  profile: ["linux-mainline"],
  estimate: (scale) => 25 + ROUNDS_PER_SCALE * scale * (GET_PAS_PER_ROUND + 1),
  run,
};
