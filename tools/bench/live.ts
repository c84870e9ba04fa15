// live_calls_per_s: tools/bench/live_loop.c, built with the machine's cc -O2, runs a tight
// IOAS_MAP/IOAS_UNMAP loop under `iorr live` (the real command: shim, socket, server, reducers);
// calls per second of the loop alone, timed inside the program. Each call is a synchronous
// round trip. null, with the reason, when there is no C compiler.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

export function benchLive(loops = 5000): { live_calls_per_s: number | null; live_calls: number; live_reason?: string } {
  const cc = process.env.CC || "cc";
  const dir = mkdtempSync(join(tmpdir(), "iorr-bench-live-"));
  try {
    const exe = join(dir, "live_loop");
    try {
      execFileSync(cc, ["-O2", "-o", exe, join(HERE, "live_loop.c")], { stdio: "pipe" });
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? `no C compiler "${cc}"` : `${cc} failed`;
      return { live_calls_per_s: null, live_calls: 0, live_reason: why };
    }
    const r = spawnSync(process.execPath, [join(HERE, "..", "..", "bin", "iorr.mjs"), "live", "--", exe, String(loops)], { encoding: "utf8" });
    const m = /calls (\d+) seconds ([0-9.]+)/.exec(r.stdout);
    if (r.status !== 0 || !m) return { live_calls_per_s: null, live_calls: 0, live_reason: `iorr live exited with ${r.status}: ${r.stderr.trim()}` };
    return { live_calls_per_s: Math.round(Number(m[1]) / Number(m[2])), live_calls: Number(m[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
