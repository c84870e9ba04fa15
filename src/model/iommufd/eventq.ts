// Event queues (drivers/iommu/iommufd/eventq.c): the fault queue object behind
// IOMMU_FAULT_QUEUE_ALLOC (I/O page faults of HWPTs allocated with
// IOMMU_HWPT_FAULT_ID_VALID) and the vEVENTQ behind IOMMU_VEVENTQ_ALLOC (events
// of a vIOMMU), each with an anonymous file the process reads.
//
// iommufd_eventq_init: the file holds a user on its object (IOMMU_DESTROY is
// EBUSY until the fd is closed) and a reference on the iommufd context's file
// (iommufd_ctx_get: the context outlives a closed /dev/iommu fd while the
// queue's fd is open); closing the queue's fd gives both back.

import { IOMMU_VEVENTQ_TYPE_DEFAULT } from "../../uapi/iommufd.ts";
import { installFile, unusedFd } from "../files/fd.ts";
import { fileGet, filePut } from "../files/lifecycle.ts";
import type { OpenFile } from "../files/state.ts";
import type { FileOps, ReduceEnv } from "../framework.ts";
import { errno } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { addObject, addUser, ctxOf, getObject } from "./objects.ts";
import type { Fault, IommufdCtx, Veventq } from "./state.ts";
/** The veventq_depth cap of "iommufd: Set veventq_depth upper bound" (selftest VEVENTQ_MAX_DEPTH). */
const VEVENTQ_MAX_DEPTH = 1 << 19;

/** anon_inode_getfile + fd_install: the queue's file in the caller's fd table, holding the context. */
function installQueueFile(s: State, call: IoctlCall, ctx: IommufdCtx, kind: "fault" | "veventq", objectId: number, fd: number): OpenFile {
  const path = kind === "fault" ? "anon_inode:[iommufd-pgfault]" : "anon_inode:[iommufd-viommu-event]";
  const file = installFile(s, call.process, fd, { path, kind, ctxFileId: ctx.fileId, objectId });
  fileGet(s, ctx.fileId);
  return file;
}

/** iommufd_eventq_fops_release: the object loses the file's user, the context the file's reference. */
function releaseQueueFile(s: State, file: OpenFile, env: ReduceEnv): void {
  if (file.ctxFileId === undefined) return;
  const ctx = s.iommufd.get(file.ctxFileId);
  if (ctx && file.objectId !== undefined) addUser(ctx, file.objectId, -1);
  filePut(s, file.ctxFileId, env);
}

/** iommufd_fault_fops / iommufd_veventq_fops: read, write and poll (not modelled), no ioctl, and the release. */
export const EVENTQ_FOPS: Omit<FileOps, "ioctl"> = { release: releaseQueueFile };

/**
 * iommufd_fault_alloc: flags must be 0 (EOPNOTSUPP); a fault object and its
 * fd (EMFILE). The outcome is the struct: out_fault_id and out_fault_fd.
 */
export function iommufdFaultAlloc(s: State, call: IoctlCall) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  if (cmd.flags) return errno("EOPNOTSUPP");
  const fd = unusedFd(call.process);
  if (fd === "EMFILE") return errno("EMFILE");
  const fault = addObject(ctx, (id): Fault => ({ id, type: "fault", users: 2, fileId: 0 }));
  fault.fileId = installQueueFile(s, call, ctx, "fault", fault.id, fd).id;
  cmd.out_fault_id = fault.id;
  cmd.out_fault_fd = fd;
  return respond(call, cmd);
}

/** iommufd_fault_destroy: pending faults are answered INVALID; nothing is left holding anything. */
export function iommufdFaultDestroy(): void {}

/**
 * iommufd_veventq_alloc: flags, __reserved or type DEFAULT (EOPNOTSUPP), depth
 * 0 (EINVAL) and, with the switch veventq-depth-bound, above 1 << 19
 * (EINVAL); the vIOMMU (ENOENT); one queue per type and vIOMMU (EEXIST); the
 * vIOMMU gains a user; the fd (EMFILE).
 */
export function iommufdVeventqAlloc(s: State, call: IoctlCall, env: ReduceEnv) {
  const cmd = cmdOf(call);
  const ctx = ctxOf(s, call);
  const type = cmd.type as number;
  const depth = cmd.veventq_depth as number;
  if (cmd.flags || cmd.__reserved || type === IOMMU_VEVENTQ_TYPE_DEFAULT) return errno("EOPNOTSUPP");
  if (!depth || (env.profile.on("veventq-depth-bound") && depth > VEVENTQ_MAX_DEPTH)) return errno("EINVAL");
  const viommu = getObject(ctx, cmd.viommu_id as number, "viommu");
  if (!viommu) return errno("ENOENT");
  for (const o of ctx.objects.values()) if (o.type === "veventq" && o.viommuId === viommu.id && o.veventqType === type) return errno("EEXIST");
  const fd = unusedFd(call.process);
  if (fd === "EMFILE") return errno("EMFILE");
  const q = addObject(ctx, (id): Veventq => ({ id, type: "veventq", users: 2, viommuId: viommu.id, veventqType: type, depth, fileId: 0 }));
  viommu.users++;
  q.fileId = installQueueFile(s, call, ctx, "veventq", q.id, fd).id;
  cmd.out_veventq_id = q.id;
  cmd.out_veventq_fd = fd;
  return respond(call, cmd);
}

/** iommufd_veventq_destroy: off the vIOMMU's list, the vIOMMU loses its user. */
export function iommufdVeventqDestroy(_s: State, ctx: IommufdCtx, q: Veventq): void {
  addUser(ctx, q.viommuId, -1);
}
