// Event queues (drivers/iommu/iommufd/eventq.c): the fault queue object behind
// IOMMU_FAULT_QUEUE_ALLOC (I/O page faults of HWPTs allocated with
// IOMMU_HWPT_FAULT_ID_VALID) and the vEVENTQ behind IOMMU_VEVENTQ_ALLOC (events
// of a vIOMMU), each with an anonymous file the process reads.
//
// iommufd_eventq_init: the file holds a user on its object (IOMMU_DESTROY is
// EBUSY until the fd is closed) and a reference on the iommufd context's file
// (iommufd_ctx_get: the context outlives a closed /dev/iommu fd while the
// queue's fd is open); closing the queue's fd gives both back.

import { IOMMU_VEVENTQ_FLAGS, IOMMU_VEVENTQ_TYPE_DEFAULT, iommu_hwpt_page_response, iommu_hwpt_pgfault, iommufd_vevent_header } from "../../uapi/iommufd.ts";
import { decodeStruct, encodeStruct } from "../../uapi/layout.ts";
import { installFile, unusedFd } from "../files/fd.ts";
import { fileGet, filePut } from "../files/lifecycle.ts";
import type { OpenFile } from "../files/state.ts";
import type { FileOps, ReduceEnv } from "../framework.ts";
import type { ProcessState } from "../process/state.ts";
import { copyFromUser, copyToUser } from "../uaccess/copy.ts";
import { errno } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { addObject, addUser, ctxOf, getObject } from "./objects.ts";
import type { Fault, IommufdCtx, IopfGroup, Veventq } from "./state.ts";
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

const PGFAULT_SIZE = BigInt(iommu_hwpt_pgfault.size);
const RESPONSE_SIZE = BigInt(iommu_hwpt_page_response.size);
const HDR_SIZE = BigInt(iommufd_vevent_header.size);
const LOST_EVENTS = IOMMU_VEVENTQ_FLAGS.bits.LOST_EVENTS!;
const INT_MAX = 0x7fffffff;
const EPOLLIN = 0x1;
const EPOLLOUT = 0x4;
const EPOLLRDNORM = 0x40;

function queueObject<K extends "fault" | "veventq">(s: State, file: OpenFile, type: K) {
  const ctx = s.iommufd.get(file.ctxFileId!);
  const obj = ctx && getObject(ctx, file.objectId!, type);
  if (!obj) throw new Error(`${file.path}: its ${type} object ${file.objectId} is gone while the file is open`);
  return obj;
}

const ret = (n: bigint) => ({ ret: Number(n) });

/**
 * iommufd_fault_fops_read: count a multiple of struct iommu_hwpt_pgfault (ESPIPE); each group
 * not read yet that fits gets a cookie (xa_alloc from 1) and moves to the response table, its
 * faults copied out (EFAULT: the group goes back); a first group that does not fit is EINVAL.
 */
function faultRead(s: State, p: ProcessState, file: OpenFile, va: bigint, count: bigint) {
  if (count % PGFAULT_SIZE) return errno("ESPIPE");
  const fault = queueObject(s, file, "fault");
  let done = 0n;
  let rc: string | undefined;
  while (fault.deliver?.length) {
    const group = fault.deliver[0]!;
    if (done >= count || PGFAULT_SIZE > count - done) {
      if (done === 0n) rc = "EINVAL";
      break;
    }
    if (!fault.response) fault.response = [];
    const response = fault.response;
    let cookie = 1;
    while (response.some((r) => r.cookie === cookie)) cookie++;
    // iommufd_compose_fault_message
    const data = encodeStruct(iommu_hwpt_pgfault, {
      flags: group.flags,
      dev_id: group.devId,
      pasid: group.pasid,
      grpid: group.grpid,
      perm: group.perm,
      addr: group.addr,
      length: 0,
      cookie,
    });
    if (!copyToUser(s, p, va + done, data)) {
      rc = "EFAULT";
      break;
    }
    fault.deliver.shift();
    response.push({ cookie, group });
    done += PGFAULT_SIZE;
  }
  return done === 0n ? (rc ? errno(rc) : ret(0n)) : ret(done);
}

/**
 * iommufd_fault_fops_write: count a multiple of struct iommu_hwpt_page_response (ESPIPE);
 * each response (EFAULT) must have code SUCCESS or INVALID and a cookie awaiting a response
 * (EINVAL); the group is answered (iopf_group_response) and freed.
 */
function faultWrite(s: State, p: ProcessState, file: OpenFile, va: bigint, count: bigint) {
  if (count % RESPONSE_SIZE) return errno("ESPIPE");
  const fault = queueObject(s, file, "fault");
  let done = 0n;
  let rc: string | undefined;
  while (count > done) {
    const bytes = copyFromUser(s, p, va + done, Number(RESPONSE_SIZE));
    if (!bytes) {
      rc = "EFAULT";
      break;
    }
    const r = decodeStruct(iommu_hwpt_page_response, bytes);
    const code = Number(r.code);
    const i = fault.response?.findIndex((x) => x.cookie === Number(r.cookie)) ?? -1;
    if ((code !== 0 && code !== 1) || i < 0) {
      rc = "EINVAL";
      break;
    }
    fault.response!.splice(i, 1);
    done += RESPONSE_SIZE;
  }
  return done === 0n ? (rc ? errno(rc) : ret(0n)) : ret(done);
}

/**
 * iommufd_veventq_fops_read: at least a header (EINVAL); vEVENTs in order, each a header then
 * its data; the lost_events_header needs only the header; a first normal vEVENT that does not
 * fit is EINVAL; EFAULT puts the vEVENT back.
 */
function veventqRead(s: State, p: ProcessState, file: OpenFile, va: bigint, count: bigint) {
  if (count < HDR_SIZE) return errno("EINVAL");
  const q = queueObject(s, file, "veventq");
  let done = 0n;
  let rc: string | undefined;
  while (q.deliver?.length) {
    const cur = q.deliver[0]!;
    if (done >= count || HDR_SIZE > count - done) break;
    const data = cur.data ? Buffer.from(cur.data, "hex") : new Uint8Array(0);
    if (!cur.lost && HDR_SIZE + BigInt(data.length) > count - done) {
      if (done === 0n) rc = "EINVAL";
      break;
    }
    const hdr = encodeStruct(iommufd_vevent_header, { flags: cur.lost ? LOST_EVENTS : 0, sequence: cur.sequence });
    if (!copyToUser(s, p, va + done, hdr) || (data.length && !copyToUser(s, p, va + done + HDR_SIZE, data))) {
      rc = "EFAULT";
      break;
    }
    q.deliver.shift();
    if (!cur.lost) q.numEvents = (q.numEvents ?? 0) - 1;
    done += HDR_SIZE + BigInt(data.length);
  }
  return done === 0n ? (rc ? errno(rc) : ret(0n)) : ret(done);
}

/** iommufd_eventq_fops_poll: a fault queue is always writable; readable while something is to be delivered. */
function eventqPoll(s: State, file: OpenFile) {
  const obj = queueObject(s, file, file.kind === "fault" ? "fault" : "veventq");
  return { ret: (obj.type === "fault" ? EPOLLOUT : 0) | (obj.deliver?.length ? EPOLLIN | EPOLLRDNORM : 0) };
}

/** iommufd_fault_fops / iommufd_veventq_fops (no ->write: write(2) is EINVAL), no ioctl, and the release. */
export const FAULT_FOPS: Omit<FileOps, "ioctl"> = { release: releaseQueueFile, read: faultRead, write: faultWrite, poll: eventqPoll };
export const VEVENTQ_FOPS: Omit<FileOps, "ioctl"> = { release: releaseQueueFile, read: veventqRead, poll: eventqPoll };

/**
 * iommufd_fault_iopf_handler (the domain's iopf_handler): the group joins the fault
 * queue of the HWPT the handle attaches.
 */
export function iommufdFaultIopfHandler(fault: Fault, group: IopfGroup): void {
  if (!fault.deliver) fault.deliver = [];
  fault.deliver.push(group);
}

/**
 * iommufd_auto_response_faults: a HWPT with a fault queue leaves a handle (detach, replace):
 * the handle's groups, delivered or awaiting a response, are answered INVALID and freed.
 */
export function iommufdAutoResponseFaults(ctx: IommufdCtx, faultId: number | null, hwptId: number, devId: number, pasid: number): void {
  const fault = faultId === null ? undefined : getObject(ctx, faultId, "fault");
  if (!fault) return;
  const mine = (g: IopfGroup) => g.hwptId === hwptId && g.devId === devId && g.attachPasid === pasid;
  if (fault.deliver?.some(mine)) fault.deliver = fault.deliver.filter((g) => !mine(g));
  if (fault.response?.some((r) => mine(r.group))) fault.response = fault.response.filter((r) => !mine(r.group));
}

/**
 * iommufd_viommu_report_event: the vIOMMU's vEVENTQ of the type (EOPNOTSUPP: none); a full
 * queue (num_events == depth) gets the lost_events_header instead; iommufd_vevent_handler
 * drops a lost_events_header that is last, appends, and stamps the sequence.
 */
export function iommufdViommuReportEvent(ctx: IommufdCtx, viommuId: number, type: number, data: Uint8Array): string | undefined {
  let q: Veventq | undefined;
  for (const o of ctx.objects.values()) if (o.type === "veventq" && o.viommuId === viommuId && o.veventqType === type) q = o;
  if (!q) return "EOPNOTSUPP";
  if (!q.deliver) q.deliver = [];
  const deliver = q.deliver;
  const full = (q.numEvents ?? 0) === q.depth;
  if (deliver.at(-1)?.lost) deliver.pop();
  const sequence = q.sequence ?? 0;
  if (full) deliver.push({ sequence, lost: true });
  else {
    deliver.push({ sequence, data: Buffer.from(data).toString("hex") });
    q.numEvents = (q.numEvents ?? 0) + 1;
  }
  q.sequence = (sequence + 1) & INT_MAX;
  return undefined;
}

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
