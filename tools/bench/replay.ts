// replay_vs_read_ratio: replay --verify of a trace database (the real engine: replay() over
// dbSource, the hash chain checked per event) over a bare baseline doing the least possible
// work on the same stored rows: better-sqlite3 reading the events table and msgpackr decoding
// each payload and expect, with the file's shared structures. Both run in the same process,
// alternately, so whatever else the machine is doing slows both. The budget figure is the
// ratio of process CPU time (process.cpuUsage: user + system, GC threads included); the
// ratio of wall time is printed beside it (a shared machine swings wall time by 40%).
//
// Run alone on a trace database: node --expose-gc --import tsx tools/bench/replay.ts <file.db> [reps]

import Database from "better-sqlite3";
import { Effect } from "effect";
import { Packr } from "msgpackr";
import { pathToFileURL } from "node:url";
import { ProfileService } from "../../src/model/framework.ts";
import { resolveProfile, type Profile } from "../../src/profiles/profile.ts";
import { BATCH, replay } from "../../src/replay/engine.ts";
import { dbSource, Trace } from "../../src/replay/source.ts";
import { decodeMeta } from "../../src/store/codec.ts";
import { TraceDb } from "../../src/store/tracedb.ts";

export interface ReplayBench {
  events: number;
  replay_cpu_ms: number;
  replay_wall_ms: number;
  read_cpu_ms: number;
  read_wall_ms: number;
  /** replay CPU time / read CPU time: the budget figure (<= 1.5). */
  replay_vs_read_ratio: number;
  replay_vs_read_wall_ratio: number;
}

interface Timing {
  cpu: number;
  wall: number;
}

function timed(fn: () => void): Timing {
  (globalThis as { gc?: () => void }).gc?.();
  const c = process.cpuUsage();
  const t = performance.now();
  fn();
  const wall = performance.now() - t;
  const d = process.cpuUsage(c);
  return { cpu: (d.user + d.system) / 1000, wall };
}

/** Replay --verify of every event, as `iorr replay <db> --verify` does it. */
function timeReplay(path: string, profile: Profile, n: number): Timing {
  return timed(() => {
    const db = TraceDb.open(path, { readonly: true });
    try {
      const r = Effect.runSync(
        replay({ verify: true }).pipe(Effect.provideService(Trace, Effect.runSync(dbSource(db, path))), Effect.provideService(ProfileService, profile)),
      );
      if (r.verified !== n || r.divergence)
        throw new Error(`bench replay did not verify: ${JSON.stringify({ verified: r.verified, divergence: r.divergence })}`);
    } finally {
      db.close();
    }
  });
}

/**
 * The baseline: every row's payload and expect decoded, nothing else; rows fetched 4096 at
 * a time with .raw().all() (measured faster than one .iterate() over the table, so the
 * stricter baseline).
 */
function timeRead(path: string, n: number): Timing {
  let rows = 0;
  const t = timed(() => {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const structures = decodeMeta(db.prepare("SELECT value FROM meta WHERE key = 'msgpack_structures'").pluck().get() as Buffer) as string[][];
      const packr = new Packr({ useRecords: true, int64AsType: "bigint", mapsAsObjects: true, moreTypes: false, structures });
      const range = db.prepare("SELECT payload, expect FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq").raw();
      for (let lo = 1; lo <= n; lo += BATCH) {
        for (const [payload, expect] of range.all(lo, lo + BATCH - 1) as [Buffer, Buffer | null][]) {
          packr.unpack(payload);
          if (expect !== null) packr.unpack(expect);
          rows++;
        }
      }
    } finally {
      db.close();
    }
  });
  if (rows !== n) throw new Error(`bare read saw ${rows} rows, expected ${n}`);
  return t;
}

/**
 * Best of `reps` alternating runs of each, after an untimed warm-up of both (JIT, page
 * cache). The best run is the one least disturbed by whatever else the machine was doing.
 */
export function benchReplay(path: string, profile: Profile, reps = 3): ReplayBench {
  const db = TraceDb.open(path, { readonly: true });
  const n = db.count();
  db.close();
  timeRead(path, n);
  timeReplay(path, profile, n);
  const best = { replay: { cpu: Infinity, wall: Infinity }, read: { cpu: Infinity, wall: Infinity } };
  for (let i = 0; i < reps; i++) {
    for (const [k, t] of [
      ["read", timeRead(path, n)],
      ["replay", timeReplay(path, profile, n)],
    ] as const) {
      best[k].cpu = Math.min(best[k].cpu, t.cpu);
      best[k].wall = Math.min(best[k].wall, t.wall);
    }
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    events: n,
    replay_cpu_ms: Math.round(best.replay.cpu),
    replay_wall_ms: Math.round(best.replay.wall),
    read_cpu_ms: Math.round(best.read.cpu),
    read_wall_ms: Math.round(best.read.wall),
    replay_vs_read_ratio: r2(best.replay.cpu / best.read.cpu),
    replay_vs_read_wall_ratio: r2(best.replay.wall / best.read.wall),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const path = process.argv[2];
  if (!path) throw new Error("usage: tools/bench/replay.ts <file.db> [reps]");
  const db = TraceDb.open(path, { readonly: true });
  const spec = db.getMeta("checkpoint_profile");
  db.close();
  const profile = resolveProfile(Array.isArray(spec) ? (spec as string[]) : ["linux-6.19"]);
  console.log(JSON.stringify(benchReplay(path, profile, Number(process.argv[3] ?? 3))));
}
