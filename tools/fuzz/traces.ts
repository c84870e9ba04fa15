// A bad-input fuzzer: mutate the committed traces (traces/, test/traces/) and
// run each mutant through the parser and the replay engine in-process, as
// `iorr replay --verify` does. Every result is one of
//   ok / divergence        the mutant is a valid trace (its expects held, or one did not)
//   bad-input              refused with a message naming file, line/event, field (exit 2)
//   not-modelled           a simulator fault for a behaviour not modelled yet (exit 3)
//   internal               a defect: a thrown error, a TypeError, an internal fault (exit 3)
// Bad input must never be internal; messages must not show "[object Object]",
// "undefined" or "NaN". Deterministic: the seed decides every mutation.
//
//   npx tsx tools/fuzz/traces.ts [--seed S] [--count N] [--json]
//
// Exit status 0 when no mutant is internal and every message is clean, else 1.

import { Cause, Effect, Exit } from "effect";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { TraceEvent } from "../../src/model/events.ts";
import { BadInput, ProfileService } from "../../src/model/framework.ts";
import { firstMismatch, type Outcome } from "../../src/model/outcome.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay, ReplayFault } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
import { prng } from "../bench/prng.ts";
import { MUTATIONS, mutate, vocabulary, type MutationKind, type Rand } from "./mutations.ts";

export const CLASSES = ["ok", "divergence", "bad-input", "not-modelled", "internal"] as const;
export type Class = (typeof CLASSES)[number];

export interface Case {
  trace: string;
  mutation: MutationKind;
  line: number;
  what: string;
  class: Class;
  /** What the user would read (bad input, faults). */
  message?: string;
}

export interface FuzzReport {
  seed: number;
  count: number;
  byClass: Record<Class, number>;
  byMutation: Record<string, Record<Class, number>>;
  /** Cases that are internal faults. */
  internal: Case[];
  /** Cases whose message shows a JS value instead of the user's terms. */
  unclean: Case[];
  /** Every case of the classes asked for with --show. */
  shown: Case[];
}

/** Every .jsonl file under the directories, in a fixed order. */
export function traceFiles(dirs: readonly string[]): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d)
      .sort()
      .flatMap((f) => {
        const p = join(d, f);
        return statSync(p).isDirectory() ? walk(p) : f.endsWith(".jsonl") ? [p] : [];
      });
  return dirs.flatMap(walk);
}

/** Words that betray a JS value or a doubled prefix in a message meant for the user. */
const UNCLEAN = [/\[object Object\]/, /\bundefined\b/, /\bNaN\b/, /\bfield ([^\s:]+): field \1\b/, /\biorr: iorr:/];

export function uncleanMessage(m: string): boolean {
  return UNCLEAN.some((re) => re.test(m));
}

/** Parse and replay one trace file as `iorr replay --verify` does (but to its end), and classify the result. */
export function classify(file: string): { class: Class; message?: string } {
  const parsed = Effect.runSyncExit(readJsonlTrace(file));
  if (Exit.isFailure(parsed)) {
    const bad = parsed.cause._tag === "Fail" ? parsed.cause.error : undefined;
    return bad instanceof BadInput ? { class: "bad-input", message: bad.describe() } : { class: "internal", message: Cause.pretty(parsed.cause) };
  }
  const t = parsed.value;
  const spec = t.header.profile === undefined ? undefined : typeof t.header.profile === "string" ? [t.header.profile] : t.header.profile;
  // Every event is folded, past a divergence too (where --verify would stop), to reach more of the model.
  let diverged = false;
  const onOutcome = (ev: TraceEvent, out: Outcome) => {
    diverged ||= ev.expect !== undefined && firstMismatch(ev.expect, out, ev) !== undefined;
  };
  const exit = Effect.runSyncExit(
    replay({ onOutcome }).pipe(
      Effect.provideService(Trace, memorySource(file, t.header, t.events)),
      Effect.provideService(ProfileService, resolveProfile(spec)),
    ),
  );
  if (Exit.isSuccess(exit)) return { class: diverged ? "divergence" : "ok" };
  const err = exit.cause._tag === "Fail" ? exit.cause.error : undefined;
  if (err instanceof BadInput) return { class: "bad-input", message: err.describe() };
  if (err instanceof ReplayFault) {
    const f = err.fault;
    const message = `${file}: event ${f.seq} (${f.op}): ${f.message}`;
    return { class: f.kind === "bad-input" ? "bad-input" : f.kind === "not-modelled" ? "not-modelled" : "internal", message };
  }
  return { class: "internal", message: Cause.pretty(exit.cause) };
}

function emptyCounts(): Record<Class, number> {
  return Object.fromEntries(CLASSES.map((c) => [c, 0])) as Record<Class, number>;
}

/** Run `count` mutations chosen by `seed` over the traces. */
export function fuzz(opts: { seed: number; count: number; traces?: readonly string[]; show?: readonly Class[] }): FuzzReport {
  const files = opts.traces ?? traceFiles(["traces", "test/traces"]);
  const texts = new Map(files.map((f) => [f, readFileSync(f, "utf8").split("\n")]));
  const keys = vocabulary(texts.values());
  const r: Rand = prng(opts.seed);
  const dir = mkdtempSync(join(tmpdir(), "iorr-fuzz-"));
  const report: FuzzReport = { seed: opts.seed, count: 0, byClass: emptyCounts(), byMutation: {}, internal: [], unclean: [], shown: [] };
  try {
    for (let i = 0; report.count < opts.count && i < opts.count * 10; i++) {
      const trace = files[Math.floor(r() * files.length)]!;
      const mutation = MUTATIONS[Math.floor(r() * MUTATIONS.length)]!;
      const m = mutate(mutation, texts.get(trace)!, r, keys);
      if (!m) continue;
      const path = join(dir, `${report.count}.jsonl`);
      writeFileSync(path, m.lines.join("\n"));
      let res: { class: Class; message?: string };
      try {
        res = classify(path);
      } catch (e) {
        res = { class: "internal", message: (e as Error)?.stack ?? String(e) };
      }
      rmSync(path);
      const c: Case = { trace, mutation, line: m.line, what: m.what, class: res.class, ...(res.message !== undefined ? { message: res.message } : {}) };
      report.count++;
      report.byClass[c.class]++;
      const row = report.byMutation[mutation] ?? emptyCounts();
      row[c.class]++;
      report.byMutation[mutation] = row;
      if (c.class === "internal") report.internal.push(c);
      else if (c.message !== undefined && uncleanMessage(c.message)) report.unclean.push(c);
      if (opts.show?.includes(c.class)) report.shown.push(c);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

/** The summary table: one row per mutation, one column per class. */
export function table(rep: FuzzReport): string {
  const rows = [["mutation", ...CLASSES, "total"]];
  const line = (name: string, c: Record<Class, number>) => [name, ...CLASSES.map((k) => String(c[k])), String(CLASSES.reduce((a, k) => a + c[k], 0))];
  for (const m of MUTATIONS) if (rep.byMutation[m]) rows.push(line(m, rep.byMutation[m]!));
  rows.push(line("all", rep.byClass));
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
}

const USAGE = "usage: fuzz-traces [--seed S] [--count N] [--json] [--show CLASS,...]";

/** The command line: --seed S, --count N, --json, --show ok,divergence,...; undefined (said on stderr) when bad. */
function options(argv: readonly string[]): { seed: number; count: number; json: boolean; show: Class[] } | undefined {
  const o = { seed: 1, count: 2000, json: false, show: [] as Class[] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === "--json") o.json = true;
    else if ((a === "--seed" || a === "--count") && v !== undefined && /^[0-9]+$/.test(v)) {
      o[a === "--seed" ? "seed" : "count"] = Number(v);
      i++;
    } else if (a === "--show" && v !== undefined && v.split(",").every((c) => (CLASSES as readonly string[]).includes(c))) {
      o.show = v.split(",") as Class[];
      i++;
    } else {
      const got = `, got ${v === undefined ? "nothing" : JSON.stringify(v)}`;
      const why =
        a === "--seed" || a === "--count"
          ? `${a} needs a non-negative integer${got}`
          : a === "--show"
            ? `--show needs classes among ${CLASSES.join(", ")}${got}`
            : `unknown argument ${JSON.stringify(a)}`;
      process.stderr.write(`fuzz-traces: ${why} (${USAGE})\n`);
      return undefined;
    }
  }
  return o;
}

function main(argv: readonly string[]): number {
  const o = options(argv);
  if (!o) return 2;
  const rep = fuzz(o);
  if (o.json) process.stdout.write(`${JSON.stringify(rep)}\n`);
  else {
    process.stdout.write(`seed ${rep.seed}, ${rep.count} mutations\n${table(rep)}\n`);
    const show = (label: string, c: Case) => process.stdout.write(`\n${label} ${c.trace}:${c.line} ${c.mutation}: ${c.what}\n  ${c.message ?? ""}\n`);
    for (const c of rep.internal) show("INTERNAL", c);
    for (const c of rep.unclean) show("UNCLEAN", c);
    for (const c of rep.shown) show(c.class.toUpperCase(), c);
  }
  return rep.internal.length === 0 && rep.unclean.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
