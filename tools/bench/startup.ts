// cli_startup_ratio: the wall time of one `iorr replay <small trace> --verify --json`, the
// command git bisect run and scripts start once per step, over that of `node -e 0`. The two are
// run alternately in the same loop so that both see the same load on the machine; medians.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COMMAND = ["bin/iorr.mjs", "replay", "traces/01-process-fds.jsonl", "--verify", "--json"];

function wallMs(args: readonly string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function benchStartup(runs = 21): { cli_startup_ms: number; node_startup_ms: number; cli_startup_ratio: number } {
  // Untimed: builds dist/iorr.mjs if the sources changed since the last build, as the first
  // run after an edit or a checkout does.
  wallMs(COMMAND);
  const node: number[] = [];
  const cli: number[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(wallMs(["-e", "0"]));
    cli.push(wallMs(COMMAND));
  }
  const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
  return { cli_startup_ms: round(median(cli), 1), node_startup_ms: round(median(node), 1), cli_startup_ratio: round(median(cli) / median(node), 2) };
}
