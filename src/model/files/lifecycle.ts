// What opening a file sets up and what closing its last reference releases,
// per file kind: the kernel's ->open and ->release. Subsystems add theirs
// (an iommufd context, a device unbind, ...) to these tables.

import type { FileKind } from "../../uapi/commands.ts";
import type { ReduceEnv } from "../framework.ts";
import type { State } from "../state.ts";
import type { OpenFile } from "./state.ts";

export type FileHook = (s: State, file: OpenFile, env: ReduceEnv) => void;

export const OPENED: Partial<Record<FileKind, FileHook>> = {};
export const RELEASE: Partial<Record<FileKind, FileHook>> = {};

/**
 * The checks a file kind's ->open makes before it succeeds (vfio_group_fops_open,
 * vfio_device_fops_cdev_open): an errno name refuses the open, nothing is set up.
 * `node` is what the path names (a group number, a device's bdf).
 */
export type OpenCheck = (s: State, pid: number, node: { kind: FileKind; bdf?: string; group?: number }, env: ReduceEnv) => string | undefined;
export const OPEN_CHECK: Partial<Record<FileKind, OpenCheck>> = {};

/**
 * Close one fd of a process: drop the table entry, then release the file,
 * unless the kernel still holds references to it (fput only releases on the
 * last reference; see fileGet/filePut).
 */
export function closeFd(s: State, pid: number, fd: number, env: ReduceEnv): boolean {
  const p = s.processes.get(pid);
  const id = p?.fds.get(fd);
  if (p === undefined || id === undefined) return false;
  p.fds.delete(fd);
  if (fd < p.nextFd) p.nextFd = fd;
  const file = s.files.get(id);
  if (file) {
    if (file.kernelRefs) file.closed = true;
    else releaseFile(s, file, env);
  }
  return true;
}

function releaseFile(s: State, file: OpenFile, env: ReduceEnv): void {
  RELEASE[file.kind]?.(s, file, env);
  s.files.delete(file.id);
}

/** get_file: the kernel takes a reference on an open file. */
export function fileGet(s: State, fileId: number): void {
  const file = s.files.get(fileId);
  if (file) file.kernelRefs = (file.kernelRefs ?? 0) + 1;
}

/** fput of a kernel reference: a file whose fd is closed is released with its last reference. */
export function filePut(s: State, fileId: number, env: ReduceEnv): void {
  const file = s.files.get(fileId);
  if (!file || !file.kernelRefs) return;
  file.kernelRefs--;
  if (file.kernelRefs === 0 && file.closed) releaseFile(s, file, env);
}
