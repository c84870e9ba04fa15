// The iorr command: a small set of verbs over trace paths, as rr and git
// bisect have. Exit status: 0 ok, 1 divergence, 2 bad input, 3 simulator fault.
// Every command takes --json: then stdout is exactly one JSON object, whatever
// happens (Output in report.ts).

import { Cause, Effect, Exit } from "effect";
import { BadInput } from "../model/framework.ts";
import { parseArgs } from "./args.ts";
import { EXIT, type Command } from "./common.ts";
import { auditCommand } from "./commands/audit.ts";
import { demoCommand } from "./commands/demo.ts";
import { liveCommand } from "./commands/live.ts";
import { debugCommand } from "./commands/debug.ts";
import { diffCommand } from "./commands/diff.ts";
import { exportCommand, importCommand, infoCommand } from "./commands/io.ts";
import { checkpointsCommand, upgradeCommand } from "./commands/maintain.ts";
import { bisectCommand, bisectRunCommand } from "./commands/bisect.ts";
import { oracleCommand } from "./commands/oracle.ts";
import { profilesCommand } from "./commands/profiles.ts";
import { recordCommand } from "./commands/record.ts";
import { replayCommand } from "./commands/replay.ts";
import { stateCommand } from "./commands/state.ts";
import { whyCommand } from "./commands/why.ts";
import { Output } from "./report.ts";
import { nearest } from "./suggest.ts";

const COMMANDS: Record<string, Command> = {
  import: importCommand,
  record: recordCommand,
  export: exportCommand,
  replay: replayCommand,
  state: stateCommand,
  why: whyCommand,
  diff: diffCommand,
  debug: debugCommand,
  info: infoCommand,
  bisect: bisectCommand,
  "bisect-run": bisectRunCommand,
  checkpoints: checkpointsCommand,
  upgrade: upgradeCommand,
  profiles: profilesCommand,
  audit: auditCommand,
  oracle: oracleCommand,
  demo: demoCommand,
  live: liveCommand,
};

function help(write: (s: string) => void): void {
  const lines = [
    "iorr: IOMMU record & replay, a deterministic simulator of iommufd, VFIO and vIOMMU behaviour",
    "",
    "usage: iorr <command> [options]   (a <trace> is a .jsonl trace or a .db trace database)",
    ...Object.values(COMMANDS).map((c) => `  iorr ${c.usage.padEnd(72)} ${c.summary}`),
    "",
    "--json: stdout is one JSON object, errors included; see README.md",
    "exit status: 0 ok, 1 divergence, 2 bad input, 3 simulator fault",
  ];
  write(`${lines.join("\n")}\n`);
}

/** `iorr help <command>` and `iorr <command> --help`: its usage, what it does, its flags. */
function commandHelp(cmd: Command): string {
  const flags = Object.entries({ ...cmd.flags, json: {} }).map(([f, spec]) => `--${f}${(spec as { value?: boolean }).value ? " <value>" : ""}`);
  return `usage: iorr ${cmd.usage}\n  ${cmd.summary}\nflags: ${flags.join(", ")}\n(the commands' objects and exit statuses: README.md; iorr help lists every command)\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help" || name === "--help" || name === "-h") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic === undefined) {
      help((s) => process.stdout.write(s));
      return EXIT.ok;
    }
    const cmd = COMMANDS[topic];
    if (!cmd) return new Output(false).report(Cause.fail(unknownCommand(topic)));
    process.stdout.write(commandHelp(cmd));
    return EXIT.ok;
  }
  const before = argv.indexOf("--") < 0 ? rest : rest.slice(0, rest.indexOf("--"));
  if (name !== undefined && COMMANDS[name] && (before.includes("--help") || before.includes("-h"))) {
    process.stdout.write(commandHelp(COMMANDS[name]!));
    return EXIT.ok;
  }
  // No command: the help, as an error (a script that forgot its arguments is told so).
  if (name === undefined) {
    help((s) => process.stderr.write(s));
    return EXIT.badInput;
  }
  const dash = argv.indexOf("--");
  const out = new Output((dash < 0 ? argv : argv.slice(0, dash)).includes("--json"));
  const cmd = COMMANDS[name];
  const program = cmd
    ? Effect.flatMap(parseArgs(name, rest, { ...cmd, flags: { ...cmd.flags, json: {} } }), (a) => cmd.run(a, out))
    : Effect.fail(unknownCommand(name));
  // A reader that stops early (iorr export t.db | head) ends the command quietly, as SIGPIPE would end a C tool.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(EXIT.ok);
  });
  const exit = await Effect.runPromiseExit(program);
  if (!Exit.isSuccess(exit)) {
    const status = out.report(exit.cause);
    return cmd?.failureStatus ?? status;
  }
  try {
    return out.done(exit.value);
  } catch (e) {
    // Figures that do not serialise are a defect like any other: still one object.
    return out.report(Cause.die(e));
  }
}

function unknownCommand(name: string): BadInput {
  if (name.startsWith("-")) return new BadInput({ file: "iorr", message: `expected a command before ${name} (see iorr help)` });
  const near = nearest(name, Object.keys(COMMANDS));
  return new BadInput({ file: "iorr", message: `unknown command "${name}"${near ? `; did you mean "${near}"?` : ""} (see iorr help)` });
}
