// What closing the last reference to an open file releases, per file kind.
// Subsystems add their release (iommufd context teardown, device unbind, ...)
// to this table; the kernel runs the file's ->release the same way.

import type { FileKind } from "../../uapi/commands.ts";
import type { ReduceEnv } from "../framework.ts";
import type { State } from "../state.ts";
import type { OpenFile } from "./state.ts";

export type ReleaseFn = (s: State, file: OpenFile, env: ReduceEnv) => void;

export const RELEASE: Partial<Record<FileKind, ReleaseFn>> = {};

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
