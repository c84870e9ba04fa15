// iorr diff <trace> --from N --to M [--profile P] [--json]: what changed between the
// state after event N and the state after event M (src/query/diff.ts). --from may be
// after --to: the diff then reads backwards (what undoing those events changes).

import { Effect } from "effect";
import { BadInput } from "../../model/framework.ts";
import { diffStates, type Change } from "../../query/diff.ts";
import { describeChange, valueJson } from "../../query/render.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { Timeline } from "../../replay/timeline.ts";
import { checkEventFlag, intFlag } from "../args.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { count } from "../report.ts";

export function changeJson(c: Change): Record<string, unknown> {
  return {
    path: c.path,
    kind: c.kind,
    ...(c.kind !== "added" ? { before: valueJson(c.before, true) } : {}),
    ...(c.kind !== "removed" ? { after: valueJson(c.after, true) } : {}),
  };
}

export const diffCommand: Command = {
  usage: "diff <trace> --from N --to M [--profile P] [--json]",
  summary: "what changed in the state from event N to event M, part by part",
  flags: { from: { value: true }, to: { value: true }, profile: { value: true } },
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const from = yield* intFlag("diff", "from", a.flags.from);
      const to = yield* intFlag("diff", "to", a.flags.to);
      if (from === undefined || to === undefined)
        return yield* Effect.fail(
          new BadInput({ file: "iorr diff", field: from === undefined ? "--from" : "--to", message: "is required (usage: iorr diff <trace> --from N --to M)" }),
        );
      return yield* usingTrace(a.positional[0]!, out, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("diff", a.flags.profile, src);
          yield* checkEventFlag("diff", "from", from, src.file, src.count);
          yield* checkEventFlag("diff", "to", to, src.file, src.count);
          const timeline = new Timeline(src);
          const [before, after] = yield* withTrace(src, profile, Effect.all([timeline.stateAt(from), timeline.stateAt(to)])).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f, { from, to, changes: null }))),
          );
          const changes = diffStates(before, after);
          out.print(`${src.file}: from event ${from} to event ${to} under ${profile.spec.join(",")}: ${count(changes.length, "change")}`);
          let part: string | undefined;
          for (const c of changes) {
            const top = c.path.split(".")[0]!;
            if (top !== part) out.print(`${top}:`);
            part = top;
            out.print(`  ${describeChange(c)}`);
          }
          return { status: EXIT.ok, json: { from, to, changes: changes.map(changeJson) } };
        }),
      );
    }),
};
