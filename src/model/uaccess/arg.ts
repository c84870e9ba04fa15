// From an `ioctl` event to what the kernel would read from user memory.
//
// `arg` (fields by kernel name) and `argHex` (raw bytes) are two spellings of
// the same call: both become the bytes of the user's struct, `size`/`argsz`
// bytes long (default: the full struct of this uAPI version). Inline payloads
// (`data`, `token`, ...) that the real call would pass through a pointer are
// kept beside the bytes for the handler.

import type { UapiCommand } from "../../uapi/commands.ts";
import { encodeStruct, LayoutError, type FieldValue } from "../../uapi/layout.ts";
import { commandByName, commandsByNumber } from "../../uapi/index.ts";
import { EventError, type TraceEvent } from "../events.ts";
import { describe, parseInt53, U64_MAX } from "../values.ts";
import { checkInlineArgs } from "./inline.ts";

/**
 * Members that a trace may give inline instead of through a user pointer
 * (docs/trace-format.md "Kernel system calls", `arg`). The handler of the command reads them.
 */
export const INLINE_ARGS: Readonly<Record<string, readonly string[]>> = {
  IOMMU_HWPT_ALLOC: ["data"],
  IOMMU_VIOMMU_ALLOC: ["data"],
  IOMMU_HWPT_INVALIDATE: ["data"],
  IOMMU_IOAS_ALLOW_IOVAS: ["allowed_iovas"],
  IOMMU_IOAS_IOVA_RANGES: ["allowed_iovas"],
  IOMMU_GET_HW_INFO: ["data"],
  VFIO_DEVICE_BIND_IOMMUFD: ["token"],
  VFIO_DEVICE_FEATURE: ["data"],
  VFIO_DEVICE_SET_IRQS: ["data"],
};

/** The user's side of one ioctl call. */
export type UserArg =
  | { kind: "null" } // a NULL pointer: get_user/copy_from_user fault
  | { kind: "bytes"; bytes: Uint8Array; inline: Record<string, unknown> }
  | { kind: "int"; value: bigint }
  | { kind: "string"; value: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** An ioctl's unsigned long argument as a trace may write it: decimal (possibly negative) or hex. */
const INT_ARG = /^(0[xX][0-9a-fA-F]+|-?[0-9]+)$/;

function hexBytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h, "hex"));
}

/**
 * Build the user argument of `ev` for command `def`. Throws EventError naming
 * the `arg.<member>` at fault (bad input: exit 2).
 */
export function userArg(def: UapiCommand, ev: TraceEvent): UserArg {
  const arg = ev.arg;
  if (arg === null) return { kind: "null" };
  const a = def.arg;
  if (a.kind === "struct") {
    if (ev.argHex !== undefined) return { kind: "bytes", bytes: hexBytes(ev.argHex as string), inline: {} };
    if (arg !== undefined && !isPlainObject(arg)) throw new EventError("arg", `${def.name} takes a struct: expected an object, got ${describe(arg)}`);
    const fields = { ...((arg as Record<string, unknown> | undefined) ?? {}) };
    const inline: Record<string, unknown> = {};
    for (const name of INLINE_ARGS[def.name] ?? []) {
      const v = fields[name];
      // A pointer member given as an address stays in the struct; given as data it travels inline.
      if (v !== undefined && (isPlainObject(v) || Array.isArray(v) || (name === "token" && typeof v === "string"))) {
        inline[name] = v;
        delete fields[name];
      }
    }
    const sizeField = a.sizeField;
    let length = a.struct.size;
    if (sizeField && fields[sizeField] !== undefined) {
      try {
        length = parseInt53(fields[sizeField]);
      } catch (e) {
        throw new EventError(`arg.${sizeField}`, (e as Error).message);
      }
      if (length > 1 << 20) throw new EventError(`arg.${sizeField}`, `${length} is larger than this simulator accepts (1 MiB)`);
    } else if (sizeField) {
      fields[sizeField] = a.struct.size;
    }
    try {
      // The struct is encoded in full, then cut to the caller's length: members past it are not the caller's.
      const bytes = encodeStruct(a.struct, fields as Record<string, FieldValue>, Math.max(length, a.struct.size));
      return { kind: "bytes", bytes: length < bytes.length ? bytes.slice(0, length) : bytes, inline };
    } catch (e) {
      if (e instanceof LayoutError) throw new EventError(`arg.${e.field}`, e.message);
      throw e;
    }
  }
  if (a.kind === "string") {
    if (typeof arg !== "string") throw new EventError("arg", `${def.name} takes a device name string, got ${describe(arg)}`);
    return { kind: "string", value: arg };
  }
  // An integer, a pointer to one, or nothing (the unsigned long the kernel ignores): the register's value.
  if (arg === undefined) return { kind: "int", value: 0n };
  const n = typeof arg === "number" && Number.isSafeInteger(arg) ? BigInt(arg) : typeof arg === "string" && INT_ARG.test(arg) ? BigInt(arg) : undefined;
  if (n === undefined || n < -(1n << 63n) || n > U64_MAX) {
    const what = a.kind === "none" ? "no argument (give nothing, or the integer the kernel ignores)" : "an integer";
    throw new EventError("arg", `${def.name} takes ${what}, got ${describe(arg)}`);
  }
  return { kind: "int", value: n };
}

/** The commands a trace's `cmd` may mean: by name one, by number every file kind's. */
export function candidates(cmd: unknown): UapiCommand[] {
  if (typeof cmd === "string") {
    const d = commandByName(cmd);
    return d ? [d] : [];
  }
  return typeof cmd === "number" ? commandsByNumber(cmd) : [];
}

/**
 * Parse-time check of an ioctl event: a named command must be known, and its
 * arg, inline payloads included, must encode for at least one command the
 * name or number can mean.
 */
export function checkIoctlEvent(ev: TraceEvent): void {
  const defs = candidates(ev.cmd);
  if (typeof ev.cmd === "string" && defs.length === 0) throw new EventError("cmd", `unknown ioctl "${ev.cmd}"`);
  if (defs.length === 0) return; // an unknown number: the kernel answers ENOTTY
  let first: unknown;
  for (const d of defs) {
    try {
      const a = userArg(d, ev);
      if (a.kind === "bytes") checkInlineArgs(d, (ev.arg as Record<string, unknown> | undefined) ?? {}, a.inline);
      return;
    } catch (e) {
      first ??= e;
    }
  }
  throw first;
}
