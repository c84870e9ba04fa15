// pasid-quota-storm: waves of VMs, each a VMM with a VFIO type1 container (seed 002's
// VFIO_IOMMU_PASID_REQUEST, linux-pasid-request-fixed), allocating PASIDs for their
// guests' SVA binds up to and past the per-mm quota (vfio.pasid_quota; ioasid_alloc's
// ENOSPC), freeing them as guests unbind, a guest asking to free a PASID twice, and at
// the end of each wave some VMMs closing their container cleanly while others exit
// still holding PASIDs (vfio_mm_release frees them: the leaks `iorr audit pasid` reports).

import { fdOf, ok, pick, type Scenario, type ScenarioContext, type ScenarioRun } from "./scenario.ts";

const VMS_PER_WAVE = 4;
const QUOTA = 6;
const REQUESTS_PER_VM = 60;
const WAVES_PER_SCALE = 4;

interface Vmm {
  pid: number;
  container: number;
  group: number;
  held: number[];
}

function* run({ rng, scale }: ScenarioContext): ScenarioRun {
  for (let g = 0; g < VMS_PER_WAVE; g++) ok(yield { op: "host.device", bdf: `0000:0${g + 1}:00.0`, group: g }, "host.device");
  ok(yield { op: "host.iommu", type: "intel_vtd", cap_reg: "0x00d2008c40660462", ecap_reg: "0x00f0101efe" }, "host.iommu");
  // modprobe vfio pasid_quota=N: the quota of every vfio_mm made from now on (vfio_create_mm).
  ok(yield { op: "param", name: "vfio.pasid_quota", value: QUOTA }, "vfio.pasid_quota");
  const waves = WAVES_PER_SCALE * scale;
  for (let w = 0; w < waves; w++) {
    const vms: Vmm[] = [];
    for (let v = 0; v < VMS_PER_WAVE; v++) {
      const pid = 1000 + w * VMS_PER_WAVE + v;
      // vfio_connect_container: the group, a container, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU).
      ok(yield { op: "process", pid }, "process");
      const group = fdOf(yield { op: "open", pid, path: `/dev/vfio/${v}` }, "open the group");
      const container = fdOf(yield { op: "open", pid, path: "/dev/vfio/vfio" }, "open the container");
      ok(yield { op: "ioctl", pid, fd: group, cmd: "VFIO_GROUP_SET_CONTAINER", arg: container }, "VFIO_GROUP_SET_CONTAINER");
      ok(yield { op: "ioctl", pid, fd: container, cmd: "VFIO_SET_IOMMU", arg: 3 }, "VFIO_SET_IOMMU");
      vms.push({ pid, container, group, held: [] });
    }
    // The guests bind and unbind address spaces in any order; each bind asks its VMM for a PASID.
    for (let k = 0; k < REQUESTS_PER_VM * VMS_PER_WAVE; k++) {
      const vm = vms[pick(rng, 0, VMS_PER_WAVE - 1)]!;
      const { pid, container: fd } = vm;
      const r = rng();
      if (r < 0.6 || vm.held.length === 0) {
        // vfio_iommu_type1_pasid_request(ALLOC): the lowest free PASID in [min, max], or ENOSPC past the quota.
        const out = (yield { op: "ioctl", pid, fd, cmd: "VFIO_IOMMU_PASID_REQUEST", arg: { flags: ["ALLOC"], min: 1, max: 1000 } }) as {
          out?: { result?: number };
        };
        if (typeof out.out?.result === "number") vm.held.push(out.out.result);
      } else {
        const i = pick(rng, 0, vm.held.length - 1);
        const pasid = vm.held[i]!;
        ok(yield { op: "ioctl", pid, fd, cmd: "VFIO_IOMMU_PASID_REQUEST", arg: { flags: ["FREE"], free_pasid: pasid } }, "PASID FREE");
        vm.held.splice(i, 1);
        // A guest that unbinds twice: the second free names a PASID the mm no longer holds (ENOENT).
        if (r > 0.95) yield { op: "ioctl", pid, fd, cmd: "VFIO_IOMMU_PASID_REQUEST", arg: { flags: ["FREE"], free_pasid: pasid } };
      }
    }
    // The wave ends: even VMMs tear down cleanly (container, then group), odd ones exit holding their PASIDs.
    for (const [v, vm] of vms.entries()) {
      if (v % 2 === 0) {
        for (const pasid of vm.held)
          ok(yield { op: "ioctl", pid: vm.pid, fd: vm.container, cmd: "VFIO_IOMMU_PASID_REQUEST", arg: { flags: ["FREE"], free_pasid: pasid } }, "PASID FREE");
        ok(yield { op: "close", pid: vm.pid, fd: vm.container }, "close the container");
        ok(yield { op: "close", pid: vm.pid, fd: vm.group }, "close the group");
      }
      ok(yield { op: "process.exit", pid: vm.pid }, "exit");
    }
  }
}

export const pasidQuotaStorm: Scenario = {
  name: "pasid-quota-storm",
  title: "waves of VMs allocating and freeing PASIDs through VFIO_IOMMU_PASID_REQUEST up to and past their quotas, with leaks at exit",
  profile: ["linux-pasid-request-fixed"],
  estimate: (scale) => 6 + WAVES_PER_SCALE * scale * (VMS_PER_WAVE * 6 + REQUESTS_PER_VM * VMS_PER_WAVE + 8),
  run,
};
