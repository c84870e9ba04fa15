// qemu.viommu with intel-iommu: vtd_decide_config's messages and the CAP/ECAP
// values vtd_cap_init computes (hw/i386/intel_iommu.c, QEMU master 2026-02).
import { describe, expect, it } from "vitest";
import { NO_KERNEL_IRQCHIP, vtdCapEcap, vtdRealize, type MachineIrqchip, type VtdVersion } from "../../src/model/viommu/vtd/regs.ts";
import { last, run } from "../helpers.ts";
import { faultOf } from "./qemu_fixtures.ts";

const V5: VtdVersion = { era: "v5", pasidWidth: false };
/** KVM with kernel-irqchip=split, QEMU's usual setup for intel-iommu with interrupt remapping: the values below are for it. */
const KVM_SPLIT = { inKernel: true, split: true };
const RFC2: VtdVersion = { era: "master", pasidWidth: true };

function regs(props: Record<string, unknown>, v?: VtdVersion, irqchip: MachineIrqchip = KVM_SPLIT): { cap: string; ecap: string } {
  const r = vtdRealize(props, v, irqchip);
  if (!r.ok) throw new Error(r.error);
  return { cap: `0x${r.cap.toString(16)}`, ecap: `0x${r.ecap.toString(16)}` };
}

function err(props: Record<string, unknown>, v?: VtdVersion, irqchip: MachineIrqchip = KVM_SPLIT): string | undefined {
  const r = vtdRealize(props, v, irqchip);
  return r.ok ? undefined : r.error;
}

describe("vtd_cap_init: CAP_REG and ECAP_REG from the properties (master)", () => {
  it("default intel-iommu (aw-bits 48, KVM split irqchip: IR and EIM on, pt on)", () => {
    expect(regs({})).toEqual({ cap: "0x80d2008c222f0606", ecap: "0xf00f5a" });
  });
  it("the irqchip decides intremap=auto and eim=auto (x86_iommu_realize, vtd_decide_config)", () => {
    // qtest / TCG (the oracle's QEMU answered 0xf00f4a): IR on, EIM off (kvm_irqchip_in_kernel() is false).
    expect(regs({}, undefined, NO_KERNEL_IRQCHIP).ecap).toBe("0xf00f4a");
    expect(regs({ eim: "on" }, undefined, NO_KERNEL_IRQCHIP).ecap).toBe("0xf00f5a");
    // KVM with kernel-irqchip=on (q35's default): no interrupt remapping, and intremap=on refused.
    const KVM_ON = { inKernel: true, split: false };
    expect(regs({}, undefined, KVM_ON).ecap).toBe("0xf42");
    expect(err({ intremap: "on" }, undefined, KVM_ON)).toBe("Interrupt Remapping cannot work with kernel-irqchip=on, please use 'split|off'.");
  });
  it("follows caching-mode, aw-bits, dma-translation and dma-drain", () => {
    expect(regs({ "caching-mode": true }).cap).toBe("0x80d2008c222f0686");
    expect(regs({ "aw-bits": 39 }).cap).toBe("0x80d2008c22260206");
    expect(regs({ "aw-bits": 39, "caching-mode": "on" }).cap).toBe("0x80d2008c22260286");
    expect(regs({ "dma-translation": false }).cap).toBe("0x80d2008c222f0006");
    expect(regs({ "dma-drain": false }).cap).toBe("0x8012008c222f0606");
  });
  it("x-flts sets SMTS|FSTS (no SRS, no SSTS) and FS1GP unless fs1gp=off", () => {
    expect(regs({ "x-scalable-mode": true, "x-flts": true, "caching-mode": true })).toEqual({ cap: "0x81d2008c222f0686", ecap: "0x880000f00f5a" });
    expect(regs({ "x-scalable-mode": true, "x-flts": true, "caching-mode": true, fs1gp: false }).cap).toBe("0x80d2008c222f0686");
  });
  it("interrupt remapping, device-iotlb, pt, scalable mode, snoop control, PASID, svm", () => {
    expect(regs({ eim: "off" }).ecap).toBe("0xf00f4a");
    expect(regs({ intremap: "off" }).ecap).toBe("0xf42");
    expect(regs({ "device-iotlb": true }).ecap).toBe("0xf00f5e");
    expect(regs({ pt: false }).ecap).toBe("0xf00f1a");
    expect(regs({ "x-scalable-mode": true }).ecap).toBe("0x480080f00f5a");
    expect(regs({ "x-scalable-mode": true, "snoop-control": true }).ecap).toBe("0x480080f00fda");
    expect(regs({ "x-scalable-mode": true, "x-pasid-mode": true }).ecap).toBe("0x493880f00f5a");
    expect(regs({ "x-scalable-mode": true, "x-flts": true, "x-pasid-mode": true }).ecap).toBe("0x893800f00f5a");
    expect(regs({ "x-scalable-mode": true, "x-flts": true, "x-pasid-mode": true, svm: true, "device-iotlb": true }).ecap).toBe("0x8d3a20f00f5e");
  });
  it("the seed 001 v5 base has no ESRTPS (0305eceecd came later) and no PSS with x-pasid-mode", () => {
    expect(regs({}, V5).cap).toBe("0xd2008c222f0606");
    expect(regs({ "aw-bits": 39 }, V5).cap).toBe("0xd2008c22260206");
    expect(regs({ "x-scalable-mode": true, "x-pasid-mode": true }, V5).ecap).toBe("0x490080f00f5a");
  });
  it("PASID RFCv2: pasid=N sets ECAP.PASID and PSS = N-1 (deposit64(ecap, 35, 5, N-1))", () => {
    const r = vtdRealize({ "x-scalable-mode": true, "x-flts": true, pasid: 20 }, RFC2, KVM_SPLIT);
    expect(r.ok && r.ecap).toBe(0x880000f00f5an | (1n << 40n) | (19n << 35n));
    const cfg = r.ok ? r.config : undefined;
    expect(vtdCapEcap({ ...cfg!, pasid: 0 }, RFC2).ecap).toBe(0x880000f00f5an);
  });
});

describe("vtd_decide_config / vtd_realize errors, verbatim", () => {
  it("x-flts needs scalable mode", () => {
    expect(err({ "x-flts": true })).toBe("x-flts is only available in scalable mode");
  });
  it("aw-bits: 39 or 48, and 48 only with x-flts (wording of master and of the v5 base)", () => {
    expect(err({ "aw-bits": 52 })).toBe("Legacy mode: supported values for aw-bits are: 39, 48");
    expect(err({ "aw-bits": 52, "x-scalable-mode": true })).toBe("Scalable mode(flts=off): supported values for aw-bits are: 39, 48");
    expect(err({ "aw-bits": 39, "x-scalable-mode": true, "x-flts": true })).toBe("Scalable mode(x-flts=on): supported value for aw-bits is: 48");
    expect(err({ "aw-bits": 39, "x-scalable-mode": true, "x-flts": true }, V5)).toBe("Scalable mode(flts=on): supported value for aw-bits is: 48");
  });
  it("scalable mode needs dma-drain; PASID needs scalable mode; eim=on needs intremap", () => {
    expect(err({ "x-scalable-mode": true, "dma-drain": false })).toBe("Need to set dma_drain for scalable mode");
    expect(err({ "x-pasid-mode": true })).toBe("Need to set scalable mode for PASID");
    expect(err({ eim: "on", intremap: "off" })).toBe("eim=on cannot be selected without intremap=on");
  });
  it("svm (master) needs device-iotlb, x-flts, dma-translation, PASID, in that order; the v5 base has no svm", () => {
    const sm = { "x-scalable-mode": true };
    expect(err({ ...sm, svm: true })).toBe("Need to set device IOTLB for svm");
    expect(err({ ...sm, svm: true, "device-iotlb": true })).toBe("Need to set flts for svm");
    expect(err({ ...sm, svm: true, "device-iotlb": true, "x-flts": true, "dma-translation": false })).toBe("Need to set dma-translation for svm");
    expect(err({ ...sm, svm: true, "device-iotlb": true, "x-flts": true })).toBe("Need to set PASID support for svm");
    expect(err({ ...sm, svm: true }, V5)).toBe("Property 'intel-iommu.svm' not found");
    expect(err({ ...sm, "x-pasid-mode": true, "device-iotlb": true }, V5)).toBe("PASID based device IOTLB is not supported");
  });
  it("PASID RFCv2: `pasid` replaces x-pasid-mode and is at most the PCI spec's 20 bits", () => {
    expect(err({ "x-scalable-mode": true, "x-pasid-mode": true }, RFC2)).toBe("Property 'intel-iommu.x-pasid-mode' not found");
    expect(err({ "x-scalable-mode": true, pasid: 21 }, RFC2)).toBe("PASID width 21, exceed Max PASID Width 20 allowed in PCI spec");
    expect(err({ pasid: 8 }, RFC2)).toBe("Need to set scalable mode for PASID");
  });
});

describe("qemu.viommu reducer", () => {
  const base = [{ op: "process", pid: 1 }];
  it("stores the config and registers in the machine, and answers QEMU's error otherwise", () => {
    const r = run([...base, { op: "qemu.viommu", pid: 1, model: "intel-iommu", props: { "caching-mode": true } }], ["linux-mainline", "qemu-flts-final"]);
    expect(r.outcomes[1]).toEqual({ ok: true });
    const vi = r.result.state.qemu.get(1)!.viommu!;
    expect(vi.cap).toBe(0x80d2008c222f0686n);
    expect(vi.ecap).toBe(0xf00f4an); // a machine without accel: qtest's irqchip, EIM off
    // qemu.machine's accel and kernel_irqchip decide intremap=auto and eim=auto (x86_iommu_realize, vtd_decide_config).
    const machine = (m: Record<string, unknown>) => [
      ...base,
      { op: "qemu.machine", pid: 1, ram: [], ...m },
      { op: "qemu.viommu", pid: 1, model: "intel-iommu" },
    ];
    expect(run(machine({ accel: "kvm", kernel_irqchip: "split" })).result.state.qemu.get(1)!.viommu!.ecap).toBe(0xf00f5an);
    expect(run(machine({ accel: "kvm" })).result.state.qemu.get(1)!.viommu!.ecap).toBe(0xf42n);
    expect(run(machine({ accel: "tcg", kernel_irqchip: "split" })).result.state.qemu.get(1)!.viommu!.ecap).toBe(0xf00f4an);
    expect(last([...base, { op: "qemu.viommu", pid: 1, model: "intel-iommu", props: { "x-flts": true } }])).toEqual({
      error: "x-flts is only available in scalable mode",
    });
  });
  it("is ESRCH without the process, not modelled for other models, QEMU's error for an unknown property (object_property_find)", () => {
    expect(last([{ op: "qemu.viommu", pid: 1, model: "intel-iommu" }])).toEqual({ errno: "ESRCH" });
    expect(faultOf([...base, { op: "qemu.viommu", pid: 1, model: "arm-smmuv3" }])).toMatch(/not-modelled.*arm-smmuv3/);
    expect(last([...base, { op: "qemu.viommu", pid: 1, model: "intel-iommu", props: { "x-scalable-moed": true } }])).toEqual({
      error: "Property 'intel-iommu.x-scalable-moed' not found",
    });
  });
});
