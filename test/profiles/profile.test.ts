// Profiles compose per component (docs/trace-format.md, header `profile`): a
// spec that names presets of one component only leaves the others at their
// default preset, so "linux-6.19" replays QEMU as master does.
import { describe, expect, it } from "vitest";
import { COMPONENTS } from "../../src/profiles/components.ts";
import { checkPresets, DEFAULT_PRESET, DEFAULT_PROFILE, PRESETS, type PresetDef } from "../../src/profiles/presets.ts";
import { expand, ProfileError, resolvePresetPrefix, resolveProfile, type Profile } from "../../src/profiles/profile.ts";
import { SWITCHES } from "../../src/profiles/switches.ts";
import { last } from "../helpers.ts";
import { FLTS, HOST_CAP_AW48, HOST_ECAP } from "../model/qemu_fixtures.ts";

const of = (p: Profile, c: string) => p.components.find((x) => x.component === c)!;
const sorted = (xs: readonly string[]) => [...xs].sort();

describe("components of switches and presets", () => {
  it("each switch belongs to the component its change is in: vtd-* intel-iommu, vpasid-* vfio-pci, the rest the kernel", () => {
    for (const s of SWITCHES.values()) {
      const want = s.name.startsWith("vtd-") ? "qemu-intel-iommu" : s.name.startsWith("vpasid-") ? "qemu-vfio-pci" : "kernel";
      expect(s.component, s.name).toBe(want);
    }
  });

  it("each preset belongs to its component (linux-*, qemu-flts-*/qemu-vtd-pasid-*, qemu-vpasid-*) and expands to switches of it only", () => {
    for (const p of PRESETS.values()) {
      const want = p.name.startsWith("linux-") ? "kernel" : p.name.startsWith("qemu-vpasid-") ? "qemu-vfio-pci" : "qemu-intel-iommu";
      expect(p.component, p.name).toBe(want);
      for (const s of expand(p.name)) expect(SWITCHES.get(s)!.component, `${p.name}: ${s}`).toBe(p.component);
    }
  });

  it("the tables pass the load check, and the check finds a preset mixing components or a default profile without one preset per component", () => {
    const defs = [...PRESETS.values()];
    expect(checkPresets(defs, SWITCHES, DEFAULT_PROFILE)).toEqual([]);
    const mixed: PresetDef = { name: "linux-mixed", component: "kernel", summary: "", items: ["linux-6.19", "vtd-flts-check"] };
    expect(checkPresets([...defs, mixed], SWITCHES, DEFAULT_PROFILE)).toEqual(["preset linux-mixed (kernel): vtd-flts-check belongs to qemu-intel-iommu"]);
    const later: PresetDef = { name: "linux-early", component: "kernel", summary: "", items: ["linux-late"] };
    expect(checkPresets([later, ...defs], SWITCHES, DEFAULT_PROFILE)).toEqual(["preset linux-early: linux-late is neither a switch nor an earlier preset"]);
    expect(checkPresets(defs, SWITCHES, ["linux-mainline", "linux-6.19", "qemu-flts-final"])).toEqual([
      "the default profile names 2 presets of kernel, not one",
      "the default profile names 0 presets of qemu-vfio-pci, not one",
    ]);
  });

  it("the default preset of each component is the default profile's", () => {
    expect(COMPONENTS.map((c) => DEFAULT_PRESET.get(c))).toEqual(["linux-mainline", "qemu-flts-final", "qemu-vpasid-final"]);
  });
});

describe("resolveProfile: components the spec names no preset of run at their default preset", () => {
  const all = resolveProfile(undefined);

  it("a kernel-only spec replays QEMU master: the default intel-iommu and vfio-pci presets are in", () => {
    const p = resolveProfile(["linux-6.19"]);
    expect(p.on("vtd-flts-final")).toBe(true);
    expect(p.on("vpasid-cap-final")).toBe(true);
    expect(p.on("noiommu-cdev")).toBe(false);
    expect(of(p, "kernel")).toMatchObject({ presets: ["linux-6.19"], isDefault: false, switches: expand("linux-6.19") });
    expect(of(p, "qemu-intel-iommu")).toMatchObject({ presets: ["qemu-flts-final"], isDefault: true, switches: expand("qemu-flts-final") });
    expect(resolveProfile(["linux-mainline"]).key).toBe(all.key);
  });

  it("a QEMU-only spec keeps linux-mainline", () => {
    const p = resolveProfile(["qemu-flts-v5"]);
    expect(sorted(of(p, "kernel").switches)).toEqual(sorted(expand("linux-mainline")));
    expect(of(p, "qemu-intel-iommu")).toMatchObject({ presets: ["qemu-flts-v5"], switches: ["vtd-flts-check"], sameAs: "qemu-flts-v5" });
    expect(p.on("vtd-flts-final")).toBe(false);
  });

  it("a switch alone names no preset: the component's default stays and the switch is added", () => {
    const p = resolveProfile(["linux-6.19", "vfio-pasid-request"]);
    expect(of(p, "kernel").switches).toEqual([...expand("linux-6.19"), "vfio-pasid-request"]);
    expect(of(resolveProfile(["vtd-pasid-rfc2"]), "qemu-intel-iommu")).toMatchObject({ isDefault: true, sameAs: "qemu-vtd-pasid-rfc2" });
  });

  it("removals apply after the defaults are in: -vtd-flts-final takes it out of the default intel-iommu", () => {
    const p = resolveProfile(["-vtd-flts-final"]);
    expect(p.on("vtd-flts-final")).toBe(false);
    expect(of(p, "qemu-intel-iommu")).toMatchObject({ isDefault: true, applied: ["qemu-flts-final", "-vtd-flts-final"], sameAs: "qemu-flts-reviewed" });
    expect(sorted(of(p, "kernel").switches)).toEqual(sorted(expand("linux-mainline")));
    expect(of(resolveProfile(["linux-6.19", "-qemu-flts-final"]), "qemu-intel-iommu").switches).toEqual([]);
  });

  it("named items still apply in order: a removal before the preset that adds the switch back has no effect", () => {
    expect(resolveProfile(["linux-mainline", "-get-pa-clamp-area"]).on("get-pa-clamp-area")).toBe(false);
    expect(resolveProfile(["-get-pa-clamp-area", "linux-mainline"]).on("get-pa-clamp-area")).toBe(true);
  });

  it("the key is the set of switches in force, whatever the spelling", () => {
    expect(resolveProfile(["qemu-vpasid-final", "qemu-flts-final", "linux-mainline"]).key).toBe(all.key);
    expect(resolveProfile([]).key).toBe(all.key);
    expect(resolveProfile(["linux-6.19"]).key).not.toBe(all.key);
    expect(resolveProfile(["-vtd-flts-final"]).key).toBe(resolveProfile(["qemu-flts-reviewed"]).key);
  });

  it("an unknown name is a ProfileError naming it, removed or not", () => {
    expect(() => resolveProfile(["linux-6.19", "no-such"])).toThrow(ProfileError);
    for (const spec of [["no-such"], ["-no-such"]]) {
      try {
        resolveProfile(spec);
        expect.unreachable();
      } catch (e) {
        expect((e as ProfileError).item).toBe("no-such");
      }
    }
  });
});

describe("resolvePresetPrefix: the first i switches of a preset, the other components as the spec has them", () => {
  it("walks linux-mainline under a spec naming qemu-flts-v5; each prefix re-resolves from its own spec", () => {
    const all = expand("linux-mainline");
    for (let i = 0; i <= all.length; i++) {
      const p = resolvePresetPrefix(["linux-6.19", "qemu-flts-v5"], "linux-mainline", i);
      expect(of(p, "kernel").switches).toEqual(all.slice(0, i));
      expect(of(p, "qemu-intel-iommu").switches).toEqual(["vtd-flts-check"]);
      expect(of(p, "qemu-vfio-pci").switches).toEqual(expand("qemu-vpasid-final"));
      expect(resolveProfile(p.spec).key).toBe(p.key);
    }
    expect(resolvePresetPrefix(undefined, "linux-mainline", all.length).key).toBe(resolveProfile(undefined).key);
    expect(of(resolvePresetPrefix(undefined, "linux-mainline", 6), "kernel").sameAs).toBe("linux-6.19");
  });

  it("a count outside 0..n or a name that is no preset is a ProfileError", () => {
    expect(() => resolvePresetPrefix(undefined, "qemu-flts-final", 6)).toThrow(/has 5 switches/);
    expect(() => resolvePresetPrefix(undefined, "qemu-flts-final", -1)).toThrow(ProfileError);
    expect(() => resolvePresetPrefix(undefined, "vtd-flts-final", 0)).toThrow(/unknown preset/);
  });
});

describe("replay under a kernel-only profile is QEMU master", () => {
  const viommu = (props: Record<string, unknown> = {}) => [
    { op: "process", pid: 1 },
    { op: "qemu.machine", pid: 1, ram: [{ gpa: 0, size: "0x40000000", va: "0x7f0000000000" }] },
    { op: "qemu.viommu", pid: 1, model: "intel-iommu", props },
  ];
  const capReg = { op: "guest.mmio.read", pid: 1, dev: "intel-iommu", off: 8, size: 8 };

  it("intel-iommu CAP_REG has ESRTPS (bit 63, vtd_cap_init since 0305eceecd); without the QEMU switches it has not", () => {
    const master = BigInt((last([...viommu(), capReg], "linux-6.19") as { value: string }).value);
    const before = BigInt((last([...viommu(), capReg], ["linux-6.19", "-qemu-flts-final"]) as { value: string }).value);
    expect(master >> 63n).toBe(1n);
    expect(before >> 63n).toBe(0n);
    expect(master & ~(1n << 63n)).toBe(before);
  });

  it('x-flts checks a host device in the master order (vtd_check_hiod_accel: "First stage 1GB large page")', () => {
    const events = [
      { op: "host.iommu", type: "intel_vtd", cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP },
      { op: "host.device", bdf: "0000:01:00.0" },
      ...viommu(FLTS),
      { op: "qemu.vfio-pci", pid: 1, host: "0000:01:00.0", guest_bdf: "00:04.0", backend: "iommufd" },
    ];
    expect(last(events, "linux-mainline")).toEqual({ error: "First stage 1GB large page is unsupported by host IOMMU" });
    expect(last(events, ["linux-mainline", "-qemu-flts-final"])).toEqual({ error: "host device is uncompatible with stage-1 translation" });
  });
});
