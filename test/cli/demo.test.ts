// `npm run demo` (iorr demo traces): from a fresh checkout (no bundle, no
// database) it tells the whole story in under a minute, every step doing what it
// says; every command it prints works when a user types it afterwards; every
// sample verifies under its profile; traces/README.md lists every sample with a
// command that works on it.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
import { Effect } from "effect";
import { iorr } from "./run.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const fresh = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `iorr-demo-${name}-`));
  dirs.push(d);
  return d;
};

const SAMPLES = readdirSync("traces")
  .filter((f) => f.endsWith(".jsonl"))
  .sort();

describe("npm run demo from a fresh checkout", () => {
  it("tells the story in under a minute: every step exits 0 and its figures show it did what it says", () => {
    const root = fresh("checkout");
    for (const p of ["bin", "src", "migrations", "tools/build.mjs", "tsconfig.json", "package.json", "traces"]) cpSync(p, join(root, p), { recursive: true });
    symlinkSync(realpathSync("node_modules"), join(root, "node_modules"));
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.scripts.demo).toBe("node bin/iorr.mjs demo traces");
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ["bin/iorr.mjs", "demo", "traces", "--json"], { cwd: root, encoding: "utf8" });
    const seconds = (Date.now() - t0) / 1000;
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(seconds).toBeLessThan(60);
    const d = JSON.parse(r.stdout);
    const steps = d.story as { step: string; command: string; status: number; ok: boolean; result: Record<string, unknown> }[];
    expect(steps.map((s) => s.command.split(" ").slice(1, 2)[0])).toEqual(["record", "replay", "diff", "why", "bisect", "audit"]);
    for (const s of steps) expect([s.step, s.status, s.ok]).toEqual([s.step, 0, true]);
    const [record, replay, diff, why, bisect, audit] = steps.map((s) => s.result);
    // The recording: iorr record --scenario vtd-passthrough-boot --seed 1, every event stored with its outcome as expect,
    // then replayed with every one of them holding.
    expect(record).toMatchObject({ scenario: "vtd-passthrough-boot", seed: 1, scale: 1 });
    expect(record!.events as number).toBeGreaterThan(1000);
    expect(replay).toMatchObject({ events: record!.events, verified: record!.events, divergence: null });
    // The first attach (VFIO_DEVICE_ATTACH_IOMMUFD_PT) marks the device attached (vfio_df_ioctl_attach_pt).
    expect(diff!.to).toBe((diff!.from as number) + 1);
    expect(diff!.changes).toContainEqual({ path: "vfio.devices.0000:01:00.0.attached", kind: "changed", before: false, after: true });
    // The nested DMA: the guest's stage-1 entries and the nesting parent's stage-2 entries established it.
    expect((why!.outcome as { pa?: string }).pa).toMatch(/^0x/);
    expect((why!.events as { op: string; role: string }[]).map((e) => e.role)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^first-stage PTE/), expect.stringMatching(/^second-stage PTE/)]),
    );
    // Seed 003 V4's trace diverges under the merged kernel's NULL-group change.
    expect(bisect).toMatchObject({ switch: "noiommu-null-group", divergence: { seq: 9 } });
    // Seed 002: pid 10 leaks two PASIDs at exit, pid 20 frees one pid 10 holds.
    expect((audit!.findings as { kind: string }[]).map((f) => f.kind)).toEqual(expect.arrayContaining(["leak", "foreign", "over-quota"]));
    // Then every sample, verified.
    expect(d.failures).toBe(0);
    expect(d.traces.map((t: { file: string }) => t.file)).toEqual(SAMPLES.map((f) => `traces/${f}`));
    for (const t of d.traces) expect([t.file, t.divergence, t.verified > 0]).toEqual([t.file, null, true]);
  }, 120_000);

  it("every command it prints works when typed afterwards, in order (boot.db is what the first writes)", () => {
    const r = iorr(["demo"]);
    expect(r.status).toBe(0);
    const typed = [...r.stdout.matchAll(/^ {3}\$ iorr (.*)$/gm)].map((m) => m[1]!);
    expect(typed).toHaveLength(6);
    expect(r.stdout).not.toMatch(/iorr-demo-/); // no temporary path shown
    const cwd = fresh("typed");
    for (const line of typed) {
      const args = line.split(" ").map((a) => a.replace(/^traces\//, `${resolve("traces")}/`).replace(/^'(.*)'$/, "$1"));
      const s = iorr(args, { cwd });
      expect([line, s.status, s.stderr]).toEqual([line, 0, ""]);
    }
    expect(existsSync(join(cwd, "boot.db"))).toBe(true);
  });
});

describe("traces/README.md", () => {
  const readme = readFileSync("traces/README.md", "utf8");
  const rows = [...readme.matchAll(/^\| `([^`]+\.jsonl)` \| (.+) \| `iorr (.+?)`(.*) \|$/gm)].map((m) => ({
    file: m[1]!,
    command: m[3]!,
    note: m[4]!,
  }));

  it("lists every sample, once, in order, and nothing else; every sample has a title", () => {
    expect(rows.map((r) => r.file)).toEqual(SAMPLES);
    for (const f of SAMPLES) expect([f, typeof Effect.runSync(readJsonlTrace(`traces/${f}`)).header.title]).toEqual([f, "string"]);
  });

  it("each sample's command works on it (exit status 0, or the one its line says)", () => {
    for (const r of rows) {
      expect(r.command).toContain(`traces/${r.file}`);
      const args = [...r.command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
      const s = iorr(args);
      const want = /exit 1/.test(r.note) ? 1 : 0;
      expect([r.file, s.status, s.stderr]).toEqual([r.file, want, ""]);
    }
  });
});
