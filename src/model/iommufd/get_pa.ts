// IOMMU_IOAS_NOIOMMU_GET_PA, 0x95 (seed 003 patch 04 "IOMMU_IOAS_GET_PA" as
// posted in V4, and as merged in 60decab3): the physical address behind an
// IOVA of an IOAS whose storage domain is the no-IOMMU SW domain, and how many
// bytes from there are physically contiguous. Each merged change is a switch:
//   get-pa-cap-sys-rawio  CAP_SYS_RAWIO checked first (EPERM)
//   get-pa-length-input   `length` in must be non-zero (EINVAL) and caps the answer
//   get-pa-eoverflow      iova >= ULONG_MAX is EOVERFLOW
//   get-pa-clamp-area     the scan stays inside the area (the V4 loop reads one
//                         page past the area's end, Alex Williamson's review);
//                         also the merged iopt_get_phys' other changes: a revoked
//                         dma-buf is EINVAL before the domain check, and a PA of
//                         0 is no longer refused (V4: EINVAL)
//   get-pa-rename         the output member is `length` (V4: `out_length`)
// The PA comes from the areas' PFNs, which are what every domain of the IOAS maps.

import { pagingDomainOf } from "../domain/domain.ts";
import type { ReduceEnv } from "../framework.ts";
import { errno } from "../outcome.ts";
import { capable } from "../process/reducers.ts";
import type { State } from "../state.ts";
import type { IoctlCall } from "../uaccess/call.ts";
import { cmdOf, respond } from "../uaccess/ucmd.ts";
import { U64_MAX } from "../values.ts";
import { firstArea } from "./io_pagetable.ts";
import { ctxOf, getObject } from "./objects.ts";
import { areaPhys, PAGE } from "./pages.ts";
import type { IommufdCtx, Ioas } from "./state.ts";

/** iommu_iova_to_phys on the storage domain: 0 where nothing is mapped. */
function iovaToPhys(ioas: Ioas, iova: bigint): bigint {
  const a = firstArea(ioas, iova, iova);
  return (a && areaPhys(a, iova)) ?? 0n;
}

/** iopt_get_phys: { pa, length } or an errno. `max` is the caller's limit (undefined in V4). */
function getPhys(s: State, ctx: IommufdCtx, ioas: Ioas, iova: bigint, max: bigint | undefined, env: ReduceEnv): { pa: bigint; length: bigint } | string {
  const merged = env.profile.on("get-pa-clamp-area");
  const area = firstArea(ioas, iova, iova);
  if (!area) return "ENOENT";
  if (merged && area.revoked) return "EINVAL";
  const storage = ioas.domains.length > 0 ? ctx.objects.get(ioas.domains[0]!) : undefined;
  if (storage?.type !== "hwpt_paging" || pagingDomainOf(s, storage.domainId).format !== "noiommu") return "EOPNOTSUPP";
  const pa = iovaToPhys(ioas, iova);
  if (!merged && pa === 0n) return "EINVAL";
  let length = PAGE - (iova % PAGE);
  if (merged && area.last - iova + 1n < length) length = area.last - iova + 1n;
  let paddr = pa;
  for (let cur = iova; cur < area.last; ) {
    if (max !== undefined && length >= max) break;
    const next = cur + PAGE;
    if (next > U64_MAX) break;
    if (merged && next > area.last) break;
    const npa = iovaToPhys(ioas, next);
    if (npa === 0n || npa !== paddr + PAGE) break;
    cur = next;
    paddr += PAGE;
    length += PAGE;
  }
  if (max !== undefined && length > max) length = max;
  return { pa, length };
}

export function iommufdIoasNoiommuGetPa(s: State, call: IoctlCall, env: ReduceEnv) {
  const on = (sw: string) => env.profile.on(sw);
  const cmd = cmdOf(call);
  if (on("get-pa-cap-sys-rawio") && !capable(call.process, "CAP_SYS_RAWIO")) return errno("EPERM");
  if (cmd.flags !== 0 || cmd.__reserved !== 0) return errno("EOPNOTSUPP");
  const max = on("get-pa-length-input") ? (cmd.length as bigint) : undefined;
  if (max === 0n) return errno("EINVAL");
  const iova = cmd.iova as bigint;
  if (on("get-pa-eoverflow") && iova >= U64_MAX) return errno("EOVERFLOW");
  const ctx = ctxOf(s, call);
  const ioas = getObject(ctx, cmd.ioas_id as number, "ioas");
  if (!ioas) return errno("ENOENT");
  const r = getPhys(s, ctx, ioas, iova, max, env);
  if (typeof r === "string") return errno(r);
  cmd.length = r.length;
  cmd.out_phys = r.pa;
  const out = respond(call, cmd);
  if (!on("get-pa-rename") && out.out) {
    // V4's struct iommu_ioas_get_pa names the member out_length.
    out.out.out_length = out.out.length!;
    delete out.out.length;
  }
  return out;
}
