// Run the iorr command as a user does (bin/iorr.mjs, a fresh process) and read
// what it printed.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import type { ErrorJson } from "../../src/cli/report.ts";

export type { ErrorJson };

export const BIN = resolve("bin/iorr.mjs");

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `input`: what the command reads on stdin, through a pipe (none: an empty pipe). */
export function iorr(args: readonly string[], opts: { cwd?: string; input?: string } = {}): Ran {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The one JSON object of a --json run that failed: its "error" member. */
export function jsonError(r: Ran): ErrorJson {
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== 1) throw new Error(`expected one line of JSON on stdout, got ${JSON.stringify(r.stdout)}`);
  return JSON.parse(lines[0]!).error;
}

/** An error object written as the text form writes it: "file:line: event N: field F: message". */
export function located(e: ErrorJson): string {
  return `${e.file}${e.line !== undefined ? `:${e.line}` : ""}${e.event !== undefined ? `: event ${e.event}` : ""}${e.field !== undefined ? `: field ${e.field}` : ""}: ${e.message}`;
}
