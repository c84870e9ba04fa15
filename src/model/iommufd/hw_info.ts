// IOMMU_GET_HW_INFO (drivers/iommu/iommufd/device.c: iommufd_get_hw_info):
// what the device's IOMMU driver reports (its hw_info data and type), the
// capabilities iommufd adds from device_iommu_capable and the device's PASID
// state.
//
// The vendor data goes to the caller's buffer at data_uptr (data_len bytes:
// min(data_len, the kernel's length) copied, the rest zeroed; EFAULT when it
// faults), or, when the trace gives `"data"` inline, nowhere; either way it
// also comes back inline as `out.data` (the members of the vendor struct that
// fit in the caller's data_len). data_len is set to the kernel's length.

import {
  IOMMU_HW_CAP_DIRTY_TRACKING,
  IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED,
  IOMMU_HW_CAP_PCI_PASID_EXEC,
  IOMMU_HW_CAP_PCI_PASID_PRIV,
  IOMMU_HW_INFO_FLAG_INPUT_TYPE,
  IOMMU_HW_INFO_TYPE_DEFAULT,
} from "../../uapi/iommufd.ts";
import { decodeStruct } from "../../uapi/layout.ts";
import type { ReduceEnv } from "../framework.ts";
import type { HostDevice } from "../host/state.ts";
import { driverOf, isErr, maxPasidLog2, MOCK_DRIVER, refusal, type HwInfo, type IommuDriver, type Unmodelled } from "../iommu/index.ts";
import { errno, type OutValue } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { copyToUser } from "../uaccess/copy.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { ctxOf, getObject, hostDeviceOf } from "./objects.ts";

/**
 * iommufd_get_hw_info: an unknown flag or a non-zero __reserved byte is
 * EOPNOTSUPP; without IOMMU_HW_INFO_FLAG_INPUT_TYPE the requested type is
 * DEFAULT; the device (ENOENT); the driver's hw_info (a type it does not
 * offer: EOPNOTSUPP; no hw_info: type NONE, length 0); the copy (EFAULT);
 * out_capabilities: DIRTY_TRACKING when the device's IOMMU can track dirty
 * pages, PCI_ATS_NOT_SUPPORTED (switch hw-info-ats-cap) when
 * IOMMU_CAP_PCI_ATS_SUPPORTED is not, PCI_PASID_EXEC/PRIV from a PCI device's
 * PASID capability when PASID is usable;
 * out_max_pasid_log2: ilog2 of the device's max_pasids (0 without PASID).
 */
/**
 * out_capabilities IOMMU_HW_CAP_PCI_PASID_EXEC / _PRIV: with PASID usable, from
 * a PCI device's PASID capability (dev_is_pci; the mock device is not PCI).
 */
export function pasidHwCaps(host: State["host"]["iommu"], hd: HostDevice, driver: IommuDriver): { exec: boolean; priv: boolean } {
  if (maxPasidLog2(host, hd, driver) === 0 || driver === MOCK_DRIVER) return { exec: false, priv: false };
  const declared = host?.hwCaps ?? [];
  return { exec: !!hd.pasid?.exec || declared.includes("PCI_PASID_EXEC"), priv: !!hd.pasid?.priv || declared.includes("PCI_PASID_PRIV") };
}

export function iommufdGetHwInfo(s: State, call: IoctlCall, env: ReduceEnv) {
  const cmd = cmdOf(call);
  const flags = cmd.flags as number;
  if (flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) return errno("EOPNOTSUPP");
  if ((cmd.__reserved as number[]).some((b) => b !== 0)) return errno("EOPNOTSUPP");
  const inType = flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE ? (cmd.in_data_type as number) : IOMMU_HW_INFO_TYPE_DEFAULT;
  const idev = getObject(ctxOf(s, call), cmd.dev_id as number, "device");
  if (!idev) return errno("ENOENT");
  const hd = hostDeviceOf(s, idev);
  const driver = driverOf(s, hd);
  const host = s.host.iommu;
  // No hw_info: IOMMU_HW_INFO_TYPE_NONE with no data.
  const info: HwInfo | string | Unmodelled | undefined = driver.hwInfo?.(host, inType);
  if (info !== undefined && isErr(info)) return refusal(call.ev, info);

  const inline = call.arg.kind === "bytes" ? call.arg.inline.data : undefined;
  const klen = info?.bytes.length ?? 0;
  const userLen = (cmd.data_len as number) || (inline !== undefined ? klen : 0);
  const buf = new Uint8Array(userLen);
  if (info) buf.set(info.bytes.subarray(0, Math.min(userLen, klen)));
  if (inline === undefined && userLen > 0) {
    const uptr = cmd.data_uptr as bigint;
    if (uptr === 0n || !copyToUser(s, call.process, uptr, buf)) return errno("EFAULT");
  }
  cmd.data_len = klen;
  cmd.out_data_type = cmd.in_data_type = info?.type ?? 0;

  let caps = 0;
  if (driver.dirtyCapable(host, hd)) caps |= IOMMU_HW_CAP_DIRTY_TRACKING;
  if (env.profile.on("hw-info-ats-cap") && !driver.atsSupported(host, hd)) caps |= IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
  const pasidLog2 = maxPasidLog2(host, hd, driver);
  const pasid = pasidHwCaps(host, hd, driver);
  if (pasid.exec) caps |= IOMMU_HW_CAP_PCI_PASID_EXEC;
  if (pasid.priv) caps |= IOMMU_HW_CAP_PCI_PASID_PRIV;
  cmd.out_capabilities = BigInt(caps);
  cmd.out_max_pasid_log2 = pasidLog2;

  const extra: Record<string, OutValue> = {};
  if (info) {
    const shown = new Uint8Array(info.struct.size);
    shown.set(buf.subarray(0, Math.min(userLen, info.struct.size)));
    const decoded = decodeStruct(info.struct, shown);
    const data: Record<string, OutValue> = {};
    for (const f of info.struct.fields) if (f.offset + f.size <= userLen && !f.name.startsWith("__")) data[f.name] = decoded[f.name] as OutValue;
    extra.data = data;
  }
  return respond(call, cmd, extra);
}
