// The ioctl system call: find the file, then let the file kind's entry point
// (its ->unlocked_ioctl) decide as the kernel's does which numbers it knows
// and which size rules apply before the command's handler runs. Handlers and
// their rows are in table.ts.

import type { UapiCommand } from "../../uapi/commands.ts";
import { IOC_NR, IOMMUFD_CMD_BASE } from "../../uapi/ioctl.ts";
import { commandByName } from "../../uapi/index.ts";
import type { TraceEvent } from "../events.ts";
import type { OpenFile } from "../files/state.ts";
import { notModelled, type FileOps, type Reducer, type ReduceEnv, type SimulatorFault } from "../framework.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { ProcessState } from "../process/state.ts";
import { paramOf } from "../host/params.ts";
import type { State } from "../state.ts";
import { userArg } from "../uaccess/arg.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { ioctlOp, notModelledOp, type IoctlOp, type IoctlTarget } from "./table.ts";

type EntryPoint = FileOps["ioctl"];

/** The row for `number` on `target`, when the profile has the command (a gated one is unknown: ENOTTY). */
function availableOp(target: IoctlTarget, number: number, env: ReduceEnv, s?: State): IoctlOp | undefined {
  const op = ioctlOp(target, number);
  if (op?.kconfig !== undefined && !(s && paramOf(s.params, op.kconfig))) return undefined;
  return op && (op.gate === undefined || env.profile.on(op.gate)) ? op : undefined;
}

/** A number the kernel's entry point knows but the model does not answer yet; else the kernel's own answer. */
function unknown(target: IoctlTarget, number: number, ev: TraceEvent, otherwise: Outcome): Outcome | SimulatorFault {
  const nm = notModelledOp(target, number);
  return nm ? notModelled(ev, `${nm.cmd.name} (${nm.why})`) : otherwise;
}

/** A call whose size rules the handler applies itself (VFIO: argsz against its own minsz). */
function callOf(ev: TraceEvent, process: ProcessState, file: OpenFile, def: UapiCommand): IoctlCall {
  const arg = userArg(def, ev);
  const userSize = arg.kind === "bytes" && arg.bytes.length >= 4 ? new DataView(arg.bytes.buffer, arg.bytes.byteOffset).getUint32(0, true) : 0;
  return { ev, process, file, def, arg, userSize };
}

function run(s: State, target: IoctlTarget, op: IoctlOp, call: IoctlCall, env: ReduceEnv): Outcome | SimulatorFault {
  return op.on[target]!(s, call, env);
}

/**
 * iommufd_fops_ioctl (drivers/iommu/iommufd/main.c): numbers below
 * IOMMUFD_CMD_BASE go to the VFIO type1 compatibility layer
 * (iommufd_vfio_ioctl: a container command it does not take is ENOTTY); then
 * get_user(size) (EFAULT), the exact number check (ENOTTY), size <
 * offsetofend(last member) (EINVAL), and copy_struct_from_user's non-zero
 * tail past the kernel's struct (E2BIG).
 */
export const iommufdFopsIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const op = availableOp("iommufd", number, env, s);
  if (!op) return errno("ENOTTY");
  const a = op.cmd.arg;
  if (IOC_NR(number) < IOMMUFD_CMD_BASE || a.kind !== "struct" || a.sizeField !== "size") return run(s, "iommufd", op, callOf(ev, process, file, op.cmd), env);
  const arg = userArg(op.cmd, ev);
  if (arg.kind === "null") return errno("EFAULT");
  if (arg.kind !== "bytes") return errno("EINVAL");
  const bytes = arg.bytes;
  if (bytes.length < 4) return errno("EFAULT");
  const userSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const last = op.last === undefined ? undefined : a.struct.byName.get(op.last);
  const minSize = last ? last.offset + last.size : a.struct.size;
  if (userSize < minSize) return errno("EINVAL");
  // The user's struct is userSize bytes; what the trace did not give reads as zero.
  let user = bytes;
  if (user.length < userSize) {
    user = new Uint8Array(userSize);
    user.set(bytes);
  }
  const ksize = a.struct.size;
  for (let i = ksize; i < userSize; i++) if (user[i] !== 0) return errno("E2BIG");
  const kbuf = new Uint8Array(ksize);
  kbuf.set(user.subarray(0, Math.min(userSize, ksize)));
  return run(s, "iommufd", op, { ev, process, file, def: op.cmd, arg: { kind: "bytes", bytes: kbuf, inline: arg.inline }, userSize }, env);
};

/**
 * vfio_fops_unl_ioctl (vfio_container.c): the container answers the API
 * version, CHECK_EXTENSION and SET_IOMMU itself and passes everything else to
 * its IOMMU driver; with no driver set that is EINVAL. vfio_iommu_type1_ioctl
 * answers a number it does not know with ENOTTY, as vfio-noiommu does every one.
 */
export const vfioFopsUnlIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const own = availableOp("vfio-container", number, env);
  if (own) return run(s, "vfio-container", own, callOf(ev, process, file, own.cmd), env);
  const driver = s.vfio.containers.get(file.id)?.driver;
  if (!driver) return errno("EINVAL");
  const op = driver === "type1" ? availableOp("vfio-iommu-type1", number, env) : undefined;
  if (!op) return unknown("vfio-iommu-type1", number, ev, errno("ENOTTY"));
  return run(s, "vfio-iommu-type1", op, callOf(ev, process, file, op.cmd), env);
};

/** vfio_group_fops_unl_ioctl (group.c): four commands, anything else ENOTTY. */
export const vfioGroupFopsUnlIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const op = availableOp("vfio-group", number, env);
  if (!op) return errno("ENOTTY");
  return run(s, "vfio-group", op, callOf(ev, process, file, op.cmd), env);
};

/**
 * vfio_device_fops_unl_ioctl (vfio_main.c): BIND_IOMMUFD is allowed before
 * bind; every other command on a cdev fd that is not bound yet is EINVAL;
 * after bind, an unknown command is ENOTTY (vfio_pci_core_ioctl).
 */
export const vfioDeviceFopsUnlIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const op = availableOp("vfio-device", number, env);
  const call = () => callOf(ev, process, file, op!.cmd);
  if (op?.cmd.name === "VFIO_DEVICE_BIND_IOMMUFD") return run(s, "vfio-device", op, call(), env);
  if (!file.accessGranted) return errno("EINVAL");
  if (!op) return unknown("vfio-device", number, ev, errno("ENOTTY"));
  return run(s, "vfio-device", op, call(), env);
};

/**
 * The fault and vEVENTQ anonymous files have no unlocked_ioctl (vfs_ioctl:
 * ENOTTY); dma_buf_ioctl knows only the DMA_BUF_IOCTL_* numbers ('b'), so
 * every ';' command is ENOTTY there too.
 */
export const noIoctl: EntryPoint = () => errno("ENOTTY");

/** The `ioctl` op: EBADF for an fd that is not open, then the file's entry point. */
export const ioctl: Reducer = (s, ev, env) => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const id = p.fds.get(ev.fd as number);
  const file = id === undefined ? undefined : s.files.get(id);
  if (!file) return errno("EBADF");
  const number = typeof ev.cmd === "number" ? ev.cmd : commandByName(ev.cmd as string)!.number;
  return env.fops[file.kind].ioctl(s, p, file, number, ev, env);
};
