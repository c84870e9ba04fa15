// VFIO_DEVICE_FEATURE's inline `data` (docs/trace-format.md "Kernel system
// calls", `arg`): the payload after the 8-byte vfio_device_feature header, by
// the member names of the feature's struct (include/uapi/linux/vfio.h), for
// VFIO_DEVICE_FEATURE_DMA_BUF followed by `dma_ranges`. One encoder for the
// parse-time check and the handler (src/model/vfio/feature.ts).

import {
  vfio_device_feature_bus_master,
  vfio_device_feature_dma_buf,
  vfio_device_feature_dma_logging_control,
  vfio_device_feature_dma_logging_report,
  vfio_device_feature_mig_data_size,
  vfio_device_feature_mig_state,
  vfio_device_feature_migration,
  vfio_device_low_power_entry_with_wakeup,
  vfio_region_dma_range,
  VFIO_DEVICE_FEATURE_DMA_BUF,
} from "../../uapi/vfio.ts";
import { encodeStruct, LayoutError, type FieldValue, type StructDef } from "../../uapi/layout.ts";
import { EventError } from "../events.ts";
import { describe } from "../values.ts";

/** The payload struct of each feature that has one, by feature number (the low 16 bits of flags). */
export const FEATURE_PAYLOADS: Readonly<Record<number, StructDef>> = {
  1: vfio_device_feature_migration,
  2: vfio_device_feature_mig_state,
  4: vfio_device_low_power_entry_with_wakeup,
  6: vfio_device_feature_dma_logging_control,
  8: vfio_device_feature_dma_logging_report,
  9: vfio_device_feature_mig_data_size,
  10: vfio_device_feature_bus_master,
  11: vfio_device_feature_dma_buf,
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** The bytes of `data` for `feature`; EventError naming `arg.data.MEMBER` when they cannot be made. */
export function featureDataBytes(data: unknown, feature: number): Uint8Array {
  if (!isObject(data)) throw new EventError("arg.data", `expected an object of the feature's struct members, got ${describe(data)}`);
  const def = FEATURE_PAYLOADS[feature];
  if (!def) {
    if (Object.keys(data).length === 0) return new Uint8Array(0);
    throw new EventError("arg.data", `feature ${feature} has no payload struct: give {} or the whole argument as argHex`);
  }
  const fields: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(data)) if (k !== "dma_ranges" || feature !== VFIO_DEVICE_FEATURE_DMA_BUF) fields[k] = v as FieldValue;
  const rangesRaw = feature === VFIO_DEVICE_FEATURE_DMA_BUF ? (data.dma_ranges ?? []) : [];
  if (!Array.isArray(rangesRaw)) throw new EventError("arg.data.dma_ranges", `expected a list of {"offset","length"}, got ${describe(rangesRaw)}`);
  if (feature === VFIO_DEVICE_FEATURE_DMA_BUF && fields.nr_ranges === undefined) fields.nr_ranges = rangesRaw.length;
  let head: Uint8Array;
  const ranges: Uint8Array[] = [];
  try {
    head = encodeStruct(def, fields);
  } catch (e) {
    if (e instanceof LayoutError) throw new EventError(`arg.data.${e.field}`, e.message);
    throw e;
  }
  for (const [i, r] of rangesRaw.entries()) {
    const at = `arg.data.dma_ranges[${i}]`;
    if (!isObject(r)) throw new EventError(at, `expected {"offset","length"}, got ${describe(r)}`);
    try {
      ranges.push(encodeStruct(vfio_region_dma_range, r as Record<string, FieldValue>));
    } catch (e) {
      if (e instanceof LayoutError) throw new EventError(`${at}.${e.field}`, e.message);
      throw e;
    }
  }
  const out = new Uint8Array(head.length + 16 * ranges.length);
  out.set(head);
  for (const [i, r] of ranges.entries()) out.set(r, head.length + 16 * i);
  return out;
}
