// `iorr import --from qemu-trace` end to end: real QEMU master logs and hand-written logs in
// each QEMU version's format import, replay with --verify agreeing, and re-import as JSONL;
// malformed lines are reported with their line numbers; a file that is no QEMU trace log, or
// whose lines are all unusable, is bad input with nothing written.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iorr, jsonError } from "../cli/run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-qlog-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = "test/fixtures/qemu-logs";

const LOGS = [
  "real_vtd_qi_legacy.log",
  "real_vtd_scalable_qi_timestamps.log",
  "iommufd_cdev_boot.log",
  "iommufd_qemu82_timestamps.log",
  "legacy_qemu2.log",
  "iommufd_xflts_nested.log",
  "iommufd_viommu.log",
  "malformed.log",
];

describe("each fixture imports, replays verified, and its JSONL re-imports", () => {
  for (const log of LOGS)
    it(log, () => {
      const db = join(dir, `${log}.db`);
      const jsonl = join(dir, `${log}.jsonl`);
      const a = iorr(["import", "--from", "qemu-trace", join(FIX, log), "-o", db, "--json"]);
      expect(a.status, a.stderr + a.stdout).toBe(0);
      const r = JSON.parse(a.stdout);
      expect(r.events).toBeGreaterThan(0);
      const v = iorr(["replay", db, "--verify"]);
      expect(v.status, v.stdout + v.stderr).toBe(0);
      expect(v.stdout).toMatch(/verified: \d+ expectations held/);
      expect(iorr(["import", "--from", "qemu-trace", join(FIX, log), "-o", jsonl]).status).toBe(0);
      const again = iorr(["import", jsonl, "-o", join(dir, `${log}.again.db`)]);
      expect(again.status, again.stderr).toBe(0);
      // Every line of the log is accounted for.
      const lines = readFileSync(join(FIX, log), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "").length;
      const sum = (o: Record<string, number>) => Object.values(o).reduce((x, y) => x + y, 0);
      const unused = Object.values(r.unused as Record<string, Record<string, number>>).reduce((x, o) => x + sum(o), 0);
      expect(sum(r.used) + unused + sum(r.unknown) + r.malformed.length).toBe(lines);
    });
});

describe("the JSONL form", () => {
  it("keeps each log line in a // comment before its event, and the header names the source, the log and the assumptions", () => {
    const out = join(dir, "boot.jsonl");
    expect(iorr(["import", "--from", "qemu-trace", join(FIX, "iommufd_cdev_boot.log"), "-o", out]).status).toBe(0);
    const text = readFileSync(out, "utf8").split("\n");
    const header = JSON.parse(text[0]!);
    expect(header).toMatchObject({ format: "iorr-trace", source: "qemu-trace", log: "iommufd_cdev_boot.log" });
    expect(header.assumed.length).toBeGreaterThan(3);
    const bind = text.findIndex((l) => l.includes('"VFIO_DEVICE_BIND_IOMMUFD"'));
    expect(text[bind - 1]).toBe("// 3: iommufd_cdev_connect_and_bind  [iommufd=27] Successfully bound device 0000:81:00.1 (fd=28): output devid=1");
  });
});

describe("the report", () => {
  it("real QEMU: register writes and reads, descriptors used; translations, steps and error_report lines unused by reason", () => {
    const r = JSON.parse(iorr(["import", "--from", "qemu-trace", join(FIX, "real_vtd_qi_legacy.log"), "-o", join(dir, "q.jsonl"), "--json"]).stdout);
    expect(r.used).toMatchObject({ vtd_reg_write: 21, vtd_reg_read: 41, vtd_inv_desc: 12 });
    expect(r.no_expect).toEqual({ vtd_reg_read: 41 });
    expect(r.unused["a DMA translation (or its fault) through guest page tables the log does not contain"]).toMatchObject({ vtd_dmar_translate: 14 });
    expect(r.unused["not a trace event (another qemu_log user's text)"]).toEqual({ "(other text)": 1 });
    expect(r.unknown).toEqual({});
  });

  it("malformed lines are named with their line numbers and expected formats; the rest still imports (exit 0)", () => {
    const a = iorr(["import", "--from", "qemu-trace", join(FIX, "malformed.log"), "-o", join(dir, "m.jsonl"), "--json"]);
    expect(a.status).toBe(0);
    const r = JSON.parse(a.stdout);
    expect(r.malformed.map((m: { line: number; event: string }) => [m.line, m.event])).toEqual([
      [3, "iommufd_backend_map_dma"],
      [4, "iommufd_backend_free_id"],
      [5, "vtd_reg_write"],
    ]);
    expect(r.unknown).toEqual({ vtd_bogus_event: 1 });
    const text = iorr(["import", "--from", "qemu-trace", join(FIX, "malformed.log"), "-o", join(dir, "m2.jsonl")]);
    expect(text.stderr).toContain('malformed.log:5: vtd_reg_write: arguments do not match the format "addr 0x%x size 0x%x value 0x%x"');
  });
});

describe("bad input: exit 2, nothing written", () => {
  it("a file with no known event", () => {
    const out = join(dir, "n.db");
    const a = iorr(["import", "--from", "qemu-trace", join(FIX, "not_a_log.txt"), "-o", out, "--json"]);
    expect(a.status).toBe(2);
    expect(jsonError(a).message).toMatch(/not a QEMU trace log/);
    expect(existsSync(out)).toBe(false);
  });

  it("a log none of whose lines can be used names its first malformed line", () => {
    const out = join(dir, "u.jsonl");
    const a = iorr(["import", "--from", "qemu-trace", join(FIX, "nothing_usable.log"), "-o", out, "--json"]);
    expect(a.status).toBe(2);
    expect(jsonError(a)).toMatchObject({ line: 1, field: "vtd_reg_write" });
    expect(existsSync(out)).toBe(false);
  });

  it("a file that cannot be read, an unknown --from", () => {
    expect(iorr(["import", "--from", "qemu-trace", join(dir, "missing.log"), "-o", join(dir, "x.db")]).status).toBe(2);
    const a = iorr(["import", "--from", "strace", join(FIX, "malformed.log"), "-o", join(dir, "x.db"), "--json"]);
    expect(a.status).toBe(2);
    expect(jsonError(a).field).toBe("--from");
  });
});
