// iorr oracle qemu: its arguments and the traces it refuses to drive, without a QEMU
// (the planning happens before QEMU starts); the verdicts themselves: test/oracle/.
import { writeFileSync, mkdtempSync } from "node:fs";
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
  it("a qemu.vfio-pci device (needs a host device)", () => {
    const r = iorr(["oracle", "qemu", "test/traces/qemu/seed001_flts.reviewed.jsonl", "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("event 8: the QEMU oracle cannot drive this: a vfio-pci device");
  });
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
  it("a device behind a bridge", () => {
    const f = trace("bridge.jsonl", [...vmm, { op: "qemu.device", pid: 1, guest_bdf: "01:00.0", model: "e1000e" }]);
    const r = iorr(["oracle", "qemu", f, "--qemu", "/bin/true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("event 5: field guest_bdf: the QEMU oracle cannot drive this: a device off bus 0");
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
