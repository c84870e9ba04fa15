// bin/iorr.mjs runs dist/iorr.mjs only when it was built from the sources on disk now:
// an edited, new or deleted source, or no bundle at all, means a rebuild first, and a source
// that cannot be built means the sources through tsx, never the old bundle. Each test works on
// its own copy of the checkout, so the suite's own bundle is never touched.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLE, bundleHash, sourceHash } from "../../tools/build.mjs";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A checkout of the command without a bundle, sharing this one's node_modules. */
function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), "iorr-startup-"));
  dirs.push(root);
  for (const p of ["bin", "src", "migrations", "tools/build.mjs", "tsconfig.json", "package.json", "traces/01-process-fds.jsonl"])
    cpSync(p, join(root, p), { recursive: true });
  symlinkSync(realpathSync("node_modules"), join(root, "node_modules"));
  return root;
}

function iorr(root: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ["bin/iorr.mjs", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function edit(root: string, file: string, from: string, to: string): void {
  const p = join(root, file);
  const text = readFileSync(p, "utf8");
  expect(text).toContain(from);
  writeFileSync(p, text.replace(from, to));
}

const HELP = "iorr: IOMMU record & replay";

describe("bin/iorr.mjs runs the sources on disk", () => {
  it("builds a missing bundle, and rebuilds it after a source is edited", () => {
    const root = checkout();
    expect(existsSync(join(root, BUNDLE))).toBe(false);
    const first = iorr(root, ["help"]);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(HELP);
    expect(first.stderr).toBe("");
    expect(bundleHash(root)).toBe(sourceHash(root));

    edit(root, "src/cli/main.ts", HELP, "iorr: edited since the last build");
    const before = bundleHash(root);
    const second = iorr(root, ["help"]);
    expect(second.stdout).toContain("iorr: edited since the last build");
    expect(bundleHash(root)).not.toBe(before);
    expect(bundleHash(root)).toBe(sourceHash(root));
  });

  it("a new or a deleted file under src/ changes the source hash", () => {
    const root = checkout();
    const h0 = sourceHash(root);
    writeFileSync(join(root, "src/cli/unused.ts"), "export const x = 1;\n");
    const h1 = sourceHash(root);
    expect(h1).not.toBe(h0);
    unlinkSync(join(root, "src/cli/unused.ts"));
    expect(sourceHash(root)).toBe(h0);
    unlinkSync(join(root, "src/cli/progress.ts"));
    expect(sourceHash(root)).not.toBe(h0);
  });

  it("a source that does not build runs through tsx, which reports it, never the old bundle", () => {
    const root = checkout();
    expect(iorr(root, ["help"]).status).toBe(0);
    edit(root, "src/cli/main.ts", "function help(write: (s: string) => void): void {", "function help(write: (s: string) => void): void { const = ;");
    const r = iorr(root, ["help"]);
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain(HELP);
    expect(r.stderr).toContain("running the sources through tsx");
  });

  it("two commands started at once without a bundle both run from a whole bundle, and leave one", async () => {
    const root = checkout();
    const run = () =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const c = spawn(process.execPath, ["bin/iorr.mjs", "replay", "traces/01-process-fds.jsonl", "--verify", "--json"], { cwd: root });
        let stdout = "";
        let stderr = "";
        c.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        c.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    const [a, b] = await Promise.all([run(), run()]);
    // A half-written bundle would not load, and the command would say it fell back to tsx.
    expect([a.status, a.stderr, b.status, b.stderr]).toEqual([0, "", 0, ""]);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
    expect(bundleHash(root)).toBe(sourceHash(root));
    expect(readdirSync(join(root, "dist"))).toEqual(["iorr.mjs"]);
  });

  it("the bundle and the sources through tsx give the same replay of a trace database (migrations/ found from the bundle)", () => {
    const root = checkout();
    const db = join(root, "fds.db");
    expect(iorr(root, ["import", "traces/01-process-fds.jsonl", "-o", db]).status).toBe(0);
    const bundled = iorr(root, ["replay", db, "--verify", "--json"]);
    const sources = iorr(root, ["replay", db, "--verify", "--json"], { IORR_NO_BUNDLE: "1" });
    expect(bundled.status).toBe(0);
    expect(JSON.parse(bundled.stdout)).toEqual(JSON.parse(sources.stdout));
    expect(JSON.parse(bundled.stdout)).toMatchObject({ events: 21, verified: 16, divergence: null });
  });
});
