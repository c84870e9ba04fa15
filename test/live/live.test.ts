// iorr live end to end: test/live/iommufd_live.c, compiled here with cc, runs
// under `iorr live -o` (the LD_PRELOAD shim and the server), checks every
// answer against the kernel's behaviour itself (its exit status is the number
// of failed checks), and the session it leaves replays with --verify.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, iorr } from "../cli/run.ts";
import { buildC, haveCc } from "./cc.ts";

if (!haveCc) console.warn("test/live: skipped, no C compiler (iorr live needs one to build its shim)");

describe.skipIf(!haveCc)("iorr live", () => {
  let dir = "";
  let prog = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "iorr-live-test-"));
    prog = buildC("iommufd_live", dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("answers a real program as the kernel does; the session replays with --verify", () => {
    const db = join(dir, "session.db");
    const r = iorr(["live", "-o", db, "--", prog, "200"]);
    expect(r.stderr).not.toContain("FAIL");
    expect(r.stdout).toContain("checks failed: 0");
    expect(r.status).toBe(0);
    // Every call of the program is modelled: read() on iommufd, the memfd, the fd the child inherited.
    expect(r.stderr).toContain("0 calls not modelled (answered ENOSYS)");
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
    // The child is the fork of the parent (a `process` with `parent`), so its inherited fd is the parent's.
    expect(ev.filter((e) => e.op === "process")[1].parent).toBe(ev.filter((e) => e.op === "process")[0].pid);
    expect(ev.filter((e) => e.op === "process.exit")).toHaveLength(2);
    expect(ev.filter((e) => e.cmd === "IOMMU_IOAS_MAP").length).toBeGreaterThanOrEqual(200);
    // The caller's memory reached the model as mem.map before the MAP that pins it.
    const firstMap = ev.findIndex((e) => e.cmd === "IOMMU_IOAS_MAP");
    expect(ev[firstMap - 1].op).toBe("mem.map");
  });

  it("--platform: the prelude's host IOMMU and device exist before the program starts; bind, attach, PASID attach, detach from C; the session replays", () => {
    const vfio = buildC("vfio_live", dir);
    const platform = resolve("test/live/vtd_pasid_host.jsonl");
    const db = join(dir, "vfio.db");
    const rec = join(dir, "vfio-rec.db");
    // Live and, stacked over it, record (which keeps the same prelude first in its trace).
    const r = iorr(["record", "--platform", platform, "-o", rec, "--", process.execPath, BIN, "live", "--platform", platform, "-o", db, "--", vfio]);
    expect(r.stderr).not.toContain("FAIL");
    expect(r.stdout).toContain("checks failed: 0");
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("0 calls not modelled");
    for (const f of [db, rec]) {
      const v = JSON.parse(iorr(["replay", f, "--verify", "--json"]).stdout);
      expect(v.divergence).toBeNull();
      // 2 platform events, the process and its capabilities (CAPS: capable() checks), 21 calls and memory events.
      expect(v.events).toBe(25);
      const ev = iorr(["export", f])
        .stdout.split("\n")
        .filter((l) => l.startsWith('{"op"'))
        .map((l) => JSON.parse(l));
      expect(ev.slice(0, 4).map((e) => e.op)).toEqual(["host.iommu", "host.device", "process", "process.caps"]);
      expect(ev.filter((e) => e.cmd === "VFIO_DEVICE_ATTACH_IOMMUFD_PT" && e.expect.ret === 0)).toHaveLength(2);
    }
  });

  it("fork (TEST_F(iommufd_ioas, fork_gone / fork_present)): the child maps on its inherited iommufd; a domain pins from the gone child's mm (EFAULT) or the live child's; MAP_SHARED frames are shared", () => {
    const fork = buildC("fork_live", dir);
    const db = join(dir, "fork.db");
    const r = iorr(["live", "--platform", resolve("test/selftest/prelude.jsonl"), "-o", db, "--", fork]);
    expect(r.stderr).not.toContain("FAIL");
    expect(r.stdout).toContain("checks failed: 0");
    expect(r.stderr).toContain("0 calls not modelled");
    const v = JSON.parse(iorr(["replay", db, "--verify", "--json"]).stdout);
    expect(v.divergence).toBeNull();
    const ev = iorr(["export", db])
      .stdout.split("\n")
      .filter((l) => l.startsWith('{"op"'))
      .map((l) => JSON.parse(l));
    const procs = ev.filter((e) => e.op === "process");
    expect(procs.map((e) => e.parent)).toEqual([undefined, procs[0].pid, procs[0].pid]);
    // The first child's exit comes before the parent's MOCK_DOMAIN that fails for it.
    const gone = ev.findIndex((e) => e.op === "process.exit" && e.pid === procs[1].pid);
    expect(ev.findIndex((e) => e.cmd === "IOMMU_TEST_CMD" && e.expect.errno === "EFAULT")).toBeGreaterThan(gone);
  });

  it("--platform holds host.iommu, host.device and param only: anything else is bad input naming the line", () => {
    const bad = join(dir, "bad-platform.jsonl");
    writeFileSync(bad, '// a comment\n{"op":"host.iommu","type":"intel_vtd"}\n{"op":"process","pid":1}\n');
    const r = iorr(["live", "--platform", bad, "--", "true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${bad}:3: field op: a platform prelude holds host.iommu, host.device, param events`);
    writeFileSync(bad, '{"op":"host.device","bdf":"0000:01:00.0"}\n{"op":"host.device","bdf":"0000:01:00.0"}\n');
    const dup = iorr(["live", "--platform", bad, "--", "true"]);
    expect(dup.status).toBe(2);
    expect(dup.stderr).toContain("host.device: answered EEXIST");
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
