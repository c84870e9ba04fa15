// record_events_per_s, record_vs_replay_ratio, record_peak_mb: `iorr record --scenario
// vtd-passthrough-boot` at the scale that gives N events (1,000,000 by default), in a child
// process of its own so that its peak RSS is the recording's alone (process.resourceUsage
// maxRSS); then replay --verify of the recorded file, in another child, the same way. Each
// child times only its work (CPU: user + system, and wall), not its start-up. The ratio is
// recording over replaying, CPU time (wall beside it).
//
// Alone: node --import tsx tools/bench/record.ts [events]

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SCENARIO = "vtd-passthrough-boot";

export interface RecordBench {
  record_events: number;
  record_scale: number;
  record_cpu_ms: number;
  record_wall_ms: number;
  record_events_per_s: number;
  record_peak_mb: number;
  record_bytes: number;
  record_checkpoints: number;
  replay_verify_cpu_ms: number;
  replay_verify_wall_ms: number;
  replay_verify_peak_mb: number;
  /** record CPU time / replay --verify CPU time (budget <= 1.5). */
  record_vs_replay_ratio: number;
  record_vs_replay_wall_ratio: number;
}

interface ChildResult {
  events: number;
  cpu_ms: number;
  wall_ms: number;
  peak_mb: number;
  bytes?: number;
  checkpoints?: number;
}

function child(args: readonly string[]): ChildResult {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ["--import", "tsx", self, "--child", ...args], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`bench record child ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as ChildResult;
}

export function benchRecord(events = 1_000_000): RecordBench {
  const path = join(tmpdir(), `iorr-bench-record-${process.pid}.db`);
  try {
    const rec = child(["record", path, String(events)]);
    const rp = child(["replay", path]);
    if (rp.events !== rec.events) throw new Error(`replay --verify verified ${rp.events} of ${rec.events} recorded events`);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      record_events: rec.events,
      record_scale: scaleFor(events),
      record_cpu_ms: Math.round(rec.cpu_ms),
      record_wall_ms: Math.round(rec.wall_ms),
      record_events_per_s: Math.round(rec.events / (rec.wall_ms / 1000)),
      record_peak_mb: Math.round(rec.peak_mb),
      record_bytes: rec.bytes ?? 0,
      record_checkpoints: rec.checkpoints ?? 0,
      replay_verify_cpu_ms: Math.round(rp.cpu_ms),
      replay_verify_wall_ms: Math.round(rp.wall_ms),
      replay_verify_peak_mb: Math.round(rp.peak_mb),
      record_vs_replay_ratio: r2(rec.cpu_ms / rp.cpu_ms),
      record_vs_replay_wall_ratio: r2(rec.wall_ms / rp.wall_ms),
    };
  } finally {
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
  }
}

/** The smallest scale whose estimate reaches `events`. */
function scaleFor(events: number): number {
  // Resolved lazily so that the parent does not load the model.
  return Math.max(1, Math.ceil(events / PER_SCALE));
}
/** vtd-passthrough-boot: 111 rounds of 9 events on average per unit of scale (src/scenarios/vtd_passthrough_boot.ts). */
const PER_SCALE = 999;

async function runChild(mode: string, path: string, events: string | undefined): Promise<void> {
  const { Effect } = await import("effect");
  const { resolveProfile } = await import("../../src/profiles/profile.ts");
  const peak = () => process.resourceUsage().maxRSS / 1024;
  if (mode === "record") {
    const { scenarioByName } = await import("../../src/scenarios/index.ts");
    const { recordScenario } = await import("../../src/scenarios/record.ts");
    const scenario = scenarioByName(SCENARIO)!;
    const scale = scaleFor(Number(events));
    const profile = resolveProfile([...scenario.profile]);
    const c = process.cpuUsage();
    const t = performance.now();
    const r = await Effect.runPromise(recordScenario({ scenario, seed: 1, scale, output: path, profile }));
    const wall = performance.now() - t;
    const d = process.cpuUsage(c);
    process.stdout.write(
      `${JSON.stringify({ events: r.events, cpu_ms: (d.user + d.system) / 1000, wall_ms: wall, peak_mb: peak(), bytes: r.bytes, checkpoints: r.checkpoints })}\n`,
    );
    return;
  }
  const { ProfileService } = await import("../../src/model/framework.ts");
  const { replay } = await import("../../src/replay/engine.ts");
  const { dbSource, Trace } = await import("../../src/replay/source.ts");
  const { TraceDb } = await import("../../src/store/tracedb.ts");
  const db = TraceDb.open(path, { readonly: true });
  const src = Effect.runSync(dbSource(db, path));
  const spec = src.header.profile;
  const profile = resolveProfile(spec === undefined ? undefined : typeof spec === "string" ? [spec] : spec);
  const c = process.cpuUsage();
  const t = performance.now();
  const r = Effect.runSync(replay({ verify: true }).pipe(Effect.provideService(Trace, src), Effect.provideService(ProfileService, profile)));
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  db.close();
  if (r.divergence) throw new Error(`the recording diverges at event ${r.divergence.seq}`);
  process.stdout.write(`${JSON.stringify({ events: r.verified, cpu_ms: (d.user + d.system) / 1000, wall_ms: wall, peak_mb: peak() })}\n`);
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") await runChild(argv[1]!, argv[2]!, argv[3]);
else if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${JSON.stringify(benchRecord(argv[0] ? Number(argv[0]) : undefined))}\n`);
