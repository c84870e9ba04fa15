// iorr record -- <command>, tested stacked on the simulator (this machine has no
// /dev/iommu): `iorr record -o r.db -- iorr live -o s.db -- prog`. The record shim is
// the outer preload, so its "kernel" is iorr live's shim; r.db must hold exactly what
// the simulator answered (s.db's outcomes) and replay with --verify.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, iorr } from "../cli/run.ts";
import { buildC, haveCc } from "./cc.ts";

type Ev = Record<string, unknown> & { op: string; expect?: Record<string, unknown> };
const events = (db: string): Ev[] =>
  iorr(["export", db])
    .stdout.split("\n")
    .filter((l) => l.startsWith('{"op"'))
    .map((l) => JSON.parse(l));
/** The system calls of a trace; poll is live's only (record mode counts it: revents are filtered by the events asked). */
const SYSCALLS = new Set(["open", "close", "ioctl", "read", "write", "mmap", "munmap", "memfd", "memfd.size"]);
const syscalls = (ev: Ev[]) => ev.filter((e) => SYSCALLS.has(e.op));

describe.skipIf(!haveCc)("iorr record -- <command>", () => {
  let dir = "";
  let prog = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "iorr-record-test-"));
    prog = buildC("iommufd_live", dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stacked on iorr live, records exactly what the simulator answered; the recording replays with --verify", () => {
    const r = join(dir, "r.db");
    const s = join(dir, "s.db");
    const run = iorr(["record", "-o", r, "--", process.execPath, BIN, "live", "-o", s, "--", prog, "20"]);
    expect(run.stdout).toContain("checks failed: 0");
    expect(run.status).toBe(0);
    // What the trace format has no event for went to the "kernel" all the same, and is counted.
    expect(run.stderr).toContain("1 call made but not recorded");
    expect(run.stderr).toContain("1 x poll on a recorded fd (revents are filtered by the events asked: no poll event)");
    const v = JSON.parse(iorr(["replay", r, "--verify", "--json"]).stdout);
    expect(v.divergence).toBeNull();
    expect(v.verified).toBe(v.events);

    const rec = events(r);
    const live = events(s);
    // The same calls, in the same order, each with the simulator's answer: errno, ret or fd, and every struct member the answer changed.
    const rs = syscalls(rec);
    // The memfd too: memfd_create, ftruncate and the IOAS_MAP_FILE of it are the same events in both.
    const ls = syscalls(live);
    expect(rs.filter((e) => e.op === "memfd" || e.op === "memfd.size" || e.cmd === "IOMMU_IOAS_MAP_FILE").length).toBeGreaterThanOrEqual(3);
    expect(rs.map((e) => [e.op, e.pid, e.fd, e.cmd])).toEqual(ls.map((e) => [e.op, e.pid, e.fd, e.cmd]));
    for (const [i, e] of rs.entries()) {
      const want = ls[i]!.expect!;
      for (const k of ["errno", "ret", "fd"]) if (e.expect![k] !== undefined) expect([i, k, e.expect![k]]).toEqual([i, k, want[k]]);
      expect(e.expect!.errno !== undefined).toBe(want.errno !== undefined);
      for (const [m, x] of Object.entries((e.expect!.out ?? {}) as Record<string, unknown>))
        expect([i, m, BigInt(x as number)]).toEqual([i, m, BigInt((want.out as Record<string, number>)[m]!)]);
    }
    // Raw events: the struct's bytes as the caller passed them; the pinned buffer's pages mapped before IOAS_MAP;
    // the IOVA_RANGES array the kernel filled, written after the ioctl.
    const firstMap = rec.findIndex((e) => e.cmd === "IOMMU_IOAS_MAP");
    expect(rec[firstMap]!.argHex).toMatch(/^28000000/);
    expect(rec[firstMap - 1]!.op).toBe("mem.map");
    const ranges = rec.findIndex((e) => e.cmd === "IOMMU_IOAS_IOVA_RANGES" && (e.expect as { ret?: number }).ret === 0);
    expect(rec[ranges + 1]).toMatchObject({ op: "mem.write", hex: expect.stringMatching(/^0{16}f{16}(a5)+$/) });
    // fork: the child is a `process` with `parent` (and in the header's forks); its calls on the inherited fd are recorded.
    const header = JSON.parse(iorr(["export", r]).stdout.split("\n")[0]!);
    const procs = rec.filter((e) => e.op === "process");
    expect(procs.map((e) => [e.pid, e.parent])).toEqual([
      [procs[0]!.pid, undefined],
      [procs[1]!.pid, procs[0]!.pid],
    ]);
    expect(header.forks).toEqual({ [String(procs[1]!.pid)]: procs[0]!.pid });
    expect(rec.some((e) => e.pid === procs[1]!.pid && e.cmd === "IOMMU_IOAS_ALLOC" && e.fd === 3)).toBe(true);
  });

  it("iorr import decodes the recording's raw struct bytes into members where the format can say them, and it still replays with --verify", () => {
    const r = join(dir, "r.db");
    const jsonl = join(dir, "r.jsonl");
    writeFileSync(jsonl, iorr(["export", r]).stdout);
    const d = join(dir, "d.db");
    expect(iorr(["import", jsonl, "-o", d]).status).toBe(0);
    const v = JSON.parse(iorr(["replay", d, "--verify", "--json"]).stdout);
    expect(v.divergence).toBeNull();
    expect(v.verified).toBe(v.events);
    const ev = syscalls(events(d)).filter((e) => e.op === "ioctl");
    const map = ev.find((e) => e.cmd === "IOMMU_IOAS_MAP")!;
    expect(map.argHex).toBeUndefined();
    expect(map.arg).toMatchObject({ flags: 7, ioas_id: 1, length: 1 << 20, iova: 0x100000 });
    // A short size is a member like any other; a struct longer than the kernel's (E2BIG's non-zero tail) has no member spelling: raw.
    expect(ev.find((e) => e.expect?.errno === "EINVAL" && e.cmd === "IOMMU_IOAS_ALLOC")!.arg).toEqual({ size: 4 });
    const e2big = ev.filter((e) => e.expect?.errno === "E2BIG" && e.cmd === "IOMMU_IOAS_ALLOC").map((e) => e.argHex);
    expect(e2big).toContain("10000000000000000000000001000000");
    // A struct whose declared size (128) runs past the caller's memory: the 64 bytes there, their non-zero tail
    // byte the E2BIG; with a zero tail the kernel faults, which the trace says with no argument at all.
    expect(e2big).toContain(`80000000${"00".repeat(52)}01${"00".repeat(7)}`);
    expect(ev.some((e) => e.expect?.errno === "EFAULT" && e.cmd === "IOMMU_IOAS_ALLOC" && e.arg === null)).toBe(true);
  });

  it("without -- nor --scenario, or with both, is bad input (exit 2)", () => {
    expect(iorr(["record", "-o", join(dir, "x.db")]).status).toBe(2);
    const both = iorr(["record", "--scenario", "vtd-passthrough-boot", "-o", join(dir, "x.db"), "--", "true"]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("not both");
    const stray = iorr(["record", "-o", join(dir, "x.db"), "true"]);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain("a command goes after --");
  });
});
