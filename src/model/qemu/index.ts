// The VMM (QEMU) ops, one reducer per op.

import type { Reducer } from "../framework.ts";
import { qemuDevice } from "./device.ts";
import { guestReducers } from "./guest.ts";
import { qemuMachine } from "./machine.ts";
import { qemuVfioPci } from "./vfio_pci.ts";
import { qemuViommu } from "./viommu.ts";

export const qemuReducers: Record<string, Reducer> = {
  "qemu.machine": qemuMachine,
  "qemu.viommu": qemuViommu,
  "qemu.device": qemuDevice,
  "qemu.vfio-pci": qemuVfioPci,
  ...guestReducers,
};
