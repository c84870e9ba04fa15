// iorr oracle qemu <trace> --qemu <qemu-system-x86_64> [--profile P] [--json]:
// the trace's guest part given to a real QEMU over qtest, QEMU's answers
// compared with iorr's (src/oracle/run.ts); docs/oracle.md.

import { Effect } from "effect";
import { accessSync, constants } from "node:fs";
import { BadInput } from "../../model/framework.ts";
import { toJsonValue } from "../../model/outcome.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { runOracle } from "../../oracle/run.ts";
import { EXIT, profileFor, readAll, stopped, usingTrace, type Command } from "../common.ts";
import { checkOutput, writeOutput } from "../output_file.ts";
import { count } from "../report.ts";

export const oracleCommand: Command = {
  usage: "oracle qemu <trace> --qemu <qemu-system-x86_64> [--log FILE] [--profile P] [--json]",
  summary: "give the trace's guest part to a real QEMU over qtest; compare its answers with iorr's",
  flags: { qemu: { value: true }, log: { value: true }, profile: { value: true } },
  args: { min: 2, max: 2, names: ["qemu", "<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      if (a.positional[0] !== "qemu")
        return yield* Effect.fail(new BadInput({ file: "iorr oracle", message: `unknown oracle "${a.positional[0]}" (the one oracle is: qemu)` }));
      const binary = a.flags.qemu;
      if (typeof binary !== "string")
        return yield* Effect.fail(new BadInput({ file: "iorr oracle", field: "--qemu", message: "needs the path of a qemu-system-x86_64 (docs/oracle.md)" }));
      try {
        accessSync(binary, constants.X_OK);
      } catch {
        return yield* Effect.fail(new BadInput({ file: "iorr oracle", field: "--qemu", message: `${binary} is not an executable file` }));
      }
      const logFile = typeof a.flags.log === "string" ? a.flags.log : undefined;
      if (logFile !== undefined) yield* checkOutput(logFile);
      return yield* usingTrace(a.positional[1]!, out, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("oracle", a.flags.profile, src);
          const events = yield* readAll(src);
          // --log: each QEMU's command line, then its stderr (the vtd_* trace events the answers were read from).
          const logged: string[] = [];
          const log =
            logFile === undefined
              ? undefined
              : (args: readonly string[], lines: readonly string[]) => logged.push(`# ${args.join(" ")}\n`, ...lines.map((l) => `${l}\n`));
          const r = yield* runOracle(binary, src.file, src.header, events, profile, log).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f))),
          );
          if (logFile !== undefined) yield* writeOutput(logFile, logged);
          out.print(
            `${src.file}: ${count(r.issued, "event")} given to QEMU, ${count(r.verdicts.length + (r.difference ? 1 : 0), "answer")} compared; ` +
              `${count(r.hostSide, "host-side event")} not the guest's; ${count(r.notIssued.length, "guest event")} not issued`,
          );
          for (const n of r.notIssued) out.print(`  not issued: event ${n.seq} (${n.op}): ${n.reason}`);
          const d = r.difference;
          if (d) {
            out.print(`DIFFERENCE at event ${d.seq} (${d.op}), field "${d.field}":`);
            out.print(`  qemu ${JSON.stringify(d.qemu)}`);
            out.print(`  iorr ${JSON.stringify(toJsonValue(d.iorr))}`);
          } else out.print("QEMU and iorr agree");
          return {
            status: d ? EXIT.divergence : EXIT.ok,
            json: {
              qemu: binary,
              issued: r.issued,
              compared: r.verdicts.length + (d ? 1 : 0),
              host_side: r.hostSide,
              not_issued: r.notIssued,
              difference: d ? { seq: d.seq, op: d.op, field: d.field, qemu: d.qemu, iorr: toJsonValue(d.iorr) } : null,
            },
          };
        }),
      );
    }),
};
