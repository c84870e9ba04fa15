// diff_ms: `iorr diff` between two distant events of the bench's trace database, as the
// command does it (a fresh Timeline, both seeks, the structural diff), median of 11
// pairs at least half the trace apart; reported against seek_ms as diff_vs_seek_ratio.

import { Effect } from "effect";
import { ProfileService } from "../../src/model/framework.ts";
import type { Profile } from "../../src/profiles/profile.ts";
import { diffStates } from "../../src/query/diff.ts";
import type { TraceSource } from "../../src/replay/source.ts";
import { Timeline } from "../../src/replay/timeline.ts";
import { prng } from "./prng.ts";

export function benchDiff(src: TraceSource, profile: Profile): { diff_ms: number; diff_changes: number } {
  const rand = prng(7);
  const n = src.count;
  const times: number[] = [];
  let changes = 0;
  for (let i = 0; i < 11; i++) {
    const from = 1 + Math.floor(rand() * (n / 2));
    const to = from + Math.floor(n / 2) + Math.floor(rand() * (n / 2 - from));
    const t = performance.now();
    const timeline = new Timeline(src);
    const [a, b] = Effect.runSync(Effect.all([timeline.stateAt(from), timeline.stateAt(to)]).pipe(Effect.provideService(ProfileService, profile)));
    changes = diffStates(a, b).length;
    times.push(performance.now() - t);
  }
  const sorted = times.sort((x, y) => x - y);
  return { diff_ms: Math.round(sorted[5]! * 100) / 100, diff_changes: changes };
}
