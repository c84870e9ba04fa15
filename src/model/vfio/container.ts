// The VFIO container (drivers/vfio/container.c): /dev/vfio/vfio, the groups
// attached to it, VFIO_CHECK_EXTENSION and VFIO_SET_IOMMU over the registered
// IOMMU drivers (vfio_iommu_type1 first, then vfio-noiommu: list_add puts the
// later-loaded type1 at the head).

import { VFIO_NOIOMMU_IOMMU } from "../../uapi/vfio.ts";
import type { TraceEvent } from "../events.ts";
import type { OpenFile } from "../files/state.ts";
import type { FileOps, ReduceEnv, SimulatorFault } from "../framework.ts";
import { paramOf } from "../host/params.ts";
import { errno } from "../outcome.ts";
import { vfioMmGet, vfioMmPut } from "../pasid/ioasid.ts";
import { capable } from "../process/reducers.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { groupIsNoiommu, vgroupOf } from "./core.ts";
import type { VfioContainer } from "./state.ts";
import { type1AttachGroup, type1CheckExtension, type1DetachGroup, type1Open, type1Release } from "./type1.ts";

function containerPut(s: State, c: VfioContainer): void {
  if (--c.kref === 0) s.vfio.containers.delete(c.id);
}

/**
 * vfio_fops: open makes a new container, its kref held by the file; release
 * drops the file's reference (attached groups keep the container).
 */
export const VFIO_CONTAINER_FOPS: Omit<FileOps, "ioctl"> = {
  opened: (s, file) => {
    s.vfio.containers.set(file.id, { id: file.id, fileId: file.id, kref: 1, groups: [], noiommu: false, driver: null, type1: null });
  },
  release: (s, file) => {
    const c = s.vfio.containers.get(file.id);
    if (!c) return;
    c.fileId = null;
    containerPut(s, c);
  },
};

/** vfio_noiommu_ioctl(CHECK_EXTENSION): the unsafe mode is on and the argument is VFIO_NOIOMMU_IOMMU. */
function noiommuCheckExtension(s: State, arg: number): number {
  return paramOf(s.params, "vfio.enable_unsafe_noiommu_mode") && arg === VFIO_NOIOMMU_IOMMU ? 1 : 0;
}

/** vfio_iommu_driver_allowed: a no-IOMMU container only with vfio-noiommu, any other only without. */
const allowed = (c: VfioContainer, driver: "type1" | "noiommu"): boolean => c.noiommu === (driver === "noiommu");

/**
 * vfio_container_ioctl_check_extension: with a driver set, that driver
 * answers; else every allowed driver is asked (all of them while no group is
 * attached) and the first positive answer wins.
 */
export function vfioContainerIoctlCheckExtension(s: State, call: IoctlCall, env: ReduceEnv) {
  const c = s.vfio.containers.get(call.file.id)!;
  const arg = call.arg.kind === "int" ? Number(BigInt.asUintN(64, call.arg.value)) : 0;
  if (c.driver === "type1") return type1CheckExtension(s, c.type1, arg, env, call.ev);
  if (c.driver === "noiommu") return { ret: noiommuCheckExtension(s, arg) };
  for (const driver of ["type1", "noiommu"] as const) {
    if (c.groups.length && !allowed(c, driver)) continue;
    const r = driver === "type1" ? type1CheckExtension(s, null, arg, env, call.ev) : { ret: noiommuCheckExtension(s, arg) };
    if (!("ret" in r) || (r.ret ?? 0) > 0) return r;
  }
  return { ret: 0 };
}

/**
 * vfio_ioctl_set_iommu: no group, or a driver set already (EINVAL); then the
 * first allowed driver whose CHECK_EXTENSION accepts the argument opens
 * (vfio-noiommu: CAP_SYS_RAWIO, else EPERM) and attaches every group (their
 * failure is the answer); no driver accepts: ENODEV.
 */
export function vfioIoctlSetIommu(s: State, call: IoctlCall, env: ReduceEnv) {
  const c = s.vfio.containers.get(call.file.id)!;
  if (!c.groups.length || c.driver) return errno("EINVAL");
  const arg = call.arg.kind === "int" ? Number(BigInt.asUintN(64, call.arg.value)) : 0;
  let ret: string | undefined = "ENODEV";
  if (allowed(c, "type1")) {
    const ext = type1CheckExtension(s, null, arg, env, call.ev);
    if (!("ret" in ext)) return ext;
    if ((ext.ret ?? 0) > 0) {
      const t = type1Open(arg, s);
      if (typeof t === "string") ret = t;
      else {
        c.type1 = t;
        // __vfio_container_attach_groups, in group_list order; a failure unwinds the ones before it.
        const done: number[] = [];
        let err: string | SimulatorFault | undefined;
        for (const g of c.groups) {
          err = type1AttachGroup(s, t, g, call.ev);
          if (err) break;
          done.push(g);
        }
        if (!err) {
          c.driver = "type1";
          type1Opened(s, c, call.process.pid, env);
          return { ret: 0 };
        }
        for (const g of done.reverse()) type1DetachGroup(s, t, g);
        c.type1 = null;
        if (typeof err !== "string") return err;
        ret = err;
      }
    }
  }
  if (allowed(c, "noiommu") && noiommuCheckExtension(s, arg) > 0) {
    if (!capable(call.process, "CAP_SYS_RAWIO")) return errno("EPERM");
    c.driver = "noiommu";
    return { ret: 0 };
  }
  return errno(ret);
}

/** Seed 002: vfio_iommu_type1_open takes the opener's vfio_mm (src/model/pasid). */
function type1Opened(s: State, c: VfioContainer, pid: number, env: ReduceEnv): void {
  if (!env.profile.on("vfio-pasid-request")) return;
  vfioMmGet(s, pid);
  c.type1!.vmmPid = pid;
}

/**
 * vfio_container_attach_group: a no-IOMMU group needs CAP_SYS_RAWIO (EPERM);
 * no-IOMMU and IOMMU groups cannot share a container (EPERM); with a driver
 * set the group is attached to it now.
 */
export function attachGroupToContainer(
  s: State,
  caps: readonly string[],
  group: number,
  file: OpenFile,
  ev: TraceEvent,
  _env: ReduceEnv,
): string | SimulatorFault | undefined {
  const c = s.vfio.containers.get(file.id)!;
  const noiommu = groupIsNoiommu(s, group);
  if (noiommu && !caps.includes("CAP_SYS_RAWIO")) return "EPERM";
  if (c.groups.length && c.noiommu !== noiommu) return "EPERM";
  if (c.driver === "type1") {
    const err = type1AttachGroup(s, c.type1!, group, ev);
    if (err) return err;
  }
  const g = vgroupOf(s, group);
  g.container = c.id;
  g.containerUsers = 1;
  c.noiommu = noiommu;
  c.groups = [group, ...c.groups];
  c.kref++;
  return undefined;
}

/**
 * vfio_group_detach_container: the driver lets the group go; the last group
 * deprivileges the container (the driver's data is released, no driver is set).
 */
export function detachGroupFromContainer(s: State, group: number, env: ReduceEnv): void {
  const g = vgroupOf(s, group);
  const c = s.vfio.containers.get(g.container!)!;
  if (c.driver === "type1") type1DetachGroup(s, c.type1!, group);
  g.container = null;
  g.containerUsers = 0;
  c.groups = c.groups.filter((x) => x !== group);
  if (c.driver && !c.groups.length) {
    if (c.driver === "type1") {
      type1Release(s, c.type1!);
      // Seed 002: vfio_iommu_type1_release puts the vfio_mm.
      if (c.type1!.vmmPid !== null) vfioMmPut(s, c.type1!.vmmPid, env);
      c.type1 = null;
    }
    c.driver = null;
  }
  containerPut(s, c);
}
