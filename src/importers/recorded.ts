// `iorr import` of a trace `iorr record -- <command>` wrote (header source "record"):
// its ioctls carry the caller's raw struct bytes (`argHex`). Where the trace format
// can say the same bytes by member name, the event gets `arg` instead: the bytes are
// exactly the struct (no tail past the kernel's struct, `size`/`argsz` their length,
// no member cut by it) and encoding the decoded members gives them back bit for bit.
// Anything else stays raw, which replays the same.

import type { TraceEvent } from "../model/events.ts";
import { parseTraceEvent } from "../model/ops.ts";
import { commandByName } from "../uapi/index.ts";
import { decodeStruct, encodeStruct, type FieldValue } from "../uapi/layout.ts";
import { eventToJson } from "../trace/jsonl.ts";

/** The header's `source` of a recorded trace. */
export const RECORDED_SOURCE = "record";

const jsonInt = (v: number | bigint) => (typeof v === "bigint" ? (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : `0x${v.toString(16)}`) : v);

/** The event with its raw bytes decoded into `arg`, or the event itself where they cannot be. */
export function decodeRecorded(ev: TraceEvent): TraceEvent {
  if (ev.op !== "ioctl" || typeof ev.argHex !== "string" || typeof ev.cmd !== "string") return ev;
  const def = commandByName(ev.cmd);
  if (def?.arg.kind !== "struct") return ev;
  const struct = def.arg.struct;
  const bytes = Uint8Array.from(Buffer.from(ev.argHex, "hex"));
  if (bytes.length < 4 || bytes.length > struct.size) return ev;
  if (new DataView(bytes.buffer).getUint32(0, true) !== bytes.length) return ev;
  if (struct.fields.some((f) => f.offset < bytes.length && f.offset + f.size > bytes.length)) return ev;
  const decoded = decodeStruct(struct, bytes);
  const arg: Record<string, unknown> = {};
  for (const f of struct.fields) {
    if (f.offset + f.size > bytes.length) continue;
    const v = decoded[f.name]!;
    const zero = Array.isArray(v) ? v.every((x) => BigInt(x) === 0n) : BigInt(v) === 0n;
    if (f.name === def.arg.sizeField ? bytes.length === struct.size : zero) continue;
    arg[f.name] = Array.isArray(v) ? v.map(jsonInt) : jsonInt(v);
  }
  try {
    // An `arg` without size/argsz means the full struct (the encoder writes what it is given).
    const again = encodeStruct(struct, { [def.arg.sizeField]: bytes.length, ...arg } as Record<string, FieldValue>, bytes.length);
    if (Buffer.compare(Buffer.from(again), Buffer.from(bytes)) !== 0) return ev;
    const json = eventToJson(ev);
    delete json.argHex;
    json.arg = arg;
    return parseTraceEvent(json, ev.seq);
  } catch {
    return ev;
  }
}
