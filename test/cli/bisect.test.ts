// Bisecting behaviour changes (docs/architecture.md "Queries"): the first event after which a
// probe's outcome changes; the first kernel or QEMU change (a profile switch) that makes a
// recorded trace diverge; and `git bisect run` over a repository of traces or profiles.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, iorr, jsonError } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-bisect-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MAP_DMA = "traces/05-map-and-dma.jsonl";
const PROBE = '{"op":"dma","bdf":"0000:01:00.0","iova":"0x100010","access":"write"}';
// Seed 003: a no-IOMMU trace recorded on the V4 series (QEMU's container-less device crashed there).
const V4 = "test/traces/vfio/seed003_null_group.v4.jsonl";
const one = (stdout: string) => JSON.parse(stdout.trim());

describe("iorr bisect events", () => {
  it("finds the IOAS_MAP after which the device's DMA translates (and its answer before and after)", () => {
    const r = iorr(["bisect", "events", MAP_DMA, "--probe", PROBE, "--equals", '{"pa":"0x40000010"}', "--json"]);
    expect(r.status).toBe(0);
    const o = one(r.stdout);
    expect(o).toMatchObject({ first: 12, op: "ioctl", cmd: "IOMMU_IOAS_MAP" });
    // O(log N): both ends, a scan when the end does not hold (the process exits), then bisection.
    expect(o.probes).toBeLessThanOrEqual(2 + 21 + 5);
    const text = iorr(["bisect", "events", MAP_DMA, "--probe", PROBE, "--equals", '{"pa":"0x40000010"}']);
    expect(text.stdout).toContain('before event 12: {"fault":"VTD_FR_WRITE"}');
  });

  it("within --from/--to, and null when the outcome never matches", () => {
    expect(
      one(iorr(["bisect", "events", MAP_DMA, "--probe", PROBE, "--equals", '{"pa":"0x40000010"}', "--from", "3", "--to", "14", "--json"]).stdout).first,
    ).toBe(12);
    expect(one(iorr(["bisect", "events", MAP_DMA, "--probe", PROBE, "--equals", '{"pa":"0x50000010"}', "--json"]).stdout).first).toBeNull();
  });

  it("bad probes and outcomes are bad input naming the flag", () => {
    expect(jsonError(iorr(["bisect", "events", MAP_DMA, "--probe", "{", "--equals", "{}", "--json"]))).toMatchObject({ field: "--probe" });
    expect(jsonError(iorr(["bisect", "events", MAP_DMA, "--probe", PROBE, "--json"]))).toMatchObject({ field: "--equals" });
    expect(jsonError(iorr(["bisect", "events", MAP_DMA, "--probe", PROBE, "--equals", '{"pa":"0x"}', "--json"]))).toMatchObject({
      kind: "bad-input",
      field: "expect.pa",
    });
  });
});

describe("iorr bisect profile", () => {
  it("names the switch of the merged series that breaks the V4-era trace, what it stands for, and the first divergence", () => {
    const o = one(iorr(["bisect", "profile", V4, "--preset", "linux-mainline", "--json"]).stdout);
    expect(o).toMatchObject({
      switch: "noiommu-null-group",
      index: 13,
      description: expect.stringContaining("NULL group"),
      divergence: { seq: 9, op: "ioctl", expected: { abort: true } },
    });
    // --good/--bad: the same change on the way from the V4 series to mainline.
    expect(one(iorr(["bisect", "profile", V4, "--good", "linux-noiommu-v4", "--bad", "linux-mainline", "--json"]).stdout).switch).toBe("noiommu-null-group");
  });

  it("--event N: the first switch under which one event's outcome changes", () => {
    const o = one(iorr(["bisect", "profile", V4, "--preset", "linux-mainline", "--event", "9", "--json"]).stdout);
    expect(o).toMatchObject({ switch: "noiommu-null-group", event: 9, before: { abort: expect.any(String) }, after: { ret: 0 } });
  });

  it("no switch breaks a trace that verifies under the whole preset", () => {
    expect(one(iorr(["bisect", "profile", MAP_DMA, "--preset", "linux-mainline", "--json"]).stdout)).toMatchObject({ switch: null, index: null });
  });
});

describe("iorr bisect-run (git bisect run)", () => {
  it("exits 0 when the trace verifies, 1 when it diverges, 125 when it cannot be replayed", () => {
    expect(iorr(["bisect-run", V4]).status).toBe(0);
    expect(iorr(["bisect-run", V4, "--profile", "linux-mainline"]).status).toBe(1);
    expect(iorr(["bisect-run", V4, "--profile", "no-such-kernel"]).status).toBe(125);
    expect(iorr(["bisect-run", join(dir, "missing.jsonl")]).status).toBe(125);
    const nm = join(dir, "nm.jsonl");
    writeFileSync(nm, '{"format":"iorr-trace","version":1}\n{"op":"process","pid":1}\n{"op":"qemu.viommu","pid":1,"model":"arm-smmuv3"}\n');
    expect(iorr(["bisect-run", nm]).status).toBe(125);
  });

  it("git bisect run over a repository whose commits change the trace's profile finds the first bad commit, skipping one it cannot replay", () => {
    const repo = join(dir, "repo");
    const git = (...args: string[]) => spawnSync("git", ["-C", repo, ...args], { encoding: "utf8" });
    spawnSync("git", ["init", "-q", repo]);
    git("config", "user.email", "t@example.org");
    git("config", "user.name", "t");
    const lines = readFileSync(V4, "utf8").split("\n");
    const header = JSON.parse(lines[0]!);
    const shas: string[] = [];
    // The kernel moves from the V4 series toward mainline; commit 3 names a profile that does not exist (125).
    for (const profile of [
      ["linux-noiommu-v4"],
      ["linux-noiommu-v4", "get-pa-clamp-area"],
      ["no-such-kernel"],
      ["linux-noiommu-v4", "get-pa-rename"],
      ["linux-mainline"],
      ["linux-mainline"],
    ]) {
      writeFileSync(join(repo, "trace.jsonl"), [JSON.stringify({ ...header, profile }), ...lines.slice(1)].join("\n"));
      git("add", "trace.jsonl");
      git("commit", "-qm", profile.join(","));
      shas.push(git("rev-parse", "HEAD").stdout.trim());
    }
    git("bisect", "start", shas[5]!, shas[0]!);
    const run = git("bisect", "run", process.execPath, resolve(BIN), "bisect-run", "trace.jsonl");
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`${shas[4]} is the first bad commit`);
  });
});
