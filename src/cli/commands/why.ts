// iorr why <trace> (--probe '<event json>' | --dma <bdf>[,pid=P][,pasid=N] --iova X [--access read|write])
//   [--at N] [--profile P] [--json]: the outcome of a DMA probe after event N and
// the events that established every piece it depends on (src/query/why.ts).

import { Effect, Either } from "effect";
import { BadInput, type SimulatorFault } from "../../model/framework.ts";
import { toJsonValue } from "../../model/outcome.ts";
import { parseProbe } from "../../query/probe.ts";
import { why } from "../../query/why.ts";
import type { ReplayFault } from "../../replay/engine.ts";
import { checkEventFlag, intFlag } from "../args.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { TraceFault } from "../report.ts";

const USAGE = "why <trace> (--probe '<event json>' | --dma <bdf>[,pid=P][,pasid=N] --iova X [--access read|write]) [--at N] [--profile P] [--json]";

/** The probe event from --probe, or from --dma / --iova / --access (a host bdf, or with pid= an emulated device's guest bdf). */
export function probeJson(flags: Record<string, string | true>): Either.Either<{ json: string; where: string }, BadInput> {
  const bad = (field: string, message: string) => Either.left(new BadInput({ file: "iorr why", field, message: `${message} (usage: iorr ${USAGE})` }));
  const { probe, dma, iova, access } = flags;
  if (probe !== undefined && dma !== undefined) return bad("--probe", "give --probe or --dma, not both");
  if (probe !== undefined) {
    if (probe === true) return bad("--probe", "needs a value");
    if (iova !== undefined || access !== undefined) return bad(iova !== undefined ? "--iova" : "--access", "goes with --dma");
    return Either.right({ json: probe, where: "iorr why --probe" });
  }
  if (dma === undefined || dma === true) return bad("--dma", "a probe is needed: --probe '<event json>' or --dma <bdf> --iova X");
  if (iova === undefined || iova === true) return bad("--iova", "--dma needs --iova X");
  if (access === true || (access !== undefined && access !== "read" && access !== "write"))
    return bad("--access", `expected read or write, got "${access === true ? "" : access}"`);
  const [bdf, ...opts] = dma.split(",");
  const ev: Record<string, unknown> = { op: "dma", iova, access: access ?? "read" };
  for (const o of opts) {
    const m = /^(pid|pasid)=([0-9]+|0x[0-9a-fA-F]+)$/.exec(o);
    if (!m) return bad("--dma", `unknown option "${o}" (expected pid=P or pasid=N)`);
    ev[m[1]!] = Number(m[2]);
  }
  // With pid= the device is an emulated one of that QEMU process, translated by its vIOMMU.
  if (ev.pid !== undefined) ev.guest_bdf = bdf;
  else ev.bdf = bdf;
  return Either.right({ json: JSON.stringify(ev), where: "iorr why --dma" });
}

export const whyCommand: Command = {
  usage: USAGE,
  summary: "a DMA's outcome after event N and the events that established what it depends on",
  flags: { probe: { value: true }, dma: { value: true }, iova: { value: true }, access: { value: true }, at: { value: true }, profile: { value: true } },
  args: { min: 1, max: 1, names: ["<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const at = yield* intFlag("why", "at", a.flags.at);
      const given = yield* probeJson(a.flags);
      const probe = yield* parseProbe(given.json, given.where);
      if (probe.op !== "dma")
        return yield* Effect.fail(
          new BadInput({ file: given.where, field: "op", message: `why explains a DMA's translation: expected op "dma", got "${probe.op}"` }),
        );
      return yield* usingTrace(a.positional[0]!, out, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("why", a.flags.profile, src);
          const seq = yield* checkEventFlag("why", "at", at ?? src.count, src.file, src.count);
          const r = yield* withTrace(src, profile, why(probe, seq)).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f, { at: seq }))),
            Effect.catchTag("SimulatorFault", (fault: SimulatorFault) => Effect.fail(new TraceFault({ file: given.where, fault, figures: { at: seq } }))),
          );
          const outcome = toJsonValue(r.outcome);
          out.print(`after event ${seq} of ${src.file}: ${JSON.stringify(outcome)}`);
          out.print(r.events.length ? "established by:" : "established by no event of the trace");
          const w = Math.max(...r.events.map((e) => String(e.seq).length), 1);
          for (const e of r.events) out.print(`  ${String(e.seq).padStart(w)}  ${e.cmd ?? e.op}: ${e.role}`);
          return { status: EXIT.ok, json: { at: seq, outcome, events: r.events } };
        }),
      );
    }),
};
