// qemu.vfio-pci: `-device vfio-pci,host=...,[iommufd=...]` in a guest slot.
// Models QEMU's decisions given the state, not its ioctls (a recorded trace
// lists those as their own events): with an intel-iommu, vfio_pci_realize
// hands the device's HostIOMMUDevice to pci_device_set_iommu_device, which is
// vtd_dev_set_iommu_device / vtd_check_hiod (src/model/viommu/vtd/hiod.ts).
// Then vfio_pci_add_capabilities builds the guest-visible config space
// (src/model/qemu/vfio_pci_config.ts), seed 000's vPASID capability included.
// On success the device is recorded in the machine (guest bdf -> host bdf).

import type { HostIommuType } from "../host/state.ts";
import { notModelled, type Reducer } from "../framework.ts";
import { driverOf, maxPasidLog2 } from "../iommu/index.ts";
import { pasidHwCaps } from "../iommufd/hw_info.ts";
import { errno, type Outcome } from "../outcome.ts";
import { vfioConfigView } from "../pci/vfio_config.ts";
import type { State } from "../state.ts";
import { IOMMU_HW_INFO_TYPE_SELFTEST } from "../../uapi/iommufd.ts";
import { vtdCheckHiod, type HiodView } from "../viommu/vtd/hiod.ts";
import { machineOf, slotTaken } from "./common.ts";
import { busOf, ridAliased, ROOT_BUS } from "./topology.ts";
import { buildGuestConfig, type HiodPasid } from "./vfio_pci_config.ts";

/** The IOMMU_HW_INFO_TYPE_* IOMMU_GET_HW_INFO reports for the host IOMMU (NONE for a driver without hw_info). */
const HW_INFO_TYPE: Record<HostIommuType, number> = {
  none: 0,
  intel_vtd: 1,
  arm_smmuv3: 2,
  amd: 4,
  selftest_mock: IOMMU_HW_INFO_TYPE_SELFTEST,
};

/** HOST_IOMMU_DEVICE_CAP_AW_BITS_MAX: the width when the kernel reports no IOVA ranges. */
const AW_BITS_MAX = 64;

function hiodView(s: State, host: string, iommufd: boolean, aliased: boolean): HiodView {
  const hd = s.host.devices.get(host)!;
  const iommu = s.host.iommu;
  return {
    iommufd,
    awBits: iommu?.awBits ?? AW_BITS_MAX,
    hwInfoType: HW_INFO_TYPE[iommu?.type ?? "none"],
    capReg: iommu?.type === "intel_vtd" ? iommu.capReg : 0n,
    ecapReg: iommu?.type === "intel_vtd" ? iommu.ecapReg : 0n,
    maxPasidLog2: maxPasidLog2(iommu, hd, driverOf(s, hd)),
    aliased,
  };
}

/** The HostIOMMUDevice's PASID view (hiod_iommufd_get_pasid_info, or v6's get_cap); null for an mdev, which has none. */
function hiodPasid(s: State, host: string, iommufd: boolean): HiodPasid | null {
  const hd = s.host.devices.get(host)!;
  if (hd.mdev) return null;
  const driver = driverOf(s, hd);
  return { iommufd, maxPasidLog2: maxPasidLog2(s.host.iommu, hd, driver), ...pasidHwCaps(s.host.iommu, hd, driver) };
}

const VPASID_PROP = "x-vpasid-cap-offset";

/** x-vpasid-cap-offset as qdev's uint16 property takes it (a number, or a decimal or 0x string); undefined if it does not. */
function uint16Prop(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && /^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(v) ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 0 && n <= 0xffff ? n : undefined;
}

const isOn = (v: unknown): boolean => v === true || v === "on" || v === "true" || v === "yes" || v === "y";

export const qemuVfioPci: Reducer = (s, ev, env) => {
  const m = machineOf(s, ev.pid as number);
  if (!m) return errno("ESRCH");
  const host = ev.host as string;
  const guestBdf = ev.guest_bdf as string;
  const backend = (ev.backend as "iommufd" | "legacy" | undefined) ?? "legacy";
  const props = (ev.props as Record<string, unknown> | undefined) ?? {};
  const hd = s.host.devices.get(host);
  if (!hd) return notModelled(ev, `vfio-pci for ${host}, a device not bound to vfio-pci`);
  if (hd.noiommu) return notModelled(ev, "vfio-pci for a no-IOMMU device");
  if (slotTaken(m, guestBdf)) return notModelled(ev, `a second device in guest slot ${guestBdf}`);
  const placed = busOf(m, ev);
  if ("error" in placed) return placed;

  let vpasidOffset = 0;
  if (props[VPASID_PROP] !== undefined) {
    // The property is added by seed 000 v7; QEMU before it refuses the name.
    if (!env.profile.on("vpasid-cap-offset-prop")) return { error: `Property 'vfio-pci.${VPASID_PROP}' not found` };
    const v = uint16Prop(props[VPASID_PROP]);
    if (v === undefined) return { error: `Parameter '${VPASID_PROP}' expects uint16_t` };
    vpasidOffset = v;
  }

  const vi = m.viommu;
  // An mdev gets no HostIOMMUDevice hand-off (vfio_pci_realize skips it for mdevs).
  if (vi && !hd.mdev) {
    // Before master's check in vtd_dev_set_iommu_device, QEMU exits at machine-done
    // (vtd_machine_done_notify_one): not modelled.
    if (!env.profile.on("vtd-flts-final") && !vi.config.cachingMode) return notModelled(ev, "vfio-pci with intel-iommu caching-mode=off before QEMU master");
    const error = vtdCheckHiod({ cfg: vi.config, host: hiodView(s, host, backend === "iommufd", ridAliased(m, placed.bus)), profile: env.profile });
    if (error !== undefined) return { error };
  }
  const busExpress = placed.bus === ROOT_BUS || (m.buses.get(placed.bus)?.express ?? false);
  const built = buildGuestConfig({
    hd,
    phys: vfioConfigView(hd, { exposePasid: env.profile.on("vfio-pci-expose-pasid") }).bytes,
    busExpress,
    multifunction: isOn(props.multifunction),
    hiod: hiodPasid(s, host, backend === "iommufd"),
    // VIOMMU_FLAG_PASID_SUPPORTED: intel-iommu sets it with its `pasid` property (RFCv2, vtd_get_viommu_flags).
    viommuPasid: !!vi && env.profile.on("vtd-pasid-rfc2") && vi.config.pasid > 0,
    vpasidOffset,
    on: (name) => env.profile.on(name),
  });
  if ("abort" in built) return { abort: built.abort };
  m.vfio.set(guestBdf, { host, backend, props, cfg: built.cfg });
  const out: Outcome = { ok: true };
  if (built.messages.length) out.messages = built.messages;
  if (built.findings.length) out.findings = built.findings;
  return out;
};
