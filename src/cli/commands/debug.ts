// iorr debug <trace> [--profile P] [--json]: an interactive session over the trace
// (src/query/debug.ts), one command a line from stdin: a terminal (with a prompt and
// line editing) or a pipe, so a script or a test drives it as a user would. It ends
// at `quit` or the end of input, exit 0; a simulator fault met on the way is said
// when met, and the exit status is then the fault's (2 bad input, 3 simulator fault).
// With --json nothing is printed as it goes; the one object is the transcript.

import { Effect } from "effect";
import { createInterface } from "node:readline";
import { Debugger } from "../../query/debug.ts";
import { EXIT, profileFor, usingTrace, withTrace, type Command } from "../common.ts";
import { TraceFault } from "../report.ts";

export const debugCommand: Command = {
  usage: "debug <trace> [--profile P]",
  summary: "step, go back, print, watch and (reverse-)continue through a trace; commands from stdin",
  flags: { profile: { value: true } },
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    usingTrace(a.positional[0]!, out, (src) =>
      Effect.gen(function* () {
        const profile = yield* profileFor("debug", a.flags.profile, src);
        const dbg = new Debugger(src);
        const tty = process.stdin.isTTY === true && !out.json;
        const rl = createInterface({ input: process.stdin, ...(tty ? { output: process.stdout, prompt: "(iorr) " } : {}), terminal: tty });
        // Ctrl-C at the prompt ends the session as the end of input does (readline would only pause).
        rl.on("SIGINT", () => rl.close());
        const lines = rl[Symbol.asyncIterator]();
        const transcript: { command: string; output: string[] }[] = [];
        out.print(`${src.file}: ${src.count} events under ${profile.spec.join(",")}; at event 0 (before the first); "help" lists the commands`);
        const session = Effect.gen(function* () {
          for (;;) {
            if (tty) rl.prompt();
            const next = yield* Effect.promise(() => lines.next());
            if (next.done) break;
            const line = next.value as string;
            const reply = yield* dbg.exec(line);
            for (const l of reply.lines) out.print(l);
            if (out.json && line.trim() !== "") transcript.push({ command: line.trim(), output: reply.lines });
            if (reply.quit) break;
          }
        }).pipe(Effect.ensuring(Effect.sync(() => rl.close())));
        yield* withTrace(src, profile, session);
        const f = dbg.fault;
        const json = { events: src.count, seq: dbg.position, transcript };
        // The session ran; a fault met on the way still makes the exit status, with its error object.
        if (f) return yield* Effect.fail(new TraceFault({ file: src.file, fault: f, figures: json }));
        return { status: EXIT.ok, json };
      }),
    ),
};
