// IOAS objects (drivers/iommu/iommufd/ioas.c).

import { registerIoctl } from "../ioctl/dispatch.ts";
import { errno } from "../outcome.ts";
import { addObject } from "./objects.ts";
import type { Ioas } from "./state.ts";
import { cmdOf, ctxOf, respond } from "./ucmd.ts";

/** A new IOAS: no domain, alignment 1, the whole IOVA space allowed (iopt_init_table). */
export function newIoas(id: number): Ioas {
  return { id, type: "ioas", users: 1, areas: [], allowed: [], reserved: [], iovaAlignment: 1n, hugePages: true, domains: [] };
}

/** iommufd_ioas_alloc_ioctl: flags must be 0 (EOPNOTSUPP). */
registerIoctl("IOMMU_IOAS_ALLOC", ["iommufd"], (s, call) => {
  const cmd = cmdOf(call);
  if (cmd.flags !== 0) return errno("EOPNOTSUPP");
  const ioas = addObject(ctxOf(s, call), newIoas);
  cmd.out_ioas_id = ioas.id;
  return respond(call, cmd);
});
