// The ioctl system call: find the file, then let the file kind's ioctl entry
// point decide as the kernel's does (which numbers it knows, the size rules it
// applies before any handler runs). Handlers for individual commands register
// in HANDLERS; a known command without one is an explicit "not modelled yet".

import type { FileKind, IoctlDef } from "../../uapi/commands.ts";
import { IOC_NR, IOMMUFD_CMD_BASE } from "../../uapi/ioctl.ts";
import { ioctlByName, ioctlFor } from "../../uapi/index.ts";
import type { OpenFile } from "../files/state.ts";
import { notModelled, type Reducer, type ReduceEnv, type SimulatorFault } from "../framework.ts";
import type { TraceEvent } from "../events.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { ProcessState } from "../process/state.ts";
import type { State } from "../state.ts";
import { userArg, type UserArg } from "./args.ts";

/** One call as a handler sees it. */
export interface IoctlCall {
  readonly ev: TraceEvent;
  readonly process: ProcessState;
  readonly file: OpenFile;
  readonly def: IoctlDef;
  /** The user argument; for iommufd commands already through the size rules (the kernel's copy of the struct). */
  readonly arg: UserArg;
  /** The caller's `size`/`argsz`: the kernel writes back at most this many bytes. */
  readonly userSize: number;
}

export type IoctlHandler = (s: State, call: IoctlCall, env: ReduceEnv) => Outcome | SimulatorFault;

/** Command handlers, by uAPI name and file kind ("IOMMU_IOAS_MAP@iommufd"). Subsystems register here. */
export const HANDLERS = new Map<string, IoctlHandler>();

export function registerIoctl(name: string, files: readonly FileKind[], h: IoctlHandler): void {
  for (const f of files) HANDLERS.set(`${name}@${f}`, h);
}

/**
 * Commands that exist only once a kernel change is in: the number is unknown
 * (ENOTTY) under a profile without the switch.
 */
export const COMMAND_SWITCH: Readonly<Record<string, string>> = {
  IOMMU_IOAS_NOIOMMU_GET_PA: "ioas-get-pa",
  VFIO_IOMMU_PASID_REQUEST: "vfio-pasid-request",
};

function available(def: IoctlDef | undefined, env: ReduceEnv): def is IoctlDef {
  if (!def) return false;
  const sw = COMMAND_SWITCH[def.name];
  return sw === undefined || env.profile.on(sw);
}

/** A call whose size rules the handler applies itself (VFIO: argsz against its own minsz). */
function callOf(ev: TraceEvent, process: ProcessState, file: OpenFile, def: IoctlDef): IoctlCall {
  const arg = userArg(def, ev);
  const userSize = arg.kind === "bytes" && arg.bytes.length >= 4 ? new DataView(arg.bytes.buffer, arg.bytes.byteOffset).getUint32(0, true) : 0;
  return { ev, process, file, def, arg, userSize };
}

function runHandler(s: State, call: IoctlCall, env: ReduceEnv): Outcome | SimulatorFault {
  const h = HANDLERS.get(`${call.def.name}@${call.file.kind}`);
  return h ? h(s, call, env) : notModelled(call.ev, `${call.def.name} on ${call.file.kind === "iommufd" ? "/dev/iommu" : call.file.path}`);
}

type EntryPoint = (s: State, process: ProcessState, file: OpenFile, number: number, ev: TraceEvent, env: ReduceEnv) => Outcome | SimulatorFault;

/**
 * iommufd_fops_ioctl (drivers/iommu/iommufd/main.c): numbers outside the
 * command table go to the VFIO type1 compatibility layer; then get_user(size)
 * (EFAULT), the exact number check (ENOTTY), size < offsetofend(last member)
 * (EINVAL), and copy_struct_from_user's non-zero tail past the kernel's struct (E2BIG).
 */
const iommufdIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const nr = IOC_NR(number);
  const def = ioctlFor(number, "iommufd");
  if (nr < IOMMUFD_CMD_BASE || !def || !available(def, env) || def.arg.kind !== "struct" || def.arg.sizeField !== "size") {
    return vfioCompatIoctl(s, process, file, number, ev, env);
  }
  const arg = userArg(def, ev);
  if (arg.kind === "null") return errno("EFAULT");
  if (arg.kind !== "bytes") return errno("EINVAL");
  const bytes = arg.bytes;
  if (bytes.length < 4) return errno("EFAULT");
  const userSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const minSize = def.minMember ? minEnd(def) : def.arg.struct.size;
  if (userSize < minSize) return errno("EINVAL");
  // The user's struct is userSize bytes; what the trace did not give reads as zero.
  let user = bytes;
  if (user.length < userSize) {
    user = new Uint8Array(userSize);
    user.set(bytes);
  }
  const ksize = def.arg.struct.size;
  for (let i = ksize; i < userSize; i++) if (user[i] !== 0) return errno("E2BIG");
  const kbuf = new Uint8Array(ksize);
  kbuf.set(user.subarray(0, Math.min(userSize, ksize)));
  return runHandler(s, { ev, process, file, def, arg: { kind: "bytes", bytes: kbuf, inline: arg.inline }, userSize }, env);
};

function minEnd(def: IoctlDef): number {
  if (def.arg.kind !== "struct" || !def.minMember) return 0;
  const f = def.arg.struct.byName.get(def.minMember)!;
  return f.offset + f.size;
}

/** iommufd_vfio_ioctl (vfio_compat.c): the type1 container commands on /dev/iommu; anything else ENOIOCTLCMD. */
const COMPAT_COMMANDS = new Set(["VFIO_GET_API_VERSION", "VFIO_CHECK_EXTENSION", "VFIO_SET_IOMMU", "VFIO_IOMMU_GET_INFO", "VFIO_IOMMU_MAP_DMA", "VFIO_IOMMU_UNMAP_DMA"]);

const vfioCompatIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const def = ioctlFor(number, "iommufd");
  if (!def || !COMPAT_COMMANDS.has(def.name)) return errno("ENOTTY");
  if (def.name === "VFIO_GET_API_VERSION") return { ret: 0 }; // VFIO_API_VERSION
  return runHandler(s, callOf(ev, process, file, def), env);
};

/**
 * vfio_fops_unl_ioctl (vfio_container.c): the container answers the API
 * version, CHECK_EXTENSION and SET_IOMMU itself and passes everything else to
 * its IOMMU driver; with no driver set that is EINVAL.
 */
const containerIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const def = ioctlFor(number, "vfio-container");
  if (def?.name === "VFIO_GET_API_VERSION") return { ret: 0 };
  if (def && (def.name === "VFIO_CHECK_EXTENSION" || def.name === "VFIO_SET_IOMMU")) return runHandler(s, callOf(ev, process, file, def), env);
  if (!file.iommuDriver) return errno("EINVAL");
  // vfio_iommu_type1_ioctl: a number it does not know is ENOTTY.
  if (!available(def, env)) return errno("ENOTTY");
  return runHandler(s, callOf(ev, process, file, def), env);
};

/** vfio_group_fops_unl_ioctl (group.c): four commands, anything else ENOTTY. */
const groupIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const def = ioctlFor(number, "vfio-group");
  if (!def) return errno("ENOTTY");
  return runHandler(s, callOf(ev, process, file, def), env);
};

/**
 * vfio_device_fops_unl_ioctl (vfio_main.c): BIND_IOMMUFD is allowed before
 * bind; every other command on a cdev fd that is not bound yet is EINVAL;
 * after bind, an unknown command is ENOTTY (vfio_pci_core_ioctl).
 */
const deviceIoctl: EntryPoint = (s, process, file, number, ev, env) => {
  const def = ioctlFor(number, "vfio-device");
  if (def?.name === "VFIO_DEVICE_BIND_IOMMUFD") return runHandler(s, callOf(ev, process, file, def), env);
  if (!file.accessGranted) return errno("EINVAL");
  if (!available(def, env)) return errno("ENOTTY");
  return runHandler(s, callOf(ev, process, file, def), env);
};

/** The fault and vEVENTQ anonymous files have no unlocked_ioctl: vfs_ioctl answers ENOTTY. */
const noIoctl: EntryPoint = () => errno("ENOTTY");

const ENTRY_POINTS: Record<FileKind, EntryPoint> = {
  iommufd: iommufdIoctl,
  "vfio-container": containerIoctl,
  "vfio-group": groupIoctl,
  "vfio-device": deviceIoctl,
  fault: noIoctl,
  veventq: noIoctl,
  // dma_buf_ioctl: only the DMA_BUF_IOCTL_* numbers ('b'), none of them modelled: ENOTTY for every ';' command.
  dmabuf: noIoctl,
};

/** The `ioctl` op: EBADF for an fd that is not open, then the file's entry point. */
export const ioctl: Reducer = (s, ev, env) => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const id = p.fds.get(ev.fd as number);
  const file = id === undefined ? undefined : s.files.get(id);
  if (!file) return errno("EBADF");
  const number = typeof ev.cmd === "number" ? ev.cmd : ioctlByName(ev.cmd as string)!.number;
  return ENTRY_POINTS[file.kind](s, p, file, number, ev, env);
};

export const ioctlReducers = { ioctl };
