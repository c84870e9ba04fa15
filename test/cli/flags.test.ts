// Flag fields end to end through `iorr replay --verify` (docs/trace-format.md
// "Flag fields"): a trace written with flag names replays and verifies; a flag field
// that is not a number or a list of names is bad input (exit 2) naming the field.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iorr, jsonError, located } from "./run.ts";

const dir = mkdtempSync(join(tmpdir(), "iorr-flags-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replay(name: string, events: unknown[]) {
  const p = join(dir, name);
  const header = { format: "iorr-trace", version: 1, profile: "linux-mainline" };
  writeFileSync(p, `${[header, ...events].map((l) => JSON.stringify(l)).join("\n")}\n`);
  return iorr(["replay", p, "--verify", "--json"]);
}

const device = (flags: unknown) => ({ op: "host.device", bdf: "0000:01:00.0", regions: [{ index: 0, size: "0x4000", flags }] });

/** Bind a device whose BAR 0 has `flags`, then ask VFIO_DEVICE_GET_REGION_INFO for it. */
function regionInfo(flags: unknown, expectOut: Record<string, unknown>): unknown[] {
  return [
    { op: "host.iommu", type: "amd", hw_caps: ["DIRTY_TRACKING"] },
    device(flags),
    { op: "process", pid: 1, caps: ["SYS_RAWIO", "IPC_LOCK"] },
    { op: "open", pid: 1, path: "/dev/vfio/devices/vfio0", expect: { fd: 3 } },
    { op: "open", pid: 1, path: "/dev/iommu", expect: { fd: 4 } },
    { op: "ioctl", pid: 1, fd: 3, cmd: "VFIO_DEVICE_BIND_IOMMUFD", arg: { iommufd: 4 }, expect: { ret: 0 } },
    { op: "ioctl", pid: 1, fd: 3, cmd: "VFIO_DEVICE_GET_INFO", expect: { ret: 0, out: { flags: ["PCI", "RESET"] } } },
    { op: "ioctl", pid: 1, fd: 3, cmd: "VFIO_DEVICE_GET_REGION_INFO", arg: { index: 0 }, expect: { ret: 0, out: expectOut } },
  ];
}

describe("iorr replay --verify with flag names", () => {
  it("a BAR declared READ|WRITE|MMAP is reported with those flags by vfio_pci_ioctl_get_region_info, expected by name", () => {
    const r = replay("names.jsonl", regionInfo(["READ", "WRITE", "MMAP"], { flags: ["READ", "WRITE", "VFIO_REGION_INFO_FLAG_MMAP"] }));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ events: 8, verified: 5, divergence: null });
  });

  it("expected flag names that differ from what the kernel wrote back are a divergence (exit 1), not bad input", () => {
    const r = replay("names-differ.jsonl", regionInfo(["READ", "WRITE", "MMAP"], { flags: ["READ", "WRITE"] }));
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).divergence).toMatchObject({ seq: 8, expected: { out: { flags: ["READ", "WRITE"] } }, actual: { out: { flags: 7 } } });
  });
});

describe("bad flag fields are bad input naming the field (exit 2)", () => {
  const ioctl = { op: "ioctl", pid: 1, fd: 3 };
  const cases: [string, unknown[], RegExp][] = [
    ["regions-null.jsonl", [device([null])], /event 1: field regions\[0\]\.flags: element 0: expected a flag name or an integer, got null/],
    ["regions-true.jsonl", [device([true])], /event 1: field regions\[0\]\.flags: element 0: .*got boolean true/],
    ["regions-list.jsonl", [device([[]])], /event 1: field regions\[0\]\.flags: element 0: .*got a list/],
    [
      "regions-object.jsonl",
      [device({ READ: true })],
      /event 1: field regions\[0\]\.flags: expected a number or a list of VFIO_REGION_INFO_FLAG_\* names, got an object/,
    ],
    ["regions-bool.jsonl", [device(true)], /event 1: field regions\[0\]\.flags: .*got boolean true/],
    [
      "regions-name.jsonl",
      [device(["READ", "EXEC"])],
      /event 1: field regions\[0\]\.flags: element 1: unknown flag "EXEC" \(VFIO_REGION_INFO_FLAG_\*: READ, WRITE, MMAP, CAPS\)/,
    ],
    ["hw-caps.jsonl", [{ op: "host.iommu", type: "amd", hw_caps: ["DIRTY"] }], /event 1: field hw_caps: element 0: unknown flag "DIRTY"/],
    ["caps.jsonl", [{ op: "process", pid: 1, caps: [null] }], /event 1: field caps: element 0: .*got null/],
    // Was a TypeError (exit 3) in the flag-name lookup.
    ["arg-null.jsonl", [{ ...ioctl, cmd: "IOMMU_IOAS_MAP", arg: { flags: [null] } }], /event 1: field arg\.flags: element 0: .*got null/],
    [
      "out-name.jsonl",
      [{ ...ioctl, cmd: "IOMMU_GET_HW_INFO", expect: { ret: 0, out: { out_capabilities: ["DIRTY"] } } }],
      /event 1: field expect\.out\.out_capabilities: element 0: unknown flag "DIRTY"/,
    ],
  ];
  for (const [name, events, message] of cases) {
    it(name, () => {
      const r = replay(name, events);
      expect(r.status).toBe(2);
      const e = jsonError(r);
      expect(e.kind).toBe("bad-input");
      expect(located(e)).toMatch(message);
      expect(r.stderr).toBe("");
    });
  }
});
