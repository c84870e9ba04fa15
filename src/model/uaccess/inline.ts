// Parse-time check of the inline payloads of an ioctl `arg` (INLINE_ARGS,
// docs/trace-format.md "Kernel system calls"): each must be what its handler
// can read, so that a malformed payload is bad input when the trace is read,
// not a fault halfway through a replay, nor silently ignored. The handlers
// read them with the same encoders (inlineBytes, featureDataBytes).

import type { UapiCommand } from "../../uapi/commands.ts";
import { IOMMU_HWPT_DATA_STRUCTS, IOMMU_HWPT_INVALIDATE_STRUCTS, IOMMU_VIOMMU_DATA_STRUCTS, IOMMU_VIOMMU_INVALIDATE_STRUCTS } from "../../uapi/iommufd.ts";
import { fieldToBigInt, type FieldValue, type StructDef } from "../../uapi/layout.ts";
import { VFIO_DEVICE_FEATURE_MASK } from "../../uapi/vfio.ts";
import { EventError } from "../events.ts";
import { inlineBytes } from "../iommufd/user_data.ts";
import { describe, parseInt53, parseU64, ValueError } from "../values.ts";
import { featureDataBytes } from "../vfio/feature_data.ts";

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** A struct member of the trace's `arg` as a number (0 when not given); the struct encoding has already accepted it. */
function member(def: UapiCommand, arg: Record<string, unknown>, name: string): number {
  const f = def.arg.kind === "struct" ? def.arg.struct.byName.get(name) : undefined;
  const v = arg[name];
  return f && v !== undefined ? Number(fieldToBigInt(f, v as FieldValue)) : 0;
}

/**
 * One driver payload: raw bytes, or the members of the data type's struct
 * (`structs`: more than one when the type alone does not decide it). For a
 * type with no struct here the kernel refuses the call before it reads the
 * data, so the members need only be those of some struct of the command
 * (`family`): the selftest passes a mock struct with IOMMU_HWPT_DATA_NONE.
 */
function driverData(v: unknown, structs: readonly (StructDef | undefined)[], family: Iterable<StructDef>, field: string): void {
  const own = structs.filter((s): s is StructDef => s !== undefined);
  const candidates = own.length > 0 ? own : [...family];
  const errors: EventError[] = [];
  for (const s of candidates) {
    try {
      inlineBytes(v, s, field);
      return;
    } catch (e) {
      if (!(e instanceof EventError)) throw e;
      errors.push(e);
    }
  }
  if (own.length > 0) throw errors[0]!;
  // A member some struct has, with a value it cannot take, says more than "no such member".
  const valueError = errors.find((e) => e.field !== field && !e.message.includes(" has no member "));
  throw (
    valueError ??
    new EventError(field, "no driver struct is known for this data type, and none of this command takes these members: give the bytes as {hex|u32|u64}")
  );
}

function asField<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValueError) throw new EventError(field, e.message);
    throw e;
  }
}

/** `allowed_iovas`: a list of {"start","last"}. */
function iovaRanges(v: unknown): void {
  if (!Array.isArray(v)) throw new EventError("arg.allowed_iovas", `expected a list of {"start","last"}, got ${describe(v)}`);
  v.forEach((r, i) => {
    const at = `arg.allowed_iovas[${i}]`;
    if (r === null || typeof r !== "object" || Array.isArray(r)) throw new EventError(at, `expected {"start","last"}, got ${describe(r)}`);
    for (const [k, x] of Object.entries(r)) {
      if (k !== "start" && k !== "last") throw new EventError(`${at}.${k}`, "unknown field (known: start, last)");
      asField(`${at}.${k}`, () => parseU64(x));
    }
  });
}

/** VFIO_DEVICE_SET_IRQS `data`: one bool (DATA_BOOL) or one eventfd number (DATA_EVENTFD, -1 to tear down) per vector. */
function irqData(v: unknown): void {
  if (!Array.isArray(v)) throw new EventError("arg.data", `expected a list (a bool or an eventfd per vector), got ${describe(v)}`);
  v.forEach((x, i) => {
    if (typeof x === "boolean") return;
    const n = asField(`arg.data[${i}]`, () => parseInt53(x, -(2 ** 31)));
    if (n > 0xffffffff) throw new EventError(`arg.data[${i}]`, `${n} does not fit in 32 bits`);
  });
}

/** Check the inline payloads `inline` of an `arg` for command `def`; throws EventError naming the field. */
export function checkInlineArgs(def: UapiCommand, arg: Record<string, unknown>, inline: Readonly<Record<string, unknown>>): void {
  for (const [name, v] of Object.entries(inline)) {
    switch (`${def.name} ${name}`) {
      case "IOMMU_HWPT_ALLOC data":
        driverData(v, [IOMMU_HWPT_DATA_STRUCTS.get(member(def, arg, "data_type"))], IOMMU_HWPT_DATA_STRUCTS.values(), "arg.data");
        break;
      case "IOMMU_VIOMMU_ALLOC data":
        driverData(v, [IOMMU_VIOMMU_DATA_STRUCTS.get(member(def, arg, "type"))], IOMMU_VIOMMU_DATA_STRUCTS.values(), "arg.data");
        break;
      case "IOMMU_HWPT_INVALIDATE data": {
        // The entry struct depends on what hwpt_id is (a nested HWPT or a vIOMMU): either may take it.
        const type = member(def, arg, "data_type");
        const structs = [IOMMU_HWPT_INVALIDATE_STRUCTS.get(type), IOMMU_VIOMMU_INVALIDATE_STRUCTS.get(type)];
        const family = [...IOMMU_HWPT_INVALIDATE_STRUCTS.values(), ...IOMMU_VIOMMU_INVALIDATE_STRUCTS.values()];
        if (!Array.isArray(v)) driverData(v, structs, family, "arg.data");
        else for (const [i, e] of v.entries()) driverData(e, structs, family, `arg.data[${i}]`);
        break;
      }
      case "IOMMU_GET_HW_INFO data":
        // The kernel fills it: an inline buffer has nothing to give.
        if (Array.isArray(v) || Object.keys(v as object).length > 0) throw new EventError("arg.data", `the kernel fills data: give {}, got ${describe(v)}`);
        break;
      case "IOMMU_IOAS_ALLOW_IOVAS allowed_iovas":
      case "IOMMU_IOAS_IOVA_RANGES allowed_iovas":
        iovaRanges(v);
        break;
      case "VFIO_DEVICE_BIND_IOMMUFD token":
        if (typeof v !== "string" || !UUID.test(v))
          throw new EventError("arg.token", `expected a UUID like 00000000-0000-0000-0000-000000000000, got ${describe(v)}`);
        break;
      case "VFIO_DEVICE_FEATURE data":
        featureDataBytes(v, member(def, arg, "flags") & VFIO_DEVICE_FEATURE_MASK);
        break;
      case "VFIO_DEVICE_SET_IRQS data":
        irqData(v);
        break;
    }
  }
}
