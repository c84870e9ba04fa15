// qemu.viommu: `-device intel-iommu,...`. vtd_realize decides the config
// (exact error messages) and vtd_cap_init the CAP/ECAP registers, which are
// stored for the register model. Other vIOMMU models are not modelled yet.

import { notModelled, SimulatorFault, type Reducer } from "../framework.ts";
import { errno, ok } from "../outcome.ts";
import { vtdVersionOf } from "./profile.ts";
import { VtdPropError, vtdRealize } from "../viommu/vtd/regs.ts";
import { machineOf } from "./common.ts";
import { newVtdUnit } from "../viommu/vtd/state.ts";
import { BRIDGE_MODELS } from "./topology.ts";

export const qemuViommu: Reducer = (s, ev, env) => {
  const model = ev.model as string;
  if (model !== "intel-iommu") return notModelled(ev, `vIOMMU model "${model}"`);
  const m = machineOf(s, ev.pid as number);
  if (!m) return errno("ESRCH");
  if (m.viommu) return notModelled(ev, "a second vIOMMU in one machine");
  // Bridges may come first: a bus finds its IOMMU when a device behind it asks.
  const dmaDevices = [...m.devices.values()].filter((model) => !(model in BRIDGE_MODELS));
  if (dmaDevices.length > 0 || m.vfio.size > 0) return notModelled(ev, "a vIOMMU created after the devices it translates");
  let r: ReturnType<typeof vtdRealize>;
  try {
    r = vtdRealize((ev.props as Record<string, unknown> | undefined) ?? {}, vtdVersionOf(env.profile), m.irqchip);
  } catch (e) {
    if (e instanceof VtdPropError) return new SimulatorFault({ seq: ev.seq, op: ev.op, kind: "bad-input", message: `props.${e.prop}: ${e.message}` });
    throw e;
  }
  if (!r.ok) return { error: r.error };
  m.viommu = { model: "intel-iommu", config: r.config, cap: r.cap, ecap: r.ecap, unit: newVtdUnit(r.cap, r.ecap) };
  return ok();
};
