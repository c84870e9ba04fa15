// The boundary between an IOAS's io_pagetable (ioas.ts, io_pagetable.ts) and
// the domains that mirror it (hw_pagetable.ts and the page-table formats):
// iopt_area_fill_domains / iopt_area_unfill_domains in the kernel. The
// io_pagetable side calls these for every domain in ioas.domains; the domain
// side installs them. Calling one before it is installed is a simulator bug.

import type { ReduceEnv } from "../framework.ts";
import type { State } from "../state.ts";
import type { Area, HwptPaging, IommufdCtx } from "./state.ts";

export interface DomainHooks {
  /** Map a pinned area (its PhysRuns, its prot) into the domain's page tables. */
  map(s: State, ctx: IommufdCtx, hwpt: HwptPaging, area: Area, env: ReduceEnv): void;
  /** Remove IOVA [iova, last] from the domain's page tables. */
  unmap(s: State, ctx: IommufdCtx, hwpt: HwptPaging, iova: bigint, last: bigint, env: ReduceEnv): void;
}

const missing = (): never => {
  throw new Error("domain page-table hooks are not installed");
};

export const DOMAIN_HOOKS: DomainHooks = { map: missing, unmap: missing };
