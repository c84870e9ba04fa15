// The selftest's access ops of IOMMU_TEST_CMD (drivers/iommu/iommufd/selftest.c):
// CREATE_ACCESS makes an access object (access.ts) behind a new anonymous file
// ("[iommufd_test_staccess]", struct selftest_access) whose fd names it in the
// other ops (iommufd_access_get: fget, EBADFD for another file); ACCESS_PAGES
// pins a range and keeps it as an item until DESTROY_ACCESS_PAGES, the access's
// unmap callback (an IOAS_UNMAP over it) or the file's release; ACCESS_RW copies
// through the IOAS to and from the caller's buffer; ACCESS_REPLACE_IOAS moves it.

import {
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
  MOCK_FLAGS_ACCESS_SYZ,
  MOCK_FLAGS_ACCESS_WRITE,
} from "../../uapi/iommufd.ts";
import { installFile, unusedFd } from "../files/fd.ts";
import type { OpenFile } from "../files/state.ts";
import { notModelled, type FileOps, type ReduceEnv, type SimulatorFault } from "../framework.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { TouchedRange } from "../uaccess/pinned.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copyFromUser, copyToUser } from "../uaccess/copy.ts";
import { cmdOf, respondFields } from "../uaccess/ucmd.ts";
import {
  accessRwUserRanges,
  iommufdAccessChangeIoasId,
  iommufdAccessCreate,
  iommufdAccessDestroyObject,
  iommufdAccessPinPages,
  iommufdAccessReplace,
  iommufdAccessRw,
  iommufdAccessUnpinPages,
} from "./access.ts";
import { destroyWith } from "./objects.ts";
import { PAGE, pinUser } from "./pages.ts";
import type { Access, IommufdCtx } from "./state.ts";

const ULONG_MAX = (1n << 64n) - 1n;
/** The ops' "Prevent syzkaller from triggering a WARN_ON in kvzalloc()" bound: above it, ENOMEM. */
const MAX_LENGTH = 16n * 1024n * 1024n;

/** iommufd_access_get: the fd must be a staccess file (EBADFD), whose access and its context are returned. */
function staccessGet(s: State, call: IoctlCall, fd: number): { ctx: IommufdCtx; access: Access } | "EBADFD" {
  const id = call.process.fds.get(fd);
  const file = id === undefined ? undefined : s.files.get(id);
  if (file?.kind !== "staccess" || file.ctxFileId === undefined || file.objectId === undefined) return "EBADFD";
  const ctx = s.iommufd.get(file.ctxFileId);
  const access = ctx?.objects.get(file.objectId);
  if (!ctx || access?.type !== "access") throw new Error(`staccess file ${file.id}: its access ${file.objectId} is gone`);
  return { ctx, access };
}

/**
 * iommufd_test_access_unmap (ops->unmap): every item that meets [iova, iova +
 * length - 1] (unsigned long arithmetic) is unpinned and dropped.
 */
export function iommufdTestAccessUnmap(_s: State, ctx: IommufdCtx, access: Access, iova: bigint, length: bigint): void {
  const st = access.staccess;
  if (!st) return;
  const last = BigInt.asUintN(64, iova + length - 1n);
  for (const item of [...st.items]) {
    if (iova > item.iova + item.length - 1n || last < item.iova) continue;
    st.items.splice(st.items.indexOf(item), 1);
    iommufdAccessUnpinPages(ctx, access, item.iova, item.length);
  }
}

/**
 * iommufd_test_create_access: flags other than NEEDS_PIN_PAGES (EOPNOTSUPP), an
 * fd (get_unused_fd_flags failing is ENOMEM here), the access object (its id
 * after the fd is reserved), attached to the IOAS `id` (ENOENT, EADDRINUSE; the
 * access is destroyed again), then the fd installed as out_access_fd.
 */
export function createAccess(s: State, call: IoctlCall, env: ReduceEnv, ctx: IommufdCtx): Outcome {
  const cmd = cmdOf(call);
  const flags = cmd["create_access.flags"] as number;
  if (flags & ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) return errno("EOPNOTSUPP");
  const fd = unusedFd(call.process);
  if (fd === "EMFILE") return errno("ENOMEM");
  const needsPin = (flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) !== 0;
  const access = iommufdAccessCreate(s, ctx, needsPin);
  const err = iommufdAccessChangeIoasId(s, ctx, access, cmd.id as number);
  if (err) {
    destroyWith(s, ctx, access, iommufdAccessDestroyObject, env);
    return errno(err);
  }
  access.staccess = { needsPin, items: [], nextId: 0 };
  installFile(s, call.process, fd, { path: "anon_inode:[iommufd_test_staccess]", kind: "staccess", ctxFileId: ctx.fileId, objectId: access.id });
  return respondFields(call, { "create_access.out_access_fd": fd });
}

/** iommufd_test_access_replace_ioas: iommufd_access_replace of the access behind the fd `id`. */
export function accessReplaceIoas(s: State, call: IoctlCall): Outcome {
  const cmd = cmdOf(call);
  const st = staccessGet(s, call, cmd.id as number);
  if (typeof st === "string") return errno(st);
  const err = iommufdAccessReplace(s, st.ctx, st.access, cmd["access_replace_ioas.ioas_id"] as number);
  return err ? errno(err) : { ret: 0 };
}

/**
 * iommufd_test_check_pages: each page under uptr (moved back by iova's offset in
 * its page) must be mapped (get_user_pages_fast: EFAULT) and be the page pinned
 * for it (EBADE).
 */
function checkPages(
  s: State,
  pid: number,
  uptr: bigint,
  iova: bigint,
  length: bigint,
  runs: { iova: bigint; pa: bigint; length: bigint }[],
): string | undefined {
  const down = iova - (iova % PAGE);
  const npages = (iova + length + PAGE - 1n) / PAGE - down / PAGE;
  const start = uptr - (iova - down);
  for (let i = 0n; i < npages; i++) {
    const user = pinUser(s, pid, start + i * PAGE, 0n, 1n);
    if (typeof user === "string") return user;
    const at = iova + i * PAGE;
    const r = runs.find((x) => x.iova <= at && at < x.iova + x.length);
    const pinned = r && r.pa + (at - r.iova);
    if (pinned === undefined || pinned - (pinned % PAGE) !== user[0]!.pa - (user[0]!.pa % PAGE)) return "EBADE";
  }
  return undefined;
}

/**
 * iommufd_test_access_pages: length above 16 MiB (ENOMEM), unknown flags
 * (EOPNOTSUPP), the access (EBADFD) made with NEEDS_PIN_PAGES (EOPNOTSUPP); then
 * iommufd_access_pin_pages, the page check against uptr when it is not NULL (the
 * pin undone on a mismatch), and a new item whose id is out_access_pages_id.
 */
export function accessPages(s: State, call: IoctlCall): Outcome | SimulatorFault {
  const cmd = cmdOf(call);
  const iova = cmd["access_pages.iova"] as bigint;
  const length = cmd["access_pages.length"] as bigint;
  const uptr = cmd["access_pages.uptr"] as bigint;
  const flags = cmd["access_pages.flags"] as number;
  if (length > MAX_LENGTH) return errno("ENOMEM");
  if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ)) return errno("EOPNOTSUPP");
  const st = staccessGet(s, call, cmd.id as number);
  if (typeof st === "string") return errno(st);
  const { ctx, access } = st;
  if (!access.staccess?.needsPin) return errno("EOPNOTSUPP");
  if (flags & MOCK_FLAGS_ACCESS_SYZ) return notModelled(call.ev, "IOMMU_TEST_OP_ACCESS_PAGES with MOCK_FLAGS_ACCESS_SYZ");
  const runs = iommufdAccessPinPages(s, ctx, access, iova, length, (flags & MOCK_FLAGS_ACCESS_WRITE) !== 0);
  if (typeof runs === "string") return errno(runs);
  if (uptr !== 0n) {
    const err = checkPages(s, call.process.pid, uptr, iova, length, runs);
    if (err) {
      iommufdAccessUnpinPages(ctx, access, iova, length);
      return errno(err);
    }
  }
  const id = access.staccess.nextId++;
  access.staccess.items.push({ id, iova, length });
  return respondFields(call, { "access_pages.out_access_pages_id": id });
}

/** iommufd_test_access_item_destroy: the item's pages unpinned (ENOENT: no such item; EBADFD: not an access fd). */
export function destroyAccessPages(s: State, call: IoctlCall): Outcome {
  const cmd = cmdOf(call);
  const st = staccessGet(s, call, cmd.id as number);
  if (typeof st === "string") return errno(st);
  const items = st.access.staccess?.items ?? [];
  const item = items.find((x) => x.id === cmd["destroy_access_pages.access_pages_id"]);
  if (!item) return errno("ENOENT");
  items.splice(items.indexOf(item), 1);
  iommufdAccessUnpinPages(st.ctx, st.access, item.iova, item.length);
  return { ret: 0 };
}

/**
 * iommufd_test_access_rw: length above 16 MiB (ENOMEM), unknown flags
 * (EOPNOTSUPP), the access (EBADFD); a write copies the caller's buffer in first
 * (EFAULT), then iommufd_access_rw; a read copies the result out (EFAULT).
 */
export function accessRw(s: State, call: IoctlCall): Outcome | SimulatorFault {
  const cmd = cmdOf(call);
  const iova = cmd["access_rw.iova"] as bigint;
  const length = cmd["access_rw.length"] as bigint;
  const uptr = cmd["access_rw.uptr"] as bigint;
  const flags = cmd["access_rw.flags"] as number;
  if (length > MAX_LENGTH) return errno("ENOMEM");
  if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH | MOCK_FLAGS_ACCESS_SYZ)) return errno("EOPNOTSUPP");
  const st = staccessGet(s, call, cmd.id as number);
  if (typeof st === "string") return errno(st);
  const data = new Uint8Array(Number(length));
  if (flags & MOCK_ACCESS_RW_WRITE) {
    const got = copyFromUser(s, call.process, uptr, data.length);
    if (!got) return errno("EFAULT");
    data.set(got);
  }
  if (flags & MOCK_FLAGS_ACCESS_SYZ) return notModelled(call.ev, "IOMMU_TEST_OP_ACCESS_RW with MOCK_FLAGS_ACCESS_SYZ");
  const err = iommufdAccessRw(s, st.ctx, st.access, call.process.pid, iova, data, flags);
  if (err) return errno(err);
  if (!(flags & MOCK_ACCESS_RW_WRITE) && !copyToUser(s, call.process, uptr, data)) return errno("EFAULT");
  return { ret: 0 };
}

/**
 * The caller memory ACCESS_RW reaches through the IOAS (its areas' source
 * ranges), resolved from the state before the call, with whether the call
 * writes it: what a live server must read first and write back after.
 */
export function accessRwTouched(s: State, pid: number, fd: number, iova: bigint, length: bigint, flags: number): TouchedRange[] {
  const id = s.processes.get(pid)?.fds.get(fd);
  const file = id === undefined ? undefined : s.files.get(id);
  if (file?.kind !== "staccess" || length > MAX_LENGTH) return [];
  const ctx = s.iommufd.get(file.ctxFileId!);
  const access = ctx?.objects.get(file.objectId!);
  if (!ctx || access?.type !== "access") return [];
  const write = (flags & MOCK_ACCESS_RW_WRITE) !== 0;
  return accessRwUserRanges(ctx, access, iova, length).map((r) => ({ ...r, write }));
}

/**
 * iommufd_test_staccess_release: every item unpinned (the unmap callback over
 * everything), then iommufd_access_destroy.
 */
function staccessRelease(s: State, file: OpenFile, env: ReduceEnv): void {
  const ctx = file.ctxFileId === undefined ? undefined : s.iommufd.get(file.ctxFileId);
  const access = file.objectId === undefined ? undefined : ctx?.objects.get(file.objectId);
  if (!ctx || access?.type !== "access") return;
  iommufdTestAccessUnmap(s, ctx, access, 0n, ULONG_MAX);
  destroyWith(s, ctx, access, iommufdAccessDestroyObject, env);
}

/** iommfd_test_staccess_fops: only a release. */
export const STACCESS_FOPS: Omit<FileOps, "ioctl"> = { release: staccessRelease };
