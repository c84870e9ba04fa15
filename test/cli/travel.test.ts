// The time-travel commands as a user runs them: state --path, diff and debug (README.md).
import { describe, expect, it } from "vitest";
import { iorr, jsonError } from "./run.ts";

const T5 = "traces/05-map-and-dma.jsonl";

describe("iorr state --path", () => {
  it("prints one part of the state; --json gives {seq, events, path, state_hash, value}", () => {
    const r = iorr(["state", T5, "--at", "12", "--path", "iommufd.1.objects.2.areas.0.iova", "--json"]);
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o)).toEqual(["seq", "events", "path", "state_hash", "value"]);
    expect(o).toMatchObject({ seq: 12, events: 21, path: "iommufd.1.objects.2.areas.0.iova", value: 0x100000 });
    // The same state hash as the whole state's.
    expect(o.state_hash).toBe(JSON.parse(iorr(["state", T5, "--at", "12", "--json"]).stdout).state_hash);
    const text = iorr(["state", T5, "--at", "12", "--path", "processes.100.fds"]);
    expect(text.stdout).toBe("processes.100.fds after event 12 of 21:\n  3: 1\n  4: 2\n");
  });

  it("a memory word by its physical address: the VT-d leaf PTE IOMMU_IOAS_MAP wrote (address | READ | WRITE)", () => {
    const o = JSON.parse(iorr(["state", T5, "--at", "12", "--path", "memory.0x1000002808", "--json"]).stdout);
    expect(o.value).toBe("0x40001003");
    // Bytes only with --memory, as `state --json` does.
    const frames = JSON.parse(iorr(["state", T5, "--at", "12", "--path", "memory.frames", "--json"]).stdout).value;
    expect(Object.values(Object.values(frames)[0] as object)[0]).toEqual({ bytes: 4096 });
  });

  it("a path that leaves the state is bad input naming --path, where it left and what is there", () => {
    const r = iorr(["state", T5, "--at", "12", "--path", "iommufd.1.objects.9", "--json"]);
    expect(r.status).toBe(2);
    expect(jsonError(r)).toEqual({ kind: "bad-input", file: "iorr state", field: "--path", message: 'no "9" in iommufd.1.objects (it has: 1, 2, 3)' });
    expect(iorr(["state", T5, "--path", "memory.0x1001"]).stderr).toBe(
      'iorr state: field --path: no "0x1001" in memory: a memory word\'s address is 8-byte aligned\n',
    );
  });
});

describe("iorr diff", () => {
  it("--json: the area and PTEs IOMMU_IOAS_MAP added, before absent for added", () => {
    const r = iorr(["diff", T5, "--from", "11", "--to", "12", "--json"]);
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.from).toBe(11);
    expect(o.to).toBe(12);
    expect(o.changes).toContainEqual({ path: "memory.0x1000002808", kind: "added", after: "0x40001003" });
    const area = o.changes.find((c: { path: string }) => c.path === "iommufd.1.objects.2.areas.0");
    expect(area).toMatchObject({ kind: "added", after: { iova: 0x100000, last: 0x2fffff, prot: 3 } });
    expect(area).not.toHaveProperty("before");
  });

  it("from N to N: no change; --from after --to: the reverse diff", () => {
    expect(JSON.parse(iorr(["diff", T5, "--from", "7", "--to", "7", "--json"]).stdout)).toEqual({ from: 7, to: 7, changes: [] });
    const back = JSON.parse(iorr(["diff", T5, "--from", "12", "--to", "11", "--json"]).stdout);
    expect(back.changes).toContainEqual({ path: "memory.0x1000002808", kind: "removed", before: "0x40001003" });
  });

  it("text: one line per change, grouped by the part of the state", () => {
    const r = iorr(["diff", T5, "--from", "7", "--to", "8"]);
    expect(r.stdout).toBe(
      `${T5}: from event 7 to event 8 under linux-6.19: 1 change\niommufd:\n  + iommufd.1.objects.2 = {id: 2, type: ioas, users: 1, areas: [], allowed: [], reserved: [], iovaAlignment: 0x1, hugePages: true, domains: []}\n`,
    );
  });

  it("bad arguments are bad input naming the flag", () => {
    expect(jsonError(iorr(["diff", T5, "--from", "3", "--json"]))).toMatchObject({ field: "--to", message: expect.stringMatching(/^is required/) });
    expect(jsonError(iorr(["diff", T5, "--from", "3", "--to", "99", "--json"]))).toMatchObject({
      field: "--to",
      message: `event 99 is past the end of ${T5} (21 events)`,
    });
    expect(jsonError(iorr(["diff", T5, "--from", "x", "--to", "1", "--json"]))).toMatchObject({ field: "--from" });
  });
});

describe("iorr debug", () => {
  it("reads its commands from a pipe (no prompt), goes on after a bad one, and exits 0 at the end of input", () => {
    const r = iorr(["debug", T5], { input: "goto 11\nbogus\nwatch iommufd.1.objects.2.areas\ncontinue\nback\nprint processes.100.fds.3\n" });
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      `${T5}: 21 events under linux-6.19; at event 0 (before the first); "help" lists the commands`,
      "event 11/21: dma bdf=0000:01:00.0 iova=0x100010 access=write -> {fault: VTD_FR_WRITE}",
      'error: unknown command "bogus" (commands: step, back, goto, print, watch, unwatch, continue, reverse-continue, info, quit, help)',
      "watch 1: iommufd.1.objects.2.areas = []",
      expect.stringMatching(/^event 12\/21: ioctl pid=100 fd=3 cmd=IOMMU_IOAS_MAP -> \{ret: 0, /),
      "watch 1: iommufd.1.objects.2.areas changed:",
      expect.stringMatching(/^ {2}\+ iommufd\.1\.objects\.2\.areas\.0 = \{iova: 0x100000, /),
      "event 11/21: dma bdf=0000:01:00.0 iova=0x100010 access=write -> {fault: VTD_FR_WRITE}",
      "processes.100.fds.3 = 1",
      "",
    ]);
  });

  it("quit ends the session there; --json prints the transcript as one object", () => {
    const r = iorr(["debug", T5, "--json"], { input: "step 2\nquit\nstep\n" });
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o).toEqual({
      events: 21,
      seq: 2,
      transcript: [
        { command: "step 2", output: ["event 2/21: host.device bdf=0000:01:00.0 iommu=true -> {ok: true}"] },
        { command: "quit", output: [] },
      ],
    });
  });

  it("a trace that cannot be read is bad input, exit 2", () => {
    const r = iorr(["debug", "no-such.jsonl", "--json"], { input: "quit\n" });
    expect(r.status).toBe(2);
    expect(jsonError(r).kind).toBe("bad-input");
  });
});
