// The iommufd selftest's mock IOMMU driver (drivers/iommu/iommufd/selftest.c:
// mock_ops, mock_domain ops, mock_viommu_ops), host type selftest_mock. The
// selftest's IOMMU_TEST_OP_MOCK_DOMAIN devices are the model's bound devices
// (test/traces/selftest/README.md).

import {
  IOMMU_HW_INFO_SELFTEST_REGVAL,
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING as HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT as HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID as HWPT_ALLOC_PASID,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HW_INFO_TYPE_SELFTEST,
  IOMMU_HW_QUEUE_TYPE_SELFTEST,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
  IOMMU_TEST_DEV_CACHE_DEFAULT,
  IOMMU_TEST_INVALIDATE_FLAG_ALL,
  IOMMU_TEST_PASID_RESERVED,
  IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
  IOMMU_VIOMMU_TYPE_SELFTEST,
  iommu_hwpt_invalidate_selftest,
  iommu_hwpt_selftest,
  iommu_test_hw_info,
  iommu_viommu_invalidate_selftest,
  iommu_viommu_selftest,
  MOCK_DEV_CACHE_ID_MAX,
  MOCK_DEV_CACHE_NUM,
  MOCK_IOMMUPT_DEFAULT,
  MOCK_IOMMUPT_HUGE,
  MOCK_NESTED_DOMAIN_IOTLB_ID_MAX,
  MOCK_NESTED_DOMAIN_IOTLB_NUM,
} from "../../uapi/iommufd.ts";
import { defaultParams, MOCK_HUGE_PGSIZE_BITMAP } from "../domain/params.ts";
import type { NestedDomain } from "../domain/state.ts";
import { declaredCaps, Unmodelled, type DriverDevice, type InvalidateResult, type IommuDriver, type NestedSpec, type Verdict } from "./driver.ts";
import { copyFullUserArray, copyStructFromUserArray, copyStructFromUserData, type UserData, type UserDataArray } from "./user_data.ts";

/** __mock_domain_alloc_nested: IOMMU_HWPT_DATA_SELFTEST, its fake IOTLB filled with the given value. */
function mockNested(ud: UserData): Verdict<NestedSpec> {
  if (ud.type !== IOMMU_HWPT_DATA_SELFTEST) return "EOPNOTSUPP";
  const cfg = copyStructFromUserData(ud, IOMMU_HWPT_DATA_SELFTEST, iommu_hwpt_selftest, "iotlb");
  if (typeof cfg === "string") return cfg;
  return { dataType: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: cfg.iotlb as number }, iotlb: new Array(MOCK_NESTED_DOMAIN_IOTLB_NUM).fill(cfg.iotlb) };
}

/** mock_domain_alloc_nested / mock_viommu_alloc_domain_nested: only IOMMU_HWPT_ALLOC_PASID among the flags. */
function allocNested(flags: number, ud: UserData): Verdict<NestedSpec> {
  if (flags & ~HWPT_ALLOC_PASID) return "EOPNOTSUPP";
  return mockNested(ud);
}

/** mock_domain_cache_invalidate_user: entry by entry, stopping at the first bad one. */
function cacheInvalidateUser(domain: NestedDomain, arr: UserDataArray): InvalidateResult {
  const clear: number[] = [];
  let rc: string | undefined;
  let done = 0;
  if (arr.type !== IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) rc = "EINVAL";
  else
    for (let i = 0; i < arr.entryNum; i++) {
      const inv = copyStructFromUserArray(arr, IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, i, iommu_hwpt_invalidate_selftest, "iotlb_id");
      if (typeof inv === "string") {
        rc = inv;
        break;
      }
      const flags = inv.flags as number;
      const id = inv.iotlb_id as number;
      if (flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
        rc = "EOPNOTSUPP";
        break;
      }
      if (id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
        rc = "EINVAL";
        break;
      }
      if (flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) for (let j = 0; j < MOCK_NESTED_DOMAIN_IOTLB_NUM; j++) clear.push(j);
      else clear.push(id);
      done++;
    }
  return {
    rc,
    done,
    apply: () => {
      if (domain.iotlb) for (const j of clear) domain.iotlb[j] = 0;
    },
  };
}

/** mock_viommu_cache_invalidate: the whole array at once, then entry by entry against the vDEVICEs. */
function viommuCacheInvalidate(arr: UserDataArray, findDev: (virtId: bigint) => DriverDevice | undefined): InvalidateResult {
  if (arr.entryNum === 0 && arr.type === IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST) return { rc: undefined, done: 0, apply: () => {} };
  const cmds = copyFullUserArray(arr, IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, iommu_viommu_invalidate_selftest);
  if (typeof cmds === "string") return { rc: cmds, done: 0, apply: () => {} };
  const writes: { dev: DriverDevice; ids: number[] }[] = [];
  let rc: string | undefined;
  let done = 0;
  for (const cmd of cmds) {
    const flags = cmd.flags as number;
    const cacheId = cmd.cache_id as number;
    if (flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
      rc = "EOPNOTSUPP";
      break;
    }
    if (cacheId > MOCK_DEV_CACHE_ID_MAX) {
      rc = "EINVAL";
      break;
    }
    const dev = findDev(BigInt(cmd.vdev_id as number));
    if (!dev) {
      rc = "EINVAL";
      break;
    }
    writes.push({ dev, ids: flags & IOMMU_TEST_INVALIDATE_FLAG_ALL ? [...Array(MOCK_DEV_CACHE_NUM).keys()] : [cacheId] });
    done++;
  }
  return {
    rc,
    done,
    apply: () => {
      for (const w of writes) for (const j of w.ids) if (w.dev.mock) w.dev.mock.cache[j] = 0;
    },
  };
}

export const MOCK_DRIVER: IommuDriver = {
  name: "selftest_mock",
  // The mock driver reports no reserved regions.
  resvRegions: [],
  // mock_domain_capable: DIRTY_TRACKING unless the device opts out (MOCK_FLAGS_DEVICE_NO_DIRTY); as declared by host.iommu.
  dirtyCapable: (host, hd) => hd.dirtyTracking !== false && declaredCaps(host).includes("DIRTY_TRACKING"),
  // mock_domain_capable knows only CACHE_COHERENCY and DIRTY_TRACKING.
  atsSupported: () => false,
  // mock_dev_create: the fake device cache starts at IOMMU_TEST_DEV_CACHE_DEFAULT.
  newDevice: () => ({ pasid1024: false, cache: new Array(MOCK_DEV_CACHE_NUM).fill(IOMMU_TEST_DEV_CACHE_DEFAULT) }),
  // mock_domain_hw_info
  hwInfo: (_host, inType) => {
    if (inType !== IOMMU_HW_INFO_TYPE_DEFAULT && inType !== IOMMU_HW_INFO_TYPE_SELFTEST) return "EOPNOTSUPP";
    const bytes = new Uint8Array(iommu_test_hw_info.size);
    new DataView(bytes.buffer).setUint32(4, IOMMU_HW_INFO_SELFTEST_REGVAL, true);
    return { type: IOMMU_HW_INFO_TYPE_SELFTEST, struct: iommu_test_hw_info, bytes };
  },
  // mock_domain_alloc_pgtable, MOCK_IOMMUPT_DEFAULT (src/model/domain/params.ts).
  pagingParams: () => defaultParams("selftest", 0),
  // mock_domain_alloc_paging_flags
  allocPagingFlags: (_host, hd, flags, ud, base) => {
    const PAGING_FLAGS = HWPT_ALLOC_DIRTY_TRACKING | HWPT_ALLOC_NEST_PARENT | HWPT_ALLOC_PASID;
    if (flags & ~PAGING_FLAGS || (flags & HWPT_ALLOC_DIRTY_TRACKING && hd.dirtyTracking === false)) return "EOPNOTSUPP";
    if (ud && ud.type !== IOMMU_HWPT_DATA_SELFTEST && ud.type !== IOMMU_HWPT_DATA_NONE) return "EOPNOTSUPP";
    let pagetableType = MOCK_IOMMUPT_DEFAULT;
    if (ud) {
      const cfg = copyStructFromUserData(ud, IOMMU_HWPT_DATA_SELFTEST, iommu_hwpt_selftest, "iotlb");
      if (typeof cfg === "string") return cfg;
      pagetableType = cfg.pagetable_type as number;
    }
    // mock_domain_alloc_pgtable: the aperture is overridden to the MOCK aperture for the default type only
    if (pagetableType === MOCK_IOMMUPT_DEFAULT) return base;
    if (pagetableType === MOCK_IOMMUPT_HUGE)
      return { ...base, pgsizeBitmap: MOCK_HUGE_PGSIZE_BITMAP, aperture: { start: 0n, last: (1n << BigInt(base.awBits)) - 1n } };
    return "EOPNOTSUPP";
  },
  allocNested: (_host, _parent, flags, ud) => allocNested(flags, ud),
  // mock_domain_nop_attach: a dirty-tracking domain refuses a no-dirty device; a vIOMMU's nested domain needs the device's vDEVICE.
  attachDev: (_host, dev, target) => {
    if (target.domain.type === "paging" && target.domain.dirtyOps && dev.hd.dirtyTracking === false) return "EINVAL";
    if (target.viommu && !target.viommu.vdevOfDevice) return "ENOENT";
    return undefined;
  },
  // mock_domain_set_dev_pasid_nop: PASID 1024 fails every second call (IOMMU_TEST_PASID_RESERVED).
  setDevPasid: (_host, dev, _target, pasid) => (pasid === IOMMU_TEST_PASID_RESERVED && dev.mock?.pasid1024 ? "ENOMEM" : undefined),
  commitSetDevPasid: (dev, pasid) => {
    if (pasid === IOMMU_TEST_PASID_RESERVED && dev.mock) dev.mock.pasid1024 = !dev.mock.pasid1024;
  },
  blockPasid: (dev, pasid) => {
    if (pasid === IOMMU_TEST_PASID_RESERVED && dev.mock) dev.mock.pasid1024 = false;
  },
  cacheInvalidateUser,
  viommu: {
    types: [IOMMU_VIOMMU_TYPE_SELFTEST],
    dataStruct: (type) => (type === IOMMU_VIOMMU_TYPE_SELFTEST ? iommu_viommu_selftest : undefined),
    allocDomainNested: (_parent, flags, ud) => allocNested(flags, ud),
    cacheInvalidate: viommuCacheInvalidate,
    // mock_viommu_get_hw_queue_size
    hwQueueTypes: [IOMMU_HW_QUEUE_TYPE_SELFTEST],
  },
  enforceCacheCoherency: () => new Unmodelled("VFIO_DMA_CC_IOMMU over a selftest mock domain"),
  // The mock's blocking domain is named as the AMD one (IO_PAGE_FAULT_PE).
  blockedFault: () => "IO_PAGE_FAULT_PE",
};
