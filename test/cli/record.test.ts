// iorr record --scenario: each scenario replays clean under --verify (the model agrees with
// every outcome it recorded), the file is a function of seed, scale and profile only, bad
// arguments are exit 2 naming the flag, a recording that fails leaves nothing, and memory
// does not grow with the scale.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SCENARIOS } from "../../src/scenarios/index.ts";
import { iorr, jsonError } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-record-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

describe("iorr record --scenario", () => {
  for (const s of SCENARIOS) {
    it(`${s.name}: replay --verify agrees with every recorded outcome, and export re-imports`, () => {
      const db = join(dir, `${s.name}.db`);
      const r = iorr(["record", "--scenario", s.name, "--scale", "1", "-o", db, "--json"]);
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      const rec = JSON.parse(r.stdout);
      expect(rec.events).toBeGreaterThan(500);
      const rp = iorr(["replay", db, "--verify", "--json"]);
      expect(rp.status).toBe(0);
      const v = JSON.parse(rp.stdout);
      expect(v).toMatchObject({ events: rec.events, verified: rec.events, divergence: null });
      // The recording as JSONL, imported again: the same events, every expectation still holding.
      const jsonl = join(dir, `${s.name}.jsonl`);
      expect(iorr(["export", db, "-o", jsonl, "--json"]).status).toBe(0);
      const again = join(dir, `${s.name}.again.db`);
      expect(iorr(["import", jsonl, "-o", again, "--json"]).status).toBe(0);
      expect(JSON.parse(iorr(["replay", again, "--verify", "--json"]).stdout)).toMatchObject({ verified: rec.events, state_hash: v.state_hash });
    });
  }

  it("the same seed, scale and profile give the same file byte for byte; another seed another trace", () => {
    const run = (name: string, seed: string) => {
      const f = join(dir, name);
      expect(iorr(["record", "--scenario", "vtd-emulated-boot", "--seed", seed, "--scale", "2", "-o", f]).status).toBe(0);
      return sha(f);
    };
    const a = run("det-a.db", "5");
    expect(run("det-b.db", "5")).toBe(a);
    expect(run("det-c.db", "6")).not.toBe(a);
  });

  it("bad arguments are exit 2 naming the flag; an unknown scenario lists the known ones", () => {
    const out = join(dir, "bad.db");
    const unknown = iorr(["record", "--scenario", "vtd-passthru-boot", "-o", out, "--json"]);
    expect(unknown.status).toBe(2);
    const e = jsonError(unknown);
    expect(e.field).toBe("--scenario");
    for (const s of SCENARIOS) expect(e.message).toContain(s.name);
    expect(e.message).toContain('did you mean "vtd-passthrough-boot"');
    const cases: [string[], string][] = [
      [["--scenario", "noiommu-dpdk"], "-o"],
      [["-o", out], "--scenario"],
      [["--scenario", "noiommu-dpdk", "--scale", "0", "-o", out], "--scale"],
      [["--scenario", "noiommu-dpdk", "--seed", "x1", "-o", out], "--seed"],
      [["--scenario", "noiommu-dpdk", "--profile", "linux-9.99", "-o", out], "--profile"],
    ];
    for (const [args, field] of cases) {
      const r = iorr(["record", ...args, "--json"]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(jsonError(r).field).toBe(field);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith("bad.db"))).toEqual([]);
  });

  it("a recording the model refuses leaves nothing: no new file, an existing one unchanged, no temporary file", () => {
    // linux-6.19 has no no-IOMMU cdev (seed 003): the open of /dev/vfio/devices/noiommu-vfio0 is ENOENT.
    const sub = mkdtempSync(join(dir, "atomic-"));
    const kept = join(sub, "kept.db");
    writeFileSync(kept, "not replaced");
    for (const target of [join(sub, "new.db"), kept]) {
      const r = iorr(["record", "--scenario", "noiommu-dpdk", "--profile", "linux-6.19", "-o", target, "--json"]);
      expect(r.status).toBe(3);
      expect(jsonError(r).message).toContain("open the no-IOMMU cdev");
    }
    expect(readdirSync(sub)).toEqual(["kept.db"]);
    expect(readFileSync(kept, "utf8")).toBe("not replaced");
  });

  it("memory stays flat: peak RSS of a recording ten times longer grows by less than half", () => {
    // Each in a child of its own (tools/bench/record.ts --child): maxRSS is that recording's.
    const peak = (events: number) => {
      const f = join(dir, `rss-${events}.db`);
      const r = spawnSync(process.execPath, ["--import", "tsx", "tools/bench/record.ts", "--child", "record", f, String(events)], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      rmSync(f, { force: true });
      return out as { events: number; peak_mb: number };
    };
    const small = peak(10_000);
    const big = peak(100_000);
    expect(big.events).toBeGreaterThan(9 * small.events);
    expect(big.peak_mb).toBeLessThan(small.peak_mb * 1.5);
  }, 120_000);
});
