// QEMU device properties as a trace gives them (`props` of qemu.viommu,
// qemu.device, qemu.vfio-pci), checked when the trace is read. A value is
// what `-device MODEL,name=value` can carry: a string, an integer or a
// boolean; a property the model knows must have a value its QEMU type takes
// (qdev's bool/OnOffAuto/uint setters for intel-iommu, a string for qdev's
// `id` and `bus`, given in `props` or as fields). An unknown intel-iommu property is not bad input: QEMU
// refuses it (object_property_find), and so does the reducer, as an outcome.

import { EventError } from "../events.ts";
import { describe } from "../values.ts";
import { isVtdProp, VtdPropError, vtdPropValue } from "../viommu/vtd/regs.ts";

/** qdev's own string properties every device has (DeviceState's `id`, qdev_device_add's `bus`). */
const QDEV_STRING_PROPS = ["id", "bus"];

function checkScalar(name: string, v: unknown): void {
  if (typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isSafeInteger(v))) return;
  throw new EventError(`props.${name}`, `expected a property value (a string, an integer or true/false), got ${describe(v)}`);
}

/** Check the `props` of a qemu.* event (and its `id`/`bus` fields); throws EventError naming `props.NAME`. */
export function checkQemuProps(ev: Record<string, unknown>): void {
  const props = (ev.props as Record<string, unknown> | undefined) ?? {};
  const vtd = ev.op === "qemu.viommu" && ev.model === "intel-iommu";
  for (const [name, v] of Object.entries(props)) {
    checkScalar(name, v);
    if (vtd && isVtdProp(name)) {
      try {
        vtdPropValue(name, v);
      } catch (e) {
        if (e instanceof VtdPropError) throw new EventError(`props.${name}`, e.message);
        throw e;
      }
    }
    if (QDEV_STRING_PROPS.includes(name) && typeof v !== "string") throw new EventError(`props.${name}`, `expected a string, got ${describe(v)}`);
  }
}
