// What a newcomer meets first: help, usage errors that say what was meant, one
// rule for event numbers past the end of a trace, state --json without memory
// contents unless asked, progress bars on a terminal only (the demo: demo.test.ts).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BIN, iorr, jsonError } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-usage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FDS = "traces/01-process-fds.jsonl"; // 21 events

describe("help", () => {
  it("iorr with no arguments prints the help on stderr and exits 2; iorr help prints it on stdout and exits 0", () => {
    const none = iorr([]);
    expect([none.status, none.stdout]).toEqual([2, ""]);
    expect(none.stderr).toMatch(/^iorr: IOMMU record & replay/);
    const help = iorr(["help"]);
    expect([help.status, help.stderr]).toEqual([0, ""]);
    expect(help.stdout).toBe(none.stderr);
    expect(help.stdout).toMatch(/iorr state <trace> \[--at N\]/);
  });

  it("iorr help <command> and iorr <command> --help give that command's usage and flags; an unknown one is bad input", () => {
    const h = iorr(["help", "replay"]);
    expect([h.status, h.stderr]).toEqual([0, ""]);
    expect(h.stdout).toMatch(/^usage: iorr replay <trace> \[--verify\]/);
    expect(h.stdout).toContain("flags: --verify, --profile <value>, --until <value>, --json");
    expect(iorr(["replay", "--help"]).stdout).toBe(h.stdout);
    const bad = iorr(["help", "rplay"]);
    expect([bad.status, bad.stderr]).toEqual([2, 'iorr: unknown command "rplay"; did you mean "replay"? (see iorr help)\n']);
  });
});

describe("misspelt commands and options", () => {
  it('name the nearest command and option: did you mean "replay"?', () => {
    const cmd = iorr(["replya", FDS]);
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toBe('iorr: unknown command "replya"; did you mean "replay"? (see iorr help)\n');
    const opt = iorr(["replay", FDS, "--verfy"]);
    expect(opt.status).toBe(2);
    expect(opt.stderr).toMatch(/^iorr replay: unknown option --verfy; did you mean "--verify"\? \(usage: iorr replay <trace> \[--verify\]/);
    expect(iorr(["frobnicate"]).stderr).toBe('iorr: unknown command "frobnicate" (see iorr help)\n');
  });

  it("no message says iorr twice", () => {
    for (const args of [
      ["replay"],
      ["replay", FDS, "--until"],
      ["state", FDS, "--at", "-1"],
      ["import", FDS],
      ["profiles", "--profile", "nope"],
      ["info", "a", "b"],
    ]) {
      const r = iorr(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^iorr[ :]/);
      expect(r.stderr).not.toMatch(/iorr: iorr/);
    }
  });
});

describe("event numbers: --at and --until past the end of the trace are bad input naming the flag and the event count", () => {
  it("--at N and --until N up to the event count are accepted; N+1 is exit 2", () => {
    expect(JSON.parse(iorr(["state", FDS, "--at", "21", "--json"]).stdout)).toMatchObject({ seq: 21 });
    expect(JSON.parse(iorr(["replay", FDS, "--until", "21", "--json"]).stdout)).toMatchObject({ events: 21 });
    expect(JSON.parse(iorr(["replay", FDS, "--until", "0", "--json"]).stdout)).toMatchObject({ events: 0 });
    for (const [cmd, flag] of [
      ["state", "at"],
      ["replay", "until"],
    ] as const) {
      const r = iorr([cmd, FDS, `--${flag}`, "22", "--json"]);
      expect(r.status).toBe(2);
      expect(jsonError(r)).toEqual({ kind: "bad-input", file: `iorr ${cmd}`, field: `--${flag}`, message: `event 22 is past the end of ${FDS} (21 events)` });
    }
  });

  it("state without --at is the state after the last event", () => {
    const last = JSON.parse(iorr(["state", FDS, "--json"]).stdout);
    expect(last.seq).toBe(21);
    expect(last.state_hash).toBe(JSON.parse(iorr(["replay", FDS, "--json"]).stdout).state_hash);
  });
});

describe("state --json: memory as a summary, the bytes with --memory", () => {
  // traces/03-memory.jsonl: a fixed mapping at 0x40000000, 4 pages from the allocator (every other frame from 4 GiB), 2 MiB huge pages.
  const MEM = "traces/03-memory.jsonl";
  it("counts the frames held per process range; the allocator is past the huge mapping", () => {
    const s = JSON.parse(iorr(["state", MEM, "--json"]).stdout);
    expect(s.state.memory).toEqual({
      frames: 3,
      page_table_frames: 0,
      allocator: 0x100200000 + 0x400000,
      kernel_allocator: 0x1000000000,
      kernel_free: 0,
      ranges: [
        { pid: 100, va: 0x7f0000000000, length: 0x200000, pa: 0x40000000, stride: 1, frames: 1 },
        // The write at 0x7f1000000ffc crosses into page 1, frame 0x100002.
        { pid: 100, va: 0x7f1000000000, length: 0x4000, pa: 0x100000000, stride: 2, frames: 2 },
        // The huge mapping starts at the next 2 MiB boundary past the allocator's 8 frames.
        { pid: 100, va: 0x7f2000000000, length: 0x400000, pa: 0x100200000, stride: 1, frames: 0 },
      ],
    });
  });

  it("--memory adds every frame's bytes by physical address", () => {
    const s = JSON.parse(iorr(["state", MEM, "--json", "--memory"]).stdout);
    const contents: Record<string, string> = s.state.memory.contents;
    expect(Object.keys(contents)).toEqual(["0x40001000", "0x100000000", "0x100002000"]);
    expect(contents["0x40001000"]!.slice(0, 48)).toBe(`0320004000000000${"0".repeat(16)}${"f".repeat(16)}`);
    expect(contents["0x100000000"]!.slice(-8)).toBe("01020304");
    expect(contents["0x100002000"]!.slice(0, 8)).toBe("05060708");
    expect(iorr(["state", MEM, "--memory"]).status).toBe(2);
  });
});

describe("progress bars", () => {
  const hasScript = spawnSync("script", ["--version"]).status === 0;
  const tty = (cmd: string) => spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8" }).stdout;
  it.skipIf(!hasScript)("info and export show one on a terminal, none under --json", () => {
    const db = join(dir, "fds.db");
    expect(iorr(["import", FDS, "-o", db]).status).toBe(0);
    expect(tty(`${process.execPath} ${BIN} info ${db}`)).toMatch(/info: reading \[#{30}\] 100% 21\/21/);
    expect(tty(`${process.execPath} ${BIN} export ${db} -o ${join(dir, "o.jsonl")} --outcomes`)).toMatch(/export: replaying \[#{30}\] 100% 21\/21/);
    expect(tty(`${process.execPath} ${BIN} info ${db} --json`)).not.toMatch(/\[#/);
    // Not on a terminal (the other tests): stderr stays empty.
    expect(iorr(["info", db]).stderr).toBe("");
  });
});

describe("a reader that stops early", () => {
  it("ends export quietly: exit 0 and no EPIPE stack on stderr (iorr export t.jsonl | head)", () => {
    const p = join(dir, "long.jsonl");
    const events = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ op: "param", name: "vfio.pasid_quota", value: i }));
    writeFileSync(p, `${[JSON.stringify({ format: "iorr-trace", version: 1 }), ...events].join("\n")}\n`);
    const r = spawnSync("bash", ["-c", `set -o pipefail; "${process.execPath}" "${BIN}" export "${p}" | head -c 100 >/dev/null`], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
  });
});
