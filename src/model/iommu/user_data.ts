// Driver-specific user data of iommufd commands (include/linux/iommu.h:
// struct iommu_user_data / iommu_user_data_array and the
// iommu_copy_struct_{from,to}_user helpers the drivers call on them). How
// the data reaches the kernel (a user pointer or the trace's inline `data`)
// is iommufd's (src/model/iommufd/user_data.ts); the drivers see only these.

import { decodeStruct, type Decoded, type StructDef } from "../../uapi/layout.ts";

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

/** The n bytes of src from `from`, zero past its end (inline data reads as zeros past what was given). */
export function window(src: Uint8Array, from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (from < src.length) out.set(src.subarray(from, Math.min(src.length, from + n)));
  return out;
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
