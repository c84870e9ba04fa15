// iorr live [--profile P] [--prelude events.jsonl] [-o session.db] [--json] -- <command> [args...]
// Runs a real program against the model: its /dev/iommu and /dev/vfio/* calls
// go through the LD_PRELOAD shim to the live server (src/live/), the session is
// kept as a trace with -o, and iorr exits with the program's exit status.

import { Effect } from "effect";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { constants, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { importEvents } from "../../importers/import.ts";
import { LiveServer } from "../../live/server.ts";
import { LiveSession } from "../../live/session.ts";
import { BadInput } from "../../model/framework.ts";
import { checkOutputPath } from "../../store/tracedb.ts";
import { EXIT, profileFor, stopped, type Command } from "../common.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { count } from "../report.ts";
import { isUnmodelled } from "../../live/session.ts";

/**
 * --prelude: JSON-lines events (host.*, param, ...) folded before the program starts, e.g.
 * the selftest_mock host and kconfig.IOMMUFD_TEST. A header line and `//` comments are skipped;
 * an event the model refuses is bad input naming the line.
 */
function foldPrelude(session: LiveSession, file: string): BadInput | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return new BadInput({ file, field: "--prelude", message: (e as Error).message });
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("//")) continue;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      return new BadInput({ file, line: i + 1, message: (e as Error).message });
    }
    if (raw.format !== undefined) continue;
    const out = session.fold(raw);
    if (isUnmodelled(out)) return new BadInput({ file, line: i + 1, message: out.why });
  }
  return undefined;
}

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

/** build/iorr_shim.so, built now when it is missing or older than its source. */
async function shimLibrary(): Promise<string> {
  const root = packageRoot();
  const { buildShim, shimFresh, SHIM_LIBRARY } = (await import(join(root, "tools", "build_shim.mjs"))) as {
    buildShim: (root: string) => string;
    shimFresh: (root: string) => boolean;
    SHIM_LIBRARY: string;
  };
  return shimFresh(root) ? join(root, SHIM_LIBRARY) : buildShim(root);
}

/** Run the program with the shim preloaded; its exit status (128 + signal when killed, as a shell says). */
function runProgram(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit", env });
    child.once("error", reject);
    child.once("exit", (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

export const liveCommand: Command = {
  usage: "live [--profile P] [--prelude events.jsonl] [-o session.db] [--json] -- <command> [args...]",
  summary: "run a program against the model through an LD_PRELOAD shim (-o: keep the session as a trace)",
  flags: { output: { value: true, short: "o" }, profile: { value: true }, prelude: { value: true } },
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
        try: () => shimLibrary(),
        catch: (e) => new BadInput({ file: "iorr live", message: (e as Error).message }),
      });
      const dir = mkdtempSync(join(tmpdir(), "iorr-live-"));
      const session = new LiveSession(profile);
      if (typeof a.flags.prelude === "string") {
        const bad = foldPrelude(session, a.flags.prelude);
        if (bad) return yield* Effect.fail(bad);
      }
      const server = new LiveServer(session, join(dir, "sock"));
      const argv = a.positional;
      const status = yield* Effect.tryPromise({
        try: async () => {
          await server.listen();
          try {
            const preload = [lib, process.env.LD_PRELOAD].filter(Boolean).join(" ");
            return await runProgram(argv, { ...process.env, LD_PRELOAD: preload, IORR_LIVE_SOCK: join(dir, "sock") });
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
