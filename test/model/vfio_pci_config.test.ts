// QEMU vfio-pci's guest-visible config space across seed 000's series
// (src/model/qemu/vfio_pci_config.ts): each conformance trace under
// test/traces/vfio-pci replayed under every vPASID preset shows where the
// guest sees a different config space, and bisect over the series names the
// switch (the patch of the series) that changes what a trace recorded.
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import { bisectProfile, presetSteps } from "../../src/bisect/profile.ts";
import type { TraceEvent } from "../../src/model/events.ts";
import type { HostDevice } from "../../src/model/host/state.ts";
import { getLong, getWord } from "../../src/model/pci/regs.ts";
import { vfioConfigView, vfioConfigWrite } from "../../src/model/pci/vfio_config.ts";
import { ProfileService } from "../../src/model/framework.ts";
import type { Outcome } from "../../src/model/outcome.ts";
import { resolveProfile } from "../../src/profiles/profile.ts";
import { replay } from "../../src/replay/engine.ts";
import { memorySource, Trace } from "../../src/replay/source.ts";
import { readJsonlTrace } from "../../src/trace/jsonl.ts";
import { refusal } from "../helpers.ts";

const DIR = "test/traces/vfio-pci";
const load = (name: string) => Effect.runSync(readJsonlTrace(`${DIR}/${name}`));
const PRESETS: Record<string, string[]> = {
  pre: ["linux-mainline", "qemu-vtd-pasid-rfc2", "-qemu-vpasid-v6"],
  v6: ["linux-mainline", "qemu-vtd-pasid-rfc2", "qemu-vpasid-v6"],
  v7: ["linux-mainline", "qemu-vtd-pasid-rfc2", "qemu-vpasid-v7"],
  final: ["linux-mainline", "qemu-vtd-pasid-rfc2", "qemu-vpasid-final"],
};

/** Each event's outcome under a profile (no verify: a trace of one version replayed under another). */
function outcomes(events: readonly TraceEvent[], profile: string[]): Map<number, Outcome> {
  const out = new Map<number, Outcome>();
  Effect.runSync(
    replay({ onOutcome: (ev, o) => void out.set(ev.seq, o) }).pipe(
      Effect.provideService(Trace, memorySource("t", { format: "iorr-trace", version: 1 }, events)),
      Effect.provideService(ProfileService, resolveProfile(profile)),
    ),
  );
  return out;
}

/** The guest config reads (and realizes) whose outcome differs between two profiles, as "op@off". */
function differing(events: readonly TraceEvent[], a: string, b: string): string[] {
  const oa = outcomes(events, PRESETS[a]!);
  const ob = outcomes(events, PRESETS[b]!);
  return events
    .filter((e) => (e.op === "guest.cfg.read" || e.op === "qemu.vfio-pci") && JSON.stringify(oa.get(e.seq)) !== JSON.stringify(ob.get(e.seq)))
    .map((e) => (e.op === "qemu.vfio-pci" ? `realize ${e.host}` : `${e.bdf}@0x${(e.off as number).toString(16)}/${e.size}`));
}

describe("the guest's config space across seed 000's versions", () => {
  const t = load("vpasid_default.final.jsonl");
  const vpasidReads = t.events.filter((e) => e.op === "guest.cfg.read" && e.bdf === "00:04.0" && (e.off as number) + (e.size as number) > 0xff8);

  it("v6's pcie_pasid_init at 0xff8 and the merged pcie_insert_capability give the same config space for a forward-linked list", () => {
    expect(differing(t.events, "v6", "final")).toEqual([]);
  });

  it("v7's insert helper differs only in the chain head's ID (0x0ff8) and the last capability's next pointer, and v7 warns about the default offset", () => {
    expect(differing(t.events, "v7", "final")).toEqual([
      "realize 0000:01:00.0",
      "00:04.0@0x100/4",
      "00:04.0@0x140/4",
      "00:04.0@0x142/2",
      "00:04.0@0x143/1",
      "00:04.0@0x142/1",
      "00:04.0@0x140/4",
    ]);
  });

  it("before the series the guest sees no capability at 0xff8 and ATS ends the list: every non-zero byte of the vPASID and ATS's next pointer differ", () => {
    const d = differing(t.events, "pre", "final");
    const final = outcomes(t.events, PRESETS.final!);
    const nonZero = vpasidReads.filter((e) => final.get(e.seq)?.value !== 0);
    expect(nonZero.length).toBeGreaterThan(4);
    for (const e of nonZero) expect(d).toContain(`00:04.0@0x${(e.off as number).toString(16)}/${e.size}`);
    expect(d).toContain("00:04.0@0x140/4");
    expect(d).not.toContain("00:04.0@0x100/4");
  });

  it("an mdev crashes v6 only; v7 and the merged code realize it without a vPASID", () => {
    const m = load("vpasid_mdev.final.jsonl");
    const realize = m.events.find((e) => e.op === "qemu.vfio-pci")!.seq;
    expect(outcomes(m.events, PRESETS.v6!).get(realize)).toHaveProperty("abort");
    for (const p of ["pre", "v7", "final"]) expect(outcomes(m.events, PRESETS[p]!).get(realize), p).toEqual({ ok: true });
  });
});

describe("bisect over the vPASID series finds the switch", () => {
  const bisect = (events: readonly TraceEvent[], header: { profile?: unknown }) => {
    const base = resolveProfile(header.profile as string[]);
    const r = Effect.runSync(bisectProfile(memorySource("t", { format: "iorr-trace", version: 1 }, events), presetSteps(base, "qemu-vpasid-final")));
    return r.index === null || r.index < 0 ? null : r.steps[r.index];
  };

  it("a trace recorded under v6 with an mdev (QEMU crashed) first replays differently with v7's vfio_pci_synthesize_pasid_cap", () => {
    const t = load("vpasid_mdev.v6.jsonl");
    expect(bisect(t.events, t.header)).toBe("vpasid-cap-v7");
  });

  it("a v6 trace whose x-vpasid-cap-offset QEMU refused first differs where v7 adds the property", () => {
    const t = load("vpasid_offset.v6.jsonl");
    expect(bisect(t.events, t.header)).toBe("vpasid-cap-offset-prop");
  });

  it("a v7 trace with the corrupted chain head first differs with the reworked helper that walks the next pointers", () => {
    const t = load("vpasid_offset.v7.jsonl");
    expect(bisect(t.events, t.header)).toBe("vpasid-insert-walk-next");
  });

  it("a v7 trace where the capability was initialised after a failed insert (offset 0x100) first differs with the merged error path", () => {
    const t = load("vpasid_offset.v7.jsonl");
    // The platform and the device at 0x100 only.
    const events = t.events.filter((e) => !("bdf" in e || "guest_bdf" in e) || e.bdf === "0000:03:00.0" || e.guest_bdf === "00:03.0" || e.bdf === "00:03.0");
    expect(events.some((e) => e.op === "guest.cfg.read" && e.off === 0x104)).toBe(true);
    expect(bisect(events, t.header)).toBe("vpasid-cap-final");
  });

  it("a trace recorded before the series (no vPASID) first differs with v6's synthesis", () => {
    // vpasid_default's events with the guest's reads as QEMU before the series answers them.
    const t = load("vpasid_default.final.jsonl");
    const pre = outcomes(t.events, PRESETS.pre!);
    const events = t.events.map((e) => (e.op === "guest.cfg.read" ? { ...e, expect: { value: pre.get(e.seq)!.value } } : e));
    expect(bisect(events, { profile: PRESETS.pre })).toBe("vpasid-cap-last-8");
  });
});

describe("vfio-pci's view of the device's config space (vfio_ecap_init, vfio_config_do_rw)", () => {
  const dev = (extCaps: { id: number; off: number; size?: number }[], pasid = true): HostDevice => ({
    ...({} as HostDevice),
    bdf: "0000:01:00.0",
    mdev: false,
    pasid: pasid ? { maxLog2: 20, exec: true, priv: false } : null,
    extCaps: extCaps.map((c) => ({ ver: 1, size: 0, ...c })),
    stdCaps: [],
  });

  it("hides a PASID capability that is not first by linking its predecessor past it, its bytes still readable", () => {
    const v = vfioConfigView(
      dev([
        { id: 1, off: 0x100 },
        { id: 0x1b, off: 0x148 },
        { id: 0xf, off: 0x150 },
      ]),
    );
    expect(getLong(v.bytes, 0x100)).toBe(0x15010001);
    expect(getLong(v.bytes, 0x148)).toBe(0x1501001b);
    expect(getLong(v.bytes, 0x14c)).toBe(0x1402);
  });

  it("keeps a hidden first capability as an ID-0 placeholder with only its next pointer, and zeroes the head when nothing real is left", () => {
    expect(
      getLong(
        vfioConfigView(
          dev([
            { id: 0x1b, off: 0x100 },
            { id: 0xf, off: 0x148 },
          ]),
        ).bytes,
        0x100,
      ),
    ).toBe(0x14800000);
    expect(getLong(vfioConfigView(dev([{ id: 0x1b, off: 0x100 }])).bytes, 0x100)).toBe(0);
  });

  it("passes a write to unassigned bytes raw to the hardware (the hidden PASID control), and drops one to a capability without write permission", () => {
    const hd = dev([
      { id: 0xf, off: 0x100 },
      { id: 0x1b, off: 0xff8 },
    ]);
    expect(vfioConfigWrite(hd, 0xffe, [0xff, 0xff])).toBeUndefined();
    // PASID Enable and Execute Permission Enable (EXEC supported, PRIV not): the device took them.
    expect(getWord(vfioConfigView(hd).bytes, 0xffe)).toBe(0x3);
    expect(hd.cfgWritten).toEqual(new Map([[0xffe, 0x3]]));
    expect(vfioConfigWrite(hd, 0x104, [0xff])).toBeUndefined();
    expect(vfioConfigView(hd).bytes[0x104]).toBe(0);
    expect(vfioConfigWrite(hd, 0x40, [0])).toMatch(/below 0x100/);
  });
});

describe("config-space fields of a trace are checked when it is read", () => {
  const hd = (extra: Record<string, unknown>) => ({ op: "host.device", bdf: "0000:01:00.0", ...extra });
  it("ext_caps offsets dword aligned in 0x100..0xffc and unique, 16-bit ids; cfg bytes inside 4 KiB; guest.cfg offsets below 0x1000", () => {
    expect(refusal(hd({ ext_caps: [{ id: 1, off: 0x102 }] }))).toMatch(/^ext_caps\[0\]\.off: expected a dword-aligned offset/);
    expect(
      refusal(
        hd({
          ext_caps: [
            { id: 1, off: 0x100 },
            { id: 2, off: 0x100 },
          ],
        }),
      ),
    ).toMatch(/^ext_caps\[1\]\.off: a second extended capability at 0x100/);
    expect(refusal(hd({ ext_caps: [{ id: 0x10000, off: 0x100 }] }))).toMatch(/^ext_caps\[0\]\.id: expected a 16-bit capability ID/);
    expect(refusal(hd({ cfg: [{ off: 0xfff, hex: "0102" }] }))).toMatch(/^cfg\[0\]\.off: expected the bytes inside the 4 KiB config space/);
    expect(refusal(hd({ cfg: [{ off: 0, hex: "1" }] }))).toMatch(/^cfg\[0\]\.hex:/);
    expect(refusal({ op: "guest.cfg.read", pid: 1, bdf: "00:04.0", off: 0x1000, size: 4 })).toMatch(/^off: expected a config-space offset/);
  });
});
