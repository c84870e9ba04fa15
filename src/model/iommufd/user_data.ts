// Driver-specific user data of iommufd commands as iommufd hands it to the
// drivers (struct iommu_user_data / iommu_user_data_array, src/model/iommu/
// user_data.ts): HWPT_ALLOC and VIOMMU_ALLOC data, HWPT_INVALIDATE entry arrays.
//
// A trace gives such data through a pointer into the process's memory
// (data_uptr) or inline (`"data": {...}`, docs/trace-format.md "Kernel system calls", `arg`): an
// object of the driver struct's members, `{"hex"|"u32"|"u64": ...}` raw bytes,
// or for an entry array a list of such entries. Inline data is the memory the
// pointer would point at: a length past it reads as zeros, never faults.

import { encodeStruct, LayoutError, type FieldValue, type StructDef } from "../../uapi/layout.ts";
import { window, type UserData, type UserDataArray } from "../iommu/user_data.ts";
import { EventError } from "../events.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import type { State } from "../state.ts";
import { parseBytes, ValueError } from "../values.ts";
import { copyFromUser, copyToUser } from "../uaccess/copy.ts";

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The bytes of one inline payload: raw ({hex|u32|u64}) or the members of `struct` (bad input names the member). */
export function inlineBytes(v: unknown, struct: StructDef | undefined, field: string): Uint8Array {
  if (!isObject(v)) throw new EventError(field, "expected an object of struct members or {hex|u32|u64}");
  if ("hex" in v || "u32" in v || "u64" in v) {
    try {
      return parseBytes(v as { hex?: unknown; u32?: unknown; u64?: unknown }).bytes;
    } catch (e) {
      if (e instanceof ValueError) throw new EventError(field, e.message);
      throw e;
    }
  }
  if (!struct) throw new EventError(field, "no driver struct is known for this data type: give the bytes as {hex|u32|u64}");
  try {
    return encodeStruct(struct, v as Record<string, FieldValue>);
  } catch (e) {
    if (e instanceof LayoutError) throw new EventError(`${field}.${e.field}`, e.message);
    throw e;
  }
}

/**
 * The user data of a command: `inline` (the trace's `data`) or `uptr` into
 * the calling process. `structFor` names the driver struct of the data type
 * (to encode an inline object); the encoding happens only when the driver
 * actually copies, as the kernel reads user memory only then.
 */
export function userData(
  s: State,
  call: IoctlCall,
  type: number,
  len: number,
  uptr: bigint,
  inline: unknown,
  structFor: (type: number) => StructDef | undefined,
): UserData {
  if (inline !== undefined) {
    let bytes: Uint8Array | undefined;
    const get = () => (bytes ??= inlineBytes(inline, structFor(type), "arg.data"));
    return {
      type,
      len,
      inline: true,
      read: (n) => window(get(), 0, n),
      write: () => true,
    };
  }
  return {
    type,
    len,
    inline: false,
    read: (n) => (n === 0 ? new Uint8Array(0) : uptr === 0n ? undefined : copyFromUser(s, call.process, uptr, n)),
    write: (b) => (b.length === 0 ? true : uptr === 0n ? false : copyToUser(s, call.process, uptr, b)),
  };
}

/** The entry array of IOMMU_HWPT_INVALIDATE: inline (a list of entries, or raw bytes) or at uptr. */
export function userDataArray(
  s: State,
  call: IoctlCall,
  type: number,
  entryLen: number,
  entryNum: number,
  uptr: bigint,
  inline: unknown,
  structFor: (type: number) => StructDef | undefined,
): UserDataArray {
  if (inline !== undefined) {
    let bytes: Uint8Array | undefined;
    const get = (): Uint8Array => {
      if (bytes) return bytes;
      if (Array.isArray(inline)) {
        const out = new Uint8Array(entryLen * inline.length);
        for (const [i, e] of inline.entries()) out.set(window(inlineBytes(e, structFor(type), `arg.data[${i}]`), 0, entryLen), i * entryLen);
        bytes = out;
      } else bytes = inlineBytes(inline, structFor(type), "arg.data");
      return bytes;
    };
    return { type, entryLen, entryNum, inline: true, nullPtr: false, readEntry: (i) => window(get(), i * entryLen, entryLen) };
  }
  return {
    type,
    entryLen,
    entryNum,
    inline: false,
    nullPtr: uptr === 0n,
    readEntry: (i) => (uptr === 0n ? undefined : copyFromUser(s, call.process, uptr + BigInt(entryLen) * BigInt(i), entryLen)),
  };
}
