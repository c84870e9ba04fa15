// --json everywhere (README.md "Commands"): every command run with --json prints
// exactly one JSON object on stdout, whatever happens: its figures, bad input
// (exit 2) or a simulator fault (exit 3) as an "error" member naming file, line,
// event and field, the trace's warnings as "warnings". Bad command-line
// arguments are JSON too as soon as --json is anywhere on the line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iorr, jsonError, type Ran } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function trace(name: string, events: unknown[], header: Record<string, unknown> = {}): string {
  const p = join(dir, name);
  writeFileSync(p, `${[{ format: "iorr-trace", version: 1, profile: "linux-6.19", ...header }, ...events].map((l) => JSON.stringify(l)).join("\n")}\n`);
  return p;
}

/** The one object on stdout; nothing on stderr. */
function one(r: Ran): Record<string, unknown> {
  const lines = r.stdout.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(r.stderr).toBe("");
  return JSON.parse(lines[0]!);
}

const FDS = "traces/01-process-fds.jsonl";
// A header key close to a known one is kept and warned about; a DMA from a device never declared is bad input found by the model (iommu/dma.ts).
const warned = () =>
  trace(
    "warned.jsonl",
    [
      { op: "process", pid: 1 },
      { op: "dma", bdf: "0000:09:00.0", iova: "0x1000", access: "read" },
    ],
    { titel: "x" },
  );

describe("every command prints one JSON object when it succeeds", () => {
  it("import, info, replay, state, export -o, profiles", () => {
    const db = join(dir, "fds.db");
    expect(one(iorr(["import", FDS, "-o", db, "--json"]))).toEqual({ events: 21, checkpoints: 0, checkpoints_skipped: 0, output: db });
    expect(one(iorr(["info", db, "--json"]))).toMatchObject({ events: 21, kind: "database", hash_chain: "ok" });
    expect(one(iorr(["replay", db, "--json"]))).toMatchObject({ events: 21, verified: 0, divergence: null });
    expect(one(iorr(["state", db, "--json"]))).toMatchObject({ seq: 21, events: 21 });
    const out = join(dir, "fds-out.jsonl");
    expect(one(iorr(["export", db, "-o", out, "--json"]))).toEqual({ output: out, events: 21, outcomes: false, bytes: readFileSync(out).length });
    expect(one(iorr(["profiles", "--json"]))).toHaveProperty("presets");
  });

  it("demo: each trace's figures and the totals", () => {
    const d = mkdtempSync(join(dir, "demo-"));
    writeFileSync(join(d, "fds.jsonl"), readFileSync(FDS));
    const r = iorr(["demo", d, "--json"]);
    expect(r.status).toBe(0);
    expect(one(r)).toMatchObject({
      traces: [{ file: join(d, "fds.jsonl"), events: 21, verified: 16, divergence: null }],
      failures: 0,
      story: null, // a directory without the samples the story is told on
    });
  });
});

describe("failures are the same one object, with an error member", () => {
  it("bad input in a trace names file, line, event and field (exit 2)", () => {
    const p = trace("badop.jsonl", [
      { op: "process", pid: 1 },
      { op: "opne", pid: 1 },
    ]);
    for (const cmd of [["replay"], ["state"], ["info"], ["export", "-o", join(dir, "x.jsonl")], ["import", "-o", join(dir, "x.db")]]) {
      const r = iorr([cmd[0]!, p, ...cmd.slice(1), "--json"]);
      expect(r.status).toBe(2);
      expect(one(r)).toEqual({ error: { kind: "bad-input", file: p, line: 3, event: 2, field: "op", message: expect.stringMatching(/unknown op "opne"/) } });
    }
  });

  it("a missing trace is bad input naming it", () => {
    const r = iorr(["info", join(dir, "nope.jsonl"), "--json"]);
    expect(r.status).toBe(2);
    expect(jsonError(r)).toEqual({ kind: "bad-input", file: join(dir, "nope.jsonl"), message: "no such file" });
  });

  it("bad command-line arguments with --json anywhere", () => {
    for (const args of [
      ["--json", "replay", FDS, "--verfy"],
      ["replay", "--json", FDS, "--until"],
      ["replay", FDS, "extra", "--json"],
      ["state", FDS, "--at", "x", "--json"],
      ["frobnicate", "--json"],
      ["export", FDS, "--json"],
    ]) {
      const r = iorr(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(one(r).error).toMatchObject({ kind: "bad-input" });
    }
    expect(jsonError(iorr(["replay", "--json", FDS, "--until"]))).toMatchObject({ file: "iorr replay", field: "--until" });
  });

  it("a simulator fault keeps replay's partial figures and adds the error (exit 3)", () => {
    const p = trace("nm.jsonl", [
      { op: "process", pid: 1 },
      { op: "open", pid: 1, path: "/dev/iommu", expect: { fd: 3 } },
      { op: "qemu.viommu", pid: 1, model: "arm-smmuv3" },
    ]);
    const r = iorr(["replay", p, "--verify", "--json"]);
    expect(r.status).toBe(3);
    expect(one(r)).toEqual({
      events: 2,
      verified: 1,
      divergence: null,
      state_hash: null,
      error: { kind: "simulator-fault", reason: "not-modelled", file: p, event: 3, op: "qemu.viommu", message: expect.stringMatching(/not modelled yet/) },
    });
    const s = iorr(["state", p, "--json"]);
    expect(s.status).toBe(3);
    expect(one(s)).toMatchObject({ seq: 3, state_hash: null, error: { kind: "simulator-fault", event: 3 } });
  });

  it("bad input only the model can see (an undeclared device's DMA) is exit 2, and the trace's warnings go in the object", () => {
    const p = warned();
    const r = iorr(["replay", p, "--json"]);
    expect(r.status).toBe(2);
    expect(one(r)).toEqual({
      events: 1,
      verified: 0,
      divergence: null,
      state_hash: null,
      error: { kind: "bad-input", file: p, event: 2, op: "dma", message: "field bdf: no host device 0000:09:00.0 (declare it with host.device)" },
      warnings: [`${p}:1: header key titel: kept as metadata (did you mean "title"?)`],
    });
  });
});

describe("warnings", () => {
  it("are in the object under --json and on stderr without it, for every command that reads a trace", () => {
    // A header key close to a known one is kept as metadata, with a warning (docs/trace-format.md "Header").
    const p = trace("warn-ok.jsonl", [{ op: "process", pid: 1 }], { titel: "x" });
    const w = `${p}:1: header key titel: kept as metadata (did you mean "title"?)`;
    for (const cmd of [["replay"], ["state"], ["info"], ["export", "-o", join(dir, "w.jsonl")]]) {
      expect(one(iorr([cmd[0]!, p, ...cmd.slice(1), "--json"])).warnings).toEqual([w]);
      expect(iorr([cmd[0]!, p, ...cmd.slice(1)]).stderr).toBe(`iorr: warning: ${w}\n`);
    }
  });
});
