// iorr audit pasid end to end: the text and --json figures of a seed 002 trace,
// --fail-on (exit 1 on a finding of a listed kind, exit 2 on an unknown kind),
// the --html page (output path checked as export -o checks it, written whole)
// rendered by a real browser (Debian's chromium, headless).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iorr, jsonError } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TRACE = "test/traces/vfio/seed002_pasid_audit.jsonl";

describe("iorr audit pasid", () => {
  it("prints per process quota, peak, refusals, leaks, foreign and unknown frees, and the findings", () => {
    const r = iorr(["audit", "pasid", TRACE]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      "pid 10: quota 2, 3 allocations, 1 free, peak 2 at event 16, 2 refusals (first at event 17), 2 leaked at exit, 0 foreign frees, 0 unknown frees",
    );
    expect(r.stdout).toContain("global: 0 allocated now, peak 3");
    expect(r.stdout).toMatch(/event 22 +foreign +pid 20 +free of PASID 1, held by pid 10 \(EACCES\)/);
  });

  it("--json: processes, devices, global and findings (kind, pid, seq, pasid)", () => {
    const r = iorr(["audit", "pasid", TRACE, "--json"]);
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o)).toEqual(["processes", "devices", "global", "findings"]);
    expect(o.processes[1]).toEqual({
      pid: 20,
      quota: 2,
      allocations: 1,
      frees: 1,
      peak: 1,
      peak_seq: 21,
      refusals: 0,
      first_refusal_seq: null,
      leaked_at_exit: 0,
      foreign_frees: 1,
      unknown_frees: 2,
    });
    expect(o.global).toEqual({ allocated_now: 0, peak: 3 });
    expect(o.findings.filter((f: { kind: string }) => f.kind === "leak")).toEqual([
      { kind: "leak", pid: 10, seq: 28, pasid: 1 },
      { kind: "leak", pid: 10, seq: 28, pasid: 2 },
    ]);
  });

  it("--fail-on exits 1 when a finding of a listed kind exists, 0 when none does", () => {
    expect(iorr(["audit", "pasid", TRACE, "--fail-on", "leak"]).status).toBe(1);
    expect(iorr(["audit", "pasid", TRACE, "--fail-on", "over-width,over-quota", "--json"]).status).toBe(1);
    const none = iorr(["audit", "pasid", TRACE, "--fail-on", "over-width,lost", "--json"]);
    expect(none.status).toBe(0);
    expect(JSON.parse(none.stdout).findings).toHaveLength(9);
    // v1 as posted loses PASID 0 (allocated, reported EFAULT).
    expect(iorr(["audit", "pasid", "test/traces/vfio/seed002_pasid_request.v1.jsonl", "--fail-on", "lost"]).status).toBe(1);
  });

  it("bad input is exit 2 naming the flag: an unknown kind (with the known ones), an unknown audit, --html into a directory", () => {
    const e = jsonError(iorr(["audit", "pasid", TRACE, "--fail-on", "leak,leek", "--json"]));
    expect(e).toMatchObject({ kind: "bad-input", file: "iorr audit", field: "--fail-on" });
    expect(e.message).toBe('unknown finding kind "leek"; known kinds: leak, foreign, unknown, refusal, over-quota, over-width, lost');
    const r = iorr(["audit", "pasids", TRACE]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown audit "pasids"');
    mkdirSync(join(dir, "adir"));
    expect(jsonError(iorr(["audit", "pasid", TRACE, "--html", join(dir, "adir"), "--json"]))).toMatchObject({
      kind: "bad-input",
      file: join(dir, "adir"),
      message: "is a directory; give the path of the file to write",
    });
    expect(iorr(["audit", "pasid", TRACE, "--html", join(dir, "missing", "a.html")]).status).toBe(2);
    expect(existsSync(join(dir, "missing"))).toBe(false);
  });

  it("--html writes one self-contained page that headless Chromium renders: a usage line per process against its quota, the findings linked", () => {
    const page = join(dir, "audit.html");
    const r = iorr(["audit", "pasid", TRACE, "--html", page]);
    expect(r.status).toBe(0);
    expect(readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    const html = readFileSync(page, "utf8");
    // No network resource: nothing loaded from anywhere (the SVG namespace is a name, not a fetch).
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(/https?:|src=|<link/);
    expect(html).toContain('<a href="#seq-28-7">event 28</a>');
    const browser = spawnSync(
      "chromium",
      ["--headless", "--disable-gpu", "--no-sandbox", `--user-data-dir=${join(dir, "chromium")}`, "--dump-dom", `file://${page}`],
      { encoding: "utf8", timeout: 60_000 },
    );
    if ((browser.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT")
      throw new Error("chromium is not installed: apt-get install -y chromium (.ci/run installs it when missing)");
    expect(browser.status, browser.stderr).toBe(0);
    const body = /<body([^>]*)>/.exec(browser.stdout)?.[1] ?? "";
    const attr = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(body)?.[1];
    expect(attr("data-rendered")).toBe("1");
    expect(Number(attr("data-svg-width"))).toBeGreaterThan(100);
    expect(Number(attr("data-svg-height"))).toBeGreaterThan(100);
    // Two processes, each a step line: two points per change (pid 10: 5, pid 20: 2) and its ends.
    expect(attr("data-series")).toBe("2");
    expect(attr("data-points")).toBe("12,6");
    expect(attr("data-findings")).toBe("9");
    expect(browser.stdout.match(/class="quota"/g)).toHaveLength(2);
  });
});
