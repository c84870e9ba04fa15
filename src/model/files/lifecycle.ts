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

/** Close one fd of a process: drop the table entry, then release the file. */
export function closeFd(s: State, pid: number, fd: number, env: ReduceEnv): boolean {
  const p = s.processes.get(pid);
  const id = p?.fds.get(fd);
  if (p === undefined || id === undefined) return false;
  p.fds.delete(fd);
  if (fd < p.nextFd) p.nextFd = fd;
  const file = s.files.get(id);
  if (file) {
    RELEASE[file.kind]?.(s, file, env);
    s.files.delete(id);
  }
  return true;
}
