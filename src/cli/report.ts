// How a command reports: its result, its warnings and every way it can fail
// (bad input, a simulator fault, a defect of iorr itself), as text (result on
// stdout, the rest on stderr) or, under --json, as exactly one JSON object on
// stdout. report() is the one place a failure is printed and turned into an
// exit status.

import { Cause, Data, Option } from "effect";
import type { BadInput, SimulatorFault } from "../model/framework.ts";
import { progressBar, type Progress } from "./progress.ts";

export const EXIT = { ok: 0, divergence: 1, badInput: 2, fault: 3 } as const;

/** "1 event", "2 events"; "1 attach", "2 attaches" with the plural given. */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** What a command that ran to its end hands back: its exit status and its figures for --json. */
export interface Done {
  status: number;
  json: Record<string, unknown>;
}

/** The simulator stopped at an event of `file`; `figures` are what the command had computed by then. */
export class TraceFault extends Data.TaggedError("TraceFault")<{
  readonly file: string;
  readonly fault: SimulatorFault;
  readonly figures: Record<string, unknown>;
}> {}

/** A command's one typed failure. */
export type Failure = BadInput | TraceFault;

/** Where a command's output goes: text, or one JSON object under --json. */
export class Output {
  readonly warnings: string[] = [];
  constructor(readonly json: boolean) {}

  /** A line of the text result (nothing under --json: the figures go in the object). */
  print(line = ""): void {
    if (!this.json) process.stdout.write(`${line}\n`);
  }

  /** Said on stderr, or kept for the object's "warnings". */
  warn(message: string): void {
    if (this.json) this.warnings.push(message);
    else process.stderr.write(`iorr: warning: ${message}\n`);
  }

  /** A progress bar on a terminal, never under --json. */
  progress(label: string): Progress {
    return progressBar(label, !this.json);
  }

  /** The end of a command that ran: its one JSON object; its exit status. */
  done(d: Done): number {
    if (this.json) this.object(d.json);
    return d.status;
  }

  private object(members: Record<string, unknown>): void {
    const o = this.warnings.length > 0 ? { ...members, warnings: this.warnings } : members;
    process.stdout.write(`${JSON.stringify(o)}\n`);
  }

  /** The one printer of failures: a command's typed failure or a defect, as text or JSON; its exit status. */
  report(cause: Cause.Cause<Failure>): number {
    const failure = Option.getOrUndefined(Cause.failureOption(cause));
    const error = failure ? errorJson(failure) : defectJson(cause);
    if (this.json) this.object({ ...(failure?._tag === "TraceFault" ? failure.figures : {}), error });
    else process.stderr.write(`${failure ? describeFailure(failure) : `iorr: internal error: ${Cause.pretty(cause)}`}\n`);
    return error.kind === "bad-input" ? EXIT.badInput : EXIT.fault;
  }
}

/** The "error" member: absent members are left out. */
export interface ErrorJson {
  kind: "bad-input" | "simulator-fault";
  /** simulator faults: "not-modelled" or "internal". */
  reason?: string;
  file?: string;
  line?: number;
  event?: number;
  op?: string;
  field?: string;
  message: string;
}

export function errorJson(f: Failure): ErrorJson {
  if (f._tag === "BadInput")
    return {
      kind: "bad-input",
      file: f.file,
      ...(f.line !== undefined ? { line: f.line } : {}),
      ...(f.seq !== undefined ? { event: f.seq } : {}),
      ...(f.field !== undefined ? { field: f.field } : {}),
      message: f.message,
    };
  const { fault } = f;
  return fault.kind === "bad-input"
    ? { kind: "bad-input", file: f.file, event: fault.seq, op: fault.op, message: fault.message }
    : { kind: "simulator-fault", reason: fault.kind, file: f.file, event: fault.seq, op: fault.op, message: fault.message };
}

function defectJson(cause: Cause.Cause<unknown>): ErrorJson {
  const defect = Option.getOrUndefined(Cause.dieOption(cause));
  const message = defect instanceof Error ? defect.message : defect !== undefined ? String(defect) : Cause.pretty(cause);
  return { kind: "simulator-fault", reason: "internal", message };
}

/** One line of text: "iorr: trace.jsonl:3: event 2: field op: ..."; a command-line error is already "iorr replay: ...". */
export function describeFailure(f: Failure): string {
  if (f._tag === "BadInput") return f.file === "iorr" || f.file.startsWith("iorr ") ? f.describe() : `iorr: ${f.describe()}`;
  const { fault } = f;
  return `iorr: ${f.file}: event ${fault.seq} (${fault.op}): ${fault.kind === "bad-input" ? "" : "simulator fault: "}${fault.message}`;
}
