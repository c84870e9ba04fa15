// IOMMU_OPTION (main.c iommufd_option, ioas.c iommufd_option_rlimit_mode and
// iommufd_ioas_option): a context-wide RLIMIT_MODE and a per-IOAS HUGE_PAGES.
// Only val64 is copied back, and only on success.

import type { Decoded } from "../../uapi/layout.ts";
import { errno, type Outcome } from "../outcome.ts";
import { capable } from "../process/reducers.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respondFields } from "../uaccess/ucmd.ts";
import { disableLargePages, enableLargePages } from "./iopt_domain.ts";
import { ctxOf, getObject } from "./objects.ts";

const RLIMIT_MODE = 0;
const HUGE_PAGES = 1;
const OP_SET = 0;
const OP_GET = 1;

/** iommufd_option_rlimit_mode: object_id must be 0; SET needs CAP_SYS_RESOURCE (EPERM) and an empty object table (EBUSY), and takes 0 or 1 (EINVAL). */
function rlimitMode(s: State, call: IoctlCall, cmd: Decoded): string | undefined {
  if (cmd.object_id !== 0) return "EOPNOTSUPP";
  const ctx = ctxOf(s, call);
  if (cmd.op === OP_GET) {
    cmd.val64 = BigInt(ctx.accountMode);
    return undefined;
  }
  if (cmd.op !== OP_SET) return "EOPNOTSUPP";
  if (!capable(call.process, "CAP_SYS_RESOURCE")) return "EPERM";
  // xa_empty(&ictx->objects): a tombstone entry counts too.
  if (ctx.objects.size > 0 || (ctx.tombstones?.length ?? 0) > 0) return "EBUSY";
  if (cmd.val64 !== 0n && cmd.val64 !== 1n) return "EINVAL";
  ctx.accountMode = Number(cmd.val64);
  return undefined;
}

/** iommufd_ioas_option: the IOAS first (ENOENT, object 0 included), then HUGE_PAGES GET/SET (0 or 1, else EINVAL). */
function hugePages(s: State, call: IoctlCall, cmd: Decoded): string | undefined {
  const ctx = ctxOf(s, call);
  const ioas = getObject(ctx, cmd.object_id as number, "ioas");
  if (!ioas) return "ENOENT";
  if (cmd.op === OP_GET) {
    cmd.val64 = ioas.hugePages ? 1n : 0n;
    return undefined;
  }
  if (cmd.op !== OP_SET) return "EOPNOTSUPP";
  if (cmd.val64 === 0n) return disableLargePages(s, ctx, ioas);
  if (cmd.val64 === 1n) {
    enableLargePages(s, ctx, ioas);
    return undefined;
  }
  return "EINVAL";
}

export function iommufdOption(s: State, call: IoctlCall): Outcome {
  const cmd = cmdOf(call);
  if (cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  let err: string | undefined;
  if (cmd.option_id === RLIMIT_MODE) err = rlimitMode(s, call, cmd);
  else if (cmd.option_id === HUGE_PAGES) err = hugePages(s, call, cmd);
  else err = "EOPNOTSUPP";
  return err ? errno(err) : respondFields(call, { val64: cmd.val64 as bigint });
}
