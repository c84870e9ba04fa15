// selftest_live_vs_replay_ratio: the kernel's iommufd selftest (246 cases, tens of thousands of
// calls) run under `iorr live` (shim, socket, server, reducers, the session written), then its
// session replayed with --verify; wall time of the first over the second, both as the `iorr`
// command a user runs. Needs the binary an earlier `npm run selftest:kernel` built in the cache
// (nothing is downloaded here): null, with the reason, without it.

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
// @ts-expect-error: plain JavaScript (tools/selftest/kernel.mjs), no declarations.
import { builtSelftest } from "../selftest/kernel.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface SelftestBench {
  selftest_live_vs_replay_ratio: number | null;
  selftest_live_s?: number;
  selftest_replay_s?: number;
  selftest_events?: number;
  selftest_reason?: string;
}

export function benchSelftest(): SelftestBench {
  const built = builtSelftest() as { tree: string; bin: string } | null;
  if (!built) return { selftest_live_vs_replay_ratio: null, selftest_reason: "no selftest build in the cache (npm run selftest:kernel builds it)" };
  const dir = mkdtempSync(join(tmpdir(), "iorr-bench-selftest-"));
  const iorr = join(ROOT, "bin", "iorr.mjs");
  try {
    const db = join(dir, "session.db");
    let t = performance.now();
    const live = spawnSync(process.execPath, [iorr, "live", "--platform", join(ROOT, "test/selftest/prelude.jsonl"), "-o", db, "--", built.bin], {
      cwd: built.tree,
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
    const liveS = (performance.now() - t) / 1000;
    if (live.error) return { selftest_live_vs_replay_ratio: null, selftest_reason: `iorr live: ${live.error.message}` };
    t = performance.now();
    const rp = spawnSync(process.execPath, [iorr, "replay", db, "--verify", "--json"], { encoding: "utf8", maxBuffer: 1 << 28 });
    const replayS = (performance.now() - t) / 1000;
    const v = rp.status === 0 ? (JSON.parse(rp.stdout) as { events: number; divergence: unknown }) : null;
    if (!v || v.divergence) return { selftest_live_vs_replay_ratio: null, selftest_reason: `the session did not replay cleanly (status ${rp.status})` };
    return {
      selftest_live_vs_replay_ratio: Math.round((liveS / replayS) * 100) / 100,
      selftest_live_s: Math.round(liveS * 10) / 10,
      selftest_replay_s: Math.round(replayS * 10) / 10,
      selftest_events: v.events,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
