// iorr oracle qemu: its arguments and the traces it refuses to drive, without a QEMU
// (the planning happens before QEMU starts); the verdicts themselves: test/oracle/.
import { chmodSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { iorr, jsonError } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-oracle-"));
const trace = (name: string, lines: object[]) => {
  const f = join(dir, name);
  writeFileSync(f, `${[{ format: "iorr-trace", version: 1 }, ...lines].map((l) => JSON.stringify(l)).join("\n")}\n`);
  return f;
};
const vmm = [
  { op: "process", pid: 1 },
  { op: "mem.map", pid: 1, va: "0x7f0000000000", length: "0x4000000", pa: "0x100000000" },
  { op: "qemu.machine", pid: 1, ram: [{ gpa: "0x0", size: "0x4000000", va: "0x7f0000000000" }] },
  { op: "qemu.viommu", pid: 1, model: "intel-iommu" },
];

describe("iorr oracle qemu: arguments", () => {
  it("without --qemu is bad input naming the flag", () => {
    const r = iorr(["oracle", "qemu", "test/traces/vtd/legacy_ss_2m.jsonl", "--json"]);
    expect(r.status).toBe(2);
    expect(jsonError(r)).toMatchObject({ field: "--qemu" });
  });
  it("an oracle other than qemu is bad input", () => {
    const r = iorr(["oracle", "bochs", "test/traces/vtd/legacy_ss_2m.jsonl", "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown oracle "bochs"');
  });
  it("a --qemu that is not an executable is bad input", () => {
    const r = iorr(["oracle", "qemu", "test/traces/vtd/legacy_ss_2m.jsonl", "--qemu", join(dir, "none")]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("is not an executable file");
  });
});

describe("iorr oracle qemu: traces it cannot drive are exit 2 naming the event", () => {
  it("guest RAM that q35's -m cannot lay out (pc_q35_init: RAM from gpa 0)", () => {
    const f = trace("ram.jsonl", [
      { op: "process", pid: 1 },
      { op: "qemu.machine", pid: 1, ram: [{ gpa: "0x1000000", size: "0x100000", va: "0x7f0000000000" }] },
      vmm[3]!,
    ]);
    const r = iorr(["oracle", "qemu", f, "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("event 2: field ram: the QEMU oracle cannot drive this: guest RAM is not laid out as q35");
  });
  it("a device off bus 0 at a slot other than 0 (a root port's secondary bus has slot 0 only: pci_qdev_realize)", () => {
    const f = trace("bus1.jsonl", [...vmm, { op: "qemu.device", pid: 1, guest_bdf: "01:02.0", model: "e1000e" }]);
    const r = iorr(["oracle", "qemu", f, "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("event 5: field guest_bdf: the QEMU oracle cannot drive this: a device off bus 0 other than slot 0");
  });
  it("a device on a bridge's bus", () => {
    const f = trace("bridge.jsonl", [
      ...vmm,
      { op: "qemu.device", pid: 1, guest_bdf: "00:02.0", model: "pcie-root-port", props: { id: "rp0", chassis: 1 } },
      { op: "qemu.device", pid: 1, guest_bdf: "01:00.0", model: "e1000e", props: { bus: "rp0" } },
    ]);
    const r = iorr(["oracle", "qemu", f, "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("event 6: field bus: the QEMU oracle cannot drive this: a device on a bridge's bus");
  });
  it("a device added after the guest ran (QEMU's machine is built at start)", () => {
    const f = trace("late.jsonl", [
      ...vmm,
      { op: "guest.mem.write", pid: 1, gpa: "0x1000", u64: ["0x1"] },
      { op: "qemu.device", pid: 1, guest_bdf: "00:03.0", model: "e1000e" },
    ]);
    const r = iorr(["oracle", "qemu", f, "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("event 6: the QEMU oracle cannot drive this: qemu.device after the guest ran");
  });
});

// A stand-in for a QEMU that refuses its vIOMMU at start-up, as qemu_init reports a -device
// error (error_prepend's "<binary>: -device <option>: " before vtd_decide_config's message).
const refusing = join(dir, "qemu-refusing");
writeFileSync(
  refusing,
  `#!/bin/sh\nfor a; do [ "$prev" = -device ] && dev=$a; prev=$a; done\necho "qemu-system-x86_64: -device $dev: Need to set scalable mode for PASID" >&2\nexit 1\n`,
);
chmodSync(refusing, 0o755);

describe("iorr oracle qemu: qemu.viommu start-up errors, vfio-pci devices and bridges not issued", () => {
  const f = trace("startup.jsonl", [
    ...vmm.slice(0, 3),
    { op: "qemu.viommu", pid: 1, model: "intel-iommu", props: { "x-pasid-mode": true } },
    { op: "host.device", bdf: "0000:01:00.0" },
    { op: "qemu.vfio-pci", pid: 1, host: "0000:01:00.0", guest_bdf: "00:04.0", backend: "iommufd" },
    { op: "qemu.device", pid: 1, guest_bdf: "00:10.0", model: "pci-bridge", props: { id: "b1", chassis_nr: 1 } },
  ]);
  it("compares QEMU's start-up error, without its prefixes, with iorr's error (vtd_decide_config)", () => {
    const r = iorr(["oracle", "qemu", f, "--qemu", refusing, "--json"]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ issued: 1, compared: 1, difference: null });
  });
  it("a vIOMMU QEMU refuses and iorr accepts is a difference in error", () => {
    const g = trace("accepted.jsonl", vmm);
    const r = iorr(["oracle", "qemu", g, "--qemu", refusing]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('DIFFERENCE at event 4 (qemu.viommu), field "error"');
    expect(r.stdout).toContain('qemu {"error":"Need to set scalable mode for PASID"}');
  });
  it("lists a vfio-pci device and a bridge as not issued, with the reason", () => {
    const r = iorr(["oracle", "qemu", f, "--qemu", refusing]);
    expect(r.stdout).toContain("not issued: event 6 (qemu.vfio-pci): a vfio-pci device needs a host device");
    expect(r.stdout).toContain("not issued: event 7 (qemu.device): a bridge (the oracle puts its test devices on pcie.0)");
  });
});
