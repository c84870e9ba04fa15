// iorr record [-o trace.db] [--profile P] [--platform file.jsonl] [--json] -- <command> [args...]
// Runs a program on the real kernel with the record shim preloaded (build/iorr_rec.so):
// each /dev/iommu and /dev/vfio/* call goes to the kernel (or to iorr live's shim, when
// stacked) and is kept as raw trace events with the real result as `expect` (src/live/record.ts).

import { Effect } from "effect";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importEvents } from "../../importers/import.ts";
import { RecordServer } from "../../live/record.ts";
import { readPlatform } from "../../live/platform.ts";
import { BadInput } from "../../model/framework.ts";
import { EventError, type TraceEvent } from "../../model/events.ts";
import { parseTraceEvent } from "../../model/ops.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { checkOutputPath } from "../../store/tracedb.ts";
import type { Parsed } from "../args.ts";
import { EXIT, profileFor, stopped } from "../common.ts";
import { count, type Output } from "../report.ts";
import { preloadWith, runProgram, shimLibraries } from "./live.ts";

/** Where the trace goes without -o. */
export const DEFAULT_RECORD_OUTPUT = "trace.db";

export function recordProgram(a: Parsed, out: Output) {
  return Effect.gen(function* () {
    const argv = a.positional;
    const bad = (field: string, message: string) => new BadInput({ file: "iorr record", field, message });
    if (a.flags.scenario !== undefined) return yield* Effect.fail(bad("--scenario", "give --scenario or -- <command>, not both"));
    if (!argv.length) return yield* Effect.fail(bad("<command>", "missing the command after --"));
    const output = a.flags.output ?? DEFAULT_RECORD_OUTPUT;
    if (output === true) return yield* Effect.fail(bad("-o", "needs a file name"));
    yield* Effect.try({ try: () => checkOutputPath(output), catch: (e) => bad("-o", (e as Error).message) });
    const profile = yield* profileFor("record", a.flags.profile, undefined);
    const prelude = yield* readPlatform("iorr record", a.flags.platform);
    const lib = yield* Effect.tryPromise({
      try: async () => (await shimLibraries()).record,
      catch: (e) => new BadInput({ file: "iorr record", message: (e as Error).message }),
    });
    const dir = mkdtempSync(join(tmpdir(), "iorr-record-"));
    const server = new RecordServer(join(dir, "sock"));
    const status = yield* Effect.tryPromise({
      try: async () => {
        await server.listen();
        try {
          return await runProgram(argv, { ...process.env, LD_PRELOAD: preloadWith(lib), IORR_RECORD_SOCK: join(dir, "sock") });
        } finally {
          await server.close(5000);
          rmSync(dir, { recursive: true, force: true });
        }
      },
      catch: (e) => bad("<command>", `cannot run ${argv[0]}: ${(e as Error).message}`),
    });
    const raw = [...prelude, ...server.events];
    const events: TraceEvent[] = [];
    for (const [i, r] of raw.entries()) {
      const ev = yield* Effect.try({
        try: () => parseTraceEvent(r, i + 1),
        // The recorder wrote an event the format refuses: a bug of the recorder, said with the event.
        catch: (e) =>
          new BadInput({
            file: output,
            seq: i + 1,
            field: e instanceof EventError ? e.field : "op",
            message: `recorded ${JSON.stringify(r)}: ${(e as Error).message}`,
          }),
      });
      events.push(ev);
    }
    const header = {
      format: "iorr-trace" as const,
      version: 1 as const,
      profile: [...profile.spec],
      title: `iorr record -- ${argv.join(" ")}`,
      source: "record",
      ...(server.parents.size ? { forks: Object.fromEntries([...server.parents].map(([pid, parent]) => [String(pid), parent])) } : {}),
    };
    yield* importEvents("iorr record", header, events, output, profile).pipe(
      Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(output, f, { output, written: false }))),
    );
    const notRecorded = Object.fromEntries([...server.notRecorded].sort((x, y) => y[1] - x[1]));
    if (!out.json) {
      const lines = [
        `iorr record: ${argv[0]} exited with status ${status}; ${count(server.calls, "call")}, ${count(events.length, "event")} written to ${output}`,
      ];
      if (server.notRecordedTotal()) {
        lines.push(`iorr record: ${count(server.notRecordedTotal(), "call")} made but not recorded (no trace event for them)`);
        for (const [why, n] of Object.entries(notRecorded)) lines.push(`  ${n} x ${why}`);
      }
      process.stderr.write(`${lines.join("\n")}\n`);
    }
    return {
      status: status === 0 ? EXIT.ok : status,
      json: { status, calls: server.calls, events: events.length, not_recorded: server.notRecordedTotal(), not_recorded_by_reason: notRecorded, output },
    };
  });
}
