// iorr live end to end: test/live/iommufd_live.c, compiled here with cc, runs
// under `iorr live -o` (the LD_PRELOAD shim and the server), checks every
// answer against the kernel's behaviour itself (its exit status is the number
// of failed checks), and the session it leaves replays with --verify.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { iorr } from "../cli/run.ts";

const cc = process.env.CC || "cc";
const haveCc = spawnSync(cc, ["--version"]).status === 0;
if (!haveCc) console.warn(`test/live: skipped, no C compiler "${cc}" (iorr live needs one to build its shim)`);

describe.skipIf(!haveCc)("iorr live", () => {
  let dir = "";
  let prog = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "iorr-live-test-"));
    prog = join(dir, "iommufd_live");
    const r = spawnSync(cc, ["-O2", "-Wall", "-o", prog, resolve("test/live/iommufd_live.c")], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cc failed: ${r.stderr}`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("answers a real program as the kernel does; the session replays with --verify", () => {
    const db = join(dir, "session.db");
    const r = iorr(["live", "-o", db, "--", prog, "200"]);
    expect(r.stderr).not.toContain("FAIL");
    expect(r.stdout).toContain("checks failed: 0");
    expect(r.status).toBe(0);
    // The unmodelled calls are counted, with what they were: read() on iommufd, a memfd the model never saw, the fd the child inherited.
    expect(r.stderr).toContain("3 calls not modelled (answered ENOSYS)");
    expect(r.stderr).toContain("1 x IOMMU_IOAS_MAP_FILE: fd names an fd the model does not know");
    expect(r.stderr).toContain("1 x read on a iommufd fd");
    expect(r.stderr).toContain("1 x inherited-fd on a model fd");
    const v = iorr(["replay", db, "--verify", "--json"]);
    expect(v.status).toBe(0);
    const j = JSON.parse(v.stdout);
    expect(j.divergence).toBeNull();
    expect(j.verified).toBe(j.events);
    // Two processes (parent and forked child), each started and exited; 200 MAP/UNMAP pairs.
    const ev = iorr(["export", db])
      .stdout.split("\n")
      .filter((l) => l.startsWith('{"op"'))
      .map((l) => JSON.parse(l));
    expect(ev.filter((e) => e.op === "process")).toHaveLength(2);
    expect(ev.filter((e) => e.op === "process.exit")).toHaveLength(2);
    expect(ev.filter((e) => e.cmd === "IOMMU_IOAS_MAP").length).toBeGreaterThanOrEqual(200);
    // The caller's memory reached the model as mem.map before the MAP that pins it.
    const firstMap = ev.findIndex((e) => e.cmd === "IOMMU_IOAS_MAP");
    expect(ev[firstMap - 1].op).toBe("mem.map");
  });

  it("exits with the program's exit status, --json gives one object with the ENOSYS count", () => {
    const r = iorr(["live", "--json", "--", "sh", "-c", "exit 7"]);
    expect(r.status).toBe(7);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ status: 7, enosys: 0, events: 0 });
  });

  it("a missing command is bad input (exit 2)", () => {
    const r = iorr(["live", "--", join(dir, "no-such-program")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("cannot run");
  });
});
