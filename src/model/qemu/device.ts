// qemu.device: an emulated device in a guest slot: a DMA-capable one (e1000e,
// nvme, ...) behind the vIOMMU when there is one, or a bridge whose `id`
// names a new bus (src/model/qemu/topology.ts).

import { notModelled, type Reducer } from "../framework.ts";
import { errno, ok } from "../outcome.ts";
import { machineOf, slotTaken } from "./common.ts";
import { BRIDGE_MODELS, busOf, qdevProp, ROOT_BUS } from "./topology.ts";

export const qemuDevice: Reducer = (s, ev) => {
  const m = machineOf(s, ev.pid as number);
  if (!m) return errno("ESRCH");
  const bdf = ev.guest_bdf as string;
  const model = ev.model as string;
  if (slotTaken(m, bdf)) return notModelled(ev, `a second device in guest slot ${bdf}`);
  const placed = busOf(m, ev);
  if ("error" in placed) return placed;
  const id = qdevProp(ev, "id");
  if (id !== undefined && (id === ROOT_BUS || m.buses.has(id))) return notModelled(ev, `a second bus with id "${id}"`);
  m.devices.set(bdf, model);
  const express = BRIDGE_MODELS[model];
  if (express !== undefined && id !== undefined) m.buses.set(id, { parent: placed.bus, bridgeBdf: bdf, model, express });
  return ok();
};
