// qemu.vfio-pci with an intel-iommu: vtd_dev_set_iommu_device / vtd_check_hiod
// (hw/i386/intel_iommu.c) and, in master, vtd_check_hiod_accel
// (hw/i386/intel_iommu_accel.c). Seed 001: [PATCH v5 08/21] intel_iommu: Check
// for compatibility with IOMMUFD backed device when x-flts=on, and its review
// (Yi Liu: drop the NEST check, "large page", "guest stage-1 translation").
import { describe, expect, it } from "vitest";
import { last, run } from "../helpers.ts";
import { faultOf, FLTS, HOST_CAP_AW39, HOST_CAP_AW48, HOST_CAP_AW48_FS1GP, HOST_ECAP, HOST_ECAP_NEST, HOST_ECAP_NEST_PASID8 } from "./qemu_fixtures.ts";

const V5 = ["linux-mainline", "qemu-flts-v5"];
const REVIEWED = ["linux-mainline", "qemu-flts-reviewed"];
const FINAL = ["linux-mainline", "qemu-flts-final"];
const RFC2 = ["linux-mainline", "qemu-vtd-pasid-rfc2"];

function setup(host: Record<string, unknown>, props: Record<string, unknown>, dev: Record<string, unknown> = {}) {
  return [
    { op: "host.iommu", type: "intel_vtd", ...host },
    { op: "host.device", bdf: "0000:01:00.0", ...dev },
    { op: "process", pid: 1 },
    { op: "qemu.machine", pid: 1, ram: [{ gpa: 0, size: "0x40000000", va: "0x7f0000000000" }] },
    { op: "qemu.viommu", pid: 1, model: "intel-iommu", props },
  ];
}
const vfio = (backend = "iommufd", extra: Record<string, unknown> = {}) => ({
  op: "qemu.vfio-pci",
  pid: 1,
  host: "0000:01:00.0",
  guest_bdf: "00:04.0",
  backend,
  ...extra,
});
const good = { cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP_NEST };

describe("vtd_check_hiod common checks (77f6efc0ab)", () => {
  it('refuses an aw-bits wider than the host\'s: "aw-bits %d > host aw-bits %d"', () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW39, ecap_reg: HOST_ECAP }, { "caching-mode": true }), vfio("legacy")], V5)).toEqual({
      error: "aw-bits 48 > host aw-bits 39",
    });
    expect(last([...setup({ cap_reg: HOST_CAP_AW39, ecap_reg: HOST_ECAP }, { "caching-mode": true, "aw-bits": 39 }), vfio("legacy")], V5)).toEqual({
      ok: true,
    });
  });
  it("accepts any device without x-flts, legacy backend included, and records it", () => {
    const r = run([...setup(good, { "caching-mode": true }), vfio("legacy")], FINAL);
    expect(r.outcomes.at(-1)).toEqual({ ok: true });
    expect(r.result.state.qemu.get(1)!.vfio.get("00:04.0")).toMatchObject({ host: "0000:01:00.0", backend: "legacy" });
  });
  it("before the series (the default intel-iommu's switches removed), x-flts refuses every device (QEMU 10.x placeholder)", () => {
    expect(last([...setup(good, FLTS), vfio()], ["linux-mainline", "-qemu-flts-final"])).toEqual({
      error: "host device is uncompatible with stage-1 translation",
    });
  });
});

describe("seed 001 [PATCH v5 08/21] as posted (qemu-flts-v5)", () => {
  it("needs the IOMMUFD backend", () => {
    expect(last([...setup(good, FLTS), vfio("legacy")], V5)).toEqual({ error: "Need IOMMUFD backend when x-flts=on" });
  });
  it('needs an Intel VT-d host: "Incompatible host platform IOMMU type %d" with the IOMMU_HW_INFO type', () => {
    expect(last([...setup({}, FLTS).map((e) => (e.op === "host.iommu" ? { op: "host.iommu", type: "arm_smmuv3" } : e)), vfio()], V5)).toEqual({
      error: "Incompatible host platform IOMMU type 2",
    });
    expect(last([...setup({}, FLTS).map((e) => (e.op === "host.iommu" ? { op: "host.iommu", type: "amd" } : e)), vfio()], V5)).toEqual({
      error: "Incompatible host platform IOMMU type 4",
    });
  });
  it("checks ECAP.NEST (bit 26)", () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP }, FLTS), vfio()], V5)).toEqual({
      error: "Host IOMMU doesn't support nested translation",
    });
  });
  it('checks CAP.FS1GP when fs1gp=on ("huge page")', () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP_NEST }, FLTS), vfio()], V5)).toEqual({
      error: "Stage-1 1GB huge page is unsupported by host IOMMU",
    });
    expect(last([...setup({ cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP_NEST }, { ...FLTS, fs1gp: false }), vfio()], V5)).toEqual({
      error: "host IOMMU is incompatible with stage-1 translation",
    });
  });
  it("rejects a device that passes every check (the series relaxes it at its end)", () => {
    expect(last([...setup(good, FLTS), vfio()], V5)).toEqual({ error: "host IOMMU is incompatible with stage-1 translation" });
  });
});

describe("seed 001 after review (qemu-flts-reviewed)", () => {
  it("drops the NEST check (nesting-parent HWPT allocation already fails without it)", () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP }, FLTS), vfio()], REVIEWED)).toEqual({
      error: "host IOMMU is incompatible with guest stage-1 translation",
    });
  });
  it('says "large page" and "guest stage-1 translation"', () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP }, FLTS), vfio()], REVIEWED)).toEqual({
      error: "Stage-1 1GB large page is unsupported by host IOMMU",
    });
    expect(last([...setup(good, FLTS), vfio()], REVIEWED)).toEqual({ error: "host IOMMU is incompatible with guest stage-1 translation" });
  });
});

describe("QEMU master (qemu-flts-final): vtd_dev_set_iommu_device then vtd_check_hiod_accel", () => {
  it("requires caching-mode=on first, for any device", () => {
    expect(last([...setup(good, { "x-scalable-mode": true, "x-flts": true }), vfio()], FINAL)).toEqual({
      error: "Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU.",
    });
    expect(last([...setup(good, {}), vfio("legacy")], FINAL)).toEqual({
      error: "Device assignment is not allowed without enabling caching-mode=on for Intel IOMMU.",
    });
  });
  it("then aw-bits, the backend, the host type, the first-stage 1GB page", () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW39, ecap_reg: HOST_ECAP }, FLTS), vfio("legacy")], FINAL)).toEqual({ error: "aw-bits 48 > host aw-bits 39" });
    expect(last([...setup(good, FLTS), vfio("legacy")], FINAL)).toEqual({ error: "Need IOMMUFD backend when x-flts=on" });
    expect(last([...setup({}, FLTS).map((e) => (e.op === "host.iommu" ? { op: "host.iommu", type: "selftest_mock" } : e)), vfio()], FINAL)).toEqual({
      error: `Incompatible host platform IOMMU type ${0xfeedbeef | 0}`,
    });
    expect(last([...setup({ cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP }, FLTS), vfio()], FINAL)).toEqual({
      error: "First stage 1GB large page is unsupported by host IOMMU",
    });
  });
  it("accepts a compatible device, without the NEST capability too", () => {
    const r = run([...setup({ cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP }, FLTS), vfio()], FINAL);
    expect(r.outcomes.at(-1)).toEqual({ ok: true });
    expect(r.result.state.qemu.get(1)!.vfio.get("00:04.0")!.host).toBe("0000:01:00.0");
    expect(last([...setup({ cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP }, { ...FLTS, fs1gp: false }), vfio()], FINAL)).toEqual({ ok: true });
  });
});

describe("master's PCI bridge check (vtd_check_hiod_accel + pci_device_get_iommu_bus_devfn)", () => {
  const bridge = (model: string, id: string, bdf: string, bus?: string) => ({
    op: "qemu.device",
    pid: 1,
    guest_bdf: bdf,
    model,
    props: bus ? { id, bus } : { id },
  });
  const BRIDGE_ERR = { error: "Host device downstream to a PCI bridge is unsupported when x-flts=on" };
  it("refuses a device whose requester ID is aliased by a conventional PCI bus on its way to the root", () => {
    expect(last([...setup(good, FLTS), bridge("pci-bridge", "b1", "00:10.0"), vfio("iommufd", { props: { bus: "b1" } })], FINAL)).toEqual(BRIDGE_ERR);
    // A PCIe-to-PCI bridge below a root port: the conventional secondary bus aliases.
    const chain = [bridge("pcie-root-port", "rp", "00:10.0"), bridge("pcie-pci-bridge", "pb", "01:00.0", "rp")];
    expect(last([...setup(good, FLTS), ...chain, vfio("iommufd", { props: { bus: "pb" } })], FINAL)).toEqual(BRIDGE_ERR);
    // The DMI-to-PCI bridge; `bus` given as a field.
    expect(last([...setup(good, FLTS), bridge("i82801b11-bridge", "dmi", "00:1e.0"), vfio("iommufd", { bus: "dmi" })], FINAL)).toEqual(BRIDGE_ERR);
  });
  it("accepts a device behind PCI Express ports only", () => {
    const chain = [
      bridge("pcie-root-port", "rp", "00:10.0"),
      bridge("x3130-upstream", "up", "01:00.0", "rp"),
      bridge("xio3130-downstream", "down", "02:00.0", "up"),
    ];
    expect(last([...setup(good, FLTS), ...chain, vfio("iommufd", { props: { bus: "down" } })], FINAL)).toEqual({ ok: true });
  });
  it("comes last: the 1GB page check fails first, and without x-flts a bridge is fine", () => {
    const fs1 = { cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP };
    expect(last([...setup(fs1, FLTS), bridge("pci-bridge", "b1", "00:10.0"), vfio("iommufd", { props: { bus: "b1" } })], FINAL)).toEqual({
      error: "First stage 1GB large page is unsupported by host IOMMU",
    });
    expect(last([...setup(good, { "caching-mode": true }), bridge("pci-bridge", "b1", "00:10.0"), vfio("legacy", { props: { bus: "b1" } })], FINAL)).toEqual({
      ok: true,
    });
  });
  it("is not made before master: the series' final refusal answers instead", () => {
    expect(last([...setup(good, FLTS), bridge("pci-bridge", "b1", "00:10.0"), vfio("iommufd", { props: { bus: "b1" } })], V5)).toEqual({
      error: "host IOMMU is incompatible with stage-1 translation",
    });
  });
  it("names an unknown bus as qdev_device_add does", () => {
    expect(last([...setup(good, FLTS), vfio("iommufd", { props: { bus: "nope" } })], FINAL)).toEqual({ error: "Bus 'nope' not found" });
    expect(last([...setup(good, FLTS), bridge("pci-bridge", "b1", "00:10.0", "nope")], FINAL)).toEqual({ error: "Bus 'nope' not found" });
  });
  it("lets bridges come before the vIOMMU (a bus finds its IOMMU when a device asks)", () => {
    const [hi, hd, p, m, vi] = setup(good, FLTS);
    expect(last([hi!, hd!, p!, m!, bridge("pci-bridge", "b1", "00:10.0"), vi!, vfio("iommufd", { props: { bus: "b1" } })], FINAL)).toEqual(BRIDGE_ERR);
  });
});

describe("intel-iommu PASID RFCv2 (qemu-vtd-pasid-rfc2): vtd_check_hiod_accel's PASID width check", () => {
  const rfc = { ...FLTS, pasid: 10 };
  it("refuses a guest PASID width above the host IOMMU's (ECAP.PSS + 1) when the device supports PASIDs", () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP_NEST_PASID8 }, rfc, { pasid: { max_log2: 20 } }), vfio()], RFC2)).toEqual({
      error: "PASID bits size 10 > host IOMMU PASID bits size 8",
    });
  });
  it("skips it for a device without PASID, and comes after the 1GB page check", () => {
    expect(last([...setup({ cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP_NEST_PASID8 }, rfc), vfio()], RFC2)).toEqual({ ok: true });
    expect(last([...setup({ cap_reg: HOST_CAP_AW48, ecap_reg: HOST_ECAP_NEST_PASID8 }, rfc, { pasid: { max_log2: 20 } }), vfio()], RFC2)).toEqual({
      error: "First stage 1GB large page is unsupported by host IOMMU",
    });
    expect(
      last([...setup({ cap_reg: HOST_CAP_AW48_FS1GP, ecap_reg: HOST_ECAP_NEST_PASID8 }, { ...FLTS, pasid: 8 }, { pasid: { max_log2: 20 } }), vfio()], RFC2),
    ).toEqual({ ok: true });
  });
});

describe("qemu.vfio-pci edges", () => {
  it("without a vIOMMU any bound device is accepted; an mdev gets no vIOMMU check", () => {
    expect(last([{ op: "host.device", bdf: "0000:01:00.0" }, { op: "process", pid: 1 }, vfio("legacy")])).toEqual({ ok: true });
    expect(last([...setup(good, FLTS, { mdev: true }), vfio("legacy")], V5)).toEqual({ ok: true });
  });
  it("is ESRCH without the process; a host device not bound, or caching-mode=off before master, is not modelled", () => {
    expect(last([vfio()])).toEqual({ errno: "ESRCH" });
    expect(faultOf([{ op: "process", pid: 1 }, vfio()])).toMatch(/not-modelled/);
    expect(faultOf([...setup(good, { "x-scalable-mode": true, "x-flts": true }), vfio()], V5)).toMatch(/not-modelled.*caching-mode/);
  });
});
