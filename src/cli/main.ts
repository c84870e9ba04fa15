// The iorr command: a small set of verbs over trace paths, as rr and git
// bisect have. Exit status: 0 ok, 1 divergence, 2 bad input, 3 simulator fault.

import { Cause, Effect, Exit, Option } from "effect";
import { EXIT, print, type Command } from "./common.ts";
import { demoCommand } from "./commands/demo.ts";
import { exportCommand, importCommand, infoCommand } from "./commands/io.ts";
import { profilesCommand } from "./commands/profiles.ts";
import { replayCommand } from "./commands/replay.ts";
import { stateCommand } from "./commands/state.ts";

const COMMANDS: Record<string, { run: Command; usage: string; summary: string }> = {
  import: {
    run: importCommand,
    usage: "import <trace.jsonl> -o <trace.db> [--profile P] [--json]",
    summary: "validate a JSONL trace and store it with outcomes and checkpoints",
  },
  export: {
    run: exportCommand,
    usage: "export <trace> [-o out.jsonl] [--outcomes] [--profile P]",
    summary: "write a trace as JSONL (--outcomes: computed outcomes as expect)",
  },
  replay: {
    run: replayCommand,
    usage: "replay <trace> [--verify] [--profile P] [--until N] [--json]",
    summary: "fold every event; with --verify stop at the first divergence",
  },
  state: { run: stateCommand, usage: "state <trace> --at N [--profile P] [--json]", summary: "the whole state after event N" },
  info: { run: infoCommand, usage: "info <trace> [--json]", summary: "header, event counts, hash chain and checkpoints" },
  profiles: { run: profilesCommand, usage: "profiles [--profile P] [--json]", summary: "presets and behaviour switches; with --profile, what P resolves to" },
  demo: { run: demoCommand, usage: "demo [dir]", summary: "import, verify and explore the sample traces" },
};

function help(): void {
  print("iorr: IOMMU record & replay, a deterministic simulator of iommufd, VFIO and vIOMMU behaviour");
  print("");
  print("usage: iorr <command> [options]   (a <trace> is a .jsonl trace or a .db trace database)");
  for (const c of Object.values(COMMANDS)) print(`  iorr ${c.usage.padEnd(62)} ${c.summary}`);
  print("");
  print("exit status: 0 ok, 1 divergence, 2 bad input, 3 simulator fault");
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    help();
    return name === undefined ? EXIT.badInput : EXIT.ok;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`iorr: unknown command "${name}" (see iorr help)\n`);
    return EXIT.badInput;
  }
  const exit = await Effect.runPromiseExit(cmd.run(rest));
  if (Exit.isSuccess(exit)) return exit.value;
  // Bad input is the commands' one typed failure: exit 2.
  const bad = Option.getOrUndefined(Cause.failureOption(exit.cause));
  if (bad) {
    process.stderr.write(`iorr: ${bad.describe()}\n`);
    return EXIT.badInput;
  }
  // A defect: the simulator itself is wrong. Say where, and fail as a fault.
  process.stderr.write(`iorr: internal error: ${Cause.pretty(exit.cause)}\n`);
  return EXIT.fault;
}
