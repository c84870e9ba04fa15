// File descriptors: alloc_fd's lowest free fd and fd_install, for open(2)
// and for the ioctls that return a new file (a fault queue, a device file, a
// dma-buf).

import type { State } from "../state.ts";
import type { OpenFile } from "./state.ts";

/** A process's fd table (files_struct): fd -> open file id, and where alloc_fd starts looking. */
export interface FdTable {
  readonly pid: number;
  fds: Map<number, number>;
  /** No fd below this is free (files->next_fd). */
  nextFd: number;
}

/** RLIMIT_NOFILE's default soft limit: fds 0..1023. */
export const NOFILE_LIMIT = 1024;

/** The lowest free fd from 3 (0-2 are the standard streams), as alloc_fd picks it. */
export function lowestFreeFd(p: FdTable): number {
  let fd = p.nextFd;
  while (p.fds.has(fd)) fd++;
  return fd;
}

/** get_unused_fd_flags: the lowest free fd, EMFILE past RLIMIT_NOFILE. Take it before the work the kernel does before fd_install. */
export function unusedFd(p: FdTable): number | "EMFILE" {
  const fd = lowestFreeFd(p);
  return fd >= NOFILE_LIMIT ? "EMFILE" : fd;
}

/** A new open file installed at `fd` of the process (fd_install). */
export function installFile(s: State, p: FdTable, fd: number, file: Omit<OpenFile, "id" | "pid">): OpenFile {
  const id = s.nextFileId++;
  const f: OpenFile = { id, pid: p.pid, ...file };
  s.files.set(id, f);
  p.fds.set(fd, id);
  p.nextFd = fd + 1;
  return f;
}
