// The iorr command end to end: exit statuses, JSON output, bad input naming
// file/line/field, and no half-written files (docs/architecture.md "Bad input").
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "iorr-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function iorr(...args: string[]) {
  const r = spawnSync(process.execPath, ["bin/iorr.mjs", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function trace(name: string, lines: unknown[]): string {
  const p = join(dir, name);
  writeFileSync(p, `${lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n")}\n`);
  return p;
}

const header = { format: "iorr-trace", version: 1, profile: "linux-6.19" };

describe("iorr replay --verify --json", () => {
  it("prints one JSON object and exits 0 when every expectation holds", () => {
    const r = iorr("replay", "traces/01-process-fds.jsonl", "--verify", "--json");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(["events", "verified", "divergence", "state_hash"]);
    expect(out).toMatchObject({ events: 21, verified: 16, divergence: null });
    expect(out.state_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toBe("");
  });

  it("exits 1 at a divergence and reports expected and actual", () => {
    const p = trace("div.jsonl", [
      header,
      { op: "process", pid: 1 },
      { op: "open", pid: 1, path: "/dev/iommu", expect: { fd: 4 } },
      { op: "close", pid: 1, fd: 3 },
    ]);
    const r = iorr("replay", p, "--verify", "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).divergence).toEqual({ seq: 2, op: "open", expected: { fd: 4 }, actual: { fd: 3 } });
  });

  it("exits 3 at a behaviour that is not modelled yet, naming the event", () => {
    // An arm-smmuv3 vIOMMU comes after the intel-iommu model.
    const p = trace("nm.jsonl", [
      header,
      { op: "process", pid: 1 },
      { op: "open", pid: 1, path: "/dev/iommu" },
      { op: "qemu.viommu", pid: 1, model: "arm-smmuv3" },
    ]);
    const r = iorr("replay", p, "--verify", "--json");
    expect(r.status).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({
      events: 2,
      state_hash: null,
      error: { kind: "simulator-fault", reason: "not-modelled", file: p, event: 3, op: "qemu.viommu" },
    });
    const text = iorr("replay", p, "--verify");
    expect(text.status).toBe(3);
    expect(text.stderr).toContain(`iorr: ${p}: event 3 (qemu.viommu): simulator fault: `);
  });

  it("the profile on the command line overrides the trace's: 6.19 has no noiommu-vfioN cdev", () => {
    expect(iorr("replay", "traces/02-noiommu-devices.jsonl", "--verify", "--json").status).toBe(0);
    const r = iorr("replay", "traces/02-noiommu-devices.jsonl", "--verify", "--json", "--profile", "linux-6.19");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).divergence).toMatchObject({ op: "open", actual: { errno: "ENOENT" } });
  });
});

describe("bad input: exit 2 naming file, line and field", () => {
  const cases: [string, unknown[], RegExp][] = [
    ["badjson.jsonl", [header, '{"op":"process",'], /badjson\.jsonl:2: truncated: the line ends inside a JSON value/],
    ["badop.jsonl", [header, { op: "process", pid: 1 }, { op: "opne", pid: 1 }], /badop\.jsonl:3: event 2: field op: unknown op "opne"/],
    ["missing.jsonl", [header, { op: "open", pid: 1 }], /missing\.jsonl:2: event 1: field path: missing required field/],
    ["type.jsonl", [header, { op: "close", pid: 1, fd: "three" }], /type\.jsonl:2: event 1: field fd: expected an integer/],
    ["header.jsonl", [{ format: "iorr-trace", version: 2 }], /header\.jsonl:1: field version/],
    ["notrace.jsonl", [{ hello: "world" }], /notrace\.jsonl:1: field format/],
    ["flag.jsonl", [header, { op: "ioctl", pid: 1, fd: 3, cmd: "IOMMU_IOAS_MAP", arg: { flags: ["FIXD_IOVA"] } }], /flag\.jsonl:2: event 1: field arg\.flags/],
  ];
  for (const [name, lines, message] of cases) {
    it(`${name}`, () => {
      const r = iorr("replay", trace(name, lines), "--verify");
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    });
  }

  it("bad command-line arguments", () => {
    expect(iorr("replay", "traces/01-process-fds.jsonl", "--untill", "3").status).toBe(2);
    expect(iorr("state", "traces/01-process-fds.jsonl", "--at", "999").stderr).toMatch(/--at/);
    expect(iorr("frobnicate").status).toBe(2);
  });

  it("a rejected import leaves no file, and an existing target unchanged", () => {
    const bad = trace("bad-import.jsonl", [header, { op: "process", pid: 1 }, { op: "nope" }]);
    const out = join(dir, "bad-import.db");
    expect(iorr("import", bad, "-o", out).status).toBe(2);
    expect(existsSync(out)).toBe(false);
    writeFileSync(out, "precious");
    expect(iorr("import", bad, "-o", out).status).toBe(2);
    expect(readFileSync(out, "utf8")).toBe("precious");
  });
});

describe("trace databases", () => {
  const db = join(dir, "fds.db");

  it("import then replay the database gives the same result as the JSONL", () => {
    expect(iorr("import", "traces/01-process-fds.jsonl", "-o", db).status).toBe(0);
    const fromDb = JSON.parse(iorr("replay", db, "--verify", "--json").stdout);
    const fromJsonl = JSON.parse(iorr("replay", "traces/01-process-fds.jsonl", "--verify", "--json").stdout);
    expect(fromDb).toEqual(fromJsonl);
  });

  it("state --at N and export round-trip", () => {
    const s = JSON.parse(iorr("state", db, "--at", "7", "--json").stdout);
    expect(s.seq).toBe(7);
    expect(Object.keys(s.state.processes[100].fds)).toEqual(["3", "4", "5"]);
    const out = join(dir, "fds-export.jsonl");
    expect(iorr("export", db, "-o", out).status).toBe(0);
    expect(JSON.parse(iorr("replay", out, "--verify", "--json").stdout)).toEqual(JSON.parse(iorr("replay", db, "--verify", "--json").stdout));
  });

  it("a tampered event is reported as the first bad event", () => {
    const t = join(dir, "tampered.db");
    expect(iorr("import", "traces/01-process-fds.jsonl", "-o", t).status).toBe(0);
    const conn = new Database(t);
    conn.prepare("UPDATE events SET op = 'close' WHERE seq = 9").run();
    conn.close();
    const r = iorr("replay", t, "--verify", "--json");
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ kind: "bad-input", file: t, event: 9 });
    expect(JSON.parse(r.stdout).error.message).toMatch(/hash chain broken/);
  });

  it("a truncated database is bad input naming the file", () => {
    const t = join(dir, "truncated.db");
    expect(iorr("import", "traces/01-process-fds.jsonl", "-o", t).status).toBe(0);
    truncateSync(t, Math.floor(statSync(t).size / 2));
    const r = iorr("replay", t, "--verify");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("truncated.db");
  });

  it("info verifies the hash chain and lists the checkpoints", () => {
    const r = iorr("info", db, "--json");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 21, hash_chain: "ok", kind: "database" });
  });
});

describe("iorr profiles", () => {
  it("lists every preset and switch with its component", () => {
    const r = iorr("profiles", "--json");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.default).toEqual(["linux-mainline", "qemu-flts-final", "qemu-vpasid-final"]);
    expect(out.presets.find((p: { name: string }) => p.name === "qemu-flts-v5")).toMatchObject({ component: "qemu-intel-iommu", switches: ["vtd-flts-check"] });
    expect(out.switches.find((s: { name: string }) => s.name === "vpasid-cap-final")).toMatchObject({ component: "qemu-vfio-pci" });
    expect(out.switches.every((s: { component?: string }) => out.components.includes(s.component))).toBe(true);
  });

  it("--profile shows per component the preset in force, named or default, and its switches", () => {
    const r = iorr("profiles", "--profile", "linux-6.19", "--json");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.spec).toEqual(["linux-6.19"]);
    expect(out.components.map((c: { component: string; presets: string[]; default: boolean }) => [c.component, c.presets, c.default])).toEqual([
      ["kernel", ["linux-6.19"], false],
      ["qemu-intel-iommu", ["qemu-flts-final"], true],
      ["qemu-vfio-pci", ["qemu-vpasid-final"], true],
    ]);
    expect(out.components[1].switches).toContain("vtd-flts-final");
    const text = iorr("profiles", "--profile=-vtd-flts-final");
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/qemu-intel-iommu +qemu-flts-final \(default\), -vtd-flts-final \(= qemu-flts-reviewed\)/);
    expect(text.stdout).toMatch(/kernel +linux-mainline \(default\)/);
  });

  it("a bad --profile is exit 2 naming the item", () => {
    const r = iorr("profiles", "--profile", "linux-6.19,qemu-flts-v9");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/iorr profiles: field --profile: unknown preset or switch "qemu-flts-v9"/);
    expect(r.stdout).toBe("");
  });

  it("a trace header naming only a kernel preset replays intel-iommu as QEMU master (CAP_REG.ESRTPS, vtd_cap_init)", () => {
    const p = trace("kernel-only.jsonl", [
      header,
      { op: "process", pid: 1 },
      { op: "qemu.machine", pid: 1, ram: [{ gpa: "0x0", size: "0x400000", va: "0x7f0000000000" }] },
      { op: "qemu.viommu", pid: 1, model: "intel-iommu" },
      { op: "guest.mmio.read", pid: 1, dev: "intel-iommu", off: "0x8", size: 8, expect: { value: "0x80d2008c222f0606" } },
    ]);
    expect(iorr("replay", p, "--verify", "--json").status).toBe(0);
    expect(iorr("replay", p, "--verify", "--json", "--profile", "linux-6.19,-qemu-flts-final").status).toBe(1);
  });
});
