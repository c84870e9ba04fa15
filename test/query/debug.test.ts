// docs/architecture.md "Queries": the debugger moves through the trace as rr moves
// through a recording; continue and reverse-continue stop where a watch changes.
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { ProfileService } from "../../src/model/framework.ts";
import { Debugger } from "../../src/query/debug.ts";
import type { TraceSource } from "../../src/replay/source.ts";
import { fileSource, inlineSource, PROFILE } from "./timeline_fixture.ts";

function session(src: TraceSource) {
  const d = new Debugger(src);
  return { d, run: (line: string) => Effect.runSync(d.exec(line).pipe(Effect.provideService(ProfileService, PROFILE))).lines };
}

const DMA_PROBE = '{"op":"dma","bdf":"0000:01:00.0","iova":"0x100010","access":"read"}';

describe("the debugger (src/query/debug.ts)", () => {
  it("step, back and goto move the position and say the event at point with its outcome", () => {
    const { d, run } = session(fileSource("traces/05-map-and-dma.jsonl"));
    expect(run("step")).toEqual(["event 1/21: host.iommu type=intel_vtd cap_reg=0xd2008c40660462 ecap_reg=0xf0101efe max_pasid_log2=20 -> {ok: true}"]);
    expect(run("goto 11")).toEqual(["event 11/21: dma bdf=0000:01:00.0 iova=0x100010 access=write -> {fault: VTD_FR_WRITE}"]);
    expect(run("step 2")[0]).toMatch(/^event 13\/21: dma .* -> \{pa: 0x40000010, page_size: 0x1000, perm: rw\}$/);
    expect(run("back 13")).toEqual(["event 0/21: before the first event"]);
    expect(run("step 100")[0]).toMatch(/^event 21\/21: process.exit pid=100 -> \{ok: true\}$/);
    expect(d.position).toBe(21);
  });

  it("continue stops at the event after which a watched path changes (IOMMU_IOAS_MAP adds an area), and at each change after", () => {
    const { d, run } = session(fileSource("traces/05-map-and-dma.jsonl"));
    run("goto 9");
    expect(run("watch iommufd.1.objects.2.areas")).toEqual(["watch 1: iommufd.1.objects.2.areas = []"]);
    const stop = run("continue");
    expect(d.position).toBe(12);
    expect(stop[1]).toBe("watch 1: iommufd.1.objects.2.areas changed:");
    expect(stop[2]).toMatch(/^ {2}\+ iommufd\.1\.objects\.2\.areas\.0 = \{iova: 0x100000, last: 0x2fffff, /);
    run("continue");
    expect(d.position).toBe(14);
    run("continue");
    expect(d.position).toBe(18); // IOMMU_IOAS_UNMAP (the ENOENT one at 17 changes nothing)
    // The process exits: iommufd_fops_release destroys every object, the IOAS with them.
    expect(run("continue")).toContain(
      "watch 1: iommufd.1.objects.2.areas: [{iova: 0x40000000, last: 0x401fffff, prot: 1, source: {kind: user, pid: 100, va: 0x7f0000000000}, runs: [{iova: 0x40000000, pa: 0x40000000, length: 0x200000}], accesses: 0, writable: false, pages: 2}] -> (not there)",
    );
    expect(d.position).toBe(21);
    expect(run("continue")[0]).toBe("no watch changed: at the end");
    expect(d.position).toBe(21);
  });

  it("a probe watch stops where the probe's answer changes: the DMA translates after the map and faults after the unmap", () => {
    const { d, run } = session(fileSource("traces/05-map-and-dma.jsonl"));
    // Before host.device, the probe's DMA names no device: its answer is the fault.
    expect(run(`watch ${DMA_PROBE}`)).toEqual([
      `watch 1: ${DMA_PROBE} = (simulator fault: field bdf: no host device 0000:01:00.0 (declare it with host.device))`,
    ]);
    run("goto 11");
    expect(run("info")).toContain(`watch 1: ${DMA_PROBE} = {fault: VTD_FR_READ}`);
    expect(run("continue")).toContain(`watch 1: ${DMA_PROBE}: {fault: VTD_FR_READ} -> {pa: 0x40000010, page_size: 0x1000, perm: rw}`);
    expect(d.position).toBe(12);
    run("continue");
    expect(d.position).toBe(18);
    // reverse-continue: back to the previous event where the watch changed, the map.
    expect(run("reverse-continue")[0]).toMatch(/^event 12\/21: ioctl .*cmd=IOMMU_IOAS_MAP/);
    expect(d.position).toBe(12);
  });

  it("reverse-continue finds the last change before the position across checkpoint intervals, not the first", () => {
    // A parameter written at events 2 and 5000, then 5000 events that change nothing it watches.
    const events: Record<string, unknown>[] = [
      { op: "process", pid: 1 },
      { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: 1 },
    ];
    for (let i = 0; i < 4997; i++) events.push({ op: "open", pid: 1, path: "/dev/null" }, { op: "close", pid: 1, fd: 3 });
    events.splice(4999, 0, { op: "param", name: "vfio.enable_unsafe_noiommu_mode", value: 0 });
    const { d, run } = session(inlineSource(events));
    expect(run(`goto ${events.length}`)[0]).toMatch(/^event \d+\/\d+: close/);
    run("watch params");
    run("reverse-continue");
    expect(d.position).toBe(5000);
    run("reverse-continue");
    expect(d.position).toBe(2);
    expect(run("reverse-continue")[0]).toBe("no watch changed: at the start");
    expect(d.position).toBe(0);
  });

  it("a bad command is an error line and the session goes on", () => {
    const { d, run } = session(fileSource("traces/05-map-and-dma.jsonl"));
    expect(run("jump 3")[0]).toMatch(/^error: unknown command "jump"/);
    expect(run("goto 22")).toEqual(['error: goto: expected an event number 0..21, got "22"']);
    expect(run("step x")).toEqual(['error: step: expected a number of events, got "x"']);
    expect(run("print processes.7")).toEqual(['error: print: no "7" in processes (it has no parts)']);
    expect(run("watch {bad")[0]).toMatch(/^error: watch: not valid JSON/);
    expect(run("unwatch 4")).toEqual(["error: unwatch: no watch 4 (watches: none)"]);
    expect(d.position).toBe(0);
    expect(run("quit")).toEqual([]);
  });

  it("a simulator fault stops the session before the event (a vIOMMU model not modelled), and is kept for the exit status", () => {
    const { d, run } = session(
      inlineSource([
        { op: "process", pid: 1 },
        { op: "mem.map", pid: 1, va: "0x7f0000000000", length: "0x4000000", pa: "0x100000000" },
        { op: "qemu.machine", pid: 1, ram: [{ gpa: "0x0", size: "0x4000000", va: "0x7f0000000000" }] },
        { op: "qemu.viommu", pid: 1, model: "amd-iommu" },
      ]),
    );
    const lines = run("step 4");
    expect(lines[0]).toBe('event 4 (qemu.viommu): simulator fault: vIOMMU model "amd-iommu" is not modelled yet; stopped before it');
    expect(lines[1]).toMatch(/^event 3\/4: qemu.machine pid=1 -> \{ok: true\}$/);
    expect(d.position).toBe(3);
    expect(d.fault).toMatchObject({ seq: 4, kind: "not-modelled" });
  });
});
