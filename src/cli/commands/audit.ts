// iorr audit pasid <trace> [--profile P] [--json] [--html out.html] [--fail-on KINDS]:
// the PASID audit of a trace (src/audit/pasid.ts), in one replay pass.

import { Effect, Either } from "effect";
import { auditHtml } from "../../audit/html.ts";
import { FINDING_KINDS, PasidAuditor, type FindingKind, type PasidAudit } from "../../audit/pasid.ts";
import { BadInput } from "../../model/framework.ts";
import { replay, type ReplayFault } from "../../replay/engine.ts";
import { EXIT, profileFor, stopped, usingTrace, withTrace, type Command } from "../common.ts";
import { checkOutput, writeOutput } from "../output_file.ts";
import { count, type Output } from "../report.ts";

/** --fail-on: a comma-separated list of finding kinds. */
export function failOnKinds(v: string | true | undefined): Either.Either<FindingKind[], BadInput> {
  if (v === undefined) return Either.right([]);
  const known = FINDING_KINDS as readonly string[];
  const names = v === true ? [""] : v.split(",").map((k) => k.trim());
  const bad = names.find((k) => !known.includes(k));
  if (bad !== undefined)
    return Either.left(
      new BadInput({
        file: "iorr audit",
        field: "--fail-on",
        message: `${bad === "" ? "an empty kind" : `unknown finding kind "${bad}"`}; known kinds: ${FINDING_KINDS.join(", ")}`,
      }),
    );
  return Either.right([...new Set(names)] as FindingKind[]);
}

const orNone = (n: number | null) => (n === null ? "-" : String(n));

function printAudit(out: Output, a: PasidAudit, header: string): void {
  out.print(header);
  out.print(`processes: ${a.processes.length}`);
  for (const p of a.processes)
    out.print(
      `  pid ${p.pid}: quota ${orNone(p.quota)}, ${count(p.allocations, "allocation")}, ${count(p.frees, "free")}, peak ${p.peak}` +
        `${p.peak_seq !== null ? ` at event ${p.peak_seq}` : ""}, ${count(p.refusals, "refusal")}${p.first_refusal_seq !== null ? ` (first at event ${p.first_refusal_seq})` : ""}, ` +
        `${p.leaked_at_exit} leaked at exit, ${count(p.foreign_frees, "foreign free")}, ${count(p.unknown_frees, "unknown free")}`,
    );
  out.print(`devices: ${a.devices.length}`);
  for (const d of a.devices)
    out.print(
      `  ${d.bdf}: PASID width ${d.max_pasid_log2}, ${count(d.attaches, "attach", "attaches")}, ${count(d.detaches, "detach", "detaches")}, peak ${d.peak}` +
        `${d.peak_seq !== null ? ` at event ${d.peak_seq}` : ""}, ${count(d.refusals, "refusal")}${d.first_refusal_seq !== null ? ` (first at event ${d.first_refusal_seq})` : ""}, ` +
        `${d.over_width} over width, ${count(d.foreign_attaches, "foreign attach", "foreign attaches")}`,
    );
  out.print(`global: ${a.global.allocated_now} allocated now, peak ${a.global.peak}`);
  out.print(`findings: ${a.findings.length}`);
  for (const f of a.findings)
    out.print(`  event ${String(f.seq).padEnd(6)} ${f.kind.padEnd(10)} ${(f.pid !== null ? `pid ${f.pid}` : "").padEnd(9)} ${f.detail}`);
}

export const auditCommand: Command = {
  usage: "audit pasid <trace> [--profile P] [--html out.html] [--fail-on KINDS] [--json]",
  summary: "PASIDs per process and device: quota, peak, refusals, leaks, foreign and unknown frees",
  flags: { profile: { value: true }, html: { value: true }, "fail-on": { value: true } },
  args: { min: 2, max: 2, names: ["pasid", "<trace>"] },
  run: (a, out) =>
    Effect.gen(function* () {
      const what = a.positional[0]!;
      if (what !== "pasid")
        return yield* Effect.fail(new BadInput({ file: "iorr audit", message: `unknown audit "${what}"; there is one: iorr audit pasid <trace>` }));
      const failOn = yield* failOnKinds(a.flags["fail-on"]);
      const html = a.flags.html;
      if (html === true) return yield* Effect.fail(new BadInput({ file: "iorr audit", field: "--html", message: "needs a value: the page to write" }));
      return yield* usingTrace(a.positional[1]!, out, (src) =>
        Effect.gen(function* () {
          const profile = yield* profileFor("audit", a.flags.profile, src);
          // Before the replay: a page that cannot be written is known at once.
          if (html !== undefined) yield* checkOutput(html);
          const auditor = new PasidAuditor();
          const bar = out.progress("audit");
          const r = yield* withTrace(src, profile, replay({ onOutcome: (ev, o, s) => auditor.visit(ev, o, s), progress: (d, t) => bar.update(d, t) })).pipe(
            Effect.catchTag("ReplayFault", (f: ReplayFault) => Effect.fail(stopped(src.file, f))),
            Effect.ensuring(Effect.sync(() => bar.done())),
          );
          const audit = auditor.finish(r.state);
          const header = `PASID audit of ${src.file}: ${count(r.events, "event")} under ${profile.spec.join(",")}`;
          printAudit(out, audit, header);
          if (html !== undefined) {
            yield* writeOutput(html, [auditHtml(audit, `${src.file} under ${profile.spec.join(",")}`)]);
            out.print(`${html}: written`);
          }
          const failing = failOn.filter((k) => audit.findings.some((f) => f.kind === k));
          if (failing.length) out.print(`--fail-on: findings of kind ${failing.join(", ")}`);
          return {
            status: failing.length ? EXIT.divergence : EXIT.ok,
            json: {
              processes: audit.processes,
              devices: audit.devices,
              global: audit.global,
              findings: audit.findings.map(({ detail: _d, ...f }) => f),
            },
          };
        }),
      );
    }),
};
