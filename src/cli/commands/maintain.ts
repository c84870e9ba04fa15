// iorr checkpoints <trace.db> [--rebuild] [--profile P] [--json]: each stored
// checkpoint and whether it holds; --rebuild replaces them all by replaying.
// iorr upgrade <trace.db> [--json]: a file written by an older schema brought up to this build's.

import { Effect } from "effect";
import { BadInput } from "../../model/framework.ts";
import { encodeState, replay, type ReplayFault } from "../../replay/engine.ts";
import { dbSource, storeCall } from "../../replay/source.ts";
import { latestSchema } from "../../store/migrations.ts";
import { isTraceDbPath, StoreError, TraceDb } from "../../store/tracedb.ts";
import { corruptCheckpoints, EXIT, profileFor, stopped, withTrace, type Command } from "../common.ts";

/** A trace database opened for the length of `use`, closed however it ends. */
function usingDb<A, E>(command: string, file: string, readonly: boolean, use: (db: TraceDb) => Effect.Effect<A, E>): Effect.Effect<A, E | BadInput> {
  if (!isTraceDbPath(file))
    return Effect.fail(new BadInput({ file, message: `not a trace database; iorr ${command} works on a .db file (iorr import makes one)` }));
  return Effect.acquireUseRelease(
    storeCall(() => TraceDb.open(file, { readonly })),
    use,
    (db) => Effect.sync(() => db.close()),
  );
}

/** The profile the file's outcomes were computed under (meta checkpoint_profile), else the header's. */
function storedProfile(db: TraceDb, file: string, flag: string | true | undefined) {
  return Effect.gen(function* () {
    const src = yield* dbSource(db, file);
    const stored = yield* storeCall(() => db.getMeta("checkpoint_profile"));
    const header = Array.isArray(stored) && flag === undefined ? { ...src.header, profile: stored as string[] } : src.header;
    return { src, profile: yield* profileFor("checkpoints", flag, { file, header }) };
  });
}

export const checkpointsCommand: Command = {
  usage: "checkpoints <trace.db> [--rebuild] [--profile P] [--json]",
  summary: "check each stored checkpoint; --rebuild replaces them by replaying",
  flags: { rebuild: {}, profile: { value: true } },
  args: { min: 1, max: 1, names: ["<trace.db>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const file = a.positional[0]!;
      return yield* usingDb("checkpoints", file, a.flags.rebuild !== true, (db) =>
        Effect.gen(function* () {
          const { src, profile } = yield* storedProfile(db, file, a.flags.profile);
          if (a.flags.rebuild !== true) {
            const status = yield* storeCall(() => db.checkpointStatus());
            // Keys are switch lists; the outcomes' profile reads better by its name.
            const name = (key: string) => (key === profile.key ? profile.spec.join(",") : key);
            out.print(`${file}: ${status.length} checkpoint(s)`);
            for (const c of status)
              out.print(`  after event ${String(c.seq).padStart(8)}  ${c.ok ? "ok     " : "CORRUPT"}  ${c.bytes} bytes  profile ${name(c.profile)}`);
            const problem = corruptCheckpoints(file, status);
            if (problem) return yield* Effect.fail(new BadInput({ file, field: "checkpoint", message: problem }));
            return { status: EXIT.ok, json: { file, checkpoints: status.map((c) => ({ ...c, profile: name(c.profile) })) } };
          }
          yield* storeCall(() => db.deleteCheckpoints());
          let written = 0;
          const bar = out.progress("checkpoints");
          yield* withTrace(
            src,
            profile,
            replay({
              onCheckpoint: (seq, state) => {
                if (db.putCheckpoint(profile.key, seq, encodeState(state))) written++;
              },
              progress: (d, t) => bar.update(d, t),
            }),
          ).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(file, f, { checkpoints: written }))),
            Effect.ensuring(Effect.sync(() => bar.done())),
          );
          out.print(`${file}: ${written} checkpoint(s) rebuilt under ${profile.spec.join(",")}`);
          return { status: EXIT.ok, json: { file, profile: profile.spec, checkpoints: written } };
        }),
      );
    }),
};

export const upgradeCommand: Command = {
  usage: "upgrade <trace.db> [--json]",
  summary: "bring a trace database written by an older iorr to this schema",
  flags: {},
  args: { min: 1, max: 1, names: ["<trace.db>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const file = a.positional[0]!;
      // Read-only first, so that a file already current is not touched.
      const old = yield* storeCall(() => {
        try {
          TraceDb.open(file, { readonly: true }).close();
          return false;
        } catch (e) {
          if (e instanceof StoreError && e.field === "schema") return true;
          throw e;
        }
      });
      // Opening it writable runs the migrations (which check the old chain); then the new chain is checked.
      if (old) yield* usingDb("upgrade", file, false, (db) => storeCall(() => db.verifyChain()));
      out.print(old ? `${file}: upgraded to schema ${latestSchema()}; hash chain verified` : `${file}: already at schema ${latestSchema()}`);
      return { status: EXIT.ok, json: { file, schema: latestSchema(), upgraded: old } };
    }),
};
