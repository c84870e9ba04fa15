// iorr live [--profile P] [--platform file.jsonl] [-o session.db] [--json] -- <command> [args...]
// Runs a real program against the model: its /dev/iommu and /dev/vfio/* calls
// go through the LD_PRELOAD shim to the live server (src/live/), the session is
// kept as a trace with -o, and iorr exits with the program's exit status.

import { Effect } from "effect";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { importEvents } from "../../importers/import.ts";
import { LiveServer } from "../../live/server.ts";
import { readPlatform } from "../../live/platform.ts";
import { isUnmodelled, LiveSession } from "../../live/session.ts";
import { BadInput } from "../../model/framework.ts";
import { checkOutputPath } from "../../store/tracedb.ts";
import { EXIT, profileFor, stopped, type Command } from "../common.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { count } from "../report.ts";

/** The checkout (or installed package) root: the first directory up with tools/build_shim.mjs. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "tools", "build_shim.mjs"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find iorr's tools/build_shim.mjs above the running code");
    dir = up;
  }
  return dir;
}

/** build/iorr_shim.so (live) and build/iorr_rec.so (record), built now when missing or older than their source. */
export async function shimLibraries(): Promise<{ live: string; record: string }> {
  const root = packageRoot();
  const { buildShim, shimFresh, SHIM_LIBRARY, RECORD_LIBRARY } = (await import(join(root, "tools", "build_shim.mjs"))) as {
    buildShim: (root: string) => string;
    shimFresh: (root: string) => boolean;
    SHIM_LIBRARY: string;
    RECORD_LIBRARY: string;
  };
  if (!shimFresh(root)) buildShim(root);
  return { live: join(root, SHIM_LIBRARY), record: join(root, RECORD_LIBRARY) };
}

/**
 * The program's LD_PRELOAD: a preload already there (iorr record's shim, when
 * `iorr record -- iorr live -- prog` stacks them) stays first, so the program's
 * calls reach it first and its "real" calls (dlsym RTLD_NEXT) reach `lib`.
 */
export function preloadWith(lib: string): string {
  return [process.env.LD_PRELOAD, lib].filter(Boolean).join(" ");
}

/** Run the program with the shim preloaded; its exit status (128 + signal when killed, as a shell says). */
export function runProgram(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit", env });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

export const liveCommand: Command = {
  usage: "live [--profile P] [--platform file.jsonl] [-o session.db] [--json] -- <command> [args...]",
  summary: "run a program against the model through an LD_PRELOAD shim (-o: keep the session as a trace)",
  flags: { output: { value: true, short: "o" }, profile: { value: true }, platform: { value: true } },
  args: { min: 1, max: Number.MAX_SAFE_INTEGER, names: ["<command>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const profile = yield* profileFor("live", a.flags.profile, undefined);
      const output = a.flags.output;
      if (output === true) return yield* Effect.fail(new BadInput({ file: "iorr live", field: "-o", message: "needs a file name" }));
      if (typeof output === "string")
        yield* Effect.try({
          try: () => checkOutputPath(output),
          catch: (e) => new BadInput({ file: "iorr live", field: "-o", message: (e as Error).message }),
        });
      const lib = yield* Effect.tryPromise({
        try: async () => (await shimLibraries()).live,
        catch: (e) => new BadInput({ file: "iorr live", message: (e as Error).message }),
      });
      const prelude = yield* readPlatform("iorr live", a.flags.platform);
      const session = new LiveSession(profile);
      // The platform, folded before the program starts; a step the model refuses is bad input naming it.
      for (const [i, raw] of prelude.entries()) {
        const r = session.fold(raw);
        const why = isUnmodelled(r) ? r.why : r.errno ? `answered ${r.errno}` : undefined;
        if (why) return yield* Effect.fail(new BadInput({ file: String(a.flags.platform), seq: i + 1, field: "op", message: `${String(raw.op)}: ${why}` }));
      }
      const dir = mkdtempSync(join(tmpdir(), "iorr-live-"));
      const server = new LiveServer(session, join(dir, "sock"));
      const argv = a.positional;
      const status = yield* Effect.tryPromise({
        try: async () => {
          await server.listen();
          try {
            return await runProgram(argv, { ...process.env, LD_PRELOAD: preloadWith(lib), IORR_LIVE_SOCK: join(dir, "sock") });
          } finally {
            await server.close(5000);
            rmSync(dir, { recursive: true, force: true });
          }
        },
        catch: (e) => new BadInput({ file: "iorr live", field: "<command>", message: `cannot run ${argv[0]}: ${(e as Error).message}` }),
      });
      const enosys = Object.fromEntries([...session.enosys].sort((x, y) => y[1] - x[1]));
      if (typeof output === "string") {
        const header = {
          format: "iorr-trace" as const,
          version: 1 as const,
          profile: [...profile.spec],
          title: `iorr live -- ${argv.join(" ")}`,
          source: "live",
        };
        yield* importEvents("iorr live", header, session.traceEvents(), output, profile).pipe(
          Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(output, f, { output, written: false }))),
        );
      }
      const figures = {
        status,
        calls: session.calls,
        events: session.events.length,
        enosys: session.enosysTotal(),
        not_modelled: enosys,
        ...(typeof output === "string" ? { output } : {}),
      };
      if (!out.json) {
        const lines = [`iorr live: ${argv[0]} exited with status ${status}; ${count(session.calls, "call")}, ${count(session.events.length, "event")}`];
        if (typeof output === "string") lines.push(`iorr live: session written to ${output}`);
        lines.push(`iorr live: ${count(session.enosysTotal(), "call")} not modelled (answered ENOSYS)`);
        for (const [why, n] of Object.entries(enosys)) lines.push(`  ${n} x ${why}`);
        process.stderr.write(`${lines.join("\n")}\n`);
      }
      return { status: status === 0 ? EXIT.ok : status, json: figures };
    }),
};
