// iommufd_backend_* (backends/iommufd.c) and iommufd_cdev_* (hw/vfio/iommufd.c) lines to
// the system calls QEMU made, with the recorded returns as `expect`. Object ids and fds are
// the model's (Ctx numbering); the log's are mapped to them.

import { errnoName } from "../../uapi/errno.ts";
import { type Ctx, type DeviceCtx, type EventLine, hex, type IommufdCtx, Numbers, num, PID } from "./context.ts";

/** A handler: emits events (the line is used) or returns why the line cannot be used. */
export type Handler = (ctx: Ctx, l: EventLine, src: string) => string | undefined;

const ioctl = (fd: number, cmd: string, arg: Record<string, unknown>, expect?: Record<string, unknown>) => ({
  op: "ioctl",
  pid: PID,
  fd,
  cmd,
  arg,
  ...(expect ? { expect } : {}),
});

/** `(%d)` of map/unmap/alloc_hwpt/free_id/alloc_viommu/alloc_vdev: the raw ioctl() return, 0 or -1 (errno not traced). */
const rawReturn = (ret: bigint): Record<string, unknown> | undefined => (ret === 0n ? { ret: 0 } : undefined);
/** `(%d)` of set_dirty/get_dirty_bitmap/invalidate_cache: `ret ? errno : 0`. */
const errnoReturn = (ret: bigint): Record<string, unknown> | undefined =>
  ret === 0n ? { ret: 0 } : errnoName(Number(ret)) ? { errno: errnoName(Number(ret)) } : undefined;

/** The /dev/iommu of a log fd; one the log never connected is opened here (an assumption). */
function iommufdOf(ctx: Ctx, l: EventLine, logFd: number): IommufdCtx {
  let c = ctx.iommufds.get(logFd);
  if (c) return c;
  ctx.assume(`/dev/iommu fd ${logFd} is used before any iommufd_backend_connect: opened where first used (line ${l.line})`);
  c = openIommufd(ctx, l, undefined, logFd);
  return c;
}

function openIommufd(ctx: Ctx, l: EventLine, src: string | undefined, logFd: number): IommufdCtx {
  const fd = ctx.openFd(logFd);
  ctx.emit(l, src, { op: "open", pid: PID, path: "/dev/iommu", expect: { fd } });
  const c: IommufdCtx = { fd, ids: new Numbers(1), idMap: new Map(), ioas: new Set(), auto: new Map() };
  ctx.iommufds.set(logFd, c);
  return c;
}

const objectNotInLog = (id: number) => `refers to object id ${id}, whose allocation is not in the log (or was not usable)`;

export const IOMMUFD_HANDLERS: Record<string, Handler> = {
  // iommufd_backend_connect: open("/dev/iommu") by the first user (owned=1), or a pre-opened fd (owned=0).
  iommufd_backend_connect: (ctx, l, src) => {
    const a = l.args;
    if (a.ret !== undefined && a.ret !== 0n) return "a failed connect (QEMU <= 9.0 format): no fd was opened";
    if (num(a.users) !== 1) return "another user of an iommufd already open: no system call";
    if (a.owned === 0n) ctx.assume(`the pre-opened /dev/iommu (fd=${num(a.fd)}, owned=0) is opened by the VMM itself`);
    openIommufd(ctx, l, src, num(a.fd));
    return undefined;
  },
  // iommufd_backend_disconnect: close() when the last user goes.
  iommufd_backend_disconnect: (ctx, l, src) => {
    if (num(l.args.users) !== 0) return "other users of the iommufd remain: no system call";
    const logFd = num(l.args.fd);
    if (!ctx.iommufds.has(logFd)) return `closes fd ${logFd}, which the log never opened`;
    const fd = ctx.closeFd(logFd)!;
    ctx.iommufds.delete(logFd);
    ctx.emit(l, src, { op: "close", pid: PID, fd, expect: { ret: 0 } });
    return undefined;
  },
  // iommufd_backend_alloc_ioas: IOMMU_IOAS_ALLOC, traced only on success.
  iommufd_backend_alloc_ioas: (ctx, l, src) => {
    const a = l.args;
    if (a.ret !== undefined && a.ret !== 0n) return "a failed IOMMU_IOAS_ALLOC (QEMU <= 9.0 format): no id";
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const id = c.ids.alloc();
    c.idMap.set(num(a.ioas), id);
    c.ioas.add(num(a.ioas));
    ctx.emit(l, src, ioctl(c.fd, "IOMMU_IOAS_ALLOC", {}, { ret: 0 }));
    return undefined;
  },
  iommufd_cdev_alloc_ioas: () => "the same IOMMU_IOAS_ALLOC as the iommufd_backend_alloc_ioas line before it",
  // iommufd_backend_map_dma: IOMMU_IOAS_MAP with FIXED_IOVA, READABLE and WRITEABLE unless readonly.
  iommufd_backend_map_dma: (ctx, l, src) => {
    const a = l.args;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const ioas = c.idMap.get(num(a.ioas));
    if (ioas === undefined) return objectNotInLog(num(a.ioas));
    const flags = ["IOMMU_IOAS_MAP_FIXED_IOVA", "IOMMU_IOAS_MAP_READABLE", ...(a.readonly === 0n ? ["IOMMU_IOAS_MAP_WRITEABLE"] : [])];
    ctx.emit(
      l,
      src,
      ioctl(c.fd, "IOMMU_IOAS_MAP", { flags, ioas_id: ioas, user_va: hex(a.vaddr), length: hex(a.size), iova: hex(a.iova) }, rawReturn(a.ret as bigint)),
    );
    return undefined;
  },
  iommufd_backend_map_file_dma: (_c, l) => `the memory file QEMU maps (fd=${num(l.args.fd)}) is not in the log`,
  iommufd_backend_unmap_dma: (ctx, l, src) => unmap(ctx, l, src, rawReturn(l.args.ret as bigint)),
  // unmap_dma_non_exist is traced instead of unmap_dma when the kernel returned ENOENT (QEMU treats it as success).
  iommufd_backend_unmap_dma_non_exist: (ctx, l, src) => unmap(ctx, l, src, { errno: "ENOENT" }),
  // iommufd_backend_alloc_hwpt: IOMMU_HWPT_ALLOC; out_hwpt is meaningful only on (0).
  iommufd_backend_alloc_hwpt: (ctx, l, src) => {
    const a = l.args;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const dev = c.idMap.get(num(a.dev_id));
    const pt = c.idMap.get(num(a.pt_id));
    if (dev === undefined) return objectNotInLog(num(a.dev_id));
    if (pt === undefined) return objectNotInLog(num(a.pt_id));
    const arg: Record<string, unknown> = { flags: num(a.flags), dev_id: dev, pt_id: pt };
    if (a.hwpt_type === 1n && a.len === 24n) {
      // struct iommu_hwpt_vtd_s1 is behind data_ptr, not in the log.
      ctx.assume("the VT-d stage-1 data of a nested IOMMU_HWPT_ALLOC (struct iommu_hwpt_vtd_s1) is {flags 0, pgtbl_addr 0, addr_width 48}");
      arg.data_type = "IOMMU_HWPT_DATA_VTD_S1";
      arg.data = { flags: 0, pgtbl_addr: 0, addr_width: 48 };
    } else if (a.hwpt_type !== 0n || a.len !== 0n) return `driver data of type ${a.hwpt_type} (${a.len} bytes at data_ptr) is not in the log`;
    const ok = a.ret === 0n;
    const id = ok ? c.ids.alloc() : undefined;
    if (id !== undefined) c.idMap.set(num(a.out_hwpt_id), id);
    ctx.emit(l, src, ioctl(c.fd, "IOMMU_HWPT_ALLOC", arg, rawReturn(a.ret as bigint)));
    return undefined;
  },
  // iommufd_backend_free_id: IOMMU_DESTROY.
  iommufd_backend_free_id: (ctx, l, src) => {
    const a = l.args;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const id = c.idMap.get(num(a.id));
    if (id === undefined) return objectNotInLog(num(a.id));
    // The log id keeps naming the freed model id: a later IOMMU_DESTROY of it fails in both (ENOENT).
    if (a.ret === 0n) {
      c.ioas.delete(num(a.id));
      c.ids.free(id);
    }
    ctx.emit(l, src, ioctl(c.fd, "IOMMU_DESTROY", { id }, rawReturn(a.ret as bigint)));
    return undefined;
  },
  // iommufd_backend_set_dirty: IOMMU_HWPT_SET_DIRTY_TRACKING; (%d) is 0 or a positive errno.
  iommufd_backend_set_dirty: (ctx, l, src) => {
    const a = l.args;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const id = c.idMap.get(num(a.hwpt_id));
    if (id === undefined) return objectNotInLog(num(a.hwpt_id));
    const flags = a.start === 0n ? 0 : ["IOMMU_HWPT_DIRTY_TRACKING_ENABLE"];
    ctx.emit(l, src, ioctl(c.fd, "IOMMU_HWPT_SET_DIRTY_TRACKING", { flags, hwpt_id: id }, errnoReturn(a.ret as bigint)));
    return undefined;
  },
  iommufd_backend_get_dirty_bitmap: () => "the bitmap buffer QEMU passes (and the dirty state it reads) is not in the log",
  iommufd_backend_invalidate_cache: () => "the invalidation entries behind data_ptr are not in the log",
  // iommufd_backend_alloc_viommu: the definition's parameters are (fd, dev_id, type, ...) but the
  // format labels them type=, dev_id=: the value after "type=" is the dev_id (backends/iommufd.c).
  iommufd_backend_alloc_viommu: (ctx, l, src) => {
    const a = l.args;
    // The synthesized host is VT-d, which has no vIOMMU type: ARM_SMMUV3 (1) and TEGRA241_CMDQV (2) name another host.
    if (a.type !== 0n) return `a vIOMMU of type ${a.type} (ARM SMMUv3 or Tegra241 CMDQV), not of the VT-d host the importer synthesizes`;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const dev = c.idMap.get(num(a.dev_id));
    const hwpt = c.idMap.get(num(a.hwpt_id));
    if (dev === undefined) return objectNotInLog(num(a.dev_id));
    if (hwpt === undefined) return objectNotInLog(num(a.hwpt_id));
    const ok = a.ret === 0n;
    const id = ok ? c.ids.alloc() : undefined;
    if (id !== undefined) c.idMap.set(num(a.viommu_id), id);
    ctx.emit(l, src, ioctl(c.fd, "IOMMU_VIOMMU_ALLOC", { type: num(a.type), dev_id: dev, hwpt_id: hwpt }, rawReturn(a.ret as bigint)));
    return undefined;
  },
  iommufd_backend_alloc_vdev: (ctx, l, src) => {
    const a = l.args;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    const dev = c.idMap.get(num(a.dev_id));
    const viommu = c.idMap.get(num(a.viommu_id));
    if (dev === undefined) return objectNotInLog(num(a.dev_id));
    if (viommu === undefined) return objectNotInLog(num(a.viommu_id));
    const ok = a.ret === 0n;
    const id = ok ? c.ids.alloc() : undefined;
    if (id !== undefined) c.idMap.set(num(a.vdev_id), id);
    ctx.emit(l, src, ioctl(c.fd, "IOMMU_VDEVICE_ALLOC", { viommu_id: viommu, dev_id: dev, virt_id: hex(a.virt_id) }, rawReturn(a.ret as bigint)));
    return undefined;
  },
  iommufd_change_process: () => "a live update (CPR) to another process, which the log does not show",
  iommu_backend_set_fd: () => "QEMU's bookkeeping of a pre-opened fd (its iommufd_backend_connect opens it)",
  // Object ids the kernel returns (out_ioas_id, out_hwpt_id, out_devid, ...) depend on numbering:
  // they are mapped (Ctx.idMap), not compared; `expect` holds the returns that do not.
  // iommufd_cdev_getfd: open("/dev/vfio/devices/vfioN") (iommufd_cdev_getfd, hw/vfio/iommufd.c).
  iommufd_cdev_getfd: (ctx, l, src) => {
    const path = l.args.dev as string;
    const logFd = num(l.args.devfd);
    if (logFd < 0) return "a failed open of the device cdev (its errno is not in the log)";
    const dev = [...ctx.devices.values()].find((d) => d.logPath === path);
    if (!dev) return `no device of the log is opened through ${path}`;
    openDevice(ctx, l, src, dev, logFd);
    return undefined;
  },
  // iommufd_cdev_connect_and_bind: VFIO_DEVICE_BIND_IOMMUFD, traced on success.
  iommufd_cdev_connect_and_bind: (ctx, l, src) => {
    const a = l.args;
    const dev = ctx.devices.get(a.name as string)!;
    const c = iommufdOf(ctx, l, num(a.iommufd));
    if (dev.modelFd === undefined) {
      ctx.assume(`the open of ${dev.name}'s cdev (iommufd_cdev_getfd) is not in the log: opened before its bind`);
      openDevice(ctx, l, undefined, dev, num(a.devfd));
    }
    const id = c.ids.alloc();
    c.idMap.set(num(a.devid), id);
    dev.iommufd = c;
    dev.logDevid = num(a.devid);
    ctx.emit(l, src, ioctl(dev.modelFd!, "VFIO_DEVICE_BIND_IOMMUFD", { iommufd: c.fd }, { ret: 0 }));
    return undefined;
  },
  // iommufd_cdev_attach_ioas_hwpt: VFIO_DEVICE_ATTACH_IOMMUFD_PT, traced on success.
  iommufd_cdev_attach_ioas_hwpt: (ctx, l, src) => {
    const a = l.args;
    const dev = ctx.devices.get(a.name as string)!;
    const c = dev.iommufd ?? iommufdOf(ctx, l, num(a.iommufd));
    const id = c.idMap.get(num(a.id));
    if (dev.modelFd === undefined) return `${dev.name} was never opened and bound in the log`;
    if (id === undefined) return objectNotInLog(num(a.id));
    if (c.ioas.has(num(a.id))) {
      // iommufd_device_auto_get_domain: an attach to an IOAS makes (or reuses) a paging HWPT with an id.
      const auto = c.auto.get(num(a.id)) ?? { id: c.ids.alloc(), devices: new Set<string>() };
      c.auto.set(num(a.id), auto);
      auto.devices.add(dev.name);
    }
    dev.attachedTo = num(a.id);
    ctx.emit(l, src, ioctl(dev.modelFd, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", { pt_id: id }, { ret: 0 }));
    return undefined;
  },
  iommufd_cdev_detach_ioas_hwpt: (ctx, l, src) => {
    const dev = ctx.devices.get(l.args.name as string)!;
    if (dev.modelFd === undefined) return `${dev.name} was never opened and bound in the log`;
    const c = dev.iommufd;
    const auto = dev.attachedTo !== undefined ? c?.auto.get(dev.attachedTo) : undefined;
    if (c && auto && dev.attachedTo !== undefined) {
      auto.devices.delete(dev.name);
      if (!auto.devices.size) {
        c.ids.free(auto.id);
        c.auto.delete(dev.attachedTo);
      }
    }
    dev.attachedTo = undefined;
    ctx.emit(l, src, ioctl(dev.modelFd, "VFIO_DEVICE_DETACH_IOMMUFD_PT", {}, { ret: 0 }));
    return undefined;
  },
  iommufd_cdev_device_info: () => "VFIO_DEVICE_GET_INFO's reply: the synthesized host.device does not reproduce the real device's regions and IRQs",
  iommufd_cdev_fail_attach_existing_container: () => "a message of QEMU's (no system call)",
  iommufd_cdev_pci_hot_reset_dep_devices: () => "part of VFIO_DEVICE_GET_PCI_HOT_RESET_INFO's reply, whose call is not traced",
};

function openDevice(ctx: Ctx, l: EventLine, src: string | undefined, dev: DeviceCtx, logFd: number): void {
  const fd = ctx.openFd(logFd);
  dev.modelFd = fd;
  ctx.devfds.set(logFd, dev);
  ctx.emit(l, src, { op: "open", pid: PID, path: `/dev/vfio/devices/vfio${dev.index}`, expect: { fd } });
}

function unmap(ctx: Ctx, l: EventLine, src: string, expect: Record<string, unknown> | undefined): string | undefined {
  const a = l.args;
  const c = iommufdOf(ctx, l, num(a.iommufd));
  const ioas = c.idMap.get(num(a.ioas));
  if (ioas === undefined) return objectNotInLog(num(a.ioas));
  ctx.emit(l, src, ioctl(c.fd, "IOMMU_IOAS_UNMAP", { ioas_id: ioas, iova: hex(a.iova), length: hex(a.size) }, expect));
  return undefined;
}
