// The iommufd file and its object table (drivers/iommu/iommufd/main.c): a
// context per open /dev/iommu, torn down on release; the table of object
// kinds with their destroy (iommufd_object_ops[]); IOMMU_DESTROY. The
// handlers of each object kind live beside this file, one file per kind, and
// the command table is src/model/ioctl/table.ts.

import type { OpenFile } from "../files/state.ts";
import type { FileMapping, FileOps, ReduceEnv } from "../framework.ts";
import { errno, type Outcome } from "../outcome.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { iommufdAccessDestroyObject } from "./access.ts";
import { iommufdDeviceDestroy } from "./device.ts";
import { iommufdFaultDestroy, iommufdVeventqDestroy } from "./eventq.ts";
import { iommufdHwptNestedDestroy, iommufdHwptPagingDestroy } from "./hw_pagetable.ts";
import { iommufdIoasDestroy } from "./ioas.ts";
import { iommufdSelftestDestroy } from "./selftest.ts";
import { ctxOf, destroyWith, type DestroyFn } from "./objects.ts";
import type { IommufdCtx, IommufdObject, ObjType } from "./state.ts";
import { iommufdHwQueueDestroy, iommufdVdeviceDestroy, iommufdViommuDestroy } from "./viommu.ts";

/**
 * iommufd_object_ops[]: what destroying each kind releases. An access is
 * destroyed by its owner (a HW queue, the selftest's access file), never by
 * IOMMU_DESTROY (its owner holds a user).
 */
const OBJECT_OPS: { readonly [K in ObjType]: { readonly destroy?: DestroyFn<Extract<IommufdObject, { type: K }>> } } = {
  selftest: { destroy: iommufdSelftestDestroy },
  ioas: { destroy: iommufdIoasDestroy },
  hwpt_paging: { destroy: iommufdHwptPagingDestroy },
  hwpt_nested: { destroy: iommufdHwptNestedDestroy },
  device: { destroy: iommufdDeviceDestroy },
  access: { destroy: iommufdAccessDestroyObject },
  fault: { destroy: iommufdFaultDestroy },
  viommu: { destroy: iommufdViommuDestroy },
  vdevice: { destroy: iommufdVdeviceDestroy },
  veventq: { destroy: iommufdVeventqDestroy },
  hw_queue: { destroy: iommufdHwQueueDestroy },
};

/** Remove an object from the table and run its kind's destroy. */
function destroyObject(s: State, ctx: IommufdCtx, obj: IommufdObject, env: ReduceEnv): void {
  const destroy = OBJECT_OPS[obj.type].destroy as DestroyFn | undefined;
  destroyWith(s, ctx, obj, destroy ?? (() => {}), env);
}

/**
 * iommufd_object_remove(ictx, NULL, id, 0), as IOMMU_DESTROY calls it: ENOENT
 * for no object, EBUSY while anything else holds a user, else destroyed.
 */
function removeObject(s: State, ctx: IommufdCtx, id: number, env: ReduceEnv): "ENOENT" | "EBUSY" | undefined {
  const obj = ctx.objects.get(id);
  if (!obj) return "ENOENT";
  if (obj.users !== 1) return "EBUSY";
  destroyObject(s, ctx, obj, env);
  return undefined;
}

/**
 * iommufd_fops_release: destroy every object whose only user is the table,
 * in id order, and repeat until the table is empty; leaves give back the users
 * they held on interior objects as they go.
 */
function releaseContext(s: State, ctx: IommufdCtx, env: ReduceEnv): void {
  while (ctx.objects.size > 0) {
    let destroyed = 0;
    for (const id of [...ctx.objects.keys()].sort((a, b) => a - b)) {
      const obj = ctx.objects.get(id);
      if (obj?.users !== 1) continue;
      destroyObject(s, ctx, obj, env);
      destroyed++;
    }
    if (destroyed === 0) break; // a users-count bug: the kernel WARNs and leaks
  }
}

/** iommufd_fops: open makes an empty object table with user accounting; release destroys every object, leaves first. */
export const IOMMUFD_FOPS: Omit<FileOps, "ioctl"> = {
  opened: (s, file) => {
    s.iommufd.set(file.id, { fileId: file.id, objects: new Map(), accountMode: 0, vfioIoasId: null });
  },
  release: (s, file, env) => {
    const ctx = s.iommufd.get(file.id);
    if (!ctx) return;
    releaseContext(s, ctx, env);
    s.iommufd.delete(file.id);
  },
  mmap: iommufdFopsMmap,
};

const MAP_TYPE = 0x0f;
const MAP_PRIVATE = 0x02;
const PROT_EXEC = 0x4;

/**
 * iommufd_fops_mmap: a shared (EINVAL), non-executable (EPERM) mapping at an offset inside a
 * window a driver allocated (iommufd_viommu_alloc_mmap: the mock vIOMMU's), else ENXIO; only
 * the window's exact offset and length (ENXIO). The vma holds a user on the window's owner
 * (iommufd_fops_vma_open/close), so IOMMU_DESTROY of it is EBUSY until the munmap.
 */
function iommufdFopsMmap(s: State, _p: unknown, file: OpenFile, vma: FileMapping): Outcome {
  const ctx = s.iommufd.get(file.id)!;
  // do_mmap: MAP_SHARED and MAP_SHARED_VALIDATE give VM_SHARED, MAP_PRIVATE does not
  if ((vma.flags & MAP_TYPE) === MAP_PRIVATE) return errno("EINVAL");
  if (vma.prot & PROT_EXEC) return errno("EPERM");
  const owner = [...ctx.objects.values()].find(
    (o) => o.type === "viommu" && o.mmap !== null && o.mmap.offset <= vma.offset && vma.offset < o.mmap.offset + o.mmap.length,
  );
  if (owner?.type !== "viommu" || owner.mmap === null || owner.users === 0) return errno("ENXIO");
  if (vma.offset !== owner.mmap.offset || vma.length !== owner.mmap.length) return errno("ENXIO");
  owner.users++;
  vma.ownerId = owner.id;
  return { ret: 0 };
}

/**
 * The bytes a file mapping shows from its start (live mode copies them into the caller's
 * anonymous memory): the mock vIOMMU's page holds in_data in its first u32 (mock_viommu_init),
 * zeros after. undefined: no file mapping at va.
 */
export function mappingContents(s: State, pid: number, va: bigint): Uint8Array | undefined {
  const vma = s.processes.get(pid)?.fileMaps?.find((m) => m.va === va);
  const ctx = vma && s.iommufd.get(vma.fileId);
  const owner = ctx && vma.ownerId !== undefined ? ctx.objects.get(vma.ownerId) : undefined;
  if (owner?.type !== "viommu") return undefined;
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, owner.mmapWord ?? 0, true);
  return b;
}

/** iommufd_destroy: remove an object nothing else uses (ENOENT, EBUSY). */
export function iommufdDestroy(s: State, call: IoctlCall, env: ReduceEnv): Outcome {
  const cmd = cmdOf(call);
  const err = removeObject(s, ctxOf(s, call), cmd.id as number, env);
  return err ? errno(err) : respond(call, cmd);
}
