// The reducer framework.
//
// A reducer folds one event into the batch's working state and returns its outcome. A
// failing system call is an outcome ({errno}), never an error. The simulator's
// own faults (an event it cannot interpret, a behaviour not modelled yet) are
// SimulatorFault values: a reducer returns one *before* changing anything
// (validate first, then act, as the kernel's handlers do), and the fold turns
// it into a typed Effect failure.
//
// Effect carries the profile as a service and the faults as typed errors at
// batch level; states are immutable and share unchanged subtrees (the fold's
// working copy, src/model/fold.ts). Both stay out of the per-event path (one
// copy and one Effect per batch of events), because a Proxy trap per access and
// an Effect per event would not meet the replay budget (docs/decisions.md
// "Replay cost").

import { Context, Data } from "effect";
import type { Profile } from "../profiles/profile.ts";
import type { TraceEvent } from "./events.ts";
import type { FileKind, Node, OpenFile } from "./files/state.ts";
import type { Outcome } from "./outcome.ts";
import type { ProcessState } from "./process/state.ts";
import type { State } from "./state.ts";

export class ProfileService extends Context.Tag("iorr/Profile")<ProfileService, Profile>() {}

/** not-modelled and internal: exit 3; bad-input (an event field only checkable against the state): exit 2. */
export type FaultKind = "not-modelled" | "internal" | "bad-input";

/** The simulator cannot go on: exit status 3. */
export class SimulatorFault extends Data.TaggedError("SimulatorFault")<{
  readonly seq: number;
  readonly op: string;
  readonly kind: FaultKind;
  readonly message: string;
}> {}

/**
 * The operations of one kind of file, as struct file_operations: the checks
 * and setup of ->open, ->unlocked_ioctl, ->release. The table of every kind
 * is src/model/fops.ts.
 */
export interface FileOps {
  /** ->open's checks before anything is set up (vfio_group_fops_open, ...): an errno name refuses the open. */
  openCheck?(s: State, pid: number, node: Node, env: ReduceEnv): string | undefined;
  /** ->open's setup of the new file (iommufd_fops_open, vfio_fops_open, ...). */
  opened?(s: State, file: OpenFile, env: ReduceEnv): void;
  /** ->unlocked_ioctl: the command number as the file kind's entry point sees it (src/model/ioctl/dispatch.ts). */
  ioctl(s: State, p: ProcessState, file: OpenFile, number: number, ev: TraceEvent, env: ReduceEnv): Outcome | SimulatorFault;
  /** ->release, when the last reference to the file goes. */
  release?(s: State, file: OpenFile, env: ReduceEnv): void;
  /**
   * ->read / ->write of `count` bytes at the caller's `va`, ->poll (the mask as `ret`), ->mmap;
   * absent: the kind's file_operations have none (src/model/files/rw.ts answers as the VFS does).
   */
  read?(s: State, p: ProcessState, file: OpenFile, va: bigint, count: bigint, ev: TraceEvent): Outcome | SimulatorFault;
  write?(s: State, p: ProcessState, file: OpenFile, va: bigint, count: bigint, ev: TraceEvent): Outcome | SimulatorFault;
  poll?(s: State, file: OpenFile, ev: TraceEvent): Outcome | SimulatorFault;
  mmap?(s: State, p: ProcessState, file: OpenFile, vma: FileMapping, ev: TraceEvent): Outcome | SimulatorFault;
}

/** A vma of a file mapping (mmap of a model fd): where, how long, the page offset, and what the file's ->mmap tied it to. */
export interface FileMapping {
  va: bigint;
  length: bigint;
  /** vm_pgoff << PAGE_SHIFT: the offset mmap(2) was given. */
  offset: bigint;
  prot: number;
  flags: number;
  fileId: number;
  /** iommufd_fops_mmap: the iommufd object owning the window (vma->vm_private_data's owner), which the vma holds a user on. */
  ownerId?: number;
}

export interface ReduceEnv {
  readonly profile: Profile;
  readonly seq: number;
  /** The file operations of every file kind, for code that drops a file reference (fput may release any kind). */
  readonly fops: Readonly<Record<FileKind, FileOps>>;
}

export type Reducer = (draft: State, ev: TraceEvent, env: ReduceEnv) => Outcome | SimulatorFault;

/**
 * Thrown by model code that answers another subsystem (not an event handler,
 * so it has no event to name) on a path it does not model: the fold turns it
 * into the same not-modelled fault as notModelled().
 */
export class NotModelledError extends Error {}

/** The explicit answer for a behaviour that exists in the trace format but not yet in the model. */
export function notModelled(ev: TraceEvent, what: string): SimulatorFault {
  return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "not-modelled", message: `${what} is not modelled yet` });
}

/** Input the simulator refuses (malformed trace, corrupt database, bad arguments): exit status 2. */
export class BadInput extends Data.TaggedError("BadInput")<{
  readonly file: string;
  readonly message: string;
  readonly line?: number;
  readonly seq?: number;
  readonly field?: string;
}> {
  /** "trace.jsonl:12: event 11: field arg.flags: unknown value" */
  describe(): string {
    let where = this.file;
    if (this.line !== undefined) where += `:${this.line}`;
    if (this.seq !== undefined) where += `: event ${this.seq}`;
    if (this.field !== undefined) where += `: field ${this.field}`;
    return `${where}: ${this.message}`;
  }
}
