// Output.report, the one printer of failures: a defect of iorr itself (an
// exception no typed failure covers) is a simulator fault, exit 3, as text or as
// the one JSON object; a command-line error is not prefixed twice.
import { Cause } from "effect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BadInput } from "../../src/model/framework.ts";
import { Output } from "../../src/cli/report.ts";

function capture(f: () => number) {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, "write").mockImplementation((s) => out.push(String(s)) > 0);
  vi.spyOn(process.stderr, "write").mockImplementation((s) => err.push(String(s)) > 0);
  const status = f();
  vi.restoreAllMocks();
  return { status, stdout: out.join(""), stderr: err.join("") };
}
afterEach(() => vi.restoreAllMocks());

describe("Output.report", () => {
  it("a defect under --json: kind simulator-fault, the error's message, exit 3, one object with the warnings", () => {
    const o = new Output(true);
    o.warn("t.jsonl:2: event 1: field x: unknown field");
    const r = capture(() => o.report(Cause.die(new TypeError("cannot read properties of undefined"))));
    expect(r.status).toBe(3);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({
      error: { kind: "simulator-fault", reason: "internal", message: "cannot read properties of undefined" },
      warnings: ["t.jsonl:2: event 1: field x: unknown field"],
    });
  });

  it("a defect as text: an internal error on stderr, exit 3", () => {
    const r = capture(() => new Output(false).report(Cause.die(new Error("boom"))));
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^iorr: internal error: .*boom/);
  });

  it("bad input as text: one iorr: prefix, none added to a command-line error that already names the command", () => {
    const trace = capture(() => new Output(false).report(Cause.fail(new BadInput({ file: "t.jsonl", line: 3, seq: 2, field: "op", message: "unknown op" }))));
    expect([trace.status, trace.stderr]).toEqual([2, "iorr: t.jsonl:3: event 2: field op: unknown op\n"]);
    const arg = capture(() => new Output(false).report(Cause.fail(new BadInput({ file: "iorr replay", field: "--until", message: "needs a value" }))));
    expect(arg.stderr).toBe("iorr replay: field --until: needs a value\n");
  });
});
