// npm run bench [-- --json] [-- --events N]
//
// The performance figures against the budgets of docs/architecture.md:
//   append_ratio        store append of N events / bare better-sqlite3 insert of the same rows (<= 1.5)
//   replay_vs_read_ratio replay --verify of N open/close/param events from a database / a bare read
//                       and msgpackr decode of the same rows, in process CPU time (<= 1.5);
//                       the wall-time ratio and the absolute times beside it (tools/bench/replay.ts)
//   seek_ms             median time to reach a random event after opening the database (< 50)
//   bisect_vs_seek_ratio bisect events with a probe over the N-event trace (a mem.write that starts to
//                       succeed at the mem.map placed at 62% of it) / seek_ms (<= 40: about 20 seeks and probes)
//   diff_vs_seek_ratio  diff_ms (iorr diff between two events half the trace apart or more: both seeks
//                       and the structural diff, tools/bench/diff.ts) / seek_ms (<= 4)
//   map_unmap_per_s     IOAS_MAP + IOAS_UNMAP pairs of 2 MiB per second through the reducers (VT-d domain attached)
//   walk4_per_s         uncached 4-level x86 first-stage walks, 64k random 4 KiB pages over 4 GiB (>= 5,000,000)
//   iotlb_hits_per_s    IOTLB lookups that hit, same pages (>= 30,000,000)
//   nested_walk_per_s   the same walks nested over a VT-d second stage
//   walk_vs_c_ratio     C walks/s / TS walks/s, same tables and addresses, tools/bench/walk.c (null without cc)
//   why_ms              iorr why of a DMA probe at the end of a 100,000-event guest trace (tools/bench/why.ts)
//   audit_events_per_s  iorr audit pasid's pass over a generated PASID-heavy trace of 20,000 events (seed 002
//                       allocations past the quota, frees, device PASID attaches: tools/bench/audit.ts), and
//                       audit_vs_replay_ratio, that pass against a plain replay of the same events
//   live_calls_per_s    IOAS_MAP/IOAS_UNMAP calls per second from tools/bench/live_loop.c under `iorr live`,
//                       each a synchronous round trip through the shim and the server (null without cc, with the reason)
//   selftest_live_vs_replay_ratio
//                       wall time of the kernel's iommufd selftest under `iorr live` over the replay --verify of its
//                       session (tools/bench/selftest.ts; null without a build from npm run selftest:kernel)
//   cli_startup_ratio   median wall time of `node bin/iorr.mjs replay traces/01-process-fds.jsonl --verify --json`
//                       / median of `node -e 0`, run alternately (<= 4)
//   record_events_per_s, record_vs_replay_ratio, record_peak_mb
//                       iorr record --scenario vtd-passthrough-boot at N events, in a child process;
//                       over replay --verify of the recording, in another (tools/bench/record.ts)
// Measured here, never in timed unit tests. Figures are printed; with --json one object.
// The bench itself runs the sources through tsx (npm run bench): its figures are timed inside
// one process after loading, so the loader costs it nothing. The command it starts for
// cli_startup_ratio is the real one, bundle and source check included.

import { Effect } from "effect";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importEvents } from "../../src/importers/import.ts";
import { ProfileService } from "../../src/model/framework.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { CHECKPOINT_INTERVAL } from "../../src/replay/engine.ts";
import { dbSource } from "../../src/replay/source.ts";
import { Timeline } from "../../src/replay/timeline.ts";
import { TraceDb } from "../../src/store/tracedb.ts";
import { simpleEvents } from "../gen/simple.ts";
import { bisectEvents } from "../../src/bisect/events.ts";
import type { TraceEvent } from "../../src/model/events.ts";
import type { Profile } from "../../src/profiles/profile.ts";
import type { TraceSource } from "../../src/replay/source.ts";
import { benchAppend } from "./append.ts";
import { benchDiff } from "./diff.ts";
import { benchAudit } from "./audit.ts";
import { benchLive } from "./live.ts";
import { benchSelftest } from "./selftest.ts";
import { benchMapUnmap } from "./mapunmap.ts";
import { benchRecord } from "./record.ts";
import { benchReplay } from "./replay.ts";
import { benchStartup } from "./startup.ts";
import { benchWalk } from "./walk.ts";
import { benchWhy } from "./why.ts";
import { prng } from "./prng.ts";

const args = process.argv.slice(2);
const json = args.includes("--json");
const N = args.includes("--events") ? Number(args[args.indexOf("--events") + 1]) : 1_000_000;
const log = (s: string) => {
  if (!json) process.stdout.write(`${s}\n`);
};

/** The bisect workload: the `param` event nearest 62% of the trace becomes a mem.map a probe can see. */
const BISECT_AT = (n: number) => {
  // simpleEvents puts a param at seq 5, 10, 15, ...
  const seq = Math.max(5, Math.round((n * 0.62) / 5) * 5);
  return seq <= n ? seq : 0;
};
const BISECT_VA = 0x10000n;

function withMapAt(events: TraceEvent[], at: (n: number) => number): TraceEvent[] {
  const seq = at(events.length);
  if (seq > 0) events[seq - 1] = { seq, op: "mem.map", pid: 100, va: BISECT_VA, length: 0x1000n, expect: { ok: true } };
  return events;
}

/** `iorr bisect events` over the database: the first event after which a mem.write to the mapped page succeeds. */
function benchBisect(src: TraceSource, profile: Profile, n: number): { ms: number; probes: number; first: number | null } {
  const probe = { seq: 0, op: "mem.write", pid: 100, va: BISECT_VA, bytes: new Uint8Array(1) } as TraceEvent;
  const t = performance.now();
  const r = Effect.runSync(
    bisectEvents(new Timeline(src), 0, n, probe, { kind: "equals", expected: { ok: true } }).pipe(Effect.provideService(ProfileService, profile)),
  );
  const ms = performance.now() - t;
  if (r.first !== BISECT_AT(n)) throw new Error(`bench bisect found ${r.first}, expected ${BISECT_AT(n)}`);
  return { ms, probes: r.probes, first: r.first };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const profile = resolveProfile(["linux-6.19"]);
  log(`iorr bench: ${N} events, Node ${process.version}`);

  // First, while this process is small and the machine is not busy with the figures below.
  const st = benchStartup();
  log(
    `cli startup    ${st.cli_startup_ms} ms for iorr replay traces/01-process-fds.jsonl --verify --json, node -e 0 ${st.node_startup_ms} ms: ratio ${st.cli_startup_ratio} (budget <= 4)`,
  );

  // In child processes, before this one holds a million events: peak RSS is the recording's own.
  const rc = benchRecord(N);
  log(
    `record         ${rc.record_events_per_s} events/s: vtd-passthrough-boot --scale ${rc.record_scale} (${rc.record_events} events, ${rc.record_checkpoints} checkpoints, ${rc.record_bytes} bytes), ` +
      `${rc.record_cpu_ms} ms CPU; replay --verify of it ${rc.replay_verify_cpu_ms} ms CPU: ratio ${rc.record_vs_replay_ratio} CPU, ${rc.record_vs_replay_wall_ratio} wall (budget <= 1.5); ` +
      `peak RSS ${rc.record_peak_mb} MB (budget < 500)`,
  );
  const path = join(tmpdir(), `iorr-bench-replay-${process.pid}.db`);
  rmSync(path, { force: true });
  try {
    // Built and imported in its own scope, so the replay below does not run with a million
    // generated events still on the heap.
    const import_s = (() => {
      const events = withMapAt(simpleEvents(N), BISECT_AT);
      const t0 = performance.now();
      Effect.runSync(importEvents("bench", { format: "iorr-trace", version: 1, profile: "linux-6.19" }, events, path, profile));
      return (performance.now() - t0) / 1000;
    })();
    (globalThis as { gc?: () => void }).gc?.();
    log(`import         ${import_s.toFixed(2)} s (append, replay and ${Math.floor(N / CHECKPOINT_INTERVAL)} checkpoints)`);

    const rp = benchReplay(path, profile);
    log(
      `replay         ${rp.replay_cpu_ms} ms CPU (${rp.replay_wall_ms} ms wall) for ${N} events --verify from the database, ` +
        `bare read + decode ${rp.read_cpu_ms} ms CPU (${rp.read_wall_ms} ms wall): ratio ${rp.replay_vs_read_ratio} CPU, ${rp.replay_vs_read_wall_ratio} wall (budget <= 1.5, CPU)`,
    );

    const db = TraceDb.open(path, { readonly: true });
    const src = Effect.runSync(dbSource(db, path));
    const rand = prng(42);
    const times: number[] = [];
    for (let i = 0; i < 41; i++) {
      const at = 1 + Math.floor(rand() * N);
      const t = performance.now();
      Effect.runSync(new Timeline(src).stateAt(at).pipe(Effect.provideService(ProfileService, profile)));
      times.push(performance.now() - t);
    }
    const seek_ms = Math.round(median(times) * 100) / 100;
    log(`seek           median ${seek_ms} ms over 41 random events, max ${Math.max(...times).toFixed(1)} ms (budget < 50)`);
    const bisect = benchBisect(src, profile, N);
    const bisect_vs_seek_ratio = Math.round((bisect.ms / seek_ms) * 100) / 100;
    log(`bisect events  ${bisect.ms.toFixed(1)} ms, ${bisect.probes} probes, found event ${bisect.first}: ${bisect_vs_seek_ratio} seeks (budget <= 40)`);
    const df = benchDiff(src, profile);
    db.close();
    const diff_vs_seek_ratio = Math.round((df.diff_ms / seek_ms) * 100) / 100;
    log(`diff           median ${df.diff_ms} ms between events half the trace apart (two seeks and the diff): ${diff_vs_seek_ratio} seeks (budget <= 4)`);

    // Append last: its million pre-encoded rows would otherwise sit in the heap the replay runs in.
    const append = benchAppend(N);
    log(`append         store ${append.store_ms} ms, bare insert ${append.bare_ms} ms: ratio ${append.append_ratio} (budget <= 1.5)`);

    const mu = benchMapUnmap(50_000);
    log(`map/unmap      ${mu.map_unmap_per_s} IOAS_MAP+IOAS_UNMAP pairs of 2 MiB per second (pins, VT-d page tables written and torn down)`);

    const wk = benchWalk();
    log(
      `walk           ${wk.walk4_per_s} uncached 4-level first-stage walks/s over ${wk.pages} random 4 KiB pages (${(wk.table_bytes / 2 ** 20).toFixed(1)} MiB of tables; reader ${wk.reader}) (budget >= 5,000,000)`,
    );
    log(`iotlb          ${wk.iotlb_hits_per_s} hits/s (budget >= 30,000,000)`);
    log(`nested walk    ${wk.nested_walk_per_s} nested walks/s (first stage over a 4-level second stage with 2 MiB pages)`);
    log(
      `walk vs C      ${wk.walk_vs_c_ratio === null ? "null (no cc)" : `${wk.walk_vs_c_ratio}x (C ${wk.c_walk4_per_s} walks/s, cc -O2, same tables and addresses)`}`,
    );

    const lv = benchLive();
    log(
      `live           ${lv.live_calls_per_s === null ? `null (${lv.live_reason})` : `${lv.live_calls_per_s} calls/s`}: IOAS_MAP/IOAS_UNMAP from C under iorr live, ${lv.live_calls} synchronous round trips`,
    );

    const sf = benchSelftest();
    log(
      `selftest live  ${sf.selftest_live_vs_replay_ratio === null ? `null (${sf.selftest_reason})` : `${sf.selftest_live_vs_replay_ratio}x its replay: the kernel's iommufd selftest under iorr live ${sf.selftest_live_s} s, its ${sf.selftest_events}-event session replayed with --verify ${sf.selftest_replay_s} s`}`,
    );

    const wy = benchWhy();
    log(`why            ${wy.why_ms} ms for a DMA probe at the end of a ${wy.why_events}-event guest trace (replay with provenance, then the probe)`);
    const au = benchAudit(20_000);
    log(
      `audit pasid    ${au.audit_events_per_s} events/s over ${au.audit_events} PASID events (${au.audit_findings} findings), ${au.audit_vs_replay_ratio}x a plain replay of them`,
    );

    const out = {
      events: N,
      append_ratio: append.append_ratio,
      append_store_ms: append.store_ms,
      append_bare_ms: append.bare_ms,
      import_s: Math.round(import_s * 100) / 100,
      replay_vs_read_ratio: rp.replay_vs_read_ratio,
      replay_vs_read_wall_ratio: rp.replay_vs_read_wall_ratio,
      replay_cpu_ms: rp.replay_cpu_ms,
      replay_wall_ms: rp.replay_wall_ms,
      read_cpu_ms: rp.read_cpu_ms,
      read_wall_ms: rp.read_wall_ms,
      seek_ms,
      diff_ms: df.diff_ms,
      diff_vs_seek_ratio,
      checkpoint_interval: CHECKPOINT_INTERVAL,
      bisect_events_ms: Math.round(bisect.ms * 100) / 100,
      bisect_probes: bisect.probes,
      bisect_vs_seek_ratio,
      map_unmap_per_s: mu.map_unmap_per_s,
      walk4_per_s: wk.walk4_per_s,
      iotlb_hits_per_s: wk.iotlb_hits_per_s,
      nested_walk_per_s: wk.nested_walk_per_s,
      walk_vs_c_ratio: wk.walk_vs_c_ratio,
      c_walk4_per_s: wk.c_walk4_per_s,
      walk_reader: wk.reader,
      live_calls_per_s: lv.live_calls_per_s,
      ...(lv.live_reason ? { live_calls_reason: lv.live_reason } : {}),
      ...sf,
      why_ms: wy.why_ms,
      audit_events_per_s: au.audit_events_per_s,
      audit_vs_replay_ratio: au.audit_vs_replay_ratio,
      record_events_per_s: rc.record_events_per_s,
      record_vs_replay_ratio: rc.record_vs_replay_ratio,
      record_vs_replay_wall_ratio: rc.record_vs_replay_wall_ratio,
      record_peak_mb: rc.record_peak_mb,
      record_events: rc.record_events,
      record_bytes: rc.record_bytes,
      record_checkpoints: rc.record_checkpoints,
      cli_startup_ratio: st.cli_startup_ratio,
      cli_startup_ms: st.cli_startup_ms,
      node_startup_ms: st.node_startup_ms,
      budgets: {
        append_ratio: append.append_ratio <= 1.5,
        replay_vs_read_ratio: rp.replay_vs_read_ratio <= 1.5,
        seek_ms: seek_ms < 50,
        bisect_vs_seek_ratio: bisect_vs_seek_ratio <= 40,
        diff_vs_seek_ratio: diff_vs_seek_ratio <= 4,
        walk4_per_s: wk.walk4_per_s >= 5_000_000,
        iotlb_hits_per_s: wk.iotlb_hits_per_s >= 30_000_000,
        cli_startup_ratio: st.cli_startup_ratio <= 4,
        record_vs_replay_ratio: rc.record_vs_replay_ratio <= 1.5,
        record_peak_mb: rc.record_peak_mb < 500,
      },
    };
    if (json) process.stdout.write(`${JSON.stringify(out)}\n`);
    else
      log(
        `budgets        ${Object.entries(out.budgets)
          .map(([k, ok]) => `${k} ${ok ? "ok" : "MISSED"}`)
          .join(", ")}`,
      );
  } finally {
    for (const s of ["", "-wal", "-shm"]) rmSync(path + s, { force: true });
  }
}

await main();
