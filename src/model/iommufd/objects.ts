// The object table of an iommufd context (drivers/iommu/iommufd/main.c):
// allocation of ids, lookup by id and type, users. Removal, which runs the
// object kind's destroy, is main.ts's (iommufd_object_ops[]); code that
// destroys an object of a kind it knows calls that kind's destroy through
// destroyWith, as the kernel's abort paths call the kind's destroy directly.

import type { ReduceEnv } from "../framework.ts";
import type { HostDevice } from "../host/state.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import type { IommufdCtx, IommufdDevice, IommufdObject, ObjType } from "./state.ts";

/** What destroying an object of a kind releases (the users it held on others, domains, pins...). */
export type DestroyFn<T extends IommufdObject = IommufdObject> = (s: State, ctx: IommufdCtx, obj: T, env: ReduceEnv) => void;

/** The iommufd context behind the file an iommufd ioctl was made on. */
export function ctxOf(s: State, call: IoctlCall): IommufdCtx {
  return ctxOfFile(s, call.file.id);
}

/** The iommufd context of an open /dev/iommu file (held by the caller: it exists). */
export function ctxOfFile(s: State, fileId: number): IommufdCtx {
  const ctx = s.iommufd.get(fileId);
  if (!ctx) throw new Error(`no iommufd context for file ${fileId}`);
  return ctx;
}

/** The host device behind an iommufd device (bound devices are never unregistered). */
export function hostDeviceOf(s: State, idev: IommufdDevice): HostDevice {
  const hd = s.host.devices.get(idev.bdf);
  if (!hd) throw new Error(`iommufd device ${idev.id}: host device ${idev.bdf} is gone`);
  return hd;
}

/** The lowest free id from 1, as xa_alloc on an XA_FLAGS_ALLOC1 array gives it (a tombstone is not free). */
export function allocId(ctx: IommufdCtx): number {
  let id = 1;
  while (ctx.objects.has(id) || ctx.tombstones?.includes(id)) id++;
  return id;
}

/** Insert a new object under the next id (iommufd_object_alloc + finalize). */
export function addObject<T extends IommufdObject>(ctx: IommufdCtx, make: (id: number) => T): T {
  const obj = make(allocId(ctx));
  ctx.objects.set(obj.id, obj);
  return obj;
}

/**
 * iommufd_get_object: the object with this id and type, or undefined (the
 * kernel's ENOENT, for a missing id and for an object of another type alike).
 */
export function getObject<K extends ObjType>(ctx: IommufdCtx, id: number, type: K): Extract<IommufdObject, { type: K }> | undefined {
  const obj = ctx.objects.get(id);
  return obj && obj.type === type ? (obj as Extract<IommufdObject, { type: K }>) : undefined;
}

/** Take or drop one user of an object. */
export function addUser(ctx: IommufdCtx, id: number, delta: number): void {
  const obj = ctx.objects.get(id);
  if (obj) obj.users += delta;
}

/** Take the object out of the table and run its kind's destroy (iommufd_object_remove's last steps). */
export function destroyWith<T extends IommufdObject>(s: State, ctx: IommufdCtx, obj: T, destroy: DestroyFn<T>, env: ReduceEnv): void {
  ctx.objects.delete(obj.id);
  if (ctx.vfioIoasId === obj.id) ctx.vfioIoasId = null;
  destroy(s, ctx, obj, env);
}
