// The iommufd file: a context per open /dev/iommu, torn down on release, and
// the commands of main.c itself (IOMMU_DESTROY). Command handlers of the other
// object kinds live beside this file, one file per kind, as in the kernel.

import { OPENED, RELEASE } from "../files/lifecycle.ts";
import { registerIoctl } from "../ioctl/dispatch.ts";
import { errno } from "../outcome.ts";
import { releaseContext, removeObject } from "./objects.ts";
import { cmdOf, ctxOf, respond } from "./ucmd.ts";

/** iommufd_fops_open: an empty object table, user accounting. */
OPENED.iommufd = (s, file) => {
  s.iommufd.set(file.id, { fileId: file.id, objects: new Map(), accountMode: 0, vfioIoasId: null });
};

/** iommufd_fops_release: destroy every object, leaves first. */
RELEASE.iommufd = (s, file, env) => {
  const ctx = s.iommufd.get(file.id);
  if (!ctx) return;
  releaseContext(s, ctx, env);
  s.iommufd.delete(file.id);
};

/** iommufd_destroy: remove an object nothing else uses (ENOENT, EBUSY). */
registerIoctl("IOMMU_DESTROY", ["iommufd"], (s, call, env) => {
  const cmd = cmdOf(call);
  const err = removeObject(s, ctxOf(s, call), cmd.id as number, env);
  return err ? errno(err) : respond(call, cmd);
});
