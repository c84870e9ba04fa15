// IOMMU_VFIO_IOAS (vfio_compat.c iommufd_vfio_ioas): which IOAS the VFIO type1
// compatibility ioctls on this /dev/iommu use.

import { registerIoctl } from "../ioctl/dispatch.ts";
import { errno, ret0 } from "../outcome.ts";
import { getObject } from "./objects.ts";
import { cmdOf, ctxOf, respond } from "./ucmd.ts";

const GET = 0;
const SET = 1;
const CLEAR = 2;

/** GET: ENODEV without a compat IOAS, else its id goes back; SET: an IOAS id (ENOENT); CLEAR: always; other ops EOPNOTSUPP. */
registerIoctl("IOMMU_VFIO_IOAS", ["iommufd"], (s, call) => {
  const cmd = cmdOf(call);
  if (cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  const ctx = ctxOf(s, call);
  switch (cmd.op) {
    case GET:
      if (ctx.vfioIoasId === null || !getObject(ctx, ctx.vfioIoasId, "ioas")) return errno("ENODEV");
      cmd.ioas_id = ctx.vfioIoasId;
      return respond(call, cmd);
    case SET:
      if (!getObject(ctx, cmd.ioas_id as number, "ioas")) return errno("ENOENT");
      ctx.vfioIoasId = cmd.ioas_id as number;
      return ret0();
    case CLEAR:
      ctx.vfioIoasId = null;
      return ret0();
    default:
      return errno("EOPNOTSUPP");
  }
});
