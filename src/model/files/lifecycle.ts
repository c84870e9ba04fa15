// Closing files: a process's fd goes, and the file is released when the last
// reference goes (fput -> f_op->release). The release of each kind is in the
// file operations table (src/model/fops.ts), which reaches this code through
// the reducer environment: a release here may release any kind of file (a
// device's unbind drops the iommufd context's file), and the table's owners
// sit above this layer.

import type { ReduceEnv } from "../framework.ts";
import type { State } from "../state.ts";
import type { OpenFile } from "./state.ts";

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
  // filp_close -> fput: another fd table (a forked process's) still holds the file.
  if (file?.fdRefs) {
    if (--file.fdRefs === 0) delete file.fdRefs;
  } else if (file) {
    if (file.kernelRefs) file.closed = true;
    else releaseFile(s, file, env);
  }
  return true;
}

function releaseFile(s: State, file: OpenFile, env: ReduceEnv): void {
  env.fops[file.kind].release?.(s, file, env);
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
  if (!file?.kernelRefs) return;
  file.kernelRefs--;
  if (file.kernelRefs === 0 && file.closed) releaseFile(s, file, env);
}
