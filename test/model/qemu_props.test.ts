// QEMU properties in a trace (docs/trace-format.md "VMM (QEMU) behaviour", `props`):
// checked when the trace is read against the type QEMU declares them with.
import { describe, expect, it } from "vitest";
import { parseTraceEvent } from "../../src/model/ops.ts";
import { last, refusal } from "../helpers.ts";

const viommu = (props: Record<string, unknown>) => ({ op: "qemu.viommu", pid: 1, model: "intel-iommu", props });
const device = (props: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  op: "qemu.device",
  pid: 1,
  guest_bdf: "00:03.0",
  model: "e1000e",
  props,
  ...extra,
});
const vfio = (props: Record<string, unknown>) => ({ op: "qemu.vfio-pci", pid: 1, host: "0000:01:00.0", guest_bdf: "00:04.0", props });

describe("props values", () => {
  it("a value that is not a string, an integer or a boolean ([null], [], {}, null, 1.5) is bad input naming props.NAME, for every qemu op", () => {
    for (const bad of [[null], [true], [[]], {}, null, 1.5])
      for (const ev of [viommu({ "x-scalable-mode": bad }), viommu({ "x-nope": bad }), device({ addr: bad }), vfio({ "x-vpasid-cap-offset": bad })])
        expect(refusal(ev)).toMatch(/^props\.(x-scalable-mode|x-nope|addr|x-vpasid-cap-offset): expected a property value/);
  });

  it("intel-iommu properties take what QEMU's qdev setters take: bool (on/off, yes/no, true/false), OnOffAuto, uint8 aw-bits (vtd_properties[])", () => {
    expect(refusal(viommu({ "x-flts": "maybe" }))).toBe('props.x-flts: expected on or off, got "maybe"');
    expect(refusal(viommu({ eim: "sometimes" }))).toBe('props.eim: expected on or off, got "sometimes"');
    expect(refusal(viommu({ "aw-bits": 256 }))).toBe("props.aw-bits: expected an integer 0..255, got number 256");
    expect(refusal(viommu({ "aw-bits": -1 }))).toMatch(/^props\.aw-bits: expected an integer 0\.\.255/);
    expect(refusal(viommu({ "aw-bits": "0x" }))).toMatch(/^props\.aw-bits: /);
    // each era's own property is typed whatever the profile: pasid (RFCv2) is a uint8, svm (master) a bool
    expect(refusal(viommu({ pasid: true }))).toMatch(/^props\.pasid: expected an integer/);
    expect(refusal(viommu({ svm: 3 }))).toMatch(/^props\.svm: expected on or off/);
    for (const ok of [{ "x-scalable-mode": "on" }, { "x-scalable-mode": false }, { eim: "auto" }, { "aw-bits": "39" }, { "aw-bits": 48 }])
      expect(() => parseTraceEvent(viommu(ok), 1)).not.toThrow();
  });

  it("an unknown intel-iommu property is QEMU's outcome, not bad input: \"Property 'intel-iommu.NAME' not found\"", () => {
    expect(() => parseTraceEvent(viommu({ foo: "on" }), 1)).not.toThrow();
    expect(last([{ op: "process", pid: 1 }, viommu({ foo: "on" })])).toEqual({ error: "Property 'intel-iommu.foo' not found" });
  });

  it("qdev's id and bus are strings, in props or as fields", () => {
    expect(refusal(device({ id: 7 }))).toBe("props.id: expected a string, got number 7");
    expect(refusal(device({}, { bus: true }))).toBe("bus: expected a string, got boolean true");
    expect(refusal(vfio({ bus: ["pcie.0"] }))).toMatch(/^props\.bus: /);
    expect(() => parseTraceEvent(device({ id: "b1", bus: "pcie.0" }), 1)).not.toThrow();
  });
});
