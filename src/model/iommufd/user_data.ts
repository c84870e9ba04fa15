// Driver-specific user data of iommufd commands (include/linux/iommu.h:
// struct iommu_user_data / iommu_user_data_array and the
// iommu_copy_struct_{from,to}_user helpers): HWPT_ALLOC and VIOMMU_ALLOC data,
// HWPT_INVALIDATE entry arrays.
//
// A trace gives such data through a pointer into the process's memory
// (data_uptr) or inline (`"data": {...}`, TRACE-FORMAT.md "arg rules"): an
// object of the driver struct's members, `{"hex"|"u32"|"u64": ...}` raw bytes,
// or for an entry array a list of such entries. Inline data is the memory the
// pointer would point at: a length past it reads as zeros, never faults.

import type { Decoded, StructDef } from "../../uapi/layout.ts";
import { decodeStruct, encodeStruct, LayoutError, type FieldValue } from "../../uapi/layout.ts";
import { EventError } from "../events.ts";
import type { IoctlCall } from "../ioctl/dispatch.ts";
import type { State } from "../state.ts";
import { parseBytes, ValueError } from "../values.ts";
import { copyFromUser, copyToUser } from "./uaccess.ts";

/** struct iommu_user_data: the driver data of one command. */
export interface UserData {
  readonly type: number;
  readonly len: number;
  /** copy_from_user of the first n bytes; undefined when the copy faults (EFAULT). */
  read(n: number): Uint8Array | undefined;
  /** copy_to_user of bytes at the start of the buffer; false when it faults. */
  write(bytes: Uint8Array): boolean;
  /** The data was given inline in the trace (no user pointer). */
  readonly inline: boolean;
}

/** struct iommu_user_data_array: entry_num entries of entry_len bytes. */
export interface UserDataArray {
  readonly type: number;
  readonly entryLen: number;
  entryNum: number;
  /** copy_from_user of entry `index` (entryLen bytes); undefined when it faults. */
  readEntry(index: number): Uint8Array | undefined;
  readonly inline: boolean;
  /** The user pointer is NULL (and nothing was given inline). */
  readonly nullPtr: boolean;
}

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

function window(src: Uint8Array, from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (from < src.length) out.set(src.subarray(from, Math.min(src.length, from + n)));
  return out;
}

/**
 * The user data of a command: `inline` (the trace's `data`) or `uptr` into
 * the calling process. `structFor` names the driver struct of the data type
 * (to encode an inline object); the encoding happens only when the driver
 * actually copies, as the kernel reads user memory only then.
 */
export function userData(s: State, call: IoctlCall, type: number, len: number, uptr: bigint, inline: unknown, structFor: (type: number) => StructDef | undefined): UserData {
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
        inline.forEach((e, i) => out.set(window(inlineBytes(e, structFor(type), `arg.data[${i}]`), 0, entryLen), i * entryLen));
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

/**
 * copy_struct_from_user(dst, ksize, src, usize): a shorter user struct is
 * zero-extended; a longer one must be zero past ksize (E2BIG); EFAULT on a
 * fault.
 */
export function copyStructFromUser(bytes: Uint8Array | undefined, ksize: number): Uint8Array | "EFAULT" | "E2BIG" {
  if (bytes === undefined) return "EFAULT";
  for (let i = ksize; i < bytes.length; i++) if (bytes[i] !== 0) return "E2BIG";
  return window(bytes, 0, ksize);
}

/**
 * __iommu_copy_struct_from_user (iommu_copy_struct_from_user(kdst, user_data,
 * data_type, min_last)): the type must match and the length lie between
 * offsetofend(min_last) and sizeof (EINVAL), then the copy (EFAULT).
 */
export function copyStructFromUserData(ud: UserData, dataType: number, struct: StructDef, minLast: string): Decoded | string {
  if (ud.type !== dataType) return "EINVAL";
  const f = struct.byName.get(minLast)!;
  if (ud.len < f.offset + f.size || struct.size < ud.len) return "EINVAL";
  const got = copyStructFromUser(ud.read(ud.len), struct.size);
  return typeof got === "string" ? got : decodeStruct(struct, got);
}

/**
 * __iommu_copy_struct_from_user_array: entry `index` of the array under the
 * same rules (the entry length plays the data length).
 */
export function copyStructFromUserArray(arr: UserDataArray, dataType: number, index: number, struct: StructDef, minLast: string): Decoded | string {
  if (index >= arr.entryNum || !arr.entryNum) return "EINVAL";
  const ud: UserData = { type: arr.type, len: arr.entryLen, inline: arr.inline, read: () => arr.readEntry(index), write: () => false };
  return copyStructFromUserData(ud, dataType, struct, minLast);
}

/**
 * iommu_copy_struct_from_full_user_array: every entry into kernel structs of
 * `struct.size` bytes; each entry goes through copy_struct_from_user (shorter
 * zero-extended, a non-zero tail E2BIG, EFAULT).
 */
export function copyFullUserArray(arr: UserDataArray, dataType: number, struct: StructDef): Decoded[] | string {
  if (arr.type !== dataType) return "EINVAL";
  if (!arr.entryNum) return "EINVAL";
  const out: Decoded[] = [];
  for (let i = 0; i < arr.entryNum; i++) {
    const got = copyStructFromUser(arr.readEntry(i), struct.size);
    if (typeof got === "string") return got;
    out.push(decodeStruct(struct, got));
  }
  return out;
}

/**
 * __iommu_copy_struct_to_user (iommu_copy_struct_to_user(user_data, ksrc,
 * data_type, min_last)): the type must match and the length lie between
 * offsetofend(min_last) and sizeof (EINVAL); copy_struct_to_user then writes
 * min(len, sizeof) bytes (EFAULT).
 */
export function copyStructToUserData(ud: UserData, dataType: number, struct: StructDef, minLast: string, src: Uint8Array): string | undefined {
  if (ud.type !== dataType) return "EINVAL";
  const f = struct.byName.get(minLast)!;
  if (ud.len < f.offset + f.size || struct.size < ud.len) return "EINVAL";
  return ud.write(src.subarray(0, Math.min(ud.len, src.length))) ? undefined : "EFAULT";
}
