// process, process.exit, open, close: processes and their fd tables.

import { closeFd, OPEN_CHECK, OPENED } from "../files/lifecycle.ts";
import { resolvePath } from "../files/paths.ts";
import type { Reducer } from "../framework.ts";
import { errno, ok, ret0, type Outcome } from "../outcome.ts";
import type { OpenFile } from "../files/state.ts";
import type { State } from "../state.ts";
import { NOFILE_LIMIT, type ProcessState } from "./state.ts";

export const processStart: Reducer = (s: State, ev): Outcome => {
  const pid = ev.pid as number;
  if (s.processes.has(pid)) return errno("EEXIST");
  s.processes.set(pid, { pid, caps: (ev.caps as string[] | undefined) ?? [], fds: new Map(), nextFd: 3, mm: [] });
  return ok();
};

/** do_exit closes the fd table in ascending fd order (close_files). */
export const processExit: Reducer = (s: State, ev, env): Outcome => {
  const pid = ev.pid as number;
  const p = s.processes.get(pid);
  if (!p) return errno("ESRCH");
  for (const fd of [...p.fds.keys()].sort((a, b) => a - b)) closeFd(s, pid, fd, env);
  s.processes.delete(pid);
  return ok();
};

/** The lowest free fd from 3 (0-2 are the standard streams), as alloc_fd picks it. */
export function lowestFreeFd(p: ProcessState): number {
  let fd = p.nextFd;
  while (p.fds.has(fd)) fd++;
  return fd;
}

/** capable(): whether the process holds a capability. */
export function capable(p: ProcessState, cap: string): boolean {
  return p.caps.includes(cap);
}

/**
 * open(2) of a device node: the lowest free fd (alloc_fd runs before the
 * file's ->open), then the file kind's own checks (OPEN_CHECK).
 */
export const open: Reducer = (s: State, ev, env): Outcome => {
  const pid = ev.pid as number;
  const p = s.processes.get(pid);
  if (!p) return errno("ESRCH");
  const path = ev.path as string;
  const node = resolvePath(s, path);
  if (!node) return errno("ENOENT");
  const fd = lowestFreeFd(p);
  if (fd >= NOFILE_LIMIT) return errno("EMFILE");
  const refused = OPEN_CHECK[node.kind]?.(s, pid, node, env);
  if (refused) return errno(refused);
  const id = s.nextFileId;
  s.nextFileId = id + 1;
  const file: OpenFile = { id, pid, path, kind: node.kind };
  if (node.bdf !== undefined) file.bdf = node.bdf;
  if (node.group !== undefined) file.group = node.group;
  s.files.set(id, file);
  p.fds.set(fd, id);
  p.nextFd = fd + 1;
  OPENED[node.kind]?.(s, file, env);
  return { fd };
};

export const close: Reducer = (s: State, ev, env): Outcome => {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  return closeFd(s, pid, ev.fd as number, env) ? ret0() : errno("EBADF");
};

export const processReducers = { process: processStart, "process.exit": processExit, open, close };
