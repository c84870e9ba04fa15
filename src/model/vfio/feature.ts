// VFIO_DEVICE_FEATURE (vfio_main.c vfio_ioctl_device_feature and vfio-pci's
// vfio_pci_core_ioctl_feature): the header rules, the core features (migration
// and dirty logging, which plain vfio-pci has no ops for), and vfio-pci's
// features (low power, VF token, dma-buf export).

import { notModelled, type ReduceEnv } from "../framework.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { errno } from "../outcome.ts";
import { hostDevOf } from "./core.ts";
import { exportDmabuf } from "./dmabuf.ts";
import { featureDataBytes } from "./feature_data.ts";
import { inlineOf, userBytes } from "../uaccess/vfio_arg.ts";

const MASK = 0xffff;
const GET = 1 << 16;
const SET = 1 << 17;
const PROBE = 1 << 18;

/** vfio_check_feature: 1 go ahead, 0 probed, else the errno. */
function checkFeature(flags: number, argsz: number, supported: number, minsz: number): 1 | 0 | string {
  if (flags & (GET | SET) & ~supported) return "EINVAL";
  if (flags & PROBE) return 0;
  if (!(flags & (GET | SET))) return "EINVAL";
  if (argsz < minsz) return "EINVAL";
  return 1;
}

/**
 * The feature data after the 8-byte header: the bytes of argHex past it, or
 * the inline `"data"` object encoded as the feature's struct (feature_data.ts).
 */
function payloadOf(call: IoctlCall, feature: number, bytes: Uint8Array): Uint8Array {
  const data = inlineOf(call, "data");
  return data === undefined ? bytes.subarray(8) : featureDataBytes(data, feature);
}

/**
 * vfio_ioctl_device_feature: copy 8 bytes (EFAULT), argsz < 8, an unknown
 * flag, GET and SET without PROBE (EINVAL); then by feature number.
 */
export function vfioIoctlDeviceFeature(s: State, call: IoctlCall, env: ReduceEnv) {
  const head = userBytes(call);
  if (!head) return errno("EFAULT");
  const feature = new DataView(head.buffer, head.byteOffset).getUint32(4, true) & MASK;
  const inline = inlineOf(call, "data") !== undefined;
  const bytes = inline ? userBytes(call, payloadOf(call, feature, new Uint8Array(8)).length)! : head;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const argsz = v.getUint32(0, true);
  const flags = v.getUint32(4, true);
  if (argsz < 8) return errno("EINVAL");
  if (flags & ~(MASK | SET | GET | PROBE)) return errno("EINVAL");
  if (!(flags & PROBE) && flags & SET && flags & GET) return errno("EINVAL");
  const dataSz = argsz - 8;
  const payload = payloadOf(call, feature, bytes);
  if (hostDevOf(s, call.file.bdf!).mdev) return notModelled(call.ev, "VFIO_DEVICE_FEATURE of a mediated device");

  switch (feature) {
    case 1: // MIGRATION
    case 2: // MIG_DEVICE_STATE
    case 9: // MIG_DATA_SIZE: !device->mig_ops
    case 6: // DMA_LOGGING_START
    case 7: // DMA_LOGGING_STOP
    case 8: // DMA_LOGGING_REPORT: !device->log_ops
      return errno("ENOTTY");
    case 12: // MIG_PRECOPY_INFOv2: vfio-pci has no VFIO_MIGRATION_PRE_COPY
      if (env.profile.on("vfio-mig-precopy-infov2")) return errno("EINVAL");
      break;
  }
  // vfio_pci_core_ioctl_feature
  switch (feature) {
    case 3: // LOW_POWER_ENTRY
    case 5: {
      // LOW_POWER_EXIT
      const r = checkFeature(flags, dataSz, SET, 0);
      if (r !== 1) return typeof r === "string" ? errno(r) : { ret: 0 };
      return notModelled(call.ev, "runtime power management of a VFIO device (VFIO_DEVICE_FEATURE_LOW_POWER_*)");
    }
    case 4: {
      // LOW_POWER_ENTRY_WITH_WAKEUP: the wakeup eventfd; no fd of the model is an eventfd.
      const r = checkFeature(flags, dataSz, SET, 8);
      if (r !== 1) return typeof r === "string" ? errno(r) : { ret: 0 };
      const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      if (payload.length >= 8 && pv.getUint32(4, true)) return errno("EINVAL"); // reserved
      const fd = payload.length >= 4 ? pv.getInt32(0, true) : 0;
      return errno(fd >= 0 && call.process.fds.has(fd) ? "EINVAL" : "EBADF");
    }
    case 0: // PCI_VF_TOKEN: only a PF with SR-IOV has vdev->vf_token; host.device has no PFs
      return errno("ENOTTY");
    case 11: {
      if (!env.profile.on("vfio-dmabuf-export")) return errno("ENOTTY");
      const r = checkFeature(flags, dataSz, GET, 16);
      if (r !== 1) return typeof r === "string" ? errno(r) : { ret: 0 };
      const full = new Uint8Array(Math.max(16, payload.length));
      full.set(payload);
      return exportDmabuf(s, call, full);
    }
    default:
      return errno("ENOTTY");
  }
}
