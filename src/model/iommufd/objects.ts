// The object table of an iommufd context (drivers/iommu/iommufd/main.c):
// allocation of ids, lookup by id and type, removal with the users rule, and
// the per-type destroy that releases what an object held. One table of object
// kinds, as main.c's iommufd_object_ops[], so every removal path is the same.

import type { ReduceEnv } from "../framework.ts";
import type { State } from "../state.ts";
import type { IommufdCtx, IommufdObject, ObjType } from "./state.ts";

/** What destroying an object of a kind releases (the users it held on others, domains, pins...). */
export type DestroyFn = (s: State, ctx: IommufdCtx, obj: IommufdObject, env: ReduceEnv) => void;

/** iommufd_object_ops[type].destroy; subsystems fill in their kinds. */
export const DESTROY: Partial<Record<ObjType, DestroyFn>> = {};

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

/** Remove an object that nothing else uses and run its destroy. */
function destroyObject(s: State, ctx: IommufdCtx, obj: IommufdObject, env: ReduceEnv): void {
  ctx.objects.delete(obj.id);
  if (ctx.vfioIoasId === obj.id) ctx.vfioIoasId = null;
  DESTROY[obj.type]?.(s, ctx, obj, env);
}

/**
 * iommufd_object_remove(ictx, NULL, id, 0), as IOMMU_DESTROY calls it: ENOENT
 * for no object, EBUSY while anything else holds a user, else destroyed.
 */
export function removeObject(s: State, ctx: IommufdCtx, id: number, env: ReduceEnv): "ENOENT" | "EBUSY" | undefined {
  const obj = ctx.objects.get(id);
  if (!obj) return "ENOENT";
  if (obj.users !== 1) return "EBUSY";
  destroyObject(s, ctx, obj, env);
  return undefined;
}

/** Destroy an object its owner holds the last user of (auto domains, driver-owned devices). */
export function destroyOwned(s: State, ctx: IommufdCtx, obj: IommufdObject, env: ReduceEnv): void {
  destroyObject(s, ctx, obj, env);
}

/**
 * iommufd_fops_release: destroy every object whose only user is the table,
 * in id order, and repeat until the table is empty; leaves give back the users
 * they held on interior objects as they go.
 */
export function releaseContext(s: State, ctx: IommufdCtx, env: ReduceEnv): void {
  while (ctx.objects.size > 0) {
    let destroyed = 0;
    for (const id of [...ctx.objects.keys()].sort((a, b) => a - b)) {
      const obj = ctx.objects.get(id);
      if (!obj || obj.users !== 1) continue;
      destroyObject(s, ctx, obj, env);
      destroyed++;
    }
    if (destroyed === 0) break; // a users-count bug: the kernel WARNs and leaks
  }
}
