// The VFIO group (drivers/vfio/group.c): /dev/vfio/$GROUP and
// /dev/vfio/noiommu-$GROUP. One open at a time, none while a device of the
// group is bound through its cdev; VFIO_GROUP_GET_STATUS, _SET_CONTAINER (a
// /dev/vfio/vfio container or a /dev/iommu, iommufd's VFIO compatibility),
// _UNSET_CONTAINER and _GET_DEVICE_FD.

import { installFile, unusedFd } from "../files/fd.ts";
import { fileGet, filePut } from "../files/lifecycle.ts";
import type { FileOps, ReduceEnv } from "../framework.ts";
import { getObject } from "../iommufd/objects.ts";
import { iommufdVfioCompatIoasCreate, iommufdVfioCompatSetNoIommu } from "../iommufd/vfio_compat.ts";
import { notModelled } from "../framework.ts";
import { errno } from "../outcome.ts";
import { capable } from "../process/reducers.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copiedOut, userStruct, uuidBytes } from "../uaccess/vfio_arg.ts";
import { attachGroupToContainer, detachGroupFromContainer } from "./container.ts";
import { dfClose, dfOpen, groupDevices, groupHasIommu, groupIsNoiommu, validateVfToken, vdevOf, vgroupOf } from "./core.ts";
import { deviceAttach } from "./iommufd.ts";

const FLAGS_VIABLE = 1;
const FLAGS_CONTAINER_SET = 2;
const UUID_STRING_LEN = 36;

/**
 * vfio_group_fops. open, in its order: a no-IOMMU group needs CAP_SYS_RAWIO
 * (EPERM); a device of the group bound through its cdev, or the group already
 * open, makes it busy (EBUSY); then group->opened_file = filep. release (on
 * the last reference: device fds opened through a container hold the group
 * file): detach the container, drop the iommufd.
 */
export const VFIO_GROUP_FOPS: Omit<FileOps, "ioctl"> = {
  openCheck: (s, pid, node) => {
    if (groupIsNoiommu(s, node.group!) && !capable(s.processes.get(pid)!, "CAP_SYS_RAWIO")) return "EPERM";
    const g = s.vfio.groups.get(node.group!);
    if (g && (g.cdevDeviceOpenCnt > 0 || g.openedFile !== null)) return "EBUSY";
    return undefined;
  },
  opened: (s, file) => {
    vgroupOf(s, file.group!).openedFile = file.id;
  },
  release: (s, file, env) => {
    const g = vgroupOf(s, file.group!);
    if (g.container !== null) detachGroupFromContainer(s, file.group!, env);
    if (g.iommufd !== null) {
      const ctx = g.iommufd;
      g.iommufd = null;
      filePut(s, ctx, env);
    }
    g.openedFile = null;
  },
};

/**
 * vfio_group_ioctl_get_status: copy 8 bytes (EFAULT), argsz < 8 (EINVAL);
 * CONTAINER_SET|VIABLE with a container or iommufd, else VIABLE (every device
 * of a group is bound to vfio-pci, and none can claim DMA ownership while the
 * group is open).
 */
export function vfioGroupIoctlGetStatus(s: State, call: IoctlCall) {
  const st = userStruct(call);
  if (!st) return errno("EFAULT");
  if ((st.argsz as number) < 8) return errno("EINVAL");
  const g = vgroupOf(s, call.file.group!);
  const flags = groupHasIommu(g) ? FLAGS_CONTAINER_SET | FLAGS_VIABLE : FLAGS_VIABLE;
  return copiedOut(call, { argsz: st.argsz as number, flags }, 8);
}

/**
 * vfio_group_ioctl_set_container: get_user(fd) (EFAULT), an fd that is not
 * open (EBADF), a container or iommufd set already (EINVAL); a container file
 * (vfio_container_attach_group), an iommufd (the compat IOAS is made, or the
 * context goes into no-IOMMU mode for a no-IOMMU group), anything else EBADFD.
 */
export function vfioGroupIoctlSetContainer(s: State, call: IoctlCall, env: ReduceEnv) {
  if (call.arg.kind === "null") return errno("EFAULT");
  const fd = call.arg.kind === "int" ? Number(BigInt.asIntN(32, call.arg.value)) : -1;
  const id = call.process.fds.get(fd);
  const f = id === undefined ? undefined : s.files.get(id);
  if (!f) return errno("EBADF");
  const group = call.file.group!;
  const g = vgroupOf(s, group);
  if (groupHasIommu(g)) return errno("EINVAL");
  if (f.kind === "vfio-container") {
    const err = attachGroupToContainer(s, call.process.caps, group, f, call.ev, env);
    if (typeof err === "string") return errno(err);
    if (err) return err;
    return { ret: 0 };
  }
  if (f.kind === "iommufd") {
    const ctx = s.iommufd.get(f.id)!;
    const err = groupIsNoiommu(s, group) ? iommufdVfioCompatSetNoIommu(ctx) : iommufdVfioCompatIoasCreate(ctx);
    if (err) return errno(err);
    fileGet(s, f.id); // group->iommufd holds the context
    g.iommufd = f.id;
    return { ret: 0 };
  }
  return errno("EBADFD");
}

/**
 * vfio_group_ioctl_unset_container: nothing set (EINVAL), a container with
 * devices open through it (container_users != 1: EBUSY); else detach it and
 * drop the iommufd.
 */
export function vfioGroupIoctlUnsetContainer(s: State, call: IoctlCall, env: ReduceEnv) {
  const group = call.file.group!;
  const g = vgroupOf(s, group);
  if (!groupHasIommu(g)) return errno("EINVAL");
  if (g.container !== null) {
    if (g.containerUsers !== 1) return errno("EBUSY");
    detachGroupFromContainer(s, group, env);
  }
  if (g.iommufd !== null) {
    const ctx = g.iommufd;
    g.iommufd = null;
    filePut(s, ctx, env);
  }
  return { ret: 0 };
}

/**
 * vfio_pci_core_match: the name must start with the device's name; what
 * follows must be " vf_token=<uuid>" options (a bad option or uuid: EINVAL);
 * then the VF token check. 0: no match.
 */
function pciMatch(s: State, bdf: string, buf: string): 1 | 0 | string {
  if (!buf.startsWith(bdf)) return 0;
  let rest = buf.slice(bdf.length);
  let token: Uint8Array | null = null;
  if (rest.length) {
    if (rest[0] !== " ") return 0;
    while (rest.length) {
      if (rest[0] === " ") {
        rest = rest.slice(1);
        continue;
      }
      if (!token && rest.startsWith("vf_token=")) {
        rest = rest.slice(9);
        if (rest.length < UUID_STRING_LEN) return "EINVAL";
        const u = rest.slice(0, UUID_STRING_LEN);
        if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(u)) return "EINVAL";
        token = uuidBytes(u);
        rest = rest.slice(UUID_STRING_LEN);
      } else return "EINVAL";
    }
  }
  const err = validateVfToken(s.host.devices.get(bdf)!, token);
  return err ?? 1;
}

/**
 * vfio_group_ioctl_get_device_fd: strndup_user (EFAULT; EINVAL past a page),
 * the device by name (ENODEV), an fd (EMFILE), then vfio_df_group_open: no
 * container or iommufd (EINVAL); a no-IOMMU device on an iommufd opens only
 * with CAP_SYS_RAWIO and no compat IOAS (EPERM), and then without access;
 * vfio_df_open (the container's rules); on an iommufd the first open attaches
 * the compat IOAS. The new fd is the ioctl's return value.
 */
export function vfioGroupIoctlGetDeviceFd(s: State, call: IoctlCall, env: ReduceEnv) {
  if (call.arg.kind === "null") return errno("EFAULT");
  const buf = call.arg.kind === "string" ? call.arg.value : "";
  if (Buffer.byteLength(buf) >= 4096) return errno("EINVAL");
  const group = call.file.group!;
  let bdf: string | undefined;
  for (const dev of groupDevices(s, group)) {
    if (dev.mdev) return notModelled(call.ev, "VFIO_GROUP_GET_DEVICE_FD of a mediated device");
    const m = pciMatch(s, dev.bdf, buf);
    if (typeof m === "string") return errno(m);
    if (m) {
      bdf = dev.bdf;
      break;
    }
  }
  if (!bdf) return errno("ENODEV");
  const fd = unusedFd(call.process);
  if (fd === "EMFILE") return errno("EMFILE");

  // vfio_df_group_open
  const g = vgroupOf(s, group);
  if (!groupHasIommu(g)) return errno("EINVAL");
  const d = vdevOf(s, bdf);
  const host = s.host.devices.get(bdf)!;
  let access = true;
  if (g.iommufd !== null && host.noiommu && d.openCount === 0) {
    const ctx = s.iommufd.get(g.iommufd)!;
    const compat = ctx.vfioIoasId !== null && getObject(ctx, ctx.vfioIoasId, "ioas") !== undefined;
    if (!capable(call.process, "CAP_SYS_RAWIO") || compat) return errno("EPERM");
    access = false; // ret = 0 without vfio_df_open: a device file that never gets access
  }
  if (access) {
    const err = dfOpen(s, bdf, true, g.iommufd, call.process.caps, env);
    if (err) return errno(err);
    if (g.iommufd !== null && d.openCount === 1 && !host.noiommu) {
      // vfio_iommufd_compat_attach_ioas
      const ctx = s.iommufd.get(g.iommufd)!;
      const ioasId = ctx.vfioIoasId;
      const r = ioasId === null || !getObject(ctx, ioasId, "ioas") ? "ENODEV" : deviceAttach(s, g.iommufd, d.iommufd!.devId, ioasId, -1, d.attached, env);
      if (typeof r === "string") {
        dfClose(s, bdf, env);
        return errno(r);
      }
      d.attached = true;
    }
  }
  const file = installFile(s, call.process, fd, { path: "anon_inode:[vfio-device]", kind: "vfio-device", bdf, group });
  if (access) file.accessGranted = true;
  return { fd };
}
