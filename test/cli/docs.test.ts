// The documentation runs: every trace docs/tutorial.md writes and every command
// it and README.md show are run in order, and what they print must match what
// the page shows, so neither page can go stale.
//
// A page shows a file as a ```jsonl block whose info string names it
// (```jsonl first.jsonl), and commands as ```console blocks: "$ iorr ..." lines,
// each followed by its output (stdout, then stderr); "$ printf 'a\nb\n' | iorr ..."
// gives the command those lines on stdin. In an output line "..."
// stands for any text; an output line that is only "..." for any lines. A command
// exits 0 unless its line ends with "# exit status N".
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iorr } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-docs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Step = { file: string; text: string } | { args: string[]; input?: string; status: number; expected: string[]; line: number };

function steps(markdown: string): Step[] {
  const out: Step[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\S+)(?: (\S+))?\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    const body = lines.slice(start, end);
    if (fence[1] === "jsonl" && fence[2]) out.push({ file: fence[2], text: `${body.join("\n")}\n` });
    if (fence[1] === "console")
      for (let j = 0; j < body.length; j++) {
        const cmd = /^\$ (?:printf '([^']*)' \| )?iorr ([^#]*)(#.*)?$/.exec(body[j]!);
        if (!cmd) throw new Error(`line ${start + j + 1}: a console block line that is neither a command nor its output: ${body[j]}`);
        const line = start + j + 1;
        const expected: string[] = [];
        while (j + 1 < body.length && !body[j + 1]!.startsWith("$ ")) expected.push(body[++j]!);
        const status = /exit status (\d+)/.exec(cmd[3] ?? "");
        const input = cmd[1]?.replaceAll("\\n", "\n");
        out.push({ args: shellWords(cmd[2]!), ...(input !== undefined ? { input } : {}), status: Number(status?.[1] ?? 0), expected, line });
      }
    i = end;
  }
  return out;
}

/** A command line's words as sh splits them: blanks separate, '...' quotes (a probe's JSON). */
function shellWords(line: string): string[] {
  return [...line.trim().matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Whether `actual` lines are what `expected` shows ("..." any text in a line; a "..." line any lines). */
function shows(expected: readonly string[], actual: readonly string[]): boolean {
  if (expected.length === 0) return actual.length === 0;
  const [e, ...rest] = expected;
  if (e === "...") return actual.some((_, k) => shows(rest, actual.slice(k))) || shows(rest, []);
  if (actual.length === 0) return false;
  return pattern(e!).test(actual[0]!) && shows(rest, actual.slice(1));
}

/** An output line as a regular expression: its text literally, "..." as any text. */
function pattern(line: string): RegExp {
  const literal = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${line.split("...").map(literal).join(".*")}$`);
}

function run(page: string, cwd: string, map: (s: string) => string = (s) => s): number {
  let commands = 0;
  for (const s of steps(readFileSync(page, "utf8"))) {
    if ("file" in s) {
      writeFileSync(join(cwd, s.file), s.text);
      continue;
    }
    const r = iorr(s.args.map(map), { cwd, ...(s.input !== undefined ? { input: s.input } : {}) });
    const actual = `${r.stdout}${r.stderr}`.replace(/\n$/, "").split("\n");
    const printed = actual.length === 1 && actual[0] === "" ? [] : actual;
    expect(
      { command: `iorr ${s.args.join(" ")}`, status: r.status, shows: shows(s.expected.map(map), printed) },
      `${page}:${s.line}, printed:\n${printed.join("\n")}`,
    ).toEqual({
      command: `iorr ${s.args.join(" ")}`,
      status: s.status,
      shows: true,
    });
    commands++;
  }
  return commands;
}

describe("the matcher", () => {
  it("'...' matches any text in a line and any lines on its own, and nothing else does", () => {
    expect(shows(["a ... c"], ["a b c"])).toBe(true);
    expect(shows(["a ... c"], ["a b d"])).toBe(false);
    expect(shows(["x", "...", "z"], ["x", "1", "2", "z"])).toBe(true);
    expect(shows(["x", "...", "z"], ["x", "z"])).toBe(true);
    expect(shows(["x", "z"], ["x", "y", "z"])).toBe(false);
    expect(shows(["x (1 bytes)"], ["x (1 bytes)"])).toBe(true);
    expect(shows(["x (1 bytes)"], ["x (12 bytes)"])).toBe(false);
  });
});

describe("the documentation runs", () => {
  it("docs/tutorial.md: its traces and every command, with the output it shows", () => {
    const cwd = mkdtempSync(join(dir, "tutorial-"));
    expect(run("docs/tutorial.md", cwd)).toBeGreaterThanOrEqual(8);
  });

  it("README.md: every example command, with the output it shows (its /tmp/ files in a scratch directory)", () => {
    const scratch = mkdtempSync(join(dir, "readme-"));
    expect(run("README.md", process.cwd(), (s) => s.replaceAll("/tmp/", `${scratch}/`))).toBeGreaterThanOrEqual(8);
  });
});
