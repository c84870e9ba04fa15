// struct iommufd_ucmd for the model: the kernel's copy of the command struct,
// and the answer a handler gives back (iommufd_ucmd_respond copies the whole
// struct, at most the caller's size; some handlers copy single members).

import { decodeStruct, type Decoded, type StructDef } from "../../uapi/layout.ts";
import type { IoctlCall } from "./call.ts";
import type { Outcome, OutValue } from "../outcome.ts";

/** The command struct as the kernel copied it in (bytes past the caller's size are zero). */
export function cmdOf(call: IoctlCall): Decoded {
  if (call.arg.kind !== "bytes" || call.def.arg.kind !== "struct") throw new Error(`${call.def.name}: not a struct command`);
  return decodeStruct(call.def.arg.struct, call.arg.bytes);
}

function structOf(call: IoctlCall): StructDef {
  if (call.def.arg.kind !== "struct") throw new Error(`${call.def.name}: not a struct command`);
  return call.def.arg.struct;
}

/** Members that fit in the caller's struct: the kernel never writes past `size`. */
function visible(call: IoctlCall, fields: Record<string, OutValue>): Record<string, OutValue> {
  const def = structOf(call);
  const out: Record<string, OutValue> = {};
  for (const [k, v] of Object.entries(fields)) {
    const f = def.byName.get(k);
    if (!f || f.offset + f.size <= call.userSize) out[f ? f.name : k] = v;
  }
  return out;
}

/** iommufd_ucmd_respond(ucmd, sizeof(*cmd)): the whole struct goes back. */
export function respond(call: IoctlCall, cmd: Decoded, extra: Record<string, OutValue> = {}): Outcome {
  return { ret: 0, out: { ...visible(call, cmd as Record<string, OutValue>), ...extra } };
}

/** A handler that copies back single members (copy_to_user(&arg->member)). */
export function respondFields(call: IoctlCall, fields: Record<string, OutValue>): Outcome {
  return { ret: 0, out: visible(call, fields) };
}
