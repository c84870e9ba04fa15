// host.iommu, host.device and param: the platform a trace runs on.

import { IOMMU_HW_CAPS } from "../../uapi/iommufd.ts";
import { flagNames, parseFlags } from "../../uapi/layout.ts";
import type { Reducer } from "../framework.ts";
import { errno, ok, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { HostDevice, HostIommu, HostIommuType } from "./state.ts";
import { PARAMS, paramOf, paramValue } from "./params.ts";

/** VT-d CAP.MGAW (bits 21:16) is the maximum guest address width minus one. */
function vtdAwBits(cap: bigint): number {
  return Number((cap >> 16n) & 0x3fn) + 1;
}

/** VT-d ECAP.PASID (bit 40) and ECAP.PSS (bits 39:35, PASID width minus one). */
function vtdPasidLog2(ecap: bigint): number {
  return (ecap >> 40n) & 1n ? Number((ecap >> 35n) & 0x1fn) + 1 : 0;
}

/** drivers/iommu/iommufd/iommufd_test.h: MOCK_PASID_WIDTH. */
const MOCK_PASID_WIDTH = 20;

export const hostIommu: Reducer = (s: State, ev): Outcome => {
  const type = ev.type as HostIommuType;
  const capReg = (ev.cap_reg as bigint | undefined) ?? 0n;
  const ecapReg = (ev.ecap_reg as bigint | undefined) ?? 0n;
  const iommu: HostIommu = {
    type,
    capReg,
    ecapReg,
    awBits: (ev.aw_bits as number | undefined) ?? (type === "intel_vtd" && ev.cap_reg !== undefined ? vtdAwBits(capReg) : 48),
    maxPasidLog2: (ev.max_pasid_log2 as number | undefined) ?? (type === "intel_vtd" ? vtdPasidLog2(ecapReg) : type === "selftest_mock" ? MOCK_PASID_WIDTH : 0),
    // hw_caps is the mask of its IOMMU_HW_CAP_* names (events.ts; a database written before flag
    // fields were normalised holds the list it was given): the state keeps the names.
    hwCaps:
      ev.hw_caps !== undefined
        ? flagNames(IOMMU_HW_CAPS, parseFlags(ev.hw_caps, IOMMU_HW_CAPS, "hw_caps"))
        : type === "selftest_mock"
          ? ["DIRTY_TRACKING"]
          : [],
  };
  s.host.iommu = iommu;
  return ok();
};

function nextFreeGroup(s: State): number {
  const used = new Set([...s.host.devices.values()].map((d) => d.group));
  let g = 0;
  while (used.has(g)) g++;
  return g;
}

/**
 * Bind a PCI device to vfio-pci (vfio_pci_core_register_device): it gets the
 * next VFIO device index. A device without an IOMMU registers only in the
 * unsafe no-IOMMU mode (else vfio_group_find_or_alloc fails the probe with
 * EINVAL), with a "noiommu-" group node, and a "noiommu-vfioN" cdev only once
 * the no-IOMMU cdev series is in (seed 003, vfio_device_set_noiommu_and_name).
 */
export const hostDevice: Reducer = (s: State, ev, env): Outcome => {
  const bdf = ev.bdf as string;
  if (s.host.devices.has(bdf)) return errno("EEXIST");
  const iommu = (ev.iommu as boolean | undefined) ?? true;
  const mdev = (ev.mdev as boolean | undefined) ?? false;
  const noiommu = !iommu && !mdev;
  if (noiommu && !paramOf(s.params, "vfio.enable_unsafe_noiommu_mode")) return errno("EINVAL");

  const index = s.host.nextVfioIndex++;
  // Seed 003 patch 05 (vfio_noiommu_group_alloc): with no container support built, a
  // no-IOMMU device registers for the cdev alone, without a group.
  const nullGroup =
    noiommu && env.profile.on("noiommu-cdev") && !paramOf(s.params, "kconfig.VFIO_CONTAINER") && !paramOf(s.params, "kconfig.IOMMUFD_VFIO_CONTAINER");
  const group = nullGroup ? null : ((ev.group as number | undefined) ?? nextFreeGroup(s));
  const pasid = ev.pasid as { max_log2: number; exec?: boolean; priv?: boolean } | null | undefined;
  // The device cdev (VFIO_DEVICE_CDEV, v6.6); a no-IOMMU device gets one only with seed 003.
  let cdev: string | null = env.profile.on("vfio-cdev") ? `vfio${index}` : null;
  if (noiommu) cdev = env.profile.on("vfio-cdev") && env.profile.on("noiommu-cdev") ? `noiommu-vfio${index}` : null;
  const dev: HostDevice = {
    bdf,
    iommu,
    mdev,
    group,
    pasid: pasid ? { maxLog2: pasid.max_log2, exec: pasid.exec ?? false, priv: pasid.priv ?? false } : null,
    extCaps: ((ev.ext_caps as HostDevice["extCaps"] | undefined) ?? []).map((c) => ({ id: c.id, ver: c.ver ?? 1, off: c.off, size: c.size ?? 0 })),
    stdCaps: (ev.std_caps as HostDevice["stdCaps"] | undefined) ?? [],
    vfToken: (ev.vf_token as string | null | undefined) ?? null,
    reset: (ev.reset as boolean | undefined) ?? true,
    regions: ((ev.regions as { index: number; size?: bigint; flags?: number; pa?: bigint }[] | undefined) ?? []).map((r) => ({
      index: r.index,
      size: r.size ?? 0n,
      flags: r.flags ?? 0,
      ...(r.pa !== undefined ? { pa: r.pa } : {}),
    })),
    vfioIndex: index,
    cdev,
    groupNode: group === null ? null : noiommu ? `noiommu-${group}` : `${group}`,
    noiommu,
    attached: new Map(),
  };
  if (ev.dirty_tracking !== undefined) dev.dirtyTracking = ev.dirty_tracking as boolean;
  const cfg = (ev.cfg as { off: number; hex: string }[] | undefined) ?? [];
  if (cfg.length) {
    dev.cfg = new Map();
    for (const c of cfg) for (let i = 0; i < c.hex.length / 2; i++) dev.cfg.set(c.off + i, Number.parseInt(c.hex.slice(2 * i, 2 * i + 2), 16));
  }
  s.host.devices.set(bdf, dev);
  return ok();
};

/** A module parameter written through /sys/module/<module>/parameters/<name>. */
export const param: Reducer = (s: State, ev): Outcome => {
  const name = ev.name as string;
  const def = PARAMS[name];
  if (!def) return errno("ENOENT");
  const v = paramValue(def, ev.value as string | number | boolean);
  if (v === undefined) return errno("EINVAL");
  s.params.set(name, v);
  return ok();
};
