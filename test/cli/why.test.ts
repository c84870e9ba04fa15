// iorr why as a user runs it: --dma / --probe, --at, the JSON object, bad arguments (exit 2).
import { describe, expect, it } from "vitest";
import { iorr, jsonError } from "./run.ts";

const FILE = "traces/05-map-and-dma.jsonl";

describe("iorr why", () => {
  it("--dma --iova --access --at --json: the outcome and the events in seq order, each with its op and role", () => {
    const r = iorr(["why", FILE, "--dma", "0000:01:00.0", "--iova", "0x100010", "--access", "write", "--at", "12", "--json"]);
    expect(r.status).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.at).toBe(12);
    expect(o.outcome).toEqual({ pa: "0x40000010", page_size: "0x1000", perm: "rw" });
    expect(o.events.map((e: { seq: number }) => e.seq)).toEqual([4, 9, 9, 12, 12, 12, 12]);
    expect(o.events[1]).toEqual({ seq: 9, op: "ioctl", cmd: "VFIO_DEVICE_ATTACH_IOMMUFD_PT", role: "attach" });
  });

  it("an emulated device (pid=) through its intel-iommu, as --probe gives it too", () => {
    const viaDma = iorr(["why", "test/traces/vtd/stale_context_entry.jsonl", "--dma", "00:03.0,pid=1", "--iova", "0x1010", "--json"]);
    const viaProbe = iorr([
      "why",
      "test/traces/vtd/stale_context_entry.jsonl",
      "--probe",
      '{"op":"dma","pid":1,"guest_bdf":"00:03.0","iova":"0x1010","access":"read"}',
      "--json",
    ]);
    expect(viaDma.status).toBe(0);
    expect(viaDma.stdout).toBe(viaProbe.stdout);
    expect(JSON.parse(viaDma.stdout).outcome.pa).toBe("0x300010");
  });

  it("bad arguments are bad input naming the flag", () => {
    const access = iorr(["why", FILE, "--dma", "0000:01:00.0", "--iova", "0x1000", "--access", "exec", "--json"]);
    expect(access.status).toBe(2);
    expect(jsonError(access)).toMatchObject({ kind: "bad-input", field: "--access" });
    const notDma = iorr(["why", FILE, "--probe", '{"op":"open","pid":100,"path":"/dev/iommu"}', "--json"]);
    expect(notDma.status).toBe(2);
    expect(jsonError(notDma)).toMatchObject({ kind: "bad-input", field: "op" });
    const none = iorr(["why", FILE]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("--dma");
    const past = iorr(["why", FILE, "--dma", "0000:01:00.0", "--iova", "0x1000", "--at", "99", "--json"]);
    expect(past.status).toBe(2);
    expect(jsonError(past)).toMatchObject({ field: "--at" });
  });
});
