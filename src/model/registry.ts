// Every reducer, registered by op. One table, so that a new subsystem is one
// more spread here, and an op without a reducer is an explicit fault.

import { parseEvent, type TraceEvent } from "./events.ts";
import { dmaReducers } from "./domain/index.ts";
import { notModelled, type Reducer } from "./framework.ts";
import { hostReducers } from "./host/reducers.ts";
import "./iommufd/index.ts";
import "./vfio/index.ts";
import { checkIoctlEvent } from "./ioctl/args.ts";
import { ioctlReducers } from "./ioctl/dispatch.ts";
import { memoryReducers } from "./memory/reducers.ts";
import { processReducers } from "./process/reducers.ts";
import { qemuReducers } from "./qemu/index.ts";

function merge(...slices: Record<string, Reducer>[]): Record<string, Reducer> {
  const all: Record<string, Reducer> = {};
  for (const slice of slices)
    for (const [op, r] of Object.entries(slice)) {
      if (all[op]) throw new Error(`two reducers for op ${op}`);
      all[op] = r;
    }
  return all;
}

export const REDUCERS: Readonly<Record<string, Reducer>> = merge(hostReducers, processReducers, memoryReducers, ioctlReducers, dmaReducers, qemuReducers);

/** The reducer for an op: a version-1 op the model does not cover yet is a simulator fault, not a silent success. */
export function reducerFor(op: string): Reducer {
  return REDUCERS[op] ?? ((_s, ev) => notModelled(ev, `op "${ev.op}"`));
}

/** Checks that need the uAPI tables, beyond the op table's field types. */
const DEEP_CHECKS: Readonly<Record<string, (ev: TraceEvent) => void>> = {
  ioctl: checkIoctlEvent,
};

/** Parse and fully validate one raw event (throws EventError naming the field). */
export function parseTraceEvent(raw: Record<string, unknown>, seq: number, warn?: (field: string, message: string) => void): TraceEvent {
  const ev = parseEvent(raw, seq, warn);
  DEEP_CHECKS[ev.op]?.(ev);
  return ev;
}
