// The user side of a VFIO ioctl as the handlers see it. VFIO handlers do their
// own copy_from_user of `minsz` bytes and check `argsz` themselves, so they
// read the user's struct as it is in user memory: every member the trace gave,
// also past `argsz` (a handler that reads past argsz, as seed 002's v1 does,
// reads what the caller's memory holds there); members the trace did not give
// read as zero. What goes back is limited to the bytes the handler copies.

import { decodeStruct, encodeStruct, type Decoded, type FieldValue, type StructDef } from "../../uapi/layout.ts";
import type { IoctlCall } from "./call.ts";
import type { Outcome, OutValue } from "../outcome.ts";

function structOf(call: IoctlCall): StructDef {
  if (call.def.arg.kind !== "struct") throw new Error(`${call.def.name}: not a struct command`);
  return call.def.arg.struct;
}

/**
 * The bytes of the user's struct (at least the struct's size), or null for a
 * NULL pointer (copy_from_user faults: EFAULT). `payload`: the size of an
 * inline payload that follows the struct (VFIO_DEVICE_FEATURE's feature data,
 * VFIO_DEVICE_SET_IRQS's data); when the trace gives no `argsz`, the caller's
 * argsz covers the struct and that payload, as a VMM sets it.
 */
export function userBytes(call: IoctlCall, payload = 0): Uint8Array | null {
  if (call.arg.kind === "null") return null;
  if (call.arg.kind !== "bytes") throw new Error(`${call.def.name}: not a struct argument`);
  const def = structOf(call);
  const raw = call.ev.arg;
  if (call.ev.argHex !== undefined || raw === undefined || raw === null || typeof raw !== "object") {
    const b = call.arg.bytes;
    if (b.length >= def.size) return b;
    const out = new Uint8Array(def.size);
    out.set(b);
    return out;
  }
  // `arg` form: encode every member given, argsz as the caller said, inline payloads left out.
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) if (!(k in call.arg.inline)) fields[k] = v as FieldValue;
  if (fields.argsz === undefined) fields.argsz = def.size + payload;
  return encodeStruct(def, fields, Math.max(Number(fields.argsz), def.size));
}

/** The struct decoded from the user's memory (see userBytes); null for a NULL pointer. */
export function userStruct(call: IoctlCall): Decoded | null {
  const b = userBytes(call);
  return b ? decodeStruct(structOf(call), b) : null;
}

/** copy_to_user(arg, &s, n): the members that lie within the first n bytes go back. */
export function copiedOut(call: IoctlCall, s: Record<string, OutValue>, n: number, extra: Record<string, OutValue> = {}): Outcome {
  const def = structOf(call);
  const out: Record<string, OutValue> = {};
  for (const [k, v] of Object.entries(s)) {
    const f = def.byName.get(k);
    // Named as the handler names it: a nested member by its own name ("result"), as traces spell it.
    if (f && f.offset + f.size <= n) out[k] = v;
  }
  return { ret: 0, out: { ...out, ...extra } };
}

/** The inline payload `name` of a call (docs/trace-format.md "Kernel system calls", `arg`), if the trace gave one. */
export function inlineOf(call: IoctlCall, name: string): unknown {
  return call.arg.kind === "bytes" ? call.arg.inline[name] : undefined;
}

/** A uuid string as the 16 bytes uuid_parse makes of it (the bytes in the order written). */
export function uuidBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ""), "hex"));
}
