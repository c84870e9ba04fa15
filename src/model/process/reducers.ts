// process, process.exit, open, close: processes and their fd tables.

import { CAPABILITIES } from "../../uapi/capability.ts";
import { flagNames, parseFlags } from "../../uapi/layout.ts";
import { installFile, unusedFd } from "../files/fd.ts";
import { closeFd } from "../files/lifecycle.ts";
import { exitFileMaps } from "../files/rw.ts";
import { resolvePath } from "../files/paths.ts";
import { dupMmap } from "./mm.ts";
import type { Reducer } from "../framework.ts";
import { errno, ok, ret0, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { ProcessState } from "./state.ts";

/**
 * caps is the capability mask (events.ts; a database written before flag fields were
 * normalised holds the list it was given): the state keeps its CAP_* names.
 */
function capNames(caps: unknown): string[] {
  return caps === undefined ? [] : flagNames(CAPABILITIES, parseFlags(caps, CAPABILITIES, "caps")).map((n) => CAPABILITIES.prefix + n);
}

export const processStart: Reducer = (s: State, ev): Outcome => {
  const pid = ev.pid as number;
  if (s.processes.has(pid)) return errno("EEXIST");
  if (ev.parent !== undefined) return fork(s, pid, ev.parent as number);
  s.processes.set(pid, { pid, caps: capNames(ev.caps), fds: new Map(), nextFd: 3, mm: [] });
  return ok();
};

/** capset(2): the process's effective set is now `caps`; capable() reads it at each later call. */
export const processCaps: Reducer = (s: State, ev): Outcome => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  p.caps = capNames(ev.caps);
  return ok();
};

/**
 * kernel_clone (fork): the child gets the parent's credentials (copy_creds),
 * a copy of its fd table whose fds name the same open files (dup_fd: one more
 * reference per fd, so a file lives until both tables close it), and a copy
 * of its mm (dup_mmap). A parent that does not exist: ESRCH.
 */
function fork(s: State, pid: number, parentPid: number): Outcome {
  const parent = s.processes.get(parentPid);
  if (!parent) return errno("ESRCH");
  for (const id of parent.fds.values()) {
    const f = s.files.get(id);
    if (f) f.fdRefs = (f.fdRefs ?? 0) + 1;
  }
  s.processes.set(pid, { pid, caps: [...parent.caps], fds: new Map(parent.fds), nextFd: parent.nextFd, mm: dupMmap(s, parent) });
  return ok();
}

/** do_exit closes the fd table in ascending fd order (close_files). */
export const processExit: Reducer = (s: State, ev, env): Outcome => {
  const pid = ev.pid as number;
  const p = s.processes.get(pid);
  if (!p) return errno("ESRCH");
  exitFileMaps(s, p, env);
  for (const fd of [...p.fds.keys()].sort((a, b) => a - b)) closeFd(s, pid, fd, env);
  s.processes.delete(pid);
  return ok();
};

/** capable(): whether the process holds a capability. */
export function capable(p: ProcessState, cap: string): boolean {
  return p.caps.includes(cap);
}

/**
 * open(2) of a device node: the lowest free fd (alloc_fd runs before the
 * file's ->open), then the file kind's own checks (its open check), then the
 * file is installed and its ->open sets it up.
 */
export const open: Reducer = (s: State, ev, env): Outcome => {
  const pid = ev.pid as number;
  const p = s.processes.get(pid);
  if (!p) return errno("ESRCH");
  const path = ev.path as string;
  const node = resolvePath(s, path);
  if (!node) return errno("ENOENT");
  const fd = unusedFd(p);
  if (fd === "EMFILE") return errno("EMFILE");
  const ops = env.fops[node.kind];
  const refused = ops.openCheck?.(s, pid, node, env);
  if (refused) return errno(refused);
  const file = installFile(s, p, fd, {
    path,
    kind: node.kind,
    ...(node.bdf !== undefined ? { bdf: node.bdf } : {}),
    ...(node.group !== undefined ? { group: node.group } : {}),
  });
  ops.opened?.(s, file, env);
  return { fd };
};

export const close: Reducer = (s: State, ev, env): Outcome => {
  const pid = ev.pid as number;
  if (!s.processes.has(pid)) return errno("ESRCH");
  return closeFd(s, pid, ev.fd as number, env) ? ret0() : errno("EBADF");
};

/** An open file the model does not simulate (a regular file, a pipe): installed at the lowest free fd; no file operation of it is modelled. */
export const openOther: Reducer = (s: State, ev): Outcome => {
  const p = s.processes.get(ev.pid as number);
  if (!p) return errno("ESRCH");
  const fd = unusedFd(p);
  if (fd === "EMFILE") return errno("EMFILE");
  installFile(s, p, fd, { path: (ev.path as string | undefined) ?? "", kind: "other" });
  return { fd };
};
