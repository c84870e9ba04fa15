// One ioctl call as a command handler sees it: the event, the calling
// process, the file it was made on, the command (src/uapi), and the user's
// argument as the kernel reads it (src/model/uaccess/arg.ts).

import type { UapiCommand } from "../../uapi/commands.ts";
import type { TraceEvent } from "../events.ts";
import type { OpenFile } from "../files/state.ts";
import type { ReduceEnv, SimulatorFault } from "../framework.ts";
import type { Outcome } from "../outcome.ts";
import type { ProcessState } from "../process/state.ts";
import type { State } from "../state.ts";
import type { UserArg } from "./arg.ts";

export interface IoctlCall {
  readonly ev: TraceEvent;
  readonly process: ProcessState;
  readonly file: OpenFile;
  readonly def: UapiCommand;
  /** The user argument; for iommufd commands already through the size rules (the kernel's copy of the struct). */
  readonly arg: UserArg;
  /** The caller's `size`/`argsz`: the kernel writes back at most this many bytes. */
  readonly userSize: number;
}

/** A command handler: an outcome (a failing call is an errno outcome), or a simulator fault before any change. */
export type IoctlHandler = (s: State, call: IoctlCall, env: ReduceEnv) => Outcome | SimulatorFault;
