// What a scenario is: a generator of trace events, written as a VMM and a guest
// would issue them, that sees the outcome of each event it yields (the fd an
// open returned, the id IOMMU_IOAS_ALLOC returned) before it yields the next.
// The recorder (record.ts) folds each event into the live model as it comes.

import type { Outcome } from "../model/outcome.ts";
import type { Profile } from "../profiles/profile.ts";

/** An event as a JSONL line spells it (without seq and expect): the recorder parses it as the reader would. */
export type RawEvent = Record<string, unknown> & { op: string };

export interface ScenarioContext {
  /** Uniform in [0, 1): the seeded PRNG (prng.ts), the only source of choice. */
  readonly rng: () => number;
  /** How far the steady-state part runs (rounds of DMA, map/unmap churn, VMs). */
  readonly scale: number;
  readonly profile: Profile;
}

/** Yields events, receives each one's outcome. */
export type ScenarioRun = Generator<RawEvent, void, Outcome>;

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** The profile recorded in the header unless --profile names another. */
  readonly profile: readonly string[];
  /** About how many events the scenario yields at a scale (progress only). */
  estimate(scale: number): number;
  run(ctx: ScenarioContext): ScenarioRun;
}

/** A step the scenario depends on failed: the model refused what a working VMM does (a bug in the scenario or the model). */
export class ScenarioError extends Error {}

/** The outcome must be a success (ret 0, fd, ok); returns it. */
export function ok(o: Outcome, what: string): Outcome {
  const r = o as Record<string, unknown>;
  if (r.errno !== undefined || r.error !== undefined || r.fault !== undefined || (r.ret !== undefined && r.ret !== 0))
    throw new ScenarioError(`${what}: expected success, got ${JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? `0x${v.toString(16)}` : v))}`);
  return o;
}

/** A numeric member of a successful ioctl's `out` (out_ioas_id, out_hwpt_id, ...). */
export function outNum(o: Outcome, member: string, what: string): number {
  const v = ((ok(o, what) as Record<string, unknown>).out as Record<string, unknown> | undefined)?.[member];
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  throw new ScenarioError(`${what}: no out.${member} in the outcome`);
}

/** The fd an open returned. */
export function fdOf(o: Outcome, what: string): number {
  const fd = (ok(o, what) as Record<string, unknown>).fd;
  if (typeof fd !== "number") throw new ScenarioError(`${what}: no fd in the outcome`);
  return fd;
}

export const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

/** An integer in [lo, hi] from the scenario's PRNG. */
export const pick = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
